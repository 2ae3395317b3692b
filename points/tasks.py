"""Celery tasks of points: each takes ids (or nothing), calls a service and owns only its retry policy.
Beat entries are in config/celery.py."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from points.services import expiry as expiry_services
from points.services import ledger_check


@shared_task(name="points.ledger_verify", acks_late=True, soft_time_limit=1_800, time_limit=1_860)
def ledger_verify() -> dict[str, object]:
    """Hourly: compare every stored balance and stock with its ledger (ledger_check.ledger_verify); a
    mismatch is logged at ERROR and shown on the county dashboard. Read-only apart from the run record,
    so a second delivery only adds a run."""
    check = ledger_check.ledger_verify()
    return {"check": check.pk, "ok": check.is_ok, "differences": len(check.differences)}


@shared_task(
    name="points.expire_due",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
    acks_late=True,
    soft_time_limit=3_600,
    time_limit=3_660,
)
def expire_due() -> dict[str, object]:
    """Daily: the annual clearing of every township whose clearing date has come. Idempotent per
    township and year (expiry.points_expire), so a redelivery or a daily rerun writes nothing more."""
    return {"transactions": expiry_services.points_expire_due()}


@shared_task(
    name="points.awards_post_due",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=5,
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
)
def awards_post_due() -> dict[str, int]:
    """Every 15 minutes: post the awards whose public notice has ended with no open or upheld objection
    (points.services.awards.award_post_due). Rerun-safe: each award is posted under its row lock after
    re-checking its status, so a redelivery or an overlapping run posts nothing twice."""
    from points.services import awards as award_services

    return {"posted": award_services.award_post_due()}
