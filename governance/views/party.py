"""Pages of the Party area: the organisation tree and detail, members (list, detail with the pipeline
timeline and the advance form), the young farmer members table, sages' groups, the talent registry and
the Shennong heroes gatherings. Phone first; desktop for county staff.

Thin: each view reads through selectors, writes through one service, and renders. Out of scope answers
404 (selectors raise NotFound); a write needs a county, township or village-secretary role over the
record (403 otherwise). Domain errors are shown next to the field they belong to, with the input kept.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from common.excel import xlsx_response
from governance import access
from governance.models import (
    MemberCategory,
    MembershipStage,
    PartyMember,
    SagesMemberKind,
    TalentCategory,
)
from governance.selectors import party as party_selectors
from governance.services import party as party_services

PAGE_SIZE = 50


def _scoped_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in only; an out-of-scope object (NotFound) renders the ordinary 404 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from None

    return login_required(wrapped)


def _add_domain_error(form: forms.Form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's message next to the form field it names (the whole form if it names none)."""
    name = (field_map or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, str(error.message))


def _scope_path(request: HttpRequest) -> str:
    """The region an export is filed under in the audit log: the user's one outermost region, if one."""
    paths = access.outermost([path for _role, path in access.assignments(request.user)])
    return paths[0] if len(paths) == 1 else ""


# --- organisations ------------------------------------------------------------------------------


@_scoped_page
def party_organisation_list(request: HttpRequest) -> HttpResponse:
    """The organisation tree, collapsible, with member counts at every node."""
    roots = party_selectors.party_org_tree(user=request.user)
    return render(
        request,
        "governance/party/org_tree.html",
        {
            "roots": roots,
            "tab": "orgs",
            "total_party_members": sum(r.subtree_party_members for r in roots),
            "total_in_pipeline": sum(r.subtree_in_pipeline for r in roots),
        },
    )


@_scoped_page
def party_organisation_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    detail = party_selectors.party_org_detail(user=request.user, org_id=org_id)
    max_stage = max([row.count for row in detail.stage_counts] + [1])
    max_category = max([row.count for row in detail.category_counts] + [1])
    return render(
        request,
        "governance/party/org_detail.html",
        {"d": detail, "tab": "orgs", "max_stage": max_stage, "max_category": max_category},
    )


# --- members ------------------------------------------------------------------------------------

SORT_LABELS = {
    "organisation": gettext_lazy("按党组织"),
    "-organisation": gettext_lazy("按党组织（倒序）"),
    "name": gettext_lazy("按姓名"),
    "-name": gettext_lazy("按姓名（倒序）"),
    "-joined": gettext_lazy("入党时间（新→旧）"),
    "joined": gettext_lazy("入党时间（旧→新）"),
    "-stage": gettext_lazy("发展阶段（正式→申请）"),
    "stage": gettext_lazy("发展阶段（申请→正式）"),
}
assert set(SORT_LABELS) == set(party_selectors.MEMBER_SORTS)


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("姓名"), required=False, max_length=50)
    stage = forms.ChoiceField(
        label=gettext_lazy("发展阶段"), required=False, choices=[("", gettext_lazy("全部阶段"))]
    )
    category = forms.ChoiceField(
        label=gettext_lazy("党员类别"), required=False, choices=[("", gettext_lazy("全部类别"))]
    )
    org = forms.TypedChoiceField(
        label=gettext_lazy("党组织"), required=False, coerce=int, empty_value=None, choices=[]
    )
    year = forms.TypedChoiceField(
        label=gettext_lazy("入党年份"), required=False, coerce=int, empty_value=None, choices=[]
    )
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=[])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", _("全部阶段")), *MembershipStage.choices]  # type: ignore[attr-defined]
        self.fields["category"].choices = [("", _("全部类别")), *MemberCategory.choices]  # type: ignore[attr-defined]
        orgs = party_selectors.party_org_list(user=user)
        self.fields["org"].choices = [("", _("全部党组织"))] + [  # type: ignore[attr-defined]
            (o.pk, f"{'　' * max(0, o.path.count('/') - 2)}{o.name}") for o in orgs
        ]
        self.fields["year"].choices = [("", _("全部年份"))] + [  # type: ignore[attr-defined]
            (y, str(y)) for y in party_selectors.party_member_years(user=user)
        ]
        self.fields["sort"].choices = list(SORT_LABELS.items())  # type: ignore[attr-defined]


def _member_rows(members: Any) -> Any:
    for m in members.iterator(chunk_size=2000):
        yield [
            m.resident.name,
            m.resident.get_gender_display(),
            m.organisation.name,
            m.get_category_display(),
            m.get_stage_display(),
            m.applied_on,
            m.joined_on,
        ]


@_scoped_page
def party_member_list(request: HttpRequest) -> HttpResponseBase:
    """Members with filters (name, stage, category, organisation subtree, year joined), sort, pages of 50
    and an Excel export of everything the filters keep."""
    form = MemberFilterForm(request.GET or None, user=request.user)
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = form.cleaned_data  # the valid ones; an invalid one is shown next to its field
    sort = filters.get("sort") or party_selectors.DEFAULT_MEMBER_SORT
    members = party_selectors.party_member_list(
        user=request.user,
        stage=filters.get("stage") or None,
        category=filters.get("category") or None,
        organisation_id=filters.get("org"),
        year_joined=filters.get("year"),
        search=filters.get("q") or "",
        sort=sort,
    )
    if request.GET.get("export") == "xlsx":
        count = members.count()
        party_services.party_member_export_record(
            actor=request.user,
            count=count,
            filters={k: str(v) for k, v in filters.items() if v not in (None, "")},
            region_path=_scope_path(request),
            request=request,
        )
        return xlsx_response(
            filename=_("党员名册-%s.xlsx") % timezone.localdate().isoformat(),
            sheet_title=_("党员名册"),
            headers=[
                _("姓名"),
                _("性别"),
                _("所在党组织"),
                _("党员类别"),
                _("发展阶段"),
                _("申请日期"),
                _("入党日期"),
            ],
            rows=_member_rows(members),
            widths=[12, 6, 28, 14, 14, 12, 12],
        )
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = {k: v for k, v in request.GET.items() if k not in ("page", "export") and v}
    return render(
        request,
        "governance/party/member_list.html",
        {
            "form": form,
            "page": page,
            "tab": "members",
            "query": urlencode(keep),
            "export_query": urlencode({**keep, "export": "xlsx"}),
            "sort": sort,
            "filtered": any(v for k, v in keep.items() if k != "sort"),
        },
    )


class AdvanceForm(forms.Form):
    to_stage = forms.ChoiceField(choices=MembershipStage.choices, widget=forms.HiddenInput)
    occurred_on = forms.DateField(
        label=gettext_lazy("日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写日期。"),
            "invalid": gettext_lazy("请输入有效的日期。"),
        },
    )
    sponsor_1 = forms.ModelChoiceField(
        label=gettext_lazy("入党介绍人一"),
        queryset=PartyMember.objects.none(),
        required=False,
        empty_label=gettext_lazy("请选择正式党员"),
    )
    sponsor_2 = forms.ModelChoiceField(
        label=gettext_lazy("入党介绍人二"),
        queryset=PartyMember.objects.none(),
        required=False,
        empty_label=gettext_lazy("请选择正式党员"),
    )
    note = forms.CharField(label=gettext_lazy("备注"), required=False, max_length=200)

    def __init__(
        self, *args: Any, user: Any, member: PartyMember, next_stage: MembershipStage, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.needs_sponsors = next_stage == MembershipStage.CANDIDATE
        if self.needs_sponsors:
            choices = party_selectors.party_sponsor_choices(user=user, member=member)
            for name in ("sponsor_1", "sponsor_2"):
                field = self.fields[name]
                field.queryset = choices  # type: ignore[attr-defined]
                field.label_from_instance = lambda m: m.resident.name  # type: ignore[attr-defined]
        else:
            del self.fields["sponsor_1"]
            del self.fields["sponsor_2"]
        self.fields["note"].widget.attrs["placeholder"] = _("例如：支部大会讨论通过")


@_scoped_page
def party_member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's page: the pipeline as a timeline, sponsors, transfers, positions, and (for those who
    may) the form that moves them to the next stage."""
    detail = party_selectors.party_member_detail(user=request.user, member_id=member_id)
    if request.method == "POST" and not detail.can_manage:
        raise PermissionDenied(_("您没有推进该党员发展程序的权限。"))
    form = None
    if detail.can_manage and detail.next_stage is not None:
        initial = {"to_stage": detail.next_stage.value, "occurred_on": timezone.localdate()}
        if request.method == "POST":
            form = AdvanceForm(
                request.POST, user=request.user, member=detail.member, next_stage=detail.next_stage
            )
            if form.is_valid() and _advance(request, form, detail.member):
                return redirect("governance:party_member_detail", member_id=member_id)
        else:
            form = AdvanceForm(
                initial=initial, user=request.user, member=detail.member, next_stage=detail.next_stage
            )
    elif request.method == "POST":
        # Someone else completed the pipeline while this page was open.
        messages.info(request, _("%s已是正式党员，发展程序已经完成。") % detail.member.resident.name)
        return redirect("governance:party_member_detail", member_id=member_id)
    return render(
        request,
        "governance/party/member_detail.html",
        {"d": detail, "m": detail.member, "form": form, "tab": "members"},
        status=400 if form is not None and form.errors else 200,
    )


def _advance(request: HttpRequest, form: AdvanceForm, member: PartyMember) -> bool:
    data = form.cleaned_data
    sponsors = None
    if form.needs_sponsors and (data.get("sponsor_1") or data.get("sponsor_2")):
        sponsors = (data.get("sponsor_1"), data.get("sponsor_2"))
    try:
        step = party_services.party_member_advance(
            actor=request.user,
            member=member,
            to_stage=data["to_stage"],
            occurred_on=data["occurred_on"],
            sponsors=sponsors,  # type: ignore[arg-type]
            note=data.get("note") or "",
            request=request,
        )
    except DomainError as error:
        # The stage is a hidden field: its errors (a stale page) go to the top of the form.
        _add_domain_error(form, error, {"sponsors": "sponsor_2", "to_stage": ""})
        return False
    messages.success(
        request,
        _("已将%(name)s推进为%(stage)s（%(day)s）。")
        % {
            "name": member.resident.name,
            "stage": step.get_stage_display(),
            "day": step.occurred_on.isoformat(),
        },
    )
    return True


# --- the county view of young farmer members ----------------------------------------------------


@_scoped_page
def party_young_farmers(request: HttpRequest) -> HttpResponse:
    report = party_selectors.young_farmer_members_by_year(user=request.user)
    return render(request, "governance/party/young_farmers.html", {"report": report, "tab": "young"})


# --- sages' groups ------------------------------------------------------------------------------


@_scoped_page
def party_sages_list(request: HttpRequest) -> HttpResponse:
    groups = party_selectors.sages_group_list(user=request.user)
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "governance/party/sages_list.html", {"page": page, "tab": "sages"})


class SagesMemberForm(forms.Form):
    resident_name = forms.CharField(
        label=gettext_lazy("居民姓名"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写居民姓名。")},
    )
    id_last4 = forms.CharField(
        label=gettext_lazy("身份证号后四位"),
        required=False,
        max_length=4,
        min_length=4,
        help_text=gettext_lazy("本村有同名居民时填写，用于区分。"),
        error_messages={"min_length": gettext_lazy("请填写身份证号的后四位。")},
    )
    kind = forms.ChoiceField(label=gettext_lazy("身份"), choices=SagesMemberKind.choices)
    joined_on = forms.DateField(
        label=gettext_lazy("加入日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写加入日期。"),
            "invalid": gettext_lazy("请输入有效的日期。"),
        },
    )

    def clean_id_last4(self) -> str:
        value = (self.cleaned_data.get("id_last4") or "").strip().upper()
        if value and not (value[:3].isdigit() and (value[3].isdigit() or value[3] == "X")):
            raise forms.ValidationError(_("身份证号后四位应为数字（末位可为X）。"))
        return value


@_scoped_page
def party_sages_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """A village's sages' group: its members, and (for those who may) the form to add a villager."""
    group = party_selectors.sages_group_get(user=request.user, group_id=group_id)
    can_manage = party_selectors.party_can_manage(user=request.user, region_path=group.village.path)
    form = None
    status = 200
    if can_manage:
        if request.method == "POST":
            form = SagesMemberForm(request.POST)
            if form.is_valid() and _sages_add(request, form, group):
                return redirect("governance:party_sages_detail", group_id=group_id)
            status = 400
        else:
            form = SagesMemberForm(initial={"joined_on": timezone.localdate()})
    elif request.method == "POST":
        raise PermissionDenied(_("您没有管理该评理团的权限。"))
    members = party_selectors.sages_member_list(group=group)
    return render(
        request,
        "governance/party/sages_detail.html",
        {"group": group, "members": members, "form": form, "tab": "sages"},
        status=status,
    )


def _sages_add(request: HttpRequest, form: SagesMemberForm, group: Any) -> bool:
    data = form.cleaned_data
    found = party_selectors.village_resident_find(
        group=group, name=data["resident_name"], id_last4=data.get("id_last4") or ""
    )
    if not found:
        field = "id_last4" if data.get("id_last4") else "resident_name"
        form.add_error(
            field,
            _("%(village)s没有符合条件的居民“%(name)s”。")
            % {
                "village": group.village.name,
                "name": data["resident_name"],
            },
        )
        return False
    if len(found) > 1:
        form.add_error(
            "id_last4",
            _("本村有%(n)d位名为“%(name)s”的居民，请填写身份证号后四位以区分。")
            % {"n": len(found), "name": data["resident_name"]},
        )
        return False
    try:
        sage = party_services.sages_member_add(
            actor=request.user,
            group=group,
            resident=found[0],
            kind=data["kind"],
            joined_on=data["joined_on"],
            request=request,
        )
    except DomainError as error:
        _add_domain_error(form, error, {"resident": "resident_name"})
        return False
    messages.success(
        request,
        _("%(name)s已以“%(kind)s”身份加入%(group)s。")
        % {"name": sage.resident.name, "kind": sage.get_kind_display(), "group": group.name},
    )
    return True


# --- talent and honours -------------------------------------------------------------------------


@_scoped_page
def party_talent_list(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category") or ""
    if category not in TalentCategory.values:
        category = ""
    search = (request.GET.get("q") or "").strip()[:50]
    talents = party_selectors.talent_list(user=request.user, category=category or None, search=search)
    page = Paginator(talents.prefetch_related("trainings"), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = party_selectors.talent_category_counts(user=request.user)
    keep = {k: v for k, v in (("category", category), ("q", search)) if v}
    return render(
        request,
        "governance/party/talents.html",
        {
            "page": page,
            "counts": counts,
            "total": sum(c.count for c in counts),
            "category": category,
            "q": search,
            "query": urlencode(keep),
            "tab": "talents",
        },
    )


@_scoped_page
def party_gathering_list(request: HttpRequest) -> HttpResponse:
    gatherings = party_selectors.shennong_gathering_list(user=request.user)
    return render(
        request,
        "governance/party/gatherings.html",
        {
            "gatherings": gatherings,
            "total_selected": sum(g.total_selected for g in gatherings),
            "visible_selected": sum(len(g.selections) for g in gatherings),
            "tab": "gatherings",
        },
    )
