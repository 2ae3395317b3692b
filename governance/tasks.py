"""Celery tasks of the spine: each takes ids, calls a service and owns only its retry policy."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import chord, group, shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from governance.models import RollupKind, RollupStatus
from governance.rollups import engine as rollup_engine
from governance.rollups import lock as rollup_lock
from governance.rollups import runs as rollup_runs
from governance.services import exports as export_services
from governance.services import roster as roster_services

logger = logging.getLogger("governance.rollups")


@shared_task(
    name="governance.roster_import",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def roster_import(job_id: int) -> dict[str, object]:
    """Validate and import the roster of ImportJob `job_id`. Safe to deliver twice: the service claims
    the job with a conditional UPDATE, and a job no longer queued is left as it is."""
    job = roster_services.roster_import_run(job_id=job_id)
    return {"job": job.pk, "status": job.status}


@shared_task(
    name="governance.export_run",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    # A county-wide resident list (~900,000 rows) takes minutes; an hour means something is wrong.
    soft_time_limit=3_600,
    time_limit=3_660,
)
def export_run(job_id: int) -> dict[str, object]:
    """Make the Excel file of ExportJob `job_id` as its requester. Safe to deliver twice: the service
    claims the job with a conditional UPDATE, and a job no longer queued is left as it is."""
    job = export_services.export_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "rows": job.rows_done}


@shared_task(name="governance.export_files_expire", acks_late=True)
def export_files_expire() -> dict[str, int]:
    """Delete export files older than EXPORT_KEEP_DAYS (run hourly by beat, see config/celery.py)."""
    return {"expired": export_services.export_files_expire()}


# Rollups (governance/rollups, docs/rollups.md): routed to their own queue by settings.CELERY_TASK_ROUTES
# ("governance.rollup_*" → ROLLUP_QUEUE; Celery deprecates a queue set on the task), so a long rebuild
# never delays a roster import or an export. No autoretry: the next scheduled pass repairs whatever a
# failed one left (every pass recomputes, nothing is added), and a retry would only queue behind the lock.
ROLLUP_QUEUE = "rollups"
# While a rebuild's township tasks run, nothing heartbeats the lock: each task pushes it out by this
# much at its start and end, longer than one township may take (its hard limit).
FULL_LOCK_MS = 2_000_000


@shared_task(
    name="governance.rollup_incremental",
    acks_late=True,
    # Beat sends one every 5 minutes; a pass over a few minutes' rows takes well under a second.
    soft_time_limit=240,
    time_limit=300,
)
def rollup_incremental(metric: str | None = None) -> dict[str, Any]:
    """The incremental pass under the rollup lock; {"status": "skipped"} when another run holds it.
    Frees the data-quality panel's 立即汇总 button when it ends (governance/selectors/quality.py)."""
    from governance.selectors.quality import QUEUED_KEYS

    try:
        return rollup_runs.incremental(metric=metric)
    finally:
        cache.delete(QUEUED_KEYS["incremental"])


@shared_task(
    name="governance.rollup_verify",
    acks_late=True,
    # A county's facts against a direct aggregate over every source row: minutes at county scale.
    soft_time_limit=1_800,
    time_limit=1_860,
)
def rollup_verify(since: str | None = None, metric: str | None = None) -> dict[str, Any]:
    """`rollup --verify` as a task (the nightly check and the data-quality panel's 核对汇总): every
    fact (days ≥ `since`, an ISO date) against the source rows, recorded as a RollupRun of kind
    verify. Takes no lock: it writes no facts. Frees the panel's button when it ends."""
    from governance.selectors.quality import QUEUED_KEYS

    try:
        first_day = dt.date.fromisoformat(since) if since else None
        result = rollup_engine.verify_recorded(since=first_day, metric=metric)
    finally:
        cache.delete(QUEUED_KEYS["verify"])
    if not result.is_exact:
        # The alerting watches ERROR lines; the panel shows the count and the first differences.
        first = [d.as_dict() for d in result.differences[:3]]
        logger.error("rollup verify: %d differences, first: %s", len(result.differences), first)
    return {
        "status": RollupStatus.OK if result.is_exact else RollupStatus.DIFFERENT,
        "differences": len(result.differences),
    }


@shared_task(
    name="governance.rollup_nightly",
    acks_late=True,
    soft_time_limit=1_800,
    time_limit=1_860,
)
def rollup_nightly() -> dict[str, Any]:
    """Recompute the last ROLLUP_NIGHTLY_DAYS days of every source (late rows, edits, deletions)."""
    return rollup_runs.window()


@shared_task(
    name="governance.rollup_full_township",
    acks_late=True,
    soft_time_limit=1_800,
    time_limit=1_860,
)
def rollup_full_township(township_id: int, token: str, metric: str | None = None) -> dict[str, Any]:
    """One township's share of a full rebuild (every day of its facts), then one step of progress."""
    rollup_lock.extend(token, FULL_LOCK_MS)
    result = rollup_engine.full_township(township_id, metric=metric)
    rollup_engine.progress_step()
    rollup_lock.extend(token, FULL_LOCK_MS)
    return {"township": township_id, "rows": sum(s.rows for s in result.sources)}


@shared_task(name="governance.rollup_full_finish", soft_time_limit=60, time_limit=120)
def rollup_full_finish(
    results: list[dict[str, Any]], targets: dict[str, list[Any]], token: str, run_id: int
) -> dict[str, Any]:
    """After every township: set the watermarks to where the feeds stood at the start, close the run
    record and free the lock."""
    from governance.models import RollupRun

    rollup_engine.full_finish(targets)
    run = RollupRun.objects.get(pk=run_id)
    rows = sum(int(r.get("rows", 0)) for r in results)
    rollup_engine.run_finish(run, status=RollupStatus.OK, detail={"townships": len(results), "rows": rows})
    rollup_lock.release(token)
    return {"status": RollupStatus.OK, "run": run_id, "townships": len(results), "rows": rows}


@shared_task(name="governance.rollup_full", acks_late=True, soft_time_limit=60, time_limit=90)
def rollup_full(metric: str | None = None) -> dict[str, Any]:
    """The full rebuild: one Celery group of per-township tasks (townships are independent, so they
    spread over the workers), then rollup_full_finish. Takes the rollup lock for the whole rebuild;
    the progress (townships done / total) is in the cache (governance.rollups.selectors.rollup_status).
    A township task that fails leaves the run "running": its lock expires and the next full rebuild
    (or the nightly window and the incremental passes) repairs."""
    token = rollup_lock.acquire(FULL_LOCK_MS)
    if token is None:
        run = rollup_engine.run_skipped(RollupKind.FULL)
        return {"status": RollupStatus.SKIPPED, "run": run.pk}
    run = rollup_engine.run_start(RollupKind.FULL)
    targets = rollup_engine.full_targets(metric)
    townships = rollup_engine.full_townships()
    rollup_engine.progress_start(len(townships))
    header = group(rollup_full_township.s(township_id, token, metric) for township_id in townships)
    chord(header)(rollup_full_finish.s(targets, token, run.pk))
    return {"status": "started", "run": run.pk, "townships": len(townships)}


@shared_task(name="governance.pending_tasks_resend", acks_late=True, soft_time_limit=50, time_limit=60)
def pending_tasks_resend() -> dict[str, int]:
    """Send the task messages the broker missed while it was down (common/dispatch.py), every minute."""
    from common.dispatch import resend_pending

    return resend_pending()
