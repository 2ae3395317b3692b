"""Celery tasks of canteens: each calls a service and owns only its retry policy. Beat entries are in
config/celery.py."""

from __future__ import annotations

from celery import shared_task

from canteens.services import funds as fund_services


@shared_task(name="canteens.fund_verify", acks_late=True, soft_time_limit=1_800, time_limit=1_860)
def fund_verify_task() -> dict[str, object]:
    """Nightly: compare every donation fund's stored balance with the sum of its movements (design.md
    §4.4, canteens.services.funds.fund_verify). A mismatch is logged at ERROR and written to the audit
    log per fund (fund_verify_record); nothing is repaired. Read-only apart from those entries, so a
    redelivery only repeats the alarm."""
    mismatches = fund_services.fund_verify_record()
    return {"ok": not mismatches, "funds": [m.fund_id for m in mismatches]}
