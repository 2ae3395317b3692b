"""Celery tasks of the industry module: each takes ids, calls a service and owns only its retry policy."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from industry.services import imports as import_services


@shared_task(
    name="industry.sales_import",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    # 200,000 rows take well under a minute; the hard limit stays below the service's STALE_AFTER
    # (15 minutes), so a job is only re-claimed once the run that had it is surely gone.
    soft_time_limit=600,
    time_limit=660,
)
def sales_import(job_id: int) -> dict[str, object]:
    """Validate and import the sales sheet of SalesImportJob `job_id`. Safe to deliver twice: the
    service claims the job with a conditional UPDATE, and a job no longer queued (nor stale) is left
    as it is, so a redelivered task never writes twice."""
    job = import_services.sales_import_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "imported_rows": job.imported_rows}
