"""The triage queue (/grids/queue/): the desk of the village Party secretary (and of the township and county
admins, and of a grid leader for the cases kept in the grid). Tabs by state with counts, filters, sort,
pages, yellow/red warnings, accepting several cases at once, and an Excel export of the filtered list.

A constant number of queries whatever the number of cases (grids.selectors.queue). Thin: the writes go
through grids.services.queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from common.excel import xlsx_response
from governance import access
from grids.models import Case, HandlingLevel, Urgency
from grids.selectors import queue as queue_selectors
from grids.services import queue as queue_services
from grids.views.cases import scoped_page

PAGE_SIZE = 30

SORT_LABELS = {
    "-filed": gettext_lazy("上报时间（新→旧）"),
    "filed": gettext_lazy("上报时间（旧→新）"),
    "deadline": gettext_lazy("办理期限（近→远）"),
    "warning": gettext_lazy("预警（超期优先）"),
    "urgency": gettext_lazy("紧急程度（特急优先）"),
}
assert set(SORT_LABELS) == set(queue_selectors.QUEUE_SORTS)

WARNING_CHOICES = [
    ("", gettext_lazy("全部")),
    ("any", gettext_lazy("有预警（临期或超期）")),
    ("yellow", gettext_lazy("临期（黄色）")),
    ("red", gettext_lazy("超期（红色）")),
]


class QueueFilterForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("编号"), required=False, max_length=20)
    category = forms.TypedChoiceField(
        label=gettext_lazy("类别"), required=False, coerce=int, empty_value=None, choices=[]
    )
    urgency = forms.ChoiceField(label=gettext_lazy("紧急程度"), required=False, choices=[])
    warning = forms.ChoiceField(label=gettext_lazy("预警"), required=False, choices=WARNING_CHOICES)
    region = forms.TypedChoiceField(
        label=gettext_lazy("网格 / 村"), required=False, coerce=int, empty_value=None, choices=[]
    )
    level = forms.ChoiceField(label=gettext_lazy("办理层级"), required=False, choices=[])
    filed_from = forms.DateField(
        label=gettext_lazy("上报日期从"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期，如 2026-05-01。")},
    )
    filed_to = forms.DateField(
        label=gettext_lazy("至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("请输入有效的日期，如 2026-05-01。")},
    )
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=list(SORT_LABELS.items()))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("全部类别")), *queue_selectors.queue_category_choices()]  # type: ignore[attr-defined]
        self.fields["urgency"].choices = [("", _("全部")), *Urgency.choices]  # type: ignore[attr-defined]
        self.fields["region"].choices = [("", _("全部")), *queue_selectors.queue_region_choices(user=user)]  # type: ignore[attr-defined]
        self.fields["level"].choices = [("", _("全部层级")), *HandlingLevel.choices]  # type: ignore[attr-defined]
        self.fields["number"].widget.attrs.update({"placeholder": _("编号开头"), "autocomplete": "off"})
        for name in ("category", "region"):
            self.fields[name].error_messages["invalid_choice"] = _("请从列表中选择。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("filed_from"), data.get("filed_to")
        if start and end and end < start:
            self.add_error("filed_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> queue_selectors.QueueFilters:
        """The valid filters (an invalid one is shown next to its field and ignored)."""
        data = self.cleaned_data if self.is_bound else {}
        return queue_selectors.QueueFilters(
            category_id=data.get("category"),
            urgency=data.get("urgency") or "",
            warning=data.get("warning") or "",
            region_id=data.get("region"),
            level=data.get("level") or "",
            filed_from=data.get("filed_from"),
            filed_to=data.get("filed_to") if "filed_to" not in self.errors else None,
            number=data.get("number") or "",
        )


def _form(request: HttpRequest) -> QueueFilterForm:
    params = {k: v for k, v in request.GET.items() if k not in ("tab", "page", "export")}
    form = QueueFilterForm(params or None, user=request.user)
    if form.is_bound:
        form.is_valid()
    return form


@scoped_page
def queue(request: HttpRequest) -> HttpResponseBase:
    """The queue page; GET ?export=xlsx downloads the filtered list (the tab, or all tabs with tab=all)."""
    if not queue_selectors.queue_has_desk(request.user):
        raise PermissionDenied(_("受理台只对网格长、村党组织书记和乡镇、县管理员开放。"))
    if request.method == "POST":
        return _bulk_accept(request)
    form = _form(request)
    filters = form.filters()
    sort = (form.cleaned_data.get("sort") if form.is_bound else "") or queue_selectors.DEFAULT_SORT
    tab = request.GET.get("tab") or queue_selectors.DEFAULT_TAB
    if request.GET.get("export") == "xlsx":
        return _export(request, form, filters, tab, sort)
    result = queue_selectors.queue_cases(user=request.user, tab=tab, filters=filters, sort=sort)
    page = result.page(request.GET.get("page"), PAGE_SIZE)
    rows = list(page.object_list)
    identity = queue_selectors.queue_identity_visible(user=request.user, cases=rows)
    keep = {k: v for k, v in request.GET.items() if k not in ("page", "export", "tab") and v}
    return render(
        request,
        "grids/queue.html",
        {
            "form": form,
            "result": result,
            "tabs": [(t, result.counts[t.slug]) for t in queue_selectors.QUEUE_TABS],
            "page": page,
            "rows": [(case, case.pk in identity) for case in rows],
            "query": urlencode({**keep, "tab": result.tab.slug}),
            "filter_query": urlencode(keep),
            "export_query": urlencode({**keep, "tab": result.tab.slug, "export": "xlsx"}),
            "export_all_query": urlencode({**keep, "tab": "all", "export": "xlsx"}),
            "sort": result.sort,
            "filtered": any(v for k, v in keep.items() if k != "sort"),
            "can_bulk_accept": result.tab.slug == "submitted",
            "now": timezone.now(),
        },
    )


def _bulk_accept(request: HttpRequest) -> HttpResponseBase:
    back = request.POST.get("back") or ""
    target = f"{request.path}?{back}" if back and not back.startswith(("/", "http")) else request.path
    try:
        result = queue_services.case_bulk_accept(actor=request.user, numbers=request.POST.getlist("cases"))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(target)
    if result.done:
        messages.success(
            request,
            _("已受理 %(n)d 件：%(numbers)s。") % {"n": len(result.done), "numbers": "、".join(result.done)},
        )
    for number, reason in result.refused:
        messages.error(request, _("%(number)s 未受理：%(reason)s") % {"number": number, "reason": reason})
    return redirect(target)


def _export(
    request: HttpRequest, form: QueueFilterForm, filters: queue_selectors.QueueFilters, tab: str, sort: str
) -> FileResponse:
    cases = queue_selectors.queue_export_rows(
        user=request.user, filters=filters, tab=None if tab == "all" else tab, sort=sort
    )
    rows = list(cases)
    identity = queue_selectors.queue_identity_visible(user=request.user, cases=rows)
    has_personal_data = any(case.resident_id and case.pk in identity for case in rows)
    paths = access.outermost([path for _role, path in access.assignments(request.user)])
    queue_services.queue_export_record(
        actor=request.user,
        count=len(rows),
        filters={
            k: str(v) for k, v in (form.cleaned_data if form.is_bound else {}).items() if v not in (None, "")
        }
        | {"tab": tab},
        has_personal_data=has_personal_data,
        region_path=paths[0] if len(paths) == 1 else "",
        request=request,
    )
    return xlsx_response(
        filename=_("民情诉求受理台账-%s.xlsx") % timezone.localdate().isoformat(),
        sheet_title=_("民情诉求"),
        headers=[
            _("编号"),
            _("状态"),
            _("类别"),
            _("紧急程度"),
            _("预警"),
            _("网格"),
            _("村（社区）"),
            _("办理层级"),
            _("反映人"),
            _("诉求内容"),
            _("承办单位"),
            _("承办人"),
            _("上报时间"),
            _("签收期限"),
            _("办结期限"),
        ],
        rows=_export_rows(rows, identity),
        widths=[16, 12, 16, 8, 8, 14, 14, 10, 10, 50, 18, 10, 18, 18, 18],
    )


def _export_rows(rows: list[Case], identity: set[int]) -> Iterator[list[Any]]:
    for case in rows:
        yield [
            case.number,
            case.get_status_display(),
            case.category.name,
            case.get_urgency_display(),
            case.get_warning_display(),
            case.grid.name,
            case.grid.parent.name if case.grid.parent else "",
            case.get_level_display(),
            queue_selectors.resident_label(case, identity),
            case.description,
            case.assigned_unit.name if case.assigned_unit else "",
            str(case.assigned_user) if case.assigned_user else "",
            case.filed_at,
            case.sign_deadline,
            case.resolve_deadline,
        ]
