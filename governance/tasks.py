"""Celery tasks of the spine: each takes ids, calls a service and owns only its retry policy."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.services import exports as export_services
from governance.services import roster as roster_services


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
