"""Pages of the awards area: the grid leader's propose form (phone first) and batch form (a grid's
households × chosen items for a month, all or none), the village reviewer's queue, the award list and
detail with its notice period and objections, and the objection decision.

Thin: each page parses its input, calls one selector or service and renders. Domain errors show next to
their field and keep what was typed; out of scope answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.excel import xlsx_response
from common.views import pages
from governance import access as governance_access
from governance.audit import audit_record
from governance.models import AuditAction
from governance.pii import mask_name
from governance.selectors import people as people_selectors
from points.models import AwardStatus, ObjectionStatus, Rule, RuleCategory
from points.selectors import awards as selectors
from points.selectors.rules import rules_applicable
from points.services import awards as services
from points.services import objections as objection_services

PAGE_SIZE = 30
BATCH_RULES_MAX = 8


def _form_error(form: forms.Form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _key() -> str:
    return uuid.uuid4().hex


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


# --- propose ---------------------------------------------------------------------------------------


class ProposeForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    household = forms.TypedChoiceField(label=gettext_lazy("户"), coerce=int)
    rule = forms.TypedChoiceField(label=gettext_lazy("积分条目"), coerce=int)
    resident = forms.TypedChoiceField(
        label=gettext_lazy("当事人"), coerce=int, required=False, empty_value=None
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("发生日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写发生日期。"),
            "invalid": gettext_lazy("请输入有效的日期。"),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("事迹说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("简要写明时间、地点和经过")}),
    )
    photos = MultipleFileField(
        label=gettext_lazy("现场照片"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, *args: Any, households: list[Any], rules: list[Rule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        household_field: forms.TypedChoiceField = self.fields["household"]  # type: ignore[assignment]
        household_field.choices = [("", _("请选择户"))] + [
            (h.pk, f"{h.number} {h.head.name if h.head else ''}".strip()) for h in households
        ]
        self.fields["household"].error_messages["required"] = _("请选择户。")
        grouped: dict[str, list[tuple[int, str]]] = {}
        labels = dict(RuleCategory.choices)
        for rule in rules:
            grouped.setdefault(str(labels.get(rule.category, rule.category)), []).append(
                (
                    rule.pk,
                    f"{rule.name}（{rule.points:+d}）"
                    + (_("（须附照片）") if rule.is_evidence_required else ""),
                )
            )
        rule_field: forms.TypedChoiceField = self.fields["rule"]  # type: ignore[assignment]
        rule_field.choices = [("", _("请选择条目")), *list(grouped.items())]
        self.fields["rule"].error_messages["required"] = _("请选择积分条目。")
        residents = [(r.pk, f"{h.number} {r.name}") for h in households for r in h.members.all()]
        resident_field: forms.TypedChoiceField = self.fields["resident"]  # type: ignore[assignment]
        resident_field.choices = [("", _("（不指定）")), *residents]


@pages
@require_http_methods(["GET", "POST"])
def award_propose(request: HttpRequest) -> HttpResponse:
    """申报: household picker in the grid, rule picker by category, resident, date, note, photos."""
    grids = list(selectors.proposer_grids(request.user))
    if not grids:
        raise Http404(_("您没有可申报积分的网格。"))
    grid_id = request.GET.get("grid") or request.POST.get("grid") or ""
    grid = next((g for g in grids if str(g.pk) == grid_id), grids[0])
    households = list(selectors.grid_households(request.user, grid.pk))
    rules = list(rules_applicable(grid.path))
    form = ProposeForm(
        request.POST or None,
        request.FILES or None,
        households=households,
        rules=rules,
        initial={
            "idempotency_key": _key(),
            "occurred_on": timezone.localdate(),
            "household": request.GET.get("household", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = next(h for h in households if h.pk == data["household"])
        rule = next((r for r in rules if r.pk == data["rule"]), None)
        resident = next((r for h in households for r in h.members.all() if r.pk == data["resident"]), None)
        try:
            if rule is None:
                raise DomainError(
                    "rule_not_applicable", _("该条目不适用于此户所在的村（社区）。"), field="rule"
                )
            award = services.award_propose(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                household=household,
                rule=rule,
                occurred_on=data["occurred_on"],
                resident=resident,
                note=data["note"],
                photos=data["photos"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("已申报，等待村里审核。"))
            return redirect("points:award_detail", award.pk)
    return render(
        request,
        "points/awards/propose.html",
        {"form": form, "grid": grid, "grids": grids, "max_photos": services.MAX_PHOTOS},
    )


# --- batch -----------------------------------------------------------------------------------------


@pages
@require_http_methods(["GET", "POST"])
def award_batch(request: HttpRequest) -> HttpResponse:
    """The batch form: all active households of one grid × the chosen items, for one date in a month.
    One submit proposes every ticked cell in one transaction, or none; each row's errors show beside it."""
    grids = list(selectors.proposer_grids(request.user))
    if not grids:
        raise Http404(_("您没有可申报积分的网格。"))
    source = request.POST if request.method == "POST" else request.GET
    grid = next((g for g in grids if str(g.pk) == source.get("grid", "")), grids[0])
    all_rules = list(rules_applicable(grid.path))
    chosen_ids = [int(v) for v in source.getlist("rules") if v.isdigit()][:BATCH_RULES_MAX]
    chosen = [r for r in all_rules if r.pk in chosen_ids]
    today = timezone.localdate()
    occurred_raw = source.get("occurred_on") or today.isoformat()
    try:
        occurred_on = dt.date.fromisoformat(occurred_raw)
    except ValueError:
        occurred_on = today
    households = list(selectors.grid_households(request.user, grid.pk))
    row_errors: dict[str, dict[str, str]] = {}
    top_error = ""
    ticked: set[str] = set(request.POST.getlist("cell")) if request.method == "POST" else set()
    notes = (
        {h.pk: request.POST.get(f"note-{h.pk}", "") for h in households} if request.method == "POST" else {}
    )
    if request.method == "POST":
        rows: list[services.BatchRow] = []
        origin: list[int] = []
        rules_by_id = {r.pk: r for r in chosen}
        by_id = {h.pk: h for h in households}
        for cell in sorted(ticked):
            household_id, _sep, rule_id = cell.partition(":")
            if not (household_id.isdigit() and rule_id.isdigit()):
                continue
            household = by_id.get(int(household_id))
            rule = rules_by_id.get(int(rule_id))
            if household is None or rule is None:
                continue
            rows.append(
                services.BatchRow(
                    household=household,
                    rule=rule,
                    note=notes.get(household.pk, ""),
                    photos=request.FILES.getlist(f"photos-{household.pk}"),
                )
            )
            origin.append(household.pk)
        try:
            if occurred_raw != occurred_on.isoformat():
                raise DomainError("occurred_invalid", _("请输入有效的日期。"), field="occurred_on")
            awards = services.award_propose_batch(
                actor=request.user,
                batch_key=request.POST.get("idempotency_key", ""),
                occurred_on=occurred_on,
                rows=rows,
            )
        except services.BatchErrors as error:
            top_error = str(error.message)
            for index, errors in error.rows.items():
                rule_name = rules_by_id[rows[index].rule.pk].name
                bucket = row_errors.setdefault(str(origin[index]), {})
                for message in errors.values():
                    bucket[rule_name] = message
        except DomainError as error:
            if error.status == 404:
                raise
            top_error = str(error.message)
        else:
            messages.success(request, _("已批量申报 %(n)s 条，等待村里审核。") % {"n": len(awards)})
            return redirect(f"{reverse('points:award_list')}?status=proposed&grid={grid.pk}")
    periods = {r.pk: services.period_key(r.cap_period, occurred_on) for r in chosen}
    existing = selectors.batch_existing([h.pk for h in households], [r.pk for r in chosen], periods)
    matrix = [
        {
            "household": h,
            "cells": [
                {
                    "value": f"{h.pk}:{r.pk}",
                    "rule": r,
                    "done": (h.pk, r.pk) in existing,
                    "checked": f"{h.pk}:{r.pk}" in ticked,
                }
                for r in chosen
            ],
            "errors": row_errors.get(str(h.pk), {}),
            "note": notes.get(h.pk, ""),
            "needs_photo": any(r.is_evidence_required for r in chosen),
        }
        for h in households
    ]
    categories = dict(RuleCategory.choices)
    return render(
        request,
        "points/awards/batch.html",
        {
            "grid": grid,
            "grids": grids,
            "all_rules": [(r, str(categories.get(r.category, ""))) for r in all_rules],
            "chosen": chosen,
            "chosen_ids": {r.pk for r in chosen},
            "occurred_on": occurred_on,
            "matrix": matrix,
            "top_error": top_error,
            "idempotency_key": request.POST.get("idempotency_key") if top_error else _key(),
            "rules_max": BATCH_RULES_MAX,
        },
    )


# --- review queue ----------------------------------------------------------------------------------


@pages
@require_http_methods(["GET", "POST"])
def award_review_queue(request: HttpRequest) -> HttpResponse:
    """The village reviewer's queue: approve or reject (with a reason) each, or bulk approve."""
    if not selectors.is_reviewer(request.user):
        raise Http404(_("您没有审核积分的权限。"))
    errors: dict[int, str] = {}
    top_error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "bulk_approve":
                ids = [int(v) for v in request.POST.getlist("awards") if v.isdigit()]
                count = services.awards_approve_bulk(actor=request.user, award_ids=ids)
                messages.success(request, _("已审核通过 %(n)s 条，进入公示。") % {"n": count})
                return redirect("points:award_review_queue")
            award_id = request.POST.get("award", "")
            award = selectors.award_detail(request.user, award_id if award_id.isdigit() else "0")
            approve = action == "approve"
            try:
                services.award_review(
                    actor=request.user, award=award, approve=approve, reason=request.POST.get("reason", "")
                )
            except DomainError as error:
                if error.status == 404:
                    raise
                errors[award.pk] = str(error.message)
            else:
                messages.success(
                    request, _("已审核通过，进入公示。") if approve else _("已退回，申报人可看到理由。")
                )
                return redirect("points:award_review_queue")
        except DomainError as error:
            if error.status == 404:
                raise
            top_error = str(error.message)
    queue = list(selectors.review_queue(request.user)[:200])
    objections = list(selectors.objections_open(request.user)[:100])
    return render(
        request,
        "points/awards/review.html",
        {"queue": queue, "errors": errors, "top_error": top_error, "objections": objections},
    )


# --- list and detail -------------------------------------------------------------------------------


def _list_filters(request: HttpRequest) -> dict[str, Any]:
    """The award list's filters from the query string (the page and its export read the same)."""

    def number(name: str) -> int | None:
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() else None

    status = request.GET.get("status", "")
    return {
        "status": status if status in AwardStatus.values else "",
        "grid": number("grid"),
        "village": number("village"),
        "household": number("household"),
        "period": request.GET.get("period", "")[:8],
        "query": request.GET.get("q", "").strip()[:50],
    }


@pages
def award_list(request: HttpRequest) -> HttpResponse:
    filters = _list_filters(request)
    status = filters["status"]
    awards = selectors.awards_list(request.user, **filters)
    page = Paginator(awards, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "points/awards/list.html",
        {
            "page": page,
            "statuses": AwardStatus.choices,
            "status": status,
            "querystring": params.urlencode(),
            "can_propose": selectors.is_proposer(request.user),
            "can_review": selectors.is_reviewer(request.user),
        },
    )


# --- Excel exports ---------------------------------------------------------------------------------

EXPORT_MAX_ROWS = 50_000


def _names(request: HttpRequest) -> Callable[[Any, str], str]:
    """How a resident's name goes into an export, as the personal-data rule says: in full where the user
    holds a role that sees personal data over the household's grid (governance.access.PERSONAL_DATA_ROLES),
    masked (张*明) elsewhere, e.g. for a viewer."""
    paths = people_selectors.personal_data_paths(user=request.user)

    def name(award: Any, value: str) -> str:
        if not value:
            return ""
        return value if people_selectors.path_covered(award.household.grid.path, paths) else mask_name(value)

    return name


def _export_record(request: HttpRequest, *, what: str, count: int, filters: dict[str, Any]) -> None:
    """The audit entry of an export holding residents' names (PIPL: every export of personal data)."""
    paths = governance_access.outermost([path for _role, path in governance_access.assignments(request.user)])
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="points.award",
        object_repr=_("%(what)s（%(n)s 条）") % {"what": what, "n": count},
        region_path=paths[0] if len(paths) == 1 else "",
        changes={"filters": [None, {k: str(v) for k, v in filters.items() if v}], "rows": [None, count]},
        detail=_("导出%(what)s Excel，共 %(n)s 行。") % {"what": what, "n": count},
        request=request,
    )


_CATEGORIES = dict(RuleCategory.choices)


def _award_cells(award: Any, name: Callable[[Any, str], str]) -> list[Any]:
    """The columns every award export starts with (see _AWARD_HEADERS)."""
    grid = award.household.grid
    head = award.household.head
    return [
        award.pk,
        grid.parent.name if grid.parent else "",
        grid.name,
        award.household.number,
        name(award, head.name if head else ""),
        name(award, award.resident.name if award.resident else ""),
        award.rule.code,
        award.rule.name,
        str(_CATEGORIES.get(award.rule.category, award.rule.category)),
        award.points,
        award.occurred_on,
    ]


def _award_headers() -> list[str]:
    return [
        _("编号"),
        _("村（社区）"),
        _("网格"),
        _("户号"),
        _("户主"),
        _("当事人"),
        _("条目编码"),
        _("积分条目"),
        _("类别"),
        _("分值"),
        _("发生日期"),
    ]


@pages
@require_GET
def award_list_export(request: HttpRequest) -> HttpResponseBase:
    """The award list as filtered on its page (status, village, grid, household, period, search), newest
    first, as .xlsx; residents' names as _names says; the export is written to the audit log."""
    filters = _list_filters(request)
    awards = list(selectors.awards_list(request.user, **filters)[:EXPORT_MAX_ROWS])
    name = _names(request)
    rows = [
        [
            *_award_cells(award, name),
            award.period,
            award.get_status_display(),
            str(award.proposed_by),
            award.proposed_at,
            award.reviewed_at,
            award.notice_ends_at,
            award.posted_at,
            award.open_objections,  # type: ignore[attr-defined]
            award.rejection_reason or award.void_reason,
            award.note,
        ]
        for award in awards
    ]
    _export_record(request, what=_("积分申报记录"), count=len(rows), filters=filters)
    return xlsx_response(
        filename=_("积分申报记录-%(date)s.xlsx") % {"date": timezone.localdate().isoformat()},
        sheet_title=_("积分申报记录"),
        headers=[
            *_award_headers(),
            _("周期"),
            _("状态"),
            _("申报人"),
            _("申报时间"),
            _("审核时间"),
            _("公示截止"),
            _("入账时间"),
            _("未处理异议"),
            _("退回或作废理由"),
            _("事迹说明"),
        ],
        rows=rows,
        widths=[8, 14, 14, 12, 10, 10, 10, 28, 12, 8, 12, 10, 10, 12, 18, 18, 18, 18, 10, 24, 36],
    )


@pages
@require_GET
def award_review_export(request: HttpRequest) -> HttpResponseBase:
    """The review queue as on its page (the proposed awards the user may review, oldest first), as .xlsx;
    written to the audit log."""
    if not selectors.is_reviewer(request.user):
        raise Http404(_("您没有审核积分的权限。"))
    name = _names(request)
    rows = [
        [
            *_award_cells(award, name),
            str(award.proposed_by),
            award.proposed_at,
            len(award.photos.all()),
            award.note,
        ]
        for award in selectors.review_queue(request.user)[:EXPORT_MAX_ROWS]
    ]
    _export_record(request, what=_("积分审核待办"), count=len(rows), filters={})
    return xlsx_response(
        filename=_("积分审核待办-%(date)s.xlsx") % {"date": timezone.localdate().isoformat()},
        sheet_title=_("积分审核待办"),
        headers=[*_award_headers(), _("申报人"), _("申报时间"), _("照片数"), _("事迹说明")],
        rows=rows,
        widths=[8, 14, 14, 12, 10, 10, 10, 28, 12, 8, 12, 12, 18, 8, 36],
    )


class ObjectionDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("处理结果"),
        choices=[
            ("upheld", gettext_lazy("异议成立（作废该条积分）")),
            ("dismissed", gettext_lazy("异议不成立")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择处理结果。")},
    )
    note = forms.CharField(
        label=gettext_lazy("处理意见"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写处理意见。")},
    )


@pages
def award_detail(request: HttpRequest, award_id: int) -> HttpResponse:
    award = selectors.award_detail(request.user, award_id)
    from points import access

    can_review = access.can_review(request.user, award)
    return render(
        request,
        "points/awards/detail.html",
        {
            "award": award,
            "can_review": can_review,
            "objection_form": ObjectionDecideForm(),
            "now": timezone.now(),
            "open_status": ObjectionStatus.OPEN,
        },
    )


@pages
@require_POST
def objection_decide(request: HttpRequest, objection_id: int) -> HttpResponse:
    objection = selectors.objection_get_reviewable(request.user, objection_id)
    form = ObjectionDecideForm(request.POST)
    if form.is_valid():
        try:
            objection_services.objection_decide(
                actor=request.user,
                objection=objection,
                upheld=form.cleaned_data["decision"] == "upheld",
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            if error.status == 404:
                raise
            _form_error(form, error)
        else:
            messages.success(request, _("异议已处理。"))
            return redirect("points:award_detail", objection.award_id)
    award = selectors.award_detail(request.user, objection.award_id)
    return render(
        request,
        "points/awards/detail.html",
        {
            "award": award,
            "can_review": True,
            "objection_form": form,
            "form_objection_id": objection.pk,
            "now": timezone.now(),
            "open_status": ObjectionStatus.OPEN,
        },
        status=400,
    )


@pages
@require_POST
def award_void(request: HttpRequest, award_id: int) -> HttpResponse:
    award = selectors.award_detail(request.user, award_id)
    try:
        services.award_void(actor=request.user, award=award, reason=request.POST.get("reason", ""))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已作废。"))
    return redirect("points:award_detail", award.pk)
