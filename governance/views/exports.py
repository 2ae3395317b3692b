"""Pages of list exports: the export page a list's “导出 Excel” button leads to (what will be exported,
and the button that starts it), the job's page with its progress bar and download link, “我的导出”
(the user's own jobs), and the download itself.

Starting an export is a POST carrying an idempotency key: a GET never writes, so a link preview or a
prefetching phone browser can neither start an export nor put one in the audit log. That is why the
lists' export links lead to this page first rather than to a file.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.excel import xlsx_file_response
from governance.models import ExportJob, ExportKind, ExportStatus
from governance.selectors import exports as export_selectors
from governance.services import exports as export_services

PAGE_SIZE = 20
# Query and form names that belong to the export page or the list page, never to the list's filters.
_NOT_FILTERS = frozenset({"full", "page", "export", "csrfmiddlewaretoken", "idempotency_key"})
_LIST_PAGES = {
    ExportKind.HOUSEHOLDS: "governance:people_household_list",
    ExportKind.RESIDENTS: "governance:people_resident_list",
    ExportKind.PARTY_MEMBERS: "governance:party_member_list",
    ExportKind.AUDIT_LOG: "governance:audit_list",
}


def export_new_url(kind: str, filters: dict[str, Any], *, full: bool = False) -> str:
    """The export page for the `kind` list with `filters` (what a list's export link points at)."""
    query = {k: v for k, v in filters.items() if k not in _NOT_FILTERS and v not in (None, "")}
    if full:
        query["full"] = "1"
    url = reverse("governance:export_new", args=[kind])
    return f"{url}?{urlencode(query)}" if query else url


def _filters_from(data: QueryDict) -> dict[str, str]:
    return {key: data.get(key, "") for key in data if key not in _NOT_FILTERS and data.get(key, "")}


def _list_url(kind: str, filters: dict[str, str]) -> str:
    url = reverse(_LIST_PAGES[ExportKind(kind)])
    return f"{url}?{urlencode(filters)}" if filters else url


def _page_error(error: DomainError) -> None:
    """Refusals render the ordinary 403 and 404 pages; other errors are shown on the export page."""
    if error.status == 404:
        raise Http404(str(error.message))
    if error.status == 403:
        raise PermissionDenied(str(error.message))


def _job(request: HttpRequest, job_id: int) -> ExportJob:
    try:
        return export_selectors.export_job_get(actor=request.user, job_id=job_id)
    except DomainError as error:
        raise Http404(str(error.message)) from None


@login_required
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: what the export will hold (the list, its filters, about how many rows, masked or in full)
    and the button that starts it. POST: start it, then go to the job's page."""
    if kind not in ExportKind.values:
        raise Http404(_("未知的导出类型。"))
    data = request.POST if request.method == "POST" else request.GET
    full = data.get("full") == "1"
    filters = _filters_from(data)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            job = export_services.export_job_create(
                actor=request.user,
                kind=kind,
                filters=filters,
                full_personal_data=full,
                idempotency_key=request.POST.get("idempotency_key", ""),
                request=request,
            )
        except DomainError as refused:
            _page_error(refused)
            error = refused
        else:
            return redirect("governance:export_job_detail", job_id=job.pk)
    described: list[tuple[str, str]] = []
    cleaned: dict[str, str] = {}
    rows: int | None = None
    try:
        export_selectors.export_gate(user=request.user, kind=kind, full=full)
        cleaned = export_selectors.export_filters_clean(kind=kind, user=request.user, filters=filters)
    except DomainError as refused:
        _page_error(refused)
        error = error or refused
    else:
        described = export_selectors.export_filters_describe(kind=kind, user=request.user, filters=cleaned)
        sheet = export_selectors.export_sheet(kind=kind, user=request.user, filters=cleaned, full=full)
        rows = sheet.queryset.count()
    return render(
        request,
        "governance/exports/new.html",
        {
            "kind": kind,
            "kind_label": ExportKind(kind).label,
            # The form re-posts only the filters the list knows (cleaned), never stray query names.
            "filters": sorted(cleaned.items()),
            "described": described,
            "full": full,
            "personal_data": kind in export_selectors.PERSONAL_DATA_KINDS,
            "rows": rows,
            "in_background": rows is not None and rows > export_services.SYNC_MAX_ROWS,
            "error": error,
            # A refused POST keeps its key: no job was made with it, and the same click may be retried.
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
            "list_url": _list_url(kind, filters),
            "keep_days": export_selectors.EXPORT_KEEP_DAYS,
        },
        status=400 if error is not None and request.method == "POST" else 200,
    )


@never_cache
@login_required
@require_GET
def export_job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job: a progress bar while it runs (static/js/exports.js polls the API), then the download
    link, or the reason it failed. Only its requester sees it."""
    job = _job(request, job_id)
    return render(
        request,
        "governance/exports/detail.html",
        {
            "job": job,
            "percent": export_selectors.export_job_percent(job),
            "expires_at": export_selectors.export_job_expires_at(job),
            "again_url": export_new_url(job.kind, dict(job.filters), full=job.full_personal_data),
            "list_url": _list_url(job.kind, dict(job.filters)),
            "personal_data": job.kind in export_selectors.PERSONAL_DATA_KINDS,
            "keep_days": export_selectors.EXPORT_KEEP_DAYS,
        },
    )


@never_cache
@login_required
@require_GET
def export_job_list(request: HttpRequest) -> HttpResponse:
    """“我的导出”: the user's own exports, newest first, 20 to a page."""
    page = Paginator(export_selectors.export_job_list(actor=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "governance/exports/list.html",
        {"page": page, "keep_days": export_selectors.EXPORT_KEEP_DAYS, "done": ExportStatus.DONE},
    )


@login_required
@require_GET
def export_job_download(request: HttpRequest, job_id: int) -> FileResponse:
    """The finished file, for its requester only (404 for anyone else); each download is audited."""
    job = _job(request, job_id)
    try:
        handle = export_selectors.export_job_file_open(job)
    except DomainError as error:
        raise Http404(str(error.message)) from None
    try:
        export_services.export_job_download_record(actor=request.user, job=job, request=request)
    except DomainError as error:
        handle.close()
        _page_error(error)
        raise
    return xlsx_file_response(handle, filename=job.file_name)
