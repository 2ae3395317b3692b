"""Pages of the Party area: the organisation tree and detail (new organisations, appointing leaders and
ending their terms), members (list, registering an applicant, detail with the pipeline timeline, the
advance and the transfer forms), the young farmer members table, sages' groups, the talent registry
(registering a talent, its detail with training records), role models and the Shennong heroes
gatherings (new gatherings, selecting role models). Phone first; desktop for county staff.

Thin: each view reads through selectors, writes through one service, and renders. Out of scope answers
404 (selectors raise NotFound); a write needs a county, township or village-secretary role over the
record (403 otherwise; a gathering, a county-wide event, needs it over the county). Domain errors are
shown next to the field they belong to, with the input kept. Every form that creates something carries
a hidden idempotency key, so a double tap or a retried POST writes once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_stubs_ext import StrOrPromise

from common.errors import DomainError, NotFound
from governance.models import (
    ExportKind,
    LeadershipPosition,
    MemberCategory,
    MembershipStage,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionLevel,
    Resident,
    RoleModel,
    SagesMemberKind,
    TalentCategory,
)
from governance.selectors import party as party_selectors
from governance.services import party as party_services
from governance.views.exports import export_new_url

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
            "can_create": party_selectors.party_org_can_create(user=request.user),
        },
    )


@_scoped_page
def party_organisation_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    """An organisation with its leadership and member counts; for those who may, the forms that appoint
    a leader and end a term (they post to their own addresses, below)."""
    return _org_detail_render(request, org_id)


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
        # On to the export page with the filters that are valid (those the list applies); the file is
        # made as the user, in their scope, by a Celery task.
        return redirect(export_new_url(ExportKind.PARTY_MEMBERS, filters))
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
            "can_register": bool(party_selectors.party_manager_paths(user=request.user)),
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
    return _member_detail_render(
        request, detail, form=form, status=400 if form is not None and form.errors else 200
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
            "can_register": bool(party_selectors.party_manager_paths(user=request.user)),
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
            "can_create": party_selectors.party_can_manage_county(user=request.user),
        },
    )


# =====================================================================================================
# Managing the Party area: new organisations, appointing leaders and ending terms, registering and
# transferring members, the talent registry, role models and the Shennong heroes gatherings.


def _fresh_key() -> str:
    return uuid.uuid4().hex


def _key_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": gettext_lazy("缺少防重复提交标识，请刷新页面后重新提交。")},
    )


def _date_field(
    label: StrOrPromise, *, required: bool = True, required_message: StrOrPromise | None = None
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": required_message or gettext_lazy("请填写日期。"),
            "invalid": gettext_lazy("请输入有效的日期，如 2024-01-01。"),
        },
    )


def _text_field(
    label: StrOrPromise,
    *,
    max_length: int,
    required: bool = True,
    required_message: StrOrPromise | None = None,
    placeholder: StrOrPromise | None = None,
    textarea: bool = False,
) -> forms.CharField:
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": 4}) if textarea else None,
        error_messages={
            "required": required_message or gettext_lazy("请填写此项。"),
            "max_length": gettext_lazy("最多 %(limit_value)d 个字（现有 %(show_value)d 个）。"),
        },
    )
    if placeholder is not None:
        field.widget.attrs["placeholder"] = placeholder
    return field


def _indented(org: PartyOrganisation) -> str:
    return f"{'　' * max(0, org.path.count('/') - 1)}{org.name}"


def _org_choice_field(
    label: StrOrPromise, *, required_message: StrOrPromise, empty_label: StrOrPromise
) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(
        label=label,
        queryset=PartyOrganisation.objects.none(),
        empty_label=empty_label,
        error_messages={
            "required": required_message,
            "invalid_choice": gettext_lazy("所选党组织不在您的管理范围内，请重新选择。"),
        },
    )
    # Indented by depth, so the tree shows in a plain <select>.
    field.label_from_instance = _indented  # type: ignore[method-assign, assignment]
    return field


def _require_party_manager(request: HttpRequest) -> None:
    """Refuse (403) a user who may write Party records nowhere: lookers may only look."""
    if not party_selectors.party_manager_paths(user=request.user):
        raise PermissionDenied(_("您没有管理党组织和党员的权限。"))


def _typed(data: Any, form_class: type[forms.Form], prefix: str | None = None) -> dict[str, Any]:
    """What was typed into `form_class`'s fields, as initial values: a search made without JavaScript
    re-renders the form unbound, so that nothing is judged yet and nothing typed is lost."""
    return {
        name: data.get(f"{prefix}-{name}" if prefix else name)
        for name in form_class.base_fields
        if data.get(f"{prefix}-{name}" if prefix else name) not in (None, "")
    }


# --- the person picker --------------------------------------------------------------------------

PICK_PURPOSES = ("member", "talent", "role_model", "leader")


@dataclass
class PickOption:
    value: int
    label: str
    meta: str
    note: str = ""
    is_disabled: bool = False


@dataclass
class Picker:
    """A choice among many (residents, members): a search box and the matches as radio buttons. The
    choice field validates against the user's scope; the page never lists every row."""

    field: forms.BoundField
    query: forms.BoundField
    purpose: str
    options: list[PickOption]
    selected: str
    searched: bool

    @property
    def name(self) -> str:
        return self.field.html_name


def _pick_query_field() -> forms.CharField:
    field = forms.CharField(
        label=gettext_lazy("查找"),
        required=False,
        max_length=60,
        help_text=gettext_lazy(
            "输入完整姓名，同名时可加身份证号后四位，如“张伟 1234”；也可输入完整身份证号。"
        ),
    )
    field.widget.attrs.update({"autocomplete": "off", "placeholder": gettext_lazy("姓名或身份证号")})
    return field


def _pick_choice_field(
    label: StrOrPromise, queryset: Any, *, required_message: StrOrPromise, invalid_message: StrOrPromise
) -> forms.ModelChoiceField:
    # A RadioSelect that is never rendered as a whole: the picker template draws only the matches.
    return forms.ModelChoiceField(
        label=label,
        queryset=queryset,
        widget=forms.RadioSelect,
        error_messages={"required": required_message, "invalid_choice": invalid_message},
    )


def _age(birth: Any) -> int:
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _resident_options(residents: Iterable[Resident], purpose: str) -> list[PickOption]:
    options = []
    for r in residents:
        grid = r.household.grid
        places = [grid.parent.parent, grid.parent, grid] if grid.parent and grid.parent.parent else [grid]
        stage = getattr(r, "party_stage", None)
        note = ""
        if stage:
            note = _("已有党员（发展）档案：%s") % MembershipStage(stage).label
        options.append(
            PickOption(
                value=r.pk,
                label=r.name,
                meta=_("%(gender)s · %(age)d岁 · %(place)s · %(id)s")
                % {
                    "gender": r.get_gender_display(),
                    "age": _age(r.birth_date),
                    "place": " ".join(p.name for p in places if p is not None),
                    "id": r.id_number_masked,
                },
                note=note,
                # A resident is in the pipeline once: advance the existing record instead.
                is_disabled=bool(stage) and purpose == "member",
            )
        )
    return options


def _member_options(members: Iterable[PartyMember]) -> list[PickOption]:
    return [
        PickOption(
            value=m.pk,
            label=m.resident.name,
            meta=_("%(stage)s · %(org)s · %(id)s")
            % {"stage": m.get_stage_display(), "org": m.organisation.name, "id": m.resident.id_number_masked},
        )
        for m in members
    ]


def _pick_options(user: Any, purpose: str, text: str, selected: str) -> tuple[list[PickOption], str]:
    """The matches for `text` (and the one already chosen), and the value to show as chosen: the
    choice made, or the only match when there is exactly one that may be chosen."""
    selected_id = int(selected) if selected.isdigit() else None
    if purpose == "leader":
        options = _member_options(
            party_selectors.party_leader_search(user=user, text=text, selected_id=selected_id)
        )
    else:
        options = _resident_options(
            party_selectors.party_resident_search(user=user, text=text, selected_id=selected_id), purpose
        )
    if not any(str(o.value) == selected for o in options):
        selectable = [o for o in options if not o.is_disabled]
        selected = str(selectable[0].value) if len(selectable) == 1 and len(options) == 1 else ""
    return options, selected


def _picker(request: HttpRequest, form: forms.Form, field_name: str, purpose: str) -> Picker:
    field, query = form[field_name], form[f"{field_name}_q"]
    text = str(query.value() or "")
    options, selected = _pick_options(request.user, purpose, text, str(field.value() or ""))
    return Picker(
        field=field,
        query=query,
        purpose=purpose,
        options=options,
        selected=selected,
        searched=bool(text.strip()),
    )


@_scoped_page
@require_GET
def party_pick(request: HttpRequest) -> HttpResponse:
    """The picker's matches as an HTML fragment (static/js/party.js asks for it as the user types):
    ?purpose=member|talent|role_model|leader&name=<the radio buttons' name>&q=<text>&selected=<id>.
    Only people the user may enter in Party records are found."""
    _require_party_manager(request)
    purpose = request.GET.get("purpose", "")
    name = request.GET.get("name", "")
    if purpose not in PICK_PURPOSES or not name.replace("-", "").replace("_", "").isalnum() or len(name) > 60:
        raise Http404(_("未找到该页面。"))
    text = request.GET.get("q", "")[:60]
    options, selected = _pick_options(request.user, purpose, text, request.GET.get("selected", ""))
    return render(
        request,
        "governance/party/_pick_options.html",
        {"pick": {"name": name, "options": options, "selected": selected, "searched": bool(text.strip())}},
    )


# --- organisations ------------------------------------------------------------------------------


class OrgCreateForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=[("", gettext_lazy("请选择类型")), *PartyOrgKind.choices],
        error_messages={
            "required": gettext_lazy("请选择党组织类型。"),
            "invalid_choice": gettext_lazy("请选择列表中的类型。"),
        },
    )
    parent = forms.ModelChoiceField(
        label=gettext_lazy("上级党组织"),
        queryset=PartyOrganisation.objects.none(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("所选上级党组织不在您的管理范围内，请重新选择。")},
    )
    region = forms.ModelChoiceField(
        label=gettext_lazy("所在区域"),
        queryset=Region.objects.none(),
        error_messages={
            "required": gettext_lazy("请选择所在区域。"),
            "invalid_choice": gettext_lazy("所选区域不在您的管理范围内，请重新选择。"),
        },
    )
    name = _text_field(
        gettext_lazy("名称"),
        max_length=80,
        required_message=gettext_lazy("请填写党组织名称。"),
        placeholder=gettext_lazy("例如：中共新华村支部委员会"),
    )
    villages = forms.ModelMultipleChoiceField(
        label=gettext_lazy("覆盖村（社区）"),
        queryset=Region.objects.none(),
        required=False,
        help_text=gettext_lazy("仅联合党委填写：所在区域（牵头村）自动计入，至少覆盖两个村（社区）。"),
        error_messages={
            "invalid_choice": gettext_lazy("所选村（社区）不在您的管理范围内，请重新选择。"),
            "invalid_pk_value": gettext_lazy("所选村（社区）不在您的管理范围内，请重新选择。"),
        },
    )
    established_on = _date_field(gettext_lazy("成立日期"), required=False)
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = party_selectors.party_org_region_choices(user=user)
        self.fields["parent"].queryset = party_selectors.party_org_manageable(user=user)  # type: ignore[attr-defined]
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        self.fields["villages"].queryset = regions.filter(level=RegionLevel.VILLAGE)  # type: ignore[attr-defined]


@dataclass
class RegionGroup:
    label: str
    path: str  # the township's path ("" for the county)
    regions: list[Region]


def _region_groups(regions: Iterable[Region]) -> list[RegionGroup]:
    """The county on its own, then each township with its villages (by statistical code)."""
    groups: dict[str, RegionGroup] = {}
    # Coded regions in code order, then any not yet given a statistical code, by name.
    for region in sorted(regions, key=lambda r: (r.path.count("/"), r.code == "", r.code, r.name)):
        if region.level == RegionLevel.COUNTY:
            groups.setdefault("", RegionGroup(region.name, "", [])).regions.append(region)
            continue
        township = region if region.level == RegionLevel.TOWNSHIP else region.parent
        assert township is not None
        group = groups.setdefault(township.path, RegionGroup(township.name, township.path, []))
        group.regions.append(region)
    return sorted(groups.values(), key=lambda g: (g.path != "", g.regions[0].code if g.path else ""))


def _org_form_context(form: OrgCreateForm) -> dict[str, Any]:
    parents = list(form.fields["parent"].queryset)  # type: ignore[attr-defined]
    regions = list(form.fields["region"].queryset)  # type: ignore[attr-defined]
    chosen_villages = {str(v) for v in (form["villages"].value() or [])}
    return {
        "parents": [
            {
                "value": str(o.pk),
                "label": f"{'　' * max(0, o.path.count('/') - 1)}{o.name}",
                "kind": o.kind,
                "region_path": o.region.path,
            }
            for o in parents
        ],
        "parent_value": str(form["parent"].value() or ""),
        "region_groups": _region_groups(regions),
        "region_value": str(form["region"].value() or ""),
        "village_groups": _region_groups(r for r in regions if r.level == RegionLevel.VILLAGE),
        "chosen_villages": chosen_villages,
        "kind_rules": {
            kind.value: {
                "parents": sorted(k.value for k in party_services.ORG_PARENT_KINDS[kind]),
                "level": party_services.ORG_REGION_LEVEL[kind],
            }
            for kind in PartyOrgKind
        },
    }


@_scoped_page
def party_organisation_create(request: HttpRequest) -> HttpResponse:
    """A new organisation in the tree: kind, parent, region, name and (a joint committee) its villages.
    Parents and regions offered are those where the user may write Party records; a user who manages
    no county or township committee (a village secretary) has nothing to found an organisation under."""
    if not party_selectors.party_org_can_create(user=request.user):
        raise PermissionDenied(_("您没有新建党组织的权限。"))
    status = 200
    if request.method == "POST":
        form = OrgCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                org = party_services.party_org_create(
                    actor=request.user,
                    kind=data["kind"],
                    name=data["name"],
                    region=data["region"],
                    parent=data["parent"],
                    villages=data["villages"],
                    established_on=data["established_on"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(request, _("已新建党组织“%s”。") % org.name)
                return redirect("governance:party_organisation_detail", org_id=org.pk)
        status = 400
    else:
        initial: dict[str, Any] = {"idempotency_key": _fresh_key()}
        parent = request.GET.get("parent", "")
        if parent.isdigit():
            initial["parent"] = parent
        form = OrgCreateForm(initial=initial, user=request.user)
    return render(
        request,
        "governance/party/org_form.html",
        {"form": form, "tab": "orgs", **_org_form_context(form)},
        status=status,
    )


class LeaderAppointForm(forms.Form):
    member_q = _pick_query_field()
    member = forms.ModelChoiceField(queryset=PartyMember.objects.none())  # replaced in __init__
    position = forms.ChoiceField(
        label=gettext_lazy("职务"),
        choices=LeadershipPosition.choices,
        error_messages={
            "required": gettext_lazy("请选择职务。"),
            "invalid_choice": gettext_lazy("请选择列表中的职务。"),
        },
    )
    term_start = _date_field(gettext_lazy("任期开始"), required_message=gettext_lazy("请填写任期开始日期。"))
    term_end = _date_field(gettext_lazy("任期结束"), required=False)
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = _pick_choice_field(
            gettext_lazy("党员"),
            party_selectors.party_leader_choices(user=user),
            required_message=gettext_lazy("请查找并选择一名正式党员。"),
            invalid_message=gettext_lazy("所选党员不在您可任命的范围内，请重新查找选择。"),
        )
        self.fields["term_end"].help_text = _("不填表示任期未定结束日期。")
        self.order_fields(["member_q", "member", "position", "term_start", "term_end"])


class LeaderEndForm(forms.Form):
    term_end = _date_field(
        gettext_lazy("任期结束日期"), required_message=gettext_lazy("请填写任期结束日期。")
    )


def _appoint_form(request: HttpRequest) -> LeaderAppointForm:
    return LeaderAppointForm(
        prefix="appoint",
        user=request.user,
        initial={"idempotency_key": _fresh_key(), "term_start": timezone.localdate()},
    )


def _end_form(lead_id: int) -> LeaderEndForm:
    return LeaderEndForm(prefix=f"end-{lead_id}", initial={"term_end": timezone.localdate()})


def _org_detail_render(
    request: HttpRequest,
    org_id: int,
    *,
    appoint_form: LeaderAppointForm | None = None,
    end_form: LeaderEndForm | None = None,
    end_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    detail = party_selectors.party_org_detail(user=request.user, org_id=org_id)
    context: dict[str, Any] = {
        "d": detail,
        "tab": "orgs",
        "max_stage": max([row.count for row in detail.stage_counts] + [1]),
        "max_category": max([row.count for row in detail.category_counts] + [1]),
    }
    end_forms: dict[int, LeaderEndForm] = {}
    if detail.can_manage:
        context["appoint_open"] = appoint_form is not None
        appoint_form = appoint_form or _appoint_form(request)
        context["appoint_form"] = appoint_form
        context["leader_picker"] = _picker(request, appoint_form, "member", "leader")
        end_forms = {
            lead.pk: end_form if end_form is not None and lead.pk == end_id else _end_form(lead.pk)
            for lead in [*detail.current_leaders, *detail.upcoming_leaders]
        }
        context["end_id"] = end_id
    # (term, its end form or None) for the current and the upcoming terms.
    context["current_rows"] = [(lead, end_forms.get(lead.pk)) for lead in detail.current_leaders]
    context["upcoming_rows"] = [(lead, end_forms.get(lead.pk)) for lead in detail.upcoming_leaders]
    context["is_committee"] = detail.org.kind in (
        PartyOrgKind.COUNTY_COMMITTEE,
        PartyOrgKind.TOWNSHIP_COMMITTEE,
    )
    return render(request, "governance/party/org_detail.html", context, status=status)


def _org_for_managing(request: HttpRequest, org_id: int) -> PartyOrganisation:
    """The organisation, if in scope (404 otherwise) and the user may manage it (403 otherwise)."""
    org = party_selectors.party_org_get(user=request.user, org_id=org_id)
    if not party_selectors.party_can_manage(user=request.user, region_path=org.region.path):
        raise PermissionDenied(_("您没有管理该党组织班子的权限。"))
    return org


@_scoped_page
@require_POST
def party_leadership_appoint(request: HttpRequest, org_id: int) -> HttpResponse:
    """Appoint a full member to 书记/副书记/委员 (the form on the organisation's page)."""
    org = _org_for_managing(request, org_id)
    if "_pick" in request.POST:
        form = LeaderAppointForm(
            initial=_typed(request.POST, LeaderAppointForm, "appoint"), prefix="appoint", user=request.user
        )
        return _org_detail_render(request, org_id, appoint_form=form)
    form = LeaderAppointForm(request.POST, prefix="appoint", user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            lead = party_services.party_leadership_assign(
                actor=request.user,
                organisation=org,
                member=data["member"],
                position=data["position"],
                term_start=data["term_start"],
                term_end=data["term_end"],
                idempotency_key=data["idempotency_key"],
                request=request,
            )
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("已任命%(name)s为%(org)s%(position)s（%(start)s起）。")
                % {
                    "name": lead.member.resident.name,
                    "org": org.name,
                    "position": lead.get_position_display(),
                    "start": lead.term_start.isoformat(),
                },
            )
            return redirect(reverse("governance:party_organisation_detail", args=[org_id]) + "#leaders")
    return _org_detail_render(request, org_id, appoint_form=form, status=400)


@_scoped_page
@require_POST
def party_leadership_end(request: HttpRequest, org_id: int, leadership_id: int) -> HttpResponse:
    """End a leader's term on a date (the small form beside each current leader)."""
    org = _org_for_managing(request, org_id)
    lead = party_selectors.party_leadership_get(
        user=request.user, organisation=org, leadership_id=leadership_id
    )
    form = LeaderEndForm(request.POST, prefix=f"end-{lead.pk}")
    if form.is_valid():
        try:
            party_services.party_leadership_end(
                actor=request.user, leadership=lead, term_end=form.cleaned_data["term_end"], request=request
            )
        except DomainError as error:
            if error.code != "leadership_already_ended":
                _add_domain_error(form, error)
                return _org_detail_render(request, org_id, end_form=form, end_id=lead.pk, status=400)
            # Someone else ended it while this page was open: say so on the fresh page.
            messages.info(request, str(error.message))
        else:
            messages.success(
                request,
                _("%(name)s的%(position)s任期已于%(day)s结束。")
                % {
                    "name": lead.member.resident.name,
                    "position": lead.get_position_display(),
                    "day": form.cleaned_data["term_end"].isoformat(),
                },
            )
        return redirect(reverse("governance:party_organisation_detail", args=[org_id]) + "#leaders")
    return _org_detail_render(request, org_id, end_form=form, end_id=lead.pk, status=400)


# --- members: registering and transferring --------------------------------------------------------


class MemberCreateForm(forms.Form):
    resident_q = _pick_query_field()
    resident = forms.ModelChoiceField(queryset=Resident.objects.none())  # replaced in __init__
    organisation = _org_choice_field(
        gettext_lazy("所在党组织"),
        required_message=gettext_lazy("请选择所在党组织。"),
        empty_label=gettext_lazy("请选择党组织"),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("党员类别"),
        choices=MemberCategory.choices,
        initial=MemberCategory.REGULAR,
        error_messages={
            "required": gettext_lazy("请选择党员类别。"),
            "invalid_choice": gettext_lazy("请选择列表中的类别。"),
        },
    )
    applied_on = _date_field(
        gettext_lazy("递交入党申请日期"), required_message=gettext_lazy("请填写递交入党申请的日期。")
    )
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"] = _pick_choice_field(
            gettext_lazy("居民"),
            party_selectors.party_resident_choices(user=user),
            required_message=gettext_lazy("请查找并选择要登记的居民。"),
            invalid_message=gettext_lazy("所选居民不在您可登记的范围内，请重新查找选择。"),
        )
        self.fields["organisation"].queryset = party_selectors.party_org_manageable(user=user)  # type: ignore[attr-defined]
        self.fields["applied_on"].help_text = _("登记为入党申请人；以后的发展步骤在党员页面逐步推进。")
        self.order_fields(["resident_q", "resident", "organisation", "category", "applied_on"])


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    status: int,
    title: str,
    intro: str,
    submit: str,
    cancel_url: str,
    up_label: str,
    tab: str,
    picker: Picker | None = None,
    testid: str,
) -> HttpResponse:
    return render(
        request,
        "governance/party/manage_form.html",
        {
            "form": form,
            "picker": picker,
            "picker_names": [picker.field.name, picker.query.name] if picker else [],
            "title": title,
            "intro": intro,
            "submit": submit,
            "cancel_url": cancel_url,
            "up_label": up_label,
            "tab": tab,
            "testid": testid,
        },
        status=status,
    )


@_scoped_page
def party_member_create(request: HttpRequest) -> HttpResponse:
    """Register a resident as an applicant (入党申请人) in an organisation the user manages."""
    _require_party_manager(request)
    status = 200
    if request.method == "POST" and "_pick" in request.POST:
        form = MemberCreateForm(initial=_typed(request.POST, MemberCreateForm), user=request.user)
    elif request.method == "POST":
        form = MemberCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                member = party_services.party_member_create(
                    actor=request.user,
                    resident=data["resident"],
                    organisation=data["organisation"],
                    category=data["category"],
                    steps={MembershipStage.APPLICANT: data["applied_on"]},
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error, {"occurred_on": "applied_on", "stage": "", "sponsors": ""})
            else:
                messages.success(
                    request,
                    _("已将%(name)s登记为%(org)s的入党申请人。")
                    % {"name": member.resident.name, "org": member.organisation.name},
                )
                return redirect("governance:party_member_detail", member_id=member.pk)
        status = 400
    else:
        initial: dict[str, Any] = {"idempotency_key": _fresh_key(), "category": MemberCategory.REGULAR}
        orgs = party_selectors.party_org_manageable(user=request.user)
        wanted = request.GET.get("org", "")
        if wanted.isdigit() and orgs.filter(pk=int(wanted)).exists():
            initial["organisation"] = wanted
        elif len(only := list(orgs.values_list("pk", flat=True)[:2])) == 1:
            initial["organisation"] = only[0]  # one organisation to choose from: nothing to decide
        form = MemberCreateForm(initial=initial, user=request.user)
    return _form_page(
        request,
        form,
        status=status,
        title=_("登记入党申请人"),
        intro=_("查找本辖区的居民，登记其递交入党申请的日期；申请人须年满十八周岁，每人只建一份档案。"),
        submit=_("登记"),
        cancel_url=reverse("governance:party_member_list"),
        up_label=_("党员队伍"),
        tab="members",
        picker=_picker(request, form, "resident", "member"),
        testid="member-create-form",
    )


class TransferForm(forms.Form):
    to_organisation = _org_choice_field(
        gettext_lazy("转入党组织"),
        required_message=gettext_lazy("请选择转入党组织。"),
        empty_label=gettext_lazy("请选择转入的党组织"),
    )
    transferred_on = _date_field(gettext_lazy("转接日期"), required_message=gettext_lazy("请填写转接日期。"))
    reason = _text_field(
        gettext_lazy("转接原因"),
        max_length=200,
        required_message=gettext_lazy("请填写转接原因。"),
        placeholder=gettext_lazy("例如：婚迁、外出务工、返乡"),
    )
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, member: PartyMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        # Offered: the other organisations the user manages. Accepted: any of them, the member's own
        # included, so that a replayed transfer reaches the service (which answers with the first
        # result) and a stale choice gets the service's own explanation.
        self.targets = list(party_selectors.party_transfer_targets(user=user, member=member))
        field.queryset = party_selectors.party_org_manageable(user=user)
        field.widget.choices = [("", field.empty_label), *((o.pk, _indented(o)) for o in self.targets)]


def _fresh_advance_form(request: HttpRequest, detail: Any) -> AdvanceForm | None:
    if not detail.can_manage or detail.next_stage is None:
        return None
    return AdvanceForm(
        initial={"to_stage": detail.next_stage.value, "occurred_on": timezone.localdate()},
        user=request.user,
        member=detail.member,
        next_stage=detail.next_stage,
    )


def _member_detail_render(
    request: HttpRequest,
    detail: Any,
    *,
    form: AdvanceForm | None,
    transfer_form: TransferForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if detail.can_manage and transfer_form is None:
        transfer_form = TransferForm(
            prefix="transfer",
            user=request.user,
            member=detail.member,
            initial={"idempotency_key": _fresh_key(), "transferred_on": timezone.localdate()},
        )
    has_targets = transfer_form is not None and bool(transfer_form.targets)
    return render(
        request,
        "governance/party/member_detail.html",
        {
            "d": detail,
            "m": detail.member,
            "form": form,
            "transfer_form": transfer_form if has_targets else None,
            "tab": "members",
        },
        status=status,
    )


@_scoped_page
@require_POST
def party_member_transfer(request: HttpRequest, member_id: int) -> HttpResponse:
    """Move a member's organisational relationship to another organisation the user manages."""
    detail = party_selectors.party_member_detail(user=request.user, member_id=member_id)
    if not detail.can_manage:
        raise PermissionDenied(_("您没有转接该党员组织关系的权限。"))
    member = detail.member
    form = TransferForm(request.POST, prefix="transfer", user=request.user, member=member)
    if form.is_valid():
        data = form.cleaned_data
        from_name = member.organisation.name
        try:
            transfer = party_services.party_member_transfer(
                actor=request.user,
                member=member,
                to_organisation=data["to_organisation"],
                transferred_on=data["transferred_on"],
                reason=data["reason"],
                idempotency_key=data["idempotency_key"],
                request=request,
            )
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("已将%(name)s的组织关系由%(from)s转入%(to)s（%(day)s）。")
                % {
                    "name": member.resident.name,
                    "from": from_name,
                    "to": transfer.to_organisation.name,
                    "day": transfer.transferred_on.isoformat(),
                },
            )
            return redirect(reverse("governance:party_member_detail", args=[member_id]) + "#transfers")
    return _member_detail_render(
        request, detail, form=_fresh_advance_form(request, detail), transfer_form=form, status=400
    )


# --- the talent registry ------------------------------------------------------------------------


class TalentCreateForm(forms.Form):
    resident_q = _pick_query_field()
    resident = forms.ModelChoiceField(queryset=Resident.objects.none())  # replaced in __init__
    category = forms.ChoiceField(
        label=gettext_lazy("人才类别"),
        choices=[("", gettext_lazy("请选择人才类别")), *TalentCategory.choices],
        error_messages={
            "required": gettext_lazy("请选择人才类别。"),
            "invalid_choice": gettext_lazy("请选择列表中的类别。"),
        },
    )
    speciality = _text_field(
        gettext_lazy("专长"),
        max_length=100,
        required_message=gettext_lazy("请填写专长。"),
        placeholder=gettext_lazy("例如：茶叶种植、食用菌栽培、直播带货"),
    )
    registered_on = _date_field(gettext_lazy("入库日期"), required_message=gettext_lazy("请填写入库日期。"))
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"] = _pick_choice_field(
            gettext_lazy("居民"),
            party_selectors.party_resident_choices(user=user),
            required_message=gettext_lazy("请查找并选择要登记的居民。"),
            invalid_message=gettext_lazy("所选居民不在您可登记的范围内，请重新查找选择。"),
        )
        self.order_fields(["resident_q", "resident", "category", "speciality", "registered_on"])


@_scoped_page
def party_talent_create(request: HttpRequest) -> HttpResponse:
    """Enter a resident of the user's area in the "七个一百" registry."""
    _require_party_manager(request)
    status = 200
    if request.method == "POST" and "_pick" in request.POST:
        form = TalentCreateForm(initial=_typed(request.POST, TalentCreateForm), user=request.user)
    elif request.method == "POST":
        form = TalentCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                talent = party_services.talent_register(
                    actor=request.user,
                    resident=data["resident"],
                    category=data["category"],
                    speciality=data["speciality"],
                    registered_on=data["registered_on"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("已将%(name)s登记为%(category)s。")
                    % {"name": talent.resident.name, "category": talent.get_category_display()},
                )
                return redirect("governance:party_talent_detail", talent_id=talent.pk)
        status = 400
    else:
        initial = {"idempotency_key": _fresh_key(), "registered_on": timezone.localdate()}
        if request.GET.get("category") in TalentCategory.values:
            initial["category"] = request.GET["category"]
        form = TalentCreateForm(initial=initial, user=request.user)
    return _form_page(
        request,
        form,
        status=status,
        title=_("登记乡土人才"),
        intro=_("“七个一百”农村实用人才：同一人可登记在不同类别下，每类一次。"),
        submit=_("登记"),
        cancel_url=reverse("governance:party_talent_list"),
        up_label=_("七个一百"),
        tab="talents",
        picker=_picker(request, form, "resident", "talent"),
        testid="talent-create-form",
    )


class TrainingForm(forms.Form):
    title = _text_field(
        gettext_lazy("培训名称"),
        max_length=120,
        required_message=gettext_lazy("请填写培训名称。"),
        placeholder=gettext_lazy("例如：茶园绿色防控技术培训"),
    )
    held_on = _date_field(gettext_lazy("培训日期"), required_message=gettext_lazy("请填写培训日期。"))
    hours = forms.IntegerField(
        label=gettext_lazy("学时"),
        error_messages={
            "required": gettext_lazy("请填写学时。"),
            "invalid": gettext_lazy("学时应为整数。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1", "max": "1000"}),
    )
    organiser = _text_field(gettext_lazy("主办单位"), max_length=100, required=False)
    idempotency_key = _key_field()


@_scoped_page
def party_talent_detail(request: HttpRequest, talent_id: int) -> HttpResponse:
    """A talent with every training record; for those who may, the form that adds a record."""
    detail = party_selectors.talent_detail(user=request.user, talent_id=talent_id)
    form = None
    status = 200
    if request.method == "POST":
        if not detail.can_manage:
            raise PermissionDenied(_("您没有管理该人才培训记录的权限。"))
        form = TrainingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                training = party_services.talent_training_add(
                    actor=request.user,
                    talent=detail.talent,
                    title=data["title"],
                    held_on=data["held_on"],
                    hours=data["hours"],
                    organiser=data["organiser"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("已添加培训记录“%(title)s”（%(hours)d 学时）。")
                    % {"title": training.title, "hours": training.hours},
                )
                return redirect("governance:party_talent_detail", talent_id=talent_id)
        status = 400
    elif detail.can_manage:
        form = TrainingForm(initial={"idempotency_key": _fresh_key(), "held_on": timezone.localdate()})
    return render(
        request,
        "governance/party/talent_detail.html",
        {"d": detail, "t": detail.talent, "form": form, "tab": "talents"},
        status=status,
    )


# --- role models and the Shennong heroes gatherings ---------------------------------------------


@_scoped_page
def party_role_model_list(request: HttpRequest) -> HttpResponse:
    """Role models (先进典型) of the user's area with the gatherings that selected them."""
    role_models = party_selectors.role_model_list(user=request.user)
    page = Paginator(role_models, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/party/role_models.html",
        {
            "page": page,
            "tab": "rolemodels",
            "can_create": bool(party_selectors.party_manager_paths(user=request.user)),
        },
    )


class RoleModelForm(forms.Form):
    resident_q = _pick_query_field()
    resident = forms.ModelChoiceField(queryset=Resident.objects.none())  # replaced in __init__
    title = _text_field(
        gettext_lazy("称号"),
        max_length=80,
        required_message=gettext_lazy("请填写典型称号。"),
        placeholder=gettext_lazy("例如：致富带头人、孝老爱亲模范"),
    )
    deeds = _text_field(gettext_lazy("事迹"), max_length=2000, required=False, textarea=True)
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"] = _pick_choice_field(
            gettext_lazy("居民"),
            party_selectors.party_resident_choices(user=user),
            required_message=gettext_lazy("请查找并选择一位居民。"),
            invalid_message=gettext_lazy("所选居民不在您可登记的范围内，请重新查找选择。"),
        )
        self.order_fields(["resident_q", "resident", "title", "deeds"])


@_scoped_page
def party_role_model_create(request: HttpRequest) -> HttpResponse:
    """Hold a resident of the user's area up as a role model under a title."""
    _require_party_manager(request)
    status = 200
    if request.method == "POST" and "_pick" in request.POST:
        form = RoleModelForm(initial=_typed(request.POST, RoleModelForm), user=request.user)
    elif request.method == "POST":
        form = RoleModelForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                role_model = party_services.role_model_create(
                    actor=request.user,
                    resident=data["resident"],
                    title=data["title"],
                    deeds=data["deeds"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("已将%(name)s列为先进典型“%(title)s”。")
                    % {"name": role_model.resident.name, "title": role_model.title},
                )
                return redirect("governance:party_role_model_list")
        status = 400
    else:
        form = RoleModelForm(initial={"idempotency_key": _fresh_key()}, user=request.user)
    return _form_page(
        request,
        form,
        status=status,
        title=_("新增先进典型"),
        intro=_("先进典型可在神农英雄会上选树。"),
        submit=_("保存"),
        cancel_url=reverse("governance:party_role_model_list"),
        up_label=_("先进典型"),
        tab="rolemodels",
        picker=_picker(request, form, "resident", "role_model"),
        testid="role-model-form",
    )


class GatheringForm(forms.Form):
    session = forms.IntegerField(
        label=gettext_lazy("届次"),
        error_messages={
            "required": gettext_lazy("请填写届次。"),
            "invalid": gettext_lazy("届次应为正整数。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )
    held_on = _date_field(gettext_lazy("举办日期"), required_message=gettext_lazy("请填写举办日期。"))
    venue = _text_field(gettext_lazy("举办地点"), max_length=100, required=False)
    theme = _text_field(
        gettext_lazy("主题"),
        max_length=120,
        required=False,
        placeholder=gettext_lazy("例如：崇尚劳动 致富光荣"),
    )
    idempotency_key = _key_field()


def _require_county_manager(request: HttpRequest) -> None:
    if not party_selectors.party_can_manage_county(user=request.user):
        raise PermissionDenied(_("神农英雄会由县委组织部登记。"))


@_scoped_page
def party_gathering_create(request: HttpRequest) -> HttpResponse:
    """Record a numbered Shennong heroes gathering (county-wide: county managers only)."""
    _require_county_manager(request)
    status = 200
    if request.method == "POST":
        form = GatheringForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                gathering = party_services.shennong_gathering_create(
                    actor=request.user,
                    session=data["session"],
                    held_on=data["held_on"],
                    venue=data["venue"],
                    theme=data["theme"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(request, _("已登记%s。") % gathering)
                return redirect("governance:party_gathering_detail", gathering_id=gathering.pk)
        status = 400
    else:
        form = GatheringForm(
            initial={"idempotency_key": _fresh_key(), "session": party_selectors.shennong_next_session()}
        )
    return _form_page(
        request,
        form,
        status=status,
        title=_("登记神农英雄会"),
        intro=_("届次按举办先后编号；登记后可在本届页面选树先进典型。"),
        submit=_("登记"),
        cancel_url=reverse("governance:party_gathering_list"),
        up_label=_("神农英雄会"),
        tab="gatherings",
        testid="gathering-form",
    )


def _role_model_label(m: RoleModel) -> str:
    village = m.resident.household.grid.parent
    return f"{m.resident.name} · {m.title} · {village.name if village else ''}"


class SelectionForm(forms.Form):
    role_model = forms.ModelChoiceField(
        label=gettext_lazy("先进典型"),
        queryset=RoleModel.objects.none(),
        empty_label=gettext_lazy("请选择先进典型"),
        error_messages={
            "required": gettext_lazy("请选择先进典型。"),
            "invalid_choice": gettext_lazy("所选先进典型不在您的管辖范围内，请重新选择。"),
        },
    )
    citation = _text_field(gettext_lazy("推选理由"), max_length=200, required=False)
    idempotency_key = _key_field()

    def __init__(self, *args: Any, user: Any, gathering: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role_model"]
        assert isinstance(field, forms.ModelChoiceField)
        # Offered: those not yet selected here. Accepted: any in scope, so that a replay reaches the
        # service (the first result) and a repeat gets the service's explanation.
        self.offered = list(party_selectors.role_model_choices(user=user, gathering=gathering))
        field.queryset = party_selectors.role_model_choices(user=user)
        field.widget.choices = [
            ("", field.empty_label),
            *((m.pk, _role_model_label(m)) for m in self.offered),
        ]


@_scoped_page
def party_gathering_detail(request: HttpRequest, gathering_id: int) -> HttpResponse:
    """One gathering with the role models selected at it (those in the user's scope); for county
    managers, the form that selects another role model."""
    view = party_selectors.shennong_gathering_get(user=request.user, gathering_id=gathering_id)
    can_select = party_selectors.party_can_manage_county(user=request.user)
    form = None
    status = 200
    if request.method == "POST":
        if not can_select:
            raise PermissionDenied(_("神农英雄会的典型选树由县委组织部登记。"))
        form = SelectionForm(request.POST, user=request.user, gathering=view.gathering)
        if form.is_valid():
            data = form.cleaned_data
            try:
                selection = party_services.role_model_select(
                    actor=request.user,
                    gathering=view.gathering,
                    role_model=data["role_model"],
                    citation=data["citation"],
                    idempotency_key=data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("已在%(gathering)s选树%(name)s（%(title)s）。")
                    % {
                        "gathering": view.gathering,
                        "name": selection.role_model.resident.name,
                        "title": selection.role_model.title,
                    },
                )
                return redirect("governance:party_gathering_detail", gathering_id=gathering_id)
        status = 400
    elif can_select:
        form = SelectionForm(
            initial={"idempotency_key": _fresh_key()}, user=request.user, gathering=view.gathering
        )
    return render(
        request,
        "governance/party/gathering_detail.html",
        {"g": view, "form": form, "tab": "gatherings"},
        status=status,
    )
