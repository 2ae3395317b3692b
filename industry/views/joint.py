"""Pages of joint building (联建) under /industry/joint/: the communities the user sees (filters, sort,
pages, Excel), one community (facts, members with add/remove, yearly results with the tourism summed from
its months), and the create/edit form. Township and county admins over the lead village edit
(industry.access.can_manage_joint); everyone with a reading role in scope reads.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from governance.models import PartyOrganisation, Region
from industry import access
from industry.models import Business, JointCommunity, JointKind
from industry.selectors import joint as selectors
from industry.services import joint as services
from industry.templatetags.industry_tags import yuan_big
from industry.views.economy import (
    REQUIRED,
    Cell,
    Column,
    excel,
    form_error,
    headers_for,
    int_param,
    new_key,
    pages,
    paginate,
    query_without,
    wan,
    yuan,
    yuan_decimal,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": gettext_lazy("请输入有效的日期。")}


class FilterForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("成效年度"), coerce=int, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("联建类型"),
        required=False,
        choices=[("", gettext_lazy("全部")), *JointKind.choices],
    )
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    q = forms.CharField(label=gettext_lazy("名称或品牌"), required=False, max_length=30)

    def __init__(self, *args: Any, years: list[int], townships: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field: forms.TypedChoiceField = self.fields["year"]  # type: ignore[assignment]
        year_field.choices = [(y, _("%(year)s 年") % {"year": y}) for y in years]
        township_field: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        township_field.choices = [("", _("全部乡镇")), *[(t.pk, t.name) for t in townships]]
        if len(townships) < 2:
            del self.fields["township"]

    def value(self, name: str, default: Any = None) -> Any:
        if not self.is_bound or not self.is_valid():
            return default
        found = self.cleaned_data.get(name)
        return default if found in (None, "") else found


def _columns() -> list[Column]:
    return [
        Column("name", _("名称")),
        Column("kind", _("类型")),
        Column("lead", _("牵头村")),
        Column("", _("共建品牌")),
        Column("villages", _("成员村"), number=True),
        Column("businesses", _("成员企业"), number=True),
        Column("visits", _("游客接待量（人次）"), number=True),
        Column("tourism_income", _("旅游综合收入（万元）"), number=True),
        Column("jobs", _("带动就业"), number=True),
        Column("income", _("联建收益（万元）"), number=True),
    ]


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


@require_GET
@pages
def joint_list(request: HttpRequest) -> HttpResponseBase:
    user = request.user
    today_year = selectors.default_year()
    years = list(range(today_year + 1, today_year - 9, -1))
    year = int_param(request.GET.get("year")) or today_year
    if year not in years:
        year = today_year
    form = FilterForm(
        request.GET or None,
        years=years,
        townships=selectors.townships_for_filter(user),
        initial={"year": year},
    )
    sort = request.GET.get("sort") or "name"
    rows: Any = selectors.communities_list(
        user,
        year=year,
        kind=form.value("kind", ""),
        township_id=form.value("township"),
        q=form.value("q", ""),
        sort=sort,
    )
    if request.GET.get("export") == "xlsx":
        return excel(
            title=_("联建共同体（%(year)s年）") % {"year": year},
            headers=[
                _("名称"),
                _("类型"),
                _("牵头村"),
                _("所在乡镇"),
                _("共建品牌"),
                _("联合党组织"),
                _("成立日期"),
                _("成员村"),
                _("成员企业"),
                _("游客接待量（人次）"),
                _("旅游综合收入（元）"),
                _("带动就业（人）"),
                _("联建收益（元）"),
                _("受益农户（户）"),
            ],
            rows=(
                [
                    c.name,
                    c.get_kind_display(),
                    c.lead_region.name,
                    c.lead_region.parent.name if c.lead_region.parent else "",
                    c.brand,
                    c.party_organisation.name if c.party_organisation else "",
                    c.established_on,
                    c.village_count,
                    c.business_count,
                    c.visits,
                    yuan_decimal(c.tourism_income_fen),
                    c.jobs,
                    yuan_decimal(c.income_fen),
                    c.households,
                ]
                for c in rows
            ),
            widths=[22, 10, 12, 10, 16, 18, 12, 8, 8, 14, 16, 10, 14, 10],
        )
    page = paginate(request, rows)
    columns = _columns()
    table = [
        list(
            zip(
                columns,
                [
                    Cell(c.name, reverse("industry:joint-detail", args=[c.pk])),
                    Cell(c.get_kind_display()),
                    Cell(
                        f"{c.lead_region.parent.name if c.lead_region.parent else ''} · {c.lead_region.name}"
                    ),
                    Cell(c.brand or "—"),
                    Cell(str(c.village_count), number=True),
                    Cell(str(c.business_count), number=True),
                    Cell(_count(c.visits) if c.visits else "—", number=True),
                    Cell(wan(c.tourism_income_fen) if c.tourism_income_fen else "—", number=True),
                    Cell(_count(c.jobs), number=True),
                    Cell(wan(c.income_fen), number=True),
                ],
                strict=True,
            )
        )
        for c in page.object_list
    ]
    return render(
        request,
        "industry/joint/list.html",
        {
            "form": form,
            "year": year,
            "headers": headers_for(request, columns, sort),
            "table": table,
            "page": page,
            "query": query_without(request, "page", "export"),
            "can_create": bool(selectors.lead_villages_for(user)),
        },
    )


class CommunityForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    kind = forms.ChoiceField(
        label=gettext_lazy("联建类型"), choices=JointKind.choices, error_messages={"required": REQUIRED}
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=80, error_messages={"required": REQUIRED})
    brand = forms.CharField(
        label=gettext_lazy("共建品牌"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：堰河茶旅")}),
    )
    lead_region = forms.TypedChoiceField(
        label=gettext_lazy("牵头村"), coerce=int, error_messages={"required": REQUIRED}
    )
    party_organisation = forms.TypedChoiceField(
        label=gettext_lazy("联合党组织"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("从“联合党委”类型的党组织中选择"),
    )
    established_on = forms.DateField(
        label=gettext_lazy("成立日期"), required=False, widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        leads: list[Region],
        committees: list[PartyOrganisation],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        lead: forms.TypedChoiceField = self.fields["lead_region"]  # type: ignore[assignment]
        lead.choices = [("", _("请选择"))] + [
            (r.pk, f"{r.parent.name if r.parent else ''} · {r.name}") for r in leads
        ]
        party: forms.TypedChoiceField = self.fields["party_organisation"]  # type: ignore[assignment]
        party.choices = [("", _("暂不关联"))] + [(o.pk, f"{o.name}（{o.region.name}）") for o in committees]
        if editing:
            del self.fields["idempotency_key"]


def _community_args(
    form: CommunityForm, leads: list[Region], committees: list[PartyOrganisation]
) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("idempotency_key", None)
    data["lead_region"] = next((r for r in leads if r.pk == data["lead_region"]), None)
    data["party_organisation"] = next((o for o in committees if o.pk == data["party_organisation"]), None)
    return data


@pages
@require_http_methods(["GET", "POST"])
def joint_create(request: HttpRequest) -> HttpResponseBase:
    leads = selectors.lead_villages_for(request.user)
    if not leads:
        raise Http404(_("未找到该页面，或者您没有权限。"))
    committees = selectors.joint_committees_for(request.user)
    form = CommunityForm(
        request.POST or None, leads=leads, committees=committees, initial={"idempotency_key": new_key()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            community = services.joint_community_create(
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                **_community_args(form, leads, committees),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已新建联建共同体“%(name)s”。") % {"name": community.name})
            return redirect("industry:joint-detail", pk=community.pk)
    return render(request, "industry/joint/form.html", {"form": form, "community": None})


@pages
@require_http_methods(["GET", "POST"])
def joint_edit(request: HttpRequest, pk: int) -> HttpResponseBase:
    community = access.joint_community_get_visible(request.user, pk)
    if not access.can_manage_joint(request.user, community.lead_region.path):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    leads = selectors.lead_villages_for(request.user)
    committees = selectors.joint_committees_for(request.user)
    initial = {
        "kind": community.kind,
        "name": community.name,
        "brand": community.brand,
        "lead_region": community.lead_region_id,
        "party_organisation": community.party_organisation_id,
        "established_on": community.established_on,
        "description": community.description,
    }
    form = CommunityForm(
        request.POST or None, leads=leads, committees=committees, initial=initial, editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.joint_community_update(
                actor=request.user, community=community, **_community_args(form, leads, committees)
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("industry:joint-detail", pk=community.pk)
    return render(request, "industry/joint/form.html", {"form": form, "community": community})


class MemberForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    region = forms.TypedChoiceField(
        label=gettext_lazy("成员村"), coerce=int, required=False, empty_value=None
    )
    business = forms.TypedChoiceField(
        label=gettext_lazy("成员企业（经营主体）"), coerce=int, required=False, empty_value=None
    )
    joined_on = forms.DateField(
        label=gettext_lazy("加入日期"), required=False, widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )

    def __init__(
        self,
        *args: Any,
        community: JointCommunity,
        villages: list[Region],
        businesses: list[Business],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        region: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region.choices = [("", _("不选村"))] + [
            (r.pk, f"{r.parent.name if r.parent else ''} · {r.name}") for r in villages
        ]
        business: forms.TypedChoiceField = self.fields["business"]  # type: ignore[assignment]
        business.choices = [("", _("不选企业"))] + [
            (b.pk, f"{b.name}（{b.region.name}）") for b in businesses
        ]
        if community.kind == JointKind.VILLAGE_VILLAGE:
            del self.fields["business"]


class ResultForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=2000,
        max_value=2100,
        error_messages={"required": REQUIRED, "invalid": gettext_lazy("请填写年份，例如 2025。")},
    )
    jobs = forms.CharField(label=gettext_lazy("带动就业（人）"), required=False, max_length=10)
    households_benefited = forms.CharField(
        label=gettext_lazy("受益农户（户）"), required=False, max_length=10
    )
    income_yuan = forms.CharField(
        label=gettext_lazy("联建收益（元）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=200)


def _detail(
    request: HttpRequest,
    community: JointCommunity,
    *,
    member_form: MemberForm | None = None,
    result_form: ResultForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_manage = access.can_manage_joint(user, community.lead_region.path)
    years = selectors.community_years(community)
    if can_manage and member_form is None:
        member_form = MemberForm(
            community=community,
            villages=selectors.member_villages_for(user),
            businesses=selectors.member_businesses_for(user),
            initial={"idempotency_key": new_key()},
        )
    if can_manage and result_form is None:
        result_form = ResultForm(initial={"idempotency_key": new_key(), "year": selectors.default_year()})
    return render(
        request,
        "industry/joint/detail.html",
        {
            "community": community,
            "members": selectors.members_of(community),
            "years": [
                {
                    "year": y.year,
                    "visits": _count(y.visits),
                    "tourism_income": yuan_big(y.tourism_income_fen)
                    if y.tourism_income_fen is not None
                    else "—",
                    "tourism_income_exact": yuan(y.tourism_income_fen),
                    "months": y.months,
                    "jobs": _count(y.result.jobs) if y.result else "—",
                    "income": yuan(y.result.income_fen) if y.result else "—",
                    "households": _count(y.result.households_benefited) if y.result else "—",
                    "note": y.result.note if y.result else "",
                }
                for y in years
            ],
            "can_manage": can_manage,
            "member_form": member_form,
            "result_form": result_form,
        },
        status=status,
    )


@require_GET
@pages
def joint_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _detail(request, access.joint_community_get_visible(request.user, pk))


def _managed(request: HttpRequest, pk: int) -> JointCommunity:
    community = access.joint_community_get_visible(request.user, pk)
    if not access.can_manage_joint(request.user, community.lead_region.path):
        raise Http404(_("未找到该页面，或者您没有权限。"))
    return community


@require_POST
@pages
def joint_member_add(request: HttpRequest, pk: int) -> HttpResponseBase:
    community = _managed(request, pk)
    villages = selectors.member_villages_for(request.user)
    businesses = selectors.member_businesses_for(request.user)
    form = MemberForm(request.POST, community=community, villages=villages, businesses=businesses)
    if form.is_valid():
        region = next((r for r in villages if r.pk == form.cleaned_data.get("region")), None)
        business = next((b for b in businesses if b.pk == form.cleaned_data.get("business")), None)
        try:
            member = services.joint_member_add(
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                community=community,
                region=region,
                business=business,
                joined_on=form.cleaned_data.get("joined_on"),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            name = member.region.name if member.region else member.business.name if member.business else ""
            messages.success(request, _("已加入成员“%(name)s”。") % {"name": name})
            return redirect("industry:joint-detail", pk=community.pk)
    return _detail(request, community, member_form=form)


@require_POST
@pages
def joint_member_remove(request: HttpRequest, member_id: int) -> HttpResponseBase:
    member = selectors.member_get_visible(request.user, member_id)
    try:
        services.joint_member_remove(actor=request.user, member=member)
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已移除成员。"))
    return redirect("industry:joint-detail", pk=member.community_id)


@require_POST
@pages
def joint_result_set(request: HttpRequest, pk: int) -> HttpResponseBase:
    community = _managed(request, pk)
    form = ResultForm(request.POST)
    if form.is_valid():
        try:
            result = services.joint_result_set(actor=request.user, community=community, **form.cleaned_data)
        except DomainError as error:
            if error.status == 404:
                raise
            form_error(form, error)
        else:
            messages.success(request, _("已保存 %(year)s 年成效。") % {"year": result.year})
            return redirect("industry:joint-detail", pk=community.pk)
    return _detail(request, community, result_form=form)
