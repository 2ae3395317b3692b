"""Celery tasks of grids: each calls a service and owns only its retry policy. The periodic ones are
scheduled in config/celery.py (beat_schedule)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from grids.services import deadlines as deadline_services
from grids.services import notifications as notification_services


@shared_task(
    name="grids.case_deadlines_check",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    acks_late=True,
    # Beat runs it every 15 minutes; a run still going after 10 is stuck, and the next one redoes its work.
    soft_time_limit=600,
    time_limit=660,
)
def case_deadlines_check() -> dict[str, int]:
    """Raise yellow/red deadline warnings and their supervision (grids.services.deadlines.deadlines_check).
    Safe to run twice or concurrently: each case is written under its row lock and each warning is
    UNIQUE per (case, kind, deadline)."""
    return deadline_services.deadlines_check()


@shared_task(
    name="grids.resident_messages_send",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    max_retries=5,
    acks_late=True,
    soft_time_limit=300,
    time_limit=330,
)
def resident_messages_send() -> dict[str, int]:
    """Send the queued SMS to residents through settings.GRIDS_SMS_GATEWAY. Queued after each commit that
    writes a message and swept by beat every 5 minutes; two runs never send a message twice (SKIP LOCKED)."""
    return notification_services.resident_messages_send()


@shared_task(name="grids.orphan_photos_sweep", acks_late=True, soft_time_limit=1800, time_limit=1860)
def orphan_photos_sweep() -> dict[str, int]:
    """Delete case and work-log photo files whose rows were rolled back (common/media.py)."""
    from common.media import orphan_files_sweep
    from grids.models import CasePhoto, WorkLogPhoto

    cases = orphan_files_sweep(folder="cases", referenced=CasePhoto.objects.values_list("image", flat=True))
    worklog = orphan_files_sweep(
        folder="worklog", referenced=WorkLogPhoto.objects.values_list("image", flat=True)
    )
    return {"cases": len(cases), "worklog": len(worklog)}
