"""Pages of sales imports: the jobs in scope, the upload form, a job's progress and outcome (the error
table paginated, the report downloadable), the template download and the retry of a stuck job.

Thin: each view parses its form, calls one selector or service and renders. The import runs in Celery
(eagerly in the demo, so a job may already be finished when its page is first shown).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.excel import XLSX_CONTENT_TYPE, xlsx_response
from common.views import pages
from industry import access
from industry.models import Event, SalesImportJob, SalesImportStatus
from industry.selectors import imports as selectors
from industry.services import imports as services

PAGE_SIZE = 20
ERRORS_PAGE_SIZE = 50


def _event_label(event: Event) -> str:
    return f"{event.name}（{event.starts_on:%Y-%m-%d}）"


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{Decimal(abs(fen)) / 100:,.2f}"


class SalesUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("销售记录文件（.xlsx）"),
        error_messages={"required": gettext_lazy("请选择要上传的销售记录文件。")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    event = forms.ChoiceField(
        label=gettext_lazy("展会节会"),
        required=False,
        help_text=gettext_lazy("选择后，表中可不填“展会节会”列，且只能导入该展会节会的销售记录。"),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, events: list[Event], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        event_field = self.fields["event"]
        assert isinstance(event_field, forms.ChoiceField)
        event_field.choices = [("", _("（不限定：按表中的“展会节会”列）"))] + [
            (str(e.pk), _event_label(e)) for e in events
        ]


class ImportFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False)
    event = forms.ChoiceField(label=gettext_lazy("展会节会"), required=False)
    q = forms.CharField(
        label=gettext_lazy("搜索"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("文件名、上传人或展会")}),
    )

    def __init__(self, *args: Any, events: list[Event], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field, event_field, sort_field = (
            self.fields["status"],
            self.fields["event"],
            self.fields["sort"],
        )
        assert isinstance(status_field, forms.ChoiceField)
        assert isinstance(event_field, forms.ChoiceField)
        assert isinstance(sort_field, forms.ChoiceField)
        status_field.choices = [("", _("全部")), *SalesImportStatus.choices]
        event_field.choices = [("", _("全部"))] + [(str(e.pk), _event_label(e)) for e in events]
        sort_field.choices = list(selectors.SORTS.items())

    def filters(self) -> selectors.ImportFilters:
        if not self.is_bound or not self.is_valid():
            return selectors.ImportFilters()
        data = self.cleaned_data
        return selectors.ImportFilters(
            status=data.get("status") or "",
            event_id=int(data["event"]) if data.get("event") else None,
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "-created_at",
        )


def _query_without(request: HttpRequest, *names: str) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k not in names and v])


@require_GET
@pages
def import_list(request: HttpRequest) -> HttpResponseBase:
    """The sales imports in scope: filter, sort, paginate, export (?export=xlsx)."""
    if not access.can_read_industry(request.user):
        raise Http404(selectors.JOB_NOT_FOUND)
    events = list(access.events_visible(request.user).order_by("-starts_on", "name")[:200])
    form = ImportFilterForm(request.GET or None, events=events)
    jobs = selectors.sales_import_job_list(actor=request.user, filters=form.filters())
    if request.GET.get("export") == "xlsx":
        title = _("销售导入记录")
        return xlsx_response(
            filename=f"{title}-{timezone.localdate():%Y%m%d}.xlsx",
            sheet_title=title,
            headers=[
                _("文件"),
                _("展会节会"),
                _("上传人"),
                _("上传时间"),
                _("状态"),
                _("数据行"),
                _("导入行"),
                _("有误行"),
                _("导入销售额（元）"),
            ],
            rows=(
                [
                    job.original_name,
                    job.event.name if job.event else "",
                    str(job.uploaded_by or ""),
                    job.created_at,
                    job.get_status_display(),
                    job.total_rows,
                    job.imported_rows,
                    job.rejected_rows,
                    Decimal(job.amount_fen) / 100,
                ]
                for job in jobs.iterator(chunk_size=500)
            ),
            widths=[30, 22, 12, 18, 12, 10, 10, 10, 18],
        )
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "industry/imports/list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without(request, "page", "export"),
            "can_create": services.sales_import_can_create(request.user),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def import_create(request: HttpRequest) -> HttpResponse:
    if not services.sales_import_can_create(request.user):
        raise PermissionDenied(_("您没有导入销售记录的权限。"))
    events = list(selectors.sales_import_events(request.user))
    if request.method == "POST":
        form = SalesUploadForm(request.POST, request.FILES, events=events)
        if form.is_valid():
            event_id = form.cleaned_data["event"]
            try:
                job = services.sales_import_create(
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    upload=form.cleaned_data["file"],
                    event=access.event_get_runnable(request.user, event_id) if event_id else None,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
            else:
                return redirect("industry:import-detail", job.pk)
    else:
        wanted = request.GET.get("event", "")
        form = SalesUploadForm(
            initial={
                "idempotency_key": uuid.uuid4().hex,
                "event": wanted if any(str(e.pk) == wanted for e in events) else "",
            },
            events=events,
        )
    return render(
        request,
        "industry/imports/create.html",
        {"form": form, "columns": services.SALES_COLUMNS},
        status=400 if form.errors else 200,
    )


@require_GET
@pages
def import_template(request: HttpRequest) -> FileResponse:
    response = FileResponse(
        services.sales_template_workbook(),
        content_type=XLSX_CONTENT_TYPE,
        as_attachment=True,
        filename="sales-import-template.xlsx",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_('销售记录导入模板.xlsx'))}"
    return response


@require_GET
@pages
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.sales_import_job_get(actor=request.user, job_id=pk)
    errors = selectors.sales_import_errors(job)
    page = Paginator(errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page")) if len(errors) else None
    return render(
        request,
        "industry/imports/detail.html",
        {
            "job": job,
            "progress": selectors.sales_import_progress(job),
            "is_finished": services.job_is_finished(job),
            "can_retry": services.job_can_retry(job) and services.job_can_manage(request.user, job),
            "errors_page": page,
            "error_rows": job.rejected_rows,
        },
    )


@require_GET
@pages
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The small document the detail page polls every second for its progress bar."""
    job = selectors.sales_import_job_get(actor=request.user, job_id=pk)
    progress = selectors.sales_import_progress(job)
    return JsonResponse(
        {
            "id": job.pk,
            "status": progress.status,
            "status_label": job.get_status_display(),
            "phase": progress.phase,
            "percent": progress.percent,
            "processed_rows": progress.processed_rows,
            "total_rows": progress.total_rows,
            "is_finished": progress.is_finished,
            "page_url": reverse("industry:import-detail", args=[job.pk]),
        },
        headers={"Cache-Control": "no-store"},
    )


@require_GET
@pages
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    job = selectors.sales_import_job_get(actor=request.user, job_id=pk)
    if not selectors.sales_import_error_count(job):
        raise Http404(_("该导入任务没有错误报告。"))
    headers, rows = services.sales_report_rows(job)
    stem = job.original_name.rsplit(".", 1)[0]
    return xlsx_response(
        filename=_("%s-导入报告.xlsx") % stem,
        sheet_title=_("有误的行"),
        headers=headers,
        rows=rows,
        widths=[8, *[16] * (len(headers) - 2), 80],
    )


@require_POST
@pages
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job: SalesImportJob = selectors.sales_import_job_get(actor=request.user, job_id=pk)
    try:
        services.sales_import_retry(actor=request.user, job=job)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已重新排队导入。"))
    return redirect("industry:import-detail", job.pk)
