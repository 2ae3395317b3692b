"""Reads of sales imports: the jobs a user may see, a job's progress for the polling page, its errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, IntegerField, Q, QuerySet
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as governance_access
from industry import access
from industry.models import Event, SalesImportJob, SalesImportStatus
from industry.services.imports import FINISHED, job_is_finished, progress_cache_key

AnyUser = AbstractBaseUser | AnonymousUser

JOB_NOT_FOUND = gettext_lazy("未找到该导入任务，或者它不在您的管辖范围内。")
# The bar: reading and checking every row is most of the work; COPY of the checked rows is quick.
VALIDATION_SHARE = 80
SORTS = {
    "-created_at": gettext_lazy("最新上传"),
    "created_at": gettext_lazy("最早上传"),
    "-amount_fen": gettext_lazy("销售额最高"),
    "-imported_rows": gettext_lazy("导入行最多"),
    "-rejected_rows": gettext_lazy("有误行最多"),
}


def sales_import_jobs_visible(actor: AnyUser) -> QuerySet[SalesImportJob]:
    """Jobs `actor` uploaded, jobs made inside its region scope, and jobs for events granted to it."""
    if not actor.is_authenticated:
        return SalesImportJob.objects.none()
    condition = (
        Q(uploaded_by_id=actor.pk)
        | governance_access.scope_q(actor, "region_path", access.READ_ROLES)
        | Q(event_id__in=governance_access.granted_ids(actor, Event, access.MANAGE_EVENT_CODENAME))
    )
    return SalesImportJob.objects.filter(condition).select_related("uploaded_by", "event")


def _without_report(jobs: QuerySet[SalesImportJob]) -> QuerySet[SalesImportJob]:
    """The jobs without their report loaded, its length counted in the database: a rejected 200,000-row
    sheet carries that many entries, read a page at a time (JobErrors)."""
    length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
    return jobs.defer("errors").annotate(
        error_total=Func(F("errors"), function=length, output_field=IntegerField())
    )


def sales_import_job_get(*, actor: AnyUser, job_id: int | str) -> SalesImportJob:
    """One visible job (its report not loaded: see sales_import_errors); NotFound (404) when it does not
    exist or is out of scope."""
    visible = sales_import_jobs_visible(actor).select_related("event__region").filter(pk=job_id)
    job = _without_report(visible).first()
    if job is None:
        raise NotFound(JOB_NOT_FOUND)
    return job


@dataclass(frozen=True)
class ImportFilters:
    status: str = ""
    event_id: int | None = None
    q: str = ""
    sort: str = "-created_at"


def sales_import_job_list(
    *, actor: AnyUser, filters: ImportFilters | None = None
) -> QuerySet[SalesImportJob]:
    """The visible jobs filtered (status, event, file name or uploader) and sorted (SORTS)."""
    filters = filters or ImportFilters()
    jobs = sales_import_jobs_visible(actor)
    if filters.status in SalesImportStatus.values:
        jobs = jobs.filter(status=filters.status)
    if filters.event_id:
        jobs = jobs.filter(event_id=filters.event_id)
    if filters.q:
        jobs = jobs.filter(
            Q(original_name__icontains=filters.q)
            | Q(uploaded_by__full_name__icontains=filters.q)
            | Q(event__name__icontains=filters.q)
        )
    sort = filters.sort if filters.sort in SORTS else "-created_at"
    return _without_report(jobs).order_by(sort, "-id")


def sales_import_events(actor: AnyUser) -> QuerySet[Event]:
    """The events `actor` may import sales for, newest first (the upload form's choices)."""
    return access.events_runnable(actor).select_related("region").order_by("-starts_on", "name")


@dataclass(frozen=True)
class ImportProgress:
    status: str
    phase: str
    percent: int
    processed_rows: int
    total_rows: int
    is_finished: bool


def sales_import_progress(job: SalesImportJob) -> ImportProgress:
    """How far the job is, 0–100: checking the rows fills the first VALIDATION_SHARE of the bar, writing
    the rest. The writing phase runs inside one transaction, so its count is read from the cache."""
    status = str(job.status)
    if job.status in FINISHED:
        return ImportProgress(status, status, 100, job.processed_rows, job.total_rows, True)
    cached: dict[str, Any] = cache.get(progress_cache_key(job.pk)) or {}
    if job.status == SalesImportStatus.VALIDATING:
        done = max(job.processed_rows, int(cached.get("processed", 0)))
        total = max(job.total_rows, int(cached.get("total", 0)), done)
        share = done * VALIDATION_SHARE // total if total else 0
        return ImportProgress(status, status, share, done, total, False)
    if job.status == SalesImportStatus.WRITING:
        total = int(cached.get("total", 0)) or job.total_rows
        done = min(int(cached.get("processed", 0)), total) if cached.get("phase") == status else 0
        share = VALIDATION_SHARE + (done * (100 - VALIDATION_SHARE) // total if total else 0)
        return ImportProgress(status, status, share, done, total, False)
    return ImportProgress(status, status, 0, 0, job.total_rows, job_is_finished(job))


def sales_import_error_count(job: SalesImportJob) -> int:
    """How many report entries the job has (read from the list's annotation when there is one)."""
    annotated = getattr(job, "error_total", None)
    if annotated is not None:
        return int(annotated)
    return len(job.errors or [])


class JobErrors:
    """A job's report entries ({"row", "column", "value", "reason"}, in sheet and column order) as a
    sequence that reads only the slice asked for (PostgreSQL's jsonb_path_query_array), so paginating a
    report of 200,000 entries never loads it whole. Django's Paginator and DRF's pagination take it."""

    def __init__(self, job: SalesImportJob) -> None:
        self.job_id = job.pk
        self.total = sales_import_error_count(job)
        self._loaded: list[dict[str, Any]] | None = (
            None if "errors" in job.get_deferred_fields() else list(job.errors or [])
        )

    def __len__(self) -> int:
        return self.total

    def count(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, self.total, 5_000):
            yield from self[start : start + 5_000]

    @overload
    def __getitem__(self, index: int, /) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice, /) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice, /) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, int):
            found = (
                self[index : index + 1] if index >= 0 else self[self.total + index : self.total + index + 1]
            )
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop, step = index.indices(self.total)
        if step != 1:
            return self[start:stop][::step]
        if start >= stop:
            return []
        if self._loaded is not None:
            return self._loaded[start:stop]
        if connection.vendor != "postgresql":
            errors = SalesImportJob.objects.filter(pk=self.job_id).values_list("errors", flat=True).first()
            return list(errors or [])[start:stop]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT jsonb_path_query_array(errors, '$[{int(start)} to {int(stop) - 1}]') "  # noqa: S608
                f"FROM {SalesImportJob._meta.db_table} WHERE id = %s",
                [self.job_id],
            )
            row = cursor.fetchone()
        if row is None:
            return []
        value = row[0]
        return list(json.loads(value) if isinstance(value, str) else value)


def sales_import_errors(job: SalesImportJob) -> JobErrors:
    """The job's report entries, in sheet and column order, read a slice at a time."""
    return JobErrors(job)
