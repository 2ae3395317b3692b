"""Writes of list exports: create a job (validated, idempotent, queued after the commit), run it (the
Celery task's work), record each download, and delete files once they are old.

Where an export runs: the job is counted when it is created, with the list's own selector in the
requester's scope. At most SYNC_MAX_ROWS rows, and it runs in the request, right after the commit, by the
very code the task runs (same selector, same file, same audit entry): the job page then opens with its
download link and no worker round trip. More, and it goes to Celery and the page shows the progress bar.
Either way there is no row cap: rows are streamed into the workbook, so memory stays flat.

Every file is made in the requester's scope at run time (the task calls the selector as the requester),
and the gate is checked again when the job runs and at every download.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files import File
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.dispatch import send, send_on_commit
from common.errors import DomainError, NotFound
from common.excel import workbook_write
from governance.audit import audit_record, client_ip
from governance.models import AuditAction, ExportJob, ExportKind, ExportStatus
from governance.selectors import exports as export_selectors
from governance.services import audit_log as audit_log_services
from governance.services import party as party_services
from governance.services import people as people_services

AnyUser = AbstractBaseUser | AnonymousUser
logger = logging.getLogger(__name__)

# Up to this many rows an export runs in the request (a second or two); beyond it, in Celery.
SYNC_MAX_ROWS = 2_000
# The progress bar moves every this many rows (one short UPDATE each).
PROGRESS_EVERY = 500
# A job running for longer than this was left by a worker that died (the task's hard time limit is
# far shorter); the broker redelivers the task (acks_late) and the job may be claimed again.
STALE_AFTER = dt.timedelta(hours=2)


# --- Creating a job -------------------------------------------------------------------------------------


def _enqueue(job: ExportJob, *, inline: bool) -> None:
    from governance.tasks import export_run

    job_id = job.pk
    if inline:
        transaction.on_commit(lambda: _run_inline(job_id))
    else:
        send_on_commit(export_run, job_id)


def _run_inline(job_id: int) -> None:
    try:
        export_job_run(job_id=job_id)
    except (OperationalError, InterfaceError):
        # The database went away mid-run and the job is back in the queue: a worker retries it.
        from governance.tasks import export_run

        send(export_run, job_id)


@transaction.atomic
def export_job_create(
    *,
    actor: AnyUser,
    kind: str,
    filters: Mapping[str, Any],
    full_personal_data: bool = False,
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> ExportJob:
    """Store an export of the `kind` list with `filters` for `actor` and return it; the same key again
    returns the first job, whatever else is given.

    Checks the gate (the audit log needs a role that reads it; personal data in clear a role that sees
    it) and the filters (an invalid one is refused, never ignored). The file is made after the commit:
    in the request when the list has at most SYNC_MAX_ROWS rows, otherwise by the Celery task.
    """
    if not actor.is_authenticated:
        raise DomainError("export_forbidden", _("请先登录。"), status=403)
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise DomainError(
            "idempotency_key_missing",
            _("缺少防重复提交标识，请刷新页面后重试。"),
            field="idempotency_key",
        )
    existing = ExportJob.objects.filter(requested_by_id=actor.pk, idempotency_key=key).first()
    if existing is not None:
        return existing
    if kind not in ExportKind.values:
        raise DomainError("export_kind_unknown", _("未知的导出类型：%s") % kind, field="kind")
    full = bool(full_personal_data)
    export_selectors.export_gate(user=actor, kind=kind, full=full)
    cleaned = export_selectors.export_filters_clean(kind=kind, user=actor, filters=filters)
    described = export_selectors.export_filters_describe(kind=kind, user=actor, filters=cleaned)
    sheet = export_selectors.export_sheet(kind=kind, user=actor, filters=cleaned, full=full)
    rows = sheet.queryset.count()
    job = ExportJob(
        requested_by_id=actor.pk,
        kind=kind,
        filters=cleaned,
        summary=export_selectors.export_filters_summary(described),
        full_personal_data=full,
        status=ExportStatus.QUEUED,
        rows_total=rows,
        file_name=export_selectors.export_file_name(kind, timezone.now()),
        requested_ip=client_ip(request),
        idempotency_key=key,
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # The same form submitted twice at once: the other request made the job.
        return ExportJob.objects.get(requested_by_id=actor.pk, idempotency_key=key)
    _enqueue(job, inline=rows <= SYNC_MAX_ROWS)
    return job


# --- Running a job --------------------------------------------------------------------------------------


class _Progress:
    """Counts the rows as the workbook takes them and stores the count every PROGRESS_EVERY rows, each
    time in its own short UPDATE (no transaction is open here, so the polling page sees it at once)."""

    def __init__(self, job_id: int, rows: Iterable[list[Any]]) -> None:
        self.job_id = job_id
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Any]]:
        every = max(1, PROGRESS_EVERY)
        for row in self.rows:
            yield row
            self.count += 1
            if self.count % every == 0:
                ExportJob.objects.filter(pk=self.job_id).update(rows_done=self.count)


def _audit_request(job: ExportJob) -> HttpRequest | None:
    """A stand-in request carrying the address the export was asked from, for the audit entry the
    worker writes (it has no request of its own)."""
    if not job.requested_ip:
        return None
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = job.requested_ip
    return request


def _audit_export(job: ExportJob, *, region_path: str, rows: int) -> None:
    """The export's audit entry, written by the list's own *_export_record service."""
    actor = job.requested_by
    request = _audit_request(job)
    filters = dict(job.filters)
    if job.kind in (ExportKind.HOUSEHOLDS, ExportKind.RESIDENTS):
        people_services.people_export_record(
            actor=actor,
            what="household" if job.kind == ExportKind.HOUSEHOLDS else "resident",
            filters=filters,
            row_count=rows,
            unmasked=job.full_personal_data,
            region_path=region_path,
            request=request,
        )
    elif job.kind == ExportKind.PARTY_MEMBERS:
        party_services.party_member_export_record(
            actor=actor, count=rows, filters=filters, region_path=region_path, request=request
        )
    else:
        filters.pop("sort", None)
        audit_log_services.audit_log_export_record(
            actor=actor, count=rows, filters=filters, region_path=region_path, request=request
        )


def _run(job: ExportJob) -> None:
    user = job.requested_by
    export_selectors.export_gate(user=user, kind=job.kind, full=job.full_personal_data)
    sheet = export_selectors.export_sheet(
        kind=job.kind, user=user, filters=job.filters, full=job.full_personal_data
    )
    ExportJob.objects.filter(pk=job.pk).update(rows_total=sheet.queryset.count())
    progress = _Progress(job.pk, sheet.rows())
    output = workbook_write(
        sheet_title=sheet.title, headers=sheet.headers, rows=progress, widths=sheet.widths
    )
    storage = job.file.storage
    try:
        stored = storage.save(job.file.field.generate_filename(job, f"{uuid.uuid4().hex}.xlsx"), File(output))
    finally:
        output.close()
    try:
        with transaction.atomic():
            # Only the run that claimed the job finishes it (a stale claim may have passed it on).
            finished = ExportJob.objects.filter(
                pk=job.pk, status=ExportStatus.RUNNING, started_at=job.started_at
            ).update(
                status=ExportStatus.DONE,
                file=stored,
                rows_done=progress.count,
                rows_total=progress.count,
                region_path=sheet.region_path,
                finished_at=timezone.now(),
            )
            if finished:
                _audit_export(job, region_path=sheet.region_path, rows=progress.count)
    except BaseException:
        storage.delete(stored)
        raise
    if not finished:
        storage.delete(stored)


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, started_at=job.started_at).update(
        status=ExportStatus.FAILED, failure_message=message[:300], finished_at=timezone.now()
    )


def export_job_run(*, job_id: int) -> ExportJob:
    """Make the file of a queued job; return the job, finished (done or failed).

    Claims the job with a conditional UPDATE (queued → running), so a task delivered twice runs it once;
    a job neither queued nor left stale by a dead worker is returned as it is. Runs the list's selector
    as the requester (scope decided now), streams the rows into the workbook with the progress stored
    every PROGRESS_EVERY rows, stores the file and, in one transaction, marks the job done and writes the
    export's audit entry with the exact row count. A database that goes away puts the job back in the
    queue and re-raises (the task retries); any other error ends the job failed, with a Chinese message.
    """
    now = timezone.now()
    stale = Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(Q(status=ExportStatus.QUEUED) | stale)
        .update(status=ExportStatus.RUNNING, started_at=now, rows_done=0, failure_message="")
    )
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        _run(job)
    except (OperationalError, InterfaceError):
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, started_at=now).update(
            status=ExportStatus.QUEUED
        )
        raise
    except DomainError as error:
        _fail(job, str(error.message))
    except SoftTimeLimitExceeded:
        _fail(job, _("导出用时过长，已停止。请缩小筛选范围，分批导出。"))
    except Exception:
        logger.exception("export %s failed", job_id)
        _fail(job, _("导出过程中发生意外错误，没有生成文件。请稍后重试或联系管理员。"))
    job.refresh_from_db()
    return job


# --- Downloads and old files ----------------------------------------------------------------------------


@transaction.atomic
def export_job_download_record(*, actor: AnyUser, job: ExportJob, request: HttpRequest | None = None) -> None:
    """Check that `actor` may take the job's file now and write the download's audit entry.

    Only the requester gets the file (NotFound, 404, for anyone else, and for a job without a file), and
    only while the gate still lets them make the same export (a role withdrawn since answers 403)."""
    if not actor.is_authenticated or job.requested_by_id != actor.pk:
        raise NotFound(_("未找到该导出任务。"))
    if job.status != ExportStatus.DONE or not job.file:
        raise NotFound(_("该导出文件尚未生成，或已过期删除。"))
    export_selectors.export_gate(user=actor, kind=job.kind, full=job.full_personal_data)
    if job.kind in export_selectors.PERSONAL_DATA_KINDS:
        masking = _("（含完整身份证号、手机号、住址）") if job.full_personal_data else _("（个人信息已遮挡）")
    else:
        masking = ""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=job,
        region_path=job.region_path,
        changes={"kind": job.kind, "rows": job.rows_done, "unmasked": job.full_personal_data},
        detail=_("下载导出文件《%(name)s》，共 %(rows)d 行%(masking)s")
        % {"name": job.file_name, "rows": job.rows_done, "masking": masking},
        request=request,
    )


def export_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than EXPORT_KEEP_DAYS ago and mark those jobs expired;
    return how many.

    The file goes first and the row second: should the UPDATE fail, the next run finds the job again
    (deleting a missing file is a no-op), whereas the other order could leave personal data on disk
    with nothing pointing at it. Two runs at once expire each job once (conditional UPDATE)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=export_selectors.EXPORT_KEEP_DAYS)
    storage = ExportJob._meta.get_field("file").storage
    expired = 0
    old = ExportJob.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff).values_list("pk", "file")
    for job_id, name in old.iterator(chunk_size=500):
        if name:
            storage.delete(name)
        expired += ExportJob.objects.filter(pk=job_id, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        )
    return expired
