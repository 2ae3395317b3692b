"""Pages of the audit log: search, paginate, export to Excel (through the export page; itself audited),
one entry's changes.

Read-only by construction: every view answers GET only; there is no form that writes an entry.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from common.errors import DomainError
from governance.models import AuditEvent, ExportKind
from governance.selectors import audit as audit_selectors
from governance.views.exports import export_new_url

PAGE_SIZE = 50
SORTS = {"-at": gettext_lazy("最新在前"), "at": gettext_lazy("最早在前")}
FILTER_KEYS = ("actor", "actor_name", "action", "object_type", "object_id", "date_from", "date_to", "q")


def _require_reader(request: HttpRequest) -> None:
    if not audit_selectors.audit_can_view(actor=request.user):
        raise PermissionDenied(_("只有县委组织部管理员和乡镇管理员可以查看审计日志。"))


def _filterset(request: HttpRequest) -> audit_selectors.AuditEventFilter:
    events = audit_selectors.audit_event_list(actor=request.user)
    filterset = audit_selectors.AuditEventFilter(request.GET or None, queryset=events)
    form = filterset.form
    form.fields["object_type"].widget = forms.Select(
        choices=[("", _("全部类型")), *audit_selectors.object_type_choices(actor=request.user)]
    )
    for name in ("date_from", "date_to"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    form.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("对象、说明或操作人")})
    return filterset


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse | HttpResponseRedirect:
    _require_reader(request)
    filterset = _filterset(request)
    events = filterset.qs if filterset.is_bound else filterset.queryset
    sort = request.GET.get("sort", "-at")
    if sort not in SORTS:
        sort = "-at"
    events = events.order_by(sort, "-id" if sort == "-at" else "id")
    if request.GET.get("export") == "xlsx":
        # On to the export page with the same filters; the file is made as the user, in their scope,
        # by a Celery task.
        kept_filters = {key: request.GET.get(key, "") for key in (*FILTER_KEYS, "sort")}
        return HttpResponseRedirect(export_new_url(ExportKind.AUDIT_LOG, kept_filters))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(audit_selectors.object_type_choices(actor=request.user))
    for event in page.object_list:
        event.type_label = labels.get(event.object_type, event.object_type)
    kept = request.GET.copy()
    kept.pop("page", None)
    kept.pop("export", None)
    return render(
        request,
        "governance/audit/list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "page": page,
            "query": kept.urlencode(),
            "sort": sort,
            "sorts": SORTS,
        },
    )


@login_required
@require_GET
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    _require_reader(request)
    try:
        event: AuditEvent = audit_selectors.audit_event_get(actor=request.user, event_id=event_id)
    except DomainError:
        raise Http404(_("未找到该审计记录，或者它不在您的管辖范围内。")) from None
    return render(
        request,
        "governance/audit/detail.html",
        {
            "event": event,
            "object_type_label": audit_selectors.object_type_label(event.object_type),
            "rows": audit_selectors.changes_rows(event),
        },
    )
