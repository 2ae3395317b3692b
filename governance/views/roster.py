"""Pages of roster imports: upload, header confirmation, progress and report, template and report downloads.

Thin: each view parses its form, calls one selector or service and renders. The import itself runs in
Celery (eagerly in the demo, so a job may already be finished when its page is first shown).
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import DomainError
from common.excel import XLSX_CONTENT_TYPE, xlsx_response
from governance.models import ImportJob, ImportMode, ImportStatus
from governance.selectors import roster as roster_selectors
from governance.services import roster as roster_services

REPORT_ON_PAGE = 500


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("花名册文件（.xlsx）"),
        error_messages={"required": gettext_lazy("请选择要上传的花名册文件。")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("导入方式"),
        choices=[
            (ImportMode.ALL_OR_NOTHING, gettext_lazy("全部成功才导入：有任何一行有误，就一行也不导入")),
            (ImportMode.VALID_ONLY, gettext_lazy("导入有效行：跳过有误的行，其余行导入")),
        ],
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _field_error(form: forms.Form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    try:
        return roster_selectors.import_job_get(actor=request.user, job_id=job_id)
    except DomainError:
        raise Http404(_("未找到该导入任务，或者它不在您的管辖范围内。")) from None


@login_required
@require_http_methods(["GET", "POST"])
def roster_import_new(request: HttpRequest) -> HttpResponse:
    if not roster_selectors.roster_can_import(actor=request.user):
        raise PermissionDenied(_("您没有导入花名册的权限。"))
    if request.method == "POST":
        form = RosterUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = roster_services.roster_import_create(
                    actor=request.user,
                    upload=form.cleaned_data["file"],
                    mode=ImportMode(form.cleaned_data["mode"]),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _field_error(form, error)
            else:
                return redirect("governance:roster_import_detail", job_id=job.pk)
    else:
        form = RosterUploadForm(initial={"idempotency_key": uuid.uuid4().hex})
    jobs = roster_selectors.import_job_list(actor=request.user)[:10]
    return render(
        request,
        "governance/roster/import_new.html",
        {"form": form, "jobs": jobs, "fields": roster_services.ROSTER_FIELDS},
    )


@login_required
@require_GET
def roster_template(request: HttpRequest) -> FileResponse:
    response = FileResponse(
        roster_services.roster_template_workbook(),
        content_type=XLSX_CONTENT_TYPE,
        as_attachment=True,
        filename="roster-template.xlsx",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_('花名册导入模板.xlsx'))}"
    return response


def _mapping_form(job: ImportJob, data: dict[str, str] | None = None) -> forms.Form:
    choices = [("", gettext_lazy("（不导入此列）"))] + [
        (f.key, f"{f.header}{_('（必填）') if f.required else ''}") for f in roster_services.ROSTER_FIELDS
    ]
    form = forms.Form(data=data)
    for index, header in enumerate(job.headers):
        form.fields[f"col_{index}"] = forms.ChoiceField(
            label=header or _("（无表头）"),
            choices=choices,
            required=False,
            initial=job.column_mapping.get(str(index), ""),
        )
    return form


@login_required
@require_http_methods(["GET", "POST"])
def roster_import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if job.status != ImportStatus.MAPPING:
        return redirect("governance:roster_import_detail", job_id=job.pk)
    if request.method == "POST":
        form = _mapping_form(job, request.POST.dict())
        if form.is_valid():
            mapping = {name.removeprefix("col_"): value for name, value in form.cleaned_data.items() if value}
            try:
                job = roster_services.roster_import_map(actor=request.user, job=job, mapping=mapping)
            except DomainError as error:
                form.add_error(None, str(error.message))
            else:
                return redirect("governance:roster_import_detail", job_id=job.pk)
    else:
        form = _mapping_form(job)
    preview = roster_selectors.import_job_preview(job)
    columns = [
        {
            "field": form[f"col_{index}"],
            "samples": [row[index] if index < len(row) else "" for row in preview],
        }
        for index in range(len(job.headers))
    ]
    return render(
        request,
        "governance/roster/import_mapping.html",
        {"job": job, "form": form, "columns": columns, "required": roster_services.REQUIRED_FIELDS},
    )


@login_required
@require_GET
def roster_import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if job.status == ImportStatus.MAPPING:
        return redirect("governance:roster_import_mapping", job_id=job.pk)
    progress = roster_selectors.import_job_progress(job)
    return render(
        request,
        "governance/roster/import_detail.html",
        {
            "job": job,
            "progress": progress,
            "errors": job.errors[:REPORT_ON_PAGE],
            "errors_hidden": max(0, len(job.errors) - REPORT_ON_PAGE),
        },
    )


@login_required
@require_GET
def roster_import_report(request: HttpRequest, job_id: int) -> FileResponse:
    job = _job(request, job_id)
    roster_services.roster_report_export(actor=request.user, job=job, request=request)
    stem = job.original_name.rsplit(".", 1)[0]
    return xlsx_response(
        filename=_("%s-导入报告.xlsx") % stem,
        sheet_title=_("有误的行"),
        headers=[_("行号"), _("列"), _("填写内容"), _("原因")],
        rows=roster_services.roster_report_rows(job),
        widths=[8, 14, 24, 80],
    )
