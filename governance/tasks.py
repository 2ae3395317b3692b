"""Celery tasks of the spine: each takes ids, calls a service and owns only its retry policy."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

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
