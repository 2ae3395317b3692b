"""Reads of roster imports: the jobs a user may see, and a job's progress for the polling page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access
from governance.models import ImportJob, ImportStatus
from governance.services import roster as roster_services
from governance.services.roster import importer_region, progress_cache_key

AnyUser = AbstractBaseUser | AnonymousUser

# The bar: validation (reading every row) is the first half of the work, writing the second.
_VALIDATION_SHARE = 50


def import_job_list(*, actor: AnyUser) -> QuerySet[ImportJob]:
    """Jobs the actor uploaded, and jobs made inside the subtree where it sees personal data."""
    if not actor.is_authenticated:
        return ImportJob.objects.none()
    return (
        ImportJob.objects.filter(
            Q(uploaded_by_id=actor.pk) | access.scope_q(actor, "region__path", access.PERSONAL_DATA_ROLES)
        )
        .select_related("uploaded_by", "region")
        .order_by("-created_at", "-id")
    )


def import_job_get(*, actor: AnyUser, job_id: int) -> ImportJob:
    """One visible job; NotFound (404) when it does not exist or is out of scope."""
    job = import_job_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("未找到该导入任务，或者它不在您的管辖范围内。"))
    return job


def roster_can_import(*, actor: AnyUser) -> bool:
    return importer_region(actor) is not None


@dataclass(frozen=True)
class ImportProgress:
    percent: int
    written_rows: int


def import_job_progress(job: ImportJob) -> ImportProgress:
    """How far the job is, 0–100: validation fills the first half of the bar, writing the second."""
    if job.status in (ImportStatus.SUCCEEDED, ImportStatus.REJECTED, ImportStatus.FAILED):
        return ImportProgress(100, job.imported_residents)
    if job.status == ImportStatus.VALIDATING and job.total_rows:
        share = min(job.processed_rows, job.total_rows) * _VALIDATION_SHARE // job.total_rows
        return ImportProgress(share, 0)
    if job.status == ImportStatus.IMPORTING:
        written = int(cache.get(progress_cache_key(job.pk)) or 0)
        share = min(written, job.valid_rows) * (100 - _VALIDATION_SHARE) // max(job.valid_rows, 1)
        return ImportProgress(_VALIDATION_SHARE + share, written)
    return ImportProgress(0, 0)


def import_job_preview(job: ImportJob, rows: int = 3) -> list[list[str]]:
    """The first data rows under the header row, as text, for the header confirmation page."""
    with job.file.open("rb") as source:
        workbook = roster_services.workbook_open(source)
        try:
            sheet = (
                workbook[job.sheet_name] if job.sheet_name in workbook.sheetnames else workbook.worksheets[0]
            )
            found: list[list[str]] = []
            for values in sheet.iter_rows(min_row=job.header_row + 1, values_only=True):
                texts = [roster_services.cell_text(v) for v in values]
                if any(texts):
                    found.append(texts)
                if len(found) >= rows:
                    break
            return found
        finally:
            workbook.close()
