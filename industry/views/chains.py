"""Pages of the chains area under /industry/: the chains with their figures, a chain (links, Party branch,
products, participants), chain and link editing (county admin), businesses (经营主体) with their
participation in chains, households' projects (户户有项目) and residents' work (人人有事干) per village.

Thin: parse, call one selector or service, render. Every list filters, sorts, paginates and exports to
Excel. Out of scope answers 404. Residents are shown by name with their ID number masked, never more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.excel import xlsx_response
from common.views import pages as common_pages
from governance.audit import audit_record
from governance.models import AuditAction, Region
from industry import access
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    EmploymentKind,
    IndustryChain,
    LinkKind,
    ProjectKind,
)
from industry.selectors import chains as selectors
from industry.services import chains as services

PAGE_SIZE = 50
REQUIRED = gettext_lazy("请填写此项。")
DATE_INVALID = gettext_lazy("请输入有效的日期。")
KIND_LABELS = dict(BusinessKind.choices)


# --- shared helpers (the coverage pages use them too) -------------------------------------------------------


def pages(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """`common.views.pages` (log-in required; a 404 domain error renders the not-found page, nothing
    leaks), except that a 403 domain error renders the not-found page too, for someone who opened an
    editing page they may not use."""

    @wraps(view)
    def hidden(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if error.status == 403:
                raise Http404(str(error.message)) from None
            raise

    return common_pages(hidden)


def new_key() -> str:
    return uuid.uuid4().hex


def key_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


def date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": REQUIRED, "invalid": DATE_INVALID},
    )


def form_error(form: forms.Form, error: DomainError) -> None:
    """Show `error` next to its field (or above the form when the field is not on it)."""
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def int_param(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def date_param(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def query_without(request: HttpRequest, *names: str) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k not in names and v])


def url_or_empty(name: str, *args: Any) -> str:
    """The URL of another area's page, or "" while that area has not built it yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def yuan(fen: int | None) -> str:
    """¥1,234.50 for 123450 fen."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def yuan_large(fen: int) -> str:
    """A large total: 万元 from ¥100,000 up and 亿元 from ¥100,000,000 up, else ¥…"""
    amount = Decimal(fen) / 100
    if abs(amount) >= 100_000_000:
        return _("%(n)s 亿元") % {"n": f"{amount / 100_000_000:,.2f}"}
    if abs(amount) >= 100_000:
        return _("%(n)s 万元") % {"n": f"{amount / 10_000:,.2f}"}
    return yuan(fen)


def area(value: Decimal) -> str:
    return f"{value:,.2f}"


def page_of(request: HttpRequest, rows: Any) -> Page[Any]:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def export_audit(request: HttpRequest, *, object_type: str, title: str) -> None:
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type=object_type,
        object_repr=title,
        changes={"filters": [None, query_without(request, "export")]},
        detail=_("导出%(title)s Excel。") % {"title": title},
        request=request,
    )


def excel(
    request: HttpRequest,
    *,
    title: str,
    headers: list[Any],
    rows: Iterable[list[Any]],
    object_type: str,
    widths: list[int] | None = None,
) -> HttpResponseBase:
    export_audit(request, object_type=object_type, title=title)
    return xlsx_response(
        filename=f"{title}.xlsx",
        sheet_title=title,
        headers=[str(h) for h in headers],
        rows=rows,
        widths=widths,
    )


def _today() -> dt.date:
    return timezone.localdate()


def _require_reader(request: HttpRequest) -> None:
    if not access.can_read_industry(request.user):
        raise Http404(_("您没有产业模块的查看权限。"))


def _choices(items: Iterable[tuple[Any, Any]], blank: Any) -> list[tuple[Any, Any]]:
    return [("", blank), *items]


# --- forms --------------------------------------------------------------------------------------------------


class ChainFilterForm(forms.Form):
    township = forms.TypedChoiceField(
        label=gettext_lazy("主要所在乡镇"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("1", gettext_lazy("启用")), ("0", gettext_lazy("已停用"))],
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("order", gettext_lazy("默认顺序")),
            ("participants", gettext_lazy("参与主体多的在前")),
            ("area", gettext_lazy("面积大的在前")),
            ("output", gettext_lazy("产值高的在前")),
            ("jobs", gettext_lazy("带动就业多的在前")),
            ("households", gettext_lazy("带动农户多的在前")),
            ("name", gettext_lazy("名称")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        field.choices = _choices(((t.pk, t.name) for t in selectors.townships_all()), _("全部"))


class ChainForm(forms.Form):
    idempotency_key = key_field()
    name = forms.CharField(
        label=gettext_lazy("产业链名称"), max_length=40, error_messages={"required": REQUIRED}
    )
    base_region = forms.TypedChoiceField(
        label=gettext_lazy("主要所在乡镇"), coerce=int, required=False, empty_value=None
    )
    party_branch = forms.TypedChoiceField(
        label=gettext_lazy("产业链党支部"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("从党组织中类型为“产业链党支部”的组织里选择"),
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("排序"), required=False, min_value=0, max_value=32767, initial=0
    )
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        base: forms.TypedChoiceField = self.fields["base_region"]  # type: ignore[assignment]
        base.choices = _choices(((t.pk, t.name) for t in selectors.townships_all()), _("不指定"))
        branch: forms.TypedChoiceField = self.fields["party_branch"]  # type: ignore[assignment]
        branch.choices = _choices(((b.pk, b.name) for b in selectors.chain_branches()), _("暂无"))
        if editing:
            del self.fields["idempotency_key"]
        else:
            del self.fields["is_active"]


class LinkForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(label=gettext_lazy("环节类型"), choices=LinkKind.choices)
    name = forms.CharField(
        label=gettext_lazy("环节名称"), max_length=40, error_messages={"required": REQUIRED}
    )


class LinkRenameForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("环节类型"), choices=LinkKind.choices)
    name = forms.CharField(
        label=gettext_lazy("环节名称"), max_length=40, error_messages={"required": REQUIRED}
    )


class ParticipantFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("主体类型"), required=False)
    link = forms.TypedChoiceField(label=gettext_lazy("环节"), coerce=int, required=False, empty_value=None)
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[
            ("active", gettext_lazy("在链")),
            ("ended", gettext_lazy("已退出")),
            ("all", gettext_lazy("全部")),
        ],
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("region", gettext_lazy("按所在地")),
            ("name", gettext_lazy("按名称")),
            ("link", gettext_lazy("按环节")),
            ("area", gettext_lazy("面积大的在前")),
            ("output", gettext_lazy("产值高的在前")),
            ("jobs", gettext_lazy("带动就业多的在前")),
            ("households", gettext_lazy("带动农户多的在前")),
            ("joined", gettext_lazy("新加入的在前")),
        ],
    )

    def __init__(self, *args: Any, links: list[ChainLink], townships: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _choices(BusinessKind.choices, _("全部"))  # type: ignore[attr-defined]
        link: forms.TypedChoiceField = self.fields["link"]  # type: ignore[assignment]
        link.choices = _choices(((one.pk, one.name) for one in links), _("全部"))
        township: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        township.choices = _choices(((t.pk, t.name) for t in townships), _("全部"))

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "kind": data.get("kind") or "",
            "link_id": data.get("link"),
            "township_id": data.get("township"),
            "status": data.get("status") or "active",
            "sort": data.get("sort") or "region",
        }


class BusinessFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("名称或信用代码"), required=False, max_length=40)
    kind = forms.ChoiceField(label=gettext_lazy("主体类型"), required=False)
    township = forms.TypedChoiceField(
        label=gettext_lazy("乡镇"), coerce=int, required=False, empty_value=None
    )
    village = forms.TypedChoiceField(
        label=gettext_lazy("村（社区）"), coerce=int, required=False, empty_value=None
    )
    chain = forms.TypedChoiceField(label=gettext_lazy("产业链"), coerce=int, required=False, empty_value=None)
    active = forms.ChoiceField(
        label=gettext_lazy("经营状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("1", gettext_lazy("在营")), ("0", gettext_lazy("已停止经营"))],
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("region", gettext_lazy("按所在地")),
            ("name", gettext_lazy("按名称")),
            ("kind", gettext_lazy("按类型")),
            ("created", gettext_lazy("新登记的在前")),
        ],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _choices(BusinessKind.choices, _("全部"))  # type: ignore[attr-defined]
        townships = selectors.townships_in_scope(user)
        township: forms.TypedChoiceField = self.fields["township"]  # type: ignore[assignment]
        township.choices = _choices(((t.pk, t.name) for t in townships), _("全部"))
        village: forms.TypedChoiceField = self.fields["village"]  # type: ignore[assignment]
        village.choices = _choices(
            (
                (v.pk, f"{v.parent.name if v.parent else ''} · {v.name}")
                for v in selectors.villages_in_scope(user)
            ),
            _("全部"),
        )
        chain: forms.TypedChoiceField = self.fields["chain"]  # type: ignore[assignment]
        chain.choices = _choices(((c.pk, c.name) for c in selectors.chains_for_choice()), _("全部"))
        if len(townships) <= 1:
            del self.fields["township"]

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "kind": data.get("kind") or "",
            "township_id": data.get("township"),
            "village_id": data.get("village"),
            "chain_id": data.get("chain"),
            "active": data.get("active") or "",
            "q": (data.get("q") or "").strip(),
            "sort": data.get("sort") or "region",
        }


class BusinessForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(label=gettext_lazy("主体类型"), choices=BusinessKind.choices)
    region = forms.TypedChoiceField(
        label=gettext_lazy("所在村（社区）"), coerce=int, error_messages={"required": REQUIRED}
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100, error_messages={"required": REQUIRED})
    household_number = forms.CharField(
        label=gettext_lazy("户号"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("主体类型为“农户”时必填：本村（社区）在册户的户号"),
    )
    credit_code = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("18 位，农户可不填"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    legal_representative = forms.CharField(label=gettext_lazy("负责人"), max_length=50, required=False)
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, villages: list[Region], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region.choices = _choices(
            ((v.pk, f"{v.parent.name if v.parent else ''} · {v.name}") for v in villages), _("请选择")
        )
        if editing:
            for name in ("idempotency_key", "kind", "region", "household_number"):
                del self.fields[name]


def _link_choices(chains: list[IndustryChain]) -> list[tuple[Any, Any]]:
    links = ChainLink.objects.filter(chain__in=chains).order_by(
        "chain__sort_order", "chain__name", "sort_order"
    )
    grouped: dict[int, list[tuple[int, str]]] = {}
    for link in links:
        grouped.setdefault(link.chain_id, []).append((link.pk, link.name))
    return [("", _("不指定环节"))] + [(c.name, grouped[c.pk]) for c in chains if c.pk in grouped]


class ParticipationForm(forms.Form):
    idempotency_key = key_field()
    chain = forms.TypedChoiceField(
        label=gettext_lazy("产业链"), coerce=int, error_messages={"required": REQUIRED}
    )
    link = forms.TypedChoiceField(label=gettext_lazy("环节"), coerce=int, required=False, empty_value=None)
    area_mu = forms.CharField(label=gettext_lazy("面积（亩）"), required=False, max_length=20)
    output_value_yuan = forms.CharField(label=gettext_lazy("年产值（元）"), required=False, max_length=24)
    jobs = forms.CharField(label=gettext_lazy("带动就业（人）"), required=False, max_length=10)
    households_driven = forms.CharField(label=gettext_lazy("带动农户（户）"), required=False, max_length=10)
    joined_on = date_field(gettext_lazy("加入日期"), required=False)
    left_on = date_field(gettext_lazy("退出日期"), required=False)

    def __init__(self, *args: Any, chains: list[IndustryChain], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chain: forms.TypedChoiceField = self.fields["chain"]  # type: ignore[assignment]
        chain.choices = _choices(((c.pk, c.name) for c in chains), _("请选择"))
        link: forms.TypedChoiceField = self.fields["link"]  # type: ignore[assignment]
        link.choices = _link_choices(chains)
        for name in ("area_mu", "output_value_yuan", "jobs", "households_driven"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        if editing:
            del self.fields["idempotency_key"]
            del self.fields["chain"]
            self.fields["left_on"].help_text = _("清空即恢复在链")
        else:
            del self.fields["left_on"]


class EndForm(forms.Form):
    on = date_field(gettext_lazy("结束日期"))


class VillagePickForm(forms.Form):
    village = forms.TypedChoiceField(
        label=gettext_lazy("村（社区）"), coerce=int, required=False, empty_value=None
    )
    q = forms.CharField(label=gettext_lazy("查找"), required=False, max_length=30)
    show = forms.ChoiceField(label=gettext_lazy("显示"), required=False)
    on = forms.DateField(
        label=gettext_lazy("日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self, *args: Any, villages: list[Region], show: list[tuple[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        village: forms.TypedChoiceField = self.fields["village"]  # type: ignore[assignment]
        village.choices = [(v.pk, f"{v.parent.name if v.parent else ''} · {v.name}") for v in villages]
        self.fields["show"].choices = show  # type: ignore[attr-defined]
        if len(villages) <= 1:
            self.fields["village"].widget = forms.HiddenInput()


class ProjectForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(label=gettext_lazy("项目类型"), choices=ProjectKind.choices)
    title = forms.CharField(
        label=gettext_lazy("项目名称"),
        max_length=60,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：种茶 5 亩")}),
    )
    chain = forms.TypedChoiceField(
        label=gettext_lazy("所属产业链"), coerce=int, required=False, empty_value=None
    )
    scale = forms.CharField(label=gettext_lazy("规模"), max_length=60, required=False)
    started_on = date_field(gettext_lazy("开始日期"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chain: forms.TypedChoiceField = self.fields["chain"]  # type: ignore[assignment]
        chain.choices = _choices(((c.pk, c.name) for c in selectors.chains_for_choice()), _("不属于产业链"))


class EmploymentForm(forms.Form):
    idempotency_key = key_field()
    kind = forms.ChoiceField(label=gettext_lazy("就业方式"), choices=EmploymentKind.choices)
    business = forms.TypedChoiceField(
        label=gettext_lazy("用工主体"), coerce=int, required=False, empty_value=None
    )
    started_on = date_field(gettext_lazy("开始日期"))

    def __init__(self, *args: Any, employers: list[Business], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        business: forms.TypedChoiceField = self.fields["business"]  # type: ignore[assignment]
        business.choices = _choices(
            ((b.pk, f"{b.region.name} · {b.name}") for b in employers), _("无（自主或外出）")
        )


# --- chains -------------------------------------------------------------------------------------------------


def _figure_labels() -> list[str]:
    return [
        _("参与主体"),
        *[str(label) for label in BusinessKind.labels],
        _("面积（亩）"),
        _("年产值"),
        _("带动就业"),
        _("带动农户"),
    ]


def _figures_cells(figures: selectors.ChainFigures) -> list[tuple[str, Any]]:
    return list(zip(_figure_labels(), _figure_values(figures), strict=True))


def _figure_values(figures: selectors.ChainFigures) -> list[Any]:
    return [
        figures.participants,
        *[figures.by_kind.get(kind, 0) for kind in BusinessKind.values],
        area(figures.area_mu),
        yuan_large(figures.output_value_fen),
        figures.jobs,
        figures.households_driven,
    ]


@require_GET
@pages
def chain_list(request: HttpRequest) -> HttpResponseBase:
    """The chains with, per chain, participants by kind, area, output value, jobs and households driven
    (participants in the reader's scope, active today); ?export=xlsx downloads the table."""
    _require_reader(request)
    form = ChainFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    on = _today()
    rows = selectors.chains_overview(
        request.user,
        on=on,
        active_only=data.get("status") == "1",
        base_township_id=data.get("township"),
        sort=data.get("sort") or "order",
    )
    if data.get("status") == "0":
        rows = [row for row in rows if not row.chain.is_active]
    kinds = [str(label) for label in BusinessKind.labels]
    if request.GET.get("export") == "xlsx":
        return excel(
            request,
            title=str(_("产业链")),
            headers=[
                _("产业链"),
                _("主要所在乡镇"),
                _("产业链党支部"),
                _("参与主体"),
                *kinds,
                _("面积（亩）"),
                _("年产值（元）"),
                _("带动就业（人）"),
                _("带动农户（户）"),
                _("状态"),
            ],
            rows=(
                [
                    row.chain.name,
                    row.chain.base_region.name if row.chain.base_region else "",
                    row.chain.party_branch.name if row.chain.party_branch else "",
                    row.figures.participants,
                    *[row.figures.by_kind.get(kind, 0) for kind in BusinessKind.values],
                    row.figures.area_mu,
                    Decimal(row.figures.output_value_fen) / 100,
                    row.figures.jobs,
                    row.figures.households_driven,
                    _("启用") if row.chain.is_active else _("已停用"),
                ]
                for row in rows
            ),
            object_type="industry.industrychain",
        )
    page = page_of(request, rows)
    total = selectors.chains_total(rows)
    return render(
        request,
        "industry/chains/list.html",
        {
            "form": form,
            "page": page,
            "rows": [(row, _figures_cells(row.figures)) for row in page.object_list],
            "labels": _figure_labels(),
            "total": _figures_cells(total),
            "whole_county": selectors.reads_whole_county(request.user),
            "can_manage": access.can_manage_chains(request.user),
            "query": query_without(request, "page", "export"),
            "on": on,
        },
    )


def _participant_cells(p: ChainParticipation) -> list[Any]:
    return [
        p.business.name,
        p.business.get_kind_display(),
        p.link.name if p.link else "—",
        f"{p.business.region.parent.name if p.business.region.parent else ''} · {p.business.region.name}",
        area(p.area_mu),
        yuan(p.output_value_fen),
        p.jobs,
        p.households_driven,
        p.joined_on.isoformat() if p.joined_on else "—",
        p.left_on.isoformat() if p.left_on else "",
    ]


PARTICIPANT_HEADERS = [
    gettext_lazy("经营主体"),
    gettext_lazy("类型"),
    gettext_lazy("环节"),
    gettext_lazy("所在地"),
    gettext_lazy("面积（亩）"),
    gettext_lazy("年产值"),
    gettext_lazy("带动就业"),
    gettext_lazy("带动农户"),
    gettext_lazy("加入日期"),
    gettext_lazy("退出日期"),
]


@require_GET
@pages
def chain_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A chain: its links in order with their participants, its Party branch, its products, and the
    participants table (filters kind / link / township / status, sorts, pages, Excel)."""
    chain = selectors.chain_get(request.user, pk)
    on = _today()
    links = selectors.chain_links(request.user, chain, on=on)
    form = ParticipantFilterForm(
        request.GET or None,
        links=[row.link for row in links],
        townships=selectors.townships_in_scope(request.user),
    )
    filters = form.filters()
    participants = selectors.chain_participants(request.user, chain, on=on, **filters)
    if request.GET.get("export") == "xlsx":
        return excel(
            request,
            title=_("%(chain)s参与主体") % {"chain": chain.name},
            headers=PARTICIPANT_HEADERS,
            rows=(
                [
                    *_participant_cells(p)[:5],
                    Decimal(p.output_value_fen) / 100,
                    *_participant_cells(p)[6:],
                ]
                for p in participants.iterator(chunk_size=2000)
            ),
            object_type="industry.chainparticipation",
        )
    overview = selectors.chains_overview(request.user, on=on)
    figures = next(row.figures for row in overview if row.chain.pk == chain.pk)
    page = page_of(request, participants)
    return render(
        request,
        "industry/chains/detail.html",
        {
            "chain": chain,
            "links": links,
            "figures": figures,
            "figure_cells": _figures_cells(figures),
            "kinds": [str(label) for label in BusinessKind.labels],
            "branch_url": url_or_empty("governance:party_organisation_detail", chain.party_branch_id)
            if chain.party_branch_id
            else "",
            "products": list(selectors.chain_products(chain)),
            "form": form,
            "page": page,
            "headers": PARTICIPANT_HEADERS,
            "participants": [
                (
                    p,
                    [
                        (h, v, 4 <= i < 8)
                        for i, (h, v) in enumerate(
                            zip(PARTICIPANT_HEADERS, _participant_cells(p), strict=True)
                        )
                    ],
                )
                for p in page.object_list
            ],
            "query": query_without(request, "page", "export"),
            "whole_county": selectors.reads_whole_county(request.user),
            "can_manage": access.can_manage_chains(request.user),
            "on": on,
        },
    )


def _chain_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    base = Region.objects.filter(pk=data["base_region"]).first() if data.get("base_region") else None
    branch = (
        selectors.chain_branches().filter(pk=data["party_branch"]).first()
        if data.get("party_branch")
        else None
    )
    return {
        "name": data["name"],
        "description": data["description"],
        "base_region": base,
        "party_branch": branch,
        "sort_order": data.get("sort_order") or 0,
    }


@pages
@require_http_methods(["GET", "POST"])
def chain_create(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_chains(request.user):
        raise Http404
    form = ChainForm(request.POST or None, initial={"idempotency_key": new_key(), "sort_order": 0})
    if request.method == "POST" and form.is_valid():
        try:
            chain = services.chain_create(
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                **_chain_kwargs(form.cleaned_data),
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已新增产业链“%(name)s”，请添加它的环节。") % {"name": chain.name})
            return redirect("industry:chain-links", chain.pk)
    return render(
        request,
        "industry/chains/form.html",
        {"form": form, "title": _("新增产业链"), "back": reverse("industry:chains")},
    )


@pages
@require_http_methods(["GET", "POST"])
def chain_edit(request: HttpRequest, pk: int) -> HttpResponse:
    chain = selectors.chain_get(request.user, pk)
    if not access.can_manage_chains(request.user):
        raise Http404
    initial = {
        "name": chain.name,
        "base_region": chain.base_region_id,
        "party_branch": chain.party_branch_id,
        "sort_order": chain.sort_order,
        "description": chain.description,
        "is_active": chain.is_active,
    }
    form = ChainForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.chain_update(
                actor=request.user,
                chain=chain,
                is_active=form.cleaned_data["is_active"],
                **_chain_kwargs(form.cleaned_data),
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("industry:chain-detail", chain.pk)
    return render(
        request,
        "industry/chains/form.html",
        {
            "form": form,
            "title": _("编辑产业链"),
            "chain": chain,
            "back": reverse("industry:chain-detail", args=[chain.pk]),
        },
    )


def _links_page(
    request: HttpRequest, chain: IndustryChain, form: LinkForm, status: int = 200
) -> HttpResponse:
    rows = selectors.chain_links(request.user, chain, on=_today())
    return render(
        request,
        "industry/chains/links.html",
        {
            "chain": chain,
            "rows": [
                (
                    row,
                    LinkRenameForm(
                        initial={"name": row.link.name, "kind": row.link.kind}, prefix=f"l{row.link.pk}"
                    ),
                )
                for row in rows
            ],
            "form": form,
        },
        status=status,
    )


@pages
@require_http_methods(["GET", "POST"])
def chain_links(request: HttpRequest, pk: int) -> HttpResponse:
    """A chain's links (county admin): add one at the end, rename, move up or down, remove an unused one."""
    chain = selectors.chain_get(request.user, pk)
    if not access.can_manage_chains(request.user):
        raise Http404
    form = LinkForm(request.POST or None, initial={"idempotency_key": new_key()})
    if request.method == "POST":
        if form.is_valid():
            try:
                link = services.link_add(
                    actor=request.user,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    chain=chain,
                    kind=form.cleaned_data["kind"],
                    name=form.cleaned_data["name"],
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, _("已添加环节“%(name)s”。") % {"name": link.name})
                return redirect("industry:chain-links", chain.pk)
        return _links_page(request, chain, form, status=400)
    return _links_page(request, chain, form)


def _link_of(request: HttpRequest, pk: int, link_id: int) -> ChainLink:
    chain = selectors.chain_get(request.user, pk)
    if not access.can_manage_chains(request.user):
        raise Http404
    link = ChainLink.objects.filter(pk=link_id, chain=chain).first()
    if link is None:
        raise Http404
    return link


@require_POST
@pages
def link_rename(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    link = _link_of(request, pk, link_id)
    form = LinkRenameForm(request.POST, prefix=f"l{link.pk}")
    if form.is_valid():
        try:
            services.link_rename(
                actor=request.user, link=link, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"]
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("已保存环节。"))
    else:
        messages.error(request, _("请填写环节名称。"))
    return redirect("industry:chain-links", pk)


@require_POST
@pages
def link_move(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    link = _link_of(request, pk, link_id)
    services.link_move(actor=request.user, link=link, up=request.POST.get("direction") == "up")
    return redirect("industry:chain-links", pk)


@require_POST
@pages
def link_remove(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    link = _link_of(request, pk, link_id)
    try:
        services.link_remove(actor=request.user, link=link)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已删除环节“%(name)s”。") % {"name": link.name})
    return redirect("industry:chain-links", pk)


# --- businesses ---------------------------------------------------------------------------------------------

BUSINESS_HEADERS = [
    gettext_lazy("名称"),
    gettext_lazy("类型"),
    gettext_lazy("乡镇"),
    gettext_lazy("村（社区）"),
    gettext_lazy("统一社会信用代码"),
    gettext_lazy("负责人"),
    gettext_lazy("在链数"),
    gettext_lazy("状态"),
]


@require_GET
@pages
def business_list(request: HttpRequest) -> HttpResponseBase:
    _require_reader(request)
    form = BusinessFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = selectors.businesses_list(request.user, on=_today(), **filters)
    if request.GET.get("export") == "xlsx":
        return excel(
            request,
            title=str(_("经营主体名录")),
            headers=BUSINESS_HEADERS,
            rows=(
                [
                    b.name,
                    b.get_kind_display(),
                    b.region.parent.name if b.region.parent else "",
                    b.region.name,
                    b.credit_code,
                    b.legal_representative,
                    getattr(b, "chains_active", 0),
                    _("在营") if b.is_active else _("已停止经营"),
                ]
                for b in rows.iterator(chunk_size=2000)
            ),
            object_type="industry.business",
        )
    return render(
        request,
        "industry/chains/businesses.html",
        {
            "form": form,
            "page": page_of(request, rows),
            "query": query_without(request, "page", "export"),
            "can_create": bool(selectors.villages_in_scope(request.user, access.RECORD_ROLES)),
        },
    )


@require_GET
@pages
def business_detail(request: HttpRequest, pk: int) -> HttpResponse:
    business = access.business_get_visible(request.user, pk)
    detail = selectors.business_detail(request.user, business, on=_today())
    return render(
        request,
        "industry/chains/business.html",
        {
            "b": business,
            "detail": detail,
            "participations": [
                (p, yuan(p.output_value_fen), url_or_empty("industry:chain-detail", p.chain_id))
                for p in detail.participations
            ],
            "exhibits": [(e, url_or_empty("industry:event-detail", e.event_id)) for e in detail.exhibits],
            "joint": [(m, url_or_empty("industry:joint-detail", m.community_id)) for m in detail.joint],
            "can_record": access.can_record_for_region(request.user, business.region.path),
            "today": _today(),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def business_create(request: HttpRequest) -> HttpResponse:
    villages = selectors.villages_in_scope(request.user, access.RECORD_ROLES)
    if not villages:
        raise Http404(_("您没有登记经营主体的权限。"))
    initial: dict[str, Any] = {
        "idempotency_key": new_key(),
        "kind": request.GET.get("kind", BusinessKind.COOPERATIVE),
    }
    if len(villages) == 1:
        initial["region"] = villages[0].pk
    form = BusinessForm(request.POST or None, villages=villages, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next((v for v in villages if v.pk == data["region"]), None)
        if region is None:
            raise Http404
        try:
            business = services.business_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                kind=data["kind"],
                name=data["name"],
                region=region,
                household_number=data["household_number"],
                credit_code=data["credit_code"],
                legal_representative=data["legal_representative"],
                description=data["description"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已登记“%(name)s”。") % {"name": business.name})
            return redirect("industry:business-detail", business.pk)
    return render(
        request,
        "industry/chains/form.html",
        {"form": form, "title": _("登记经营主体"), "back": reverse("industry:businesses")},
    )


def _business_recordable(request: HttpRequest, pk: int) -> Business:
    business = access.business_get_visible(request.user, pk)
    if not access.can_record_for_region(request.user, business.region.path):
        raise Http404(str(access.BUSINESS_NOT_FOUND))
    return business


@pages
@require_http_methods(["GET", "POST"])
def business_edit(request: HttpRequest, pk: int) -> HttpResponse:
    business = _business_recordable(request, pk)
    initial = {
        "name": business.name,
        "credit_code": business.credit_code,
        "legal_representative": business.legal_representative,
        "description": business.description,
    }
    form = BusinessForm(request.POST or None, villages=[], editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.business_update(
                actor=request.user,
                business=business,
                name=data["name"],
                credit_code=data["credit_code"],
                legal_representative=data["legal_representative"],
                description=data["description"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("industry:business-detail", business.pk)
    return render(
        request,
        "industry/chains/form.html",
        {
            "form": form,
            "title": _("编辑经营主体"),
            "subject": business.name,
            "back": reverse("industry:business-detail", args=[business.pk]),
        },
    )


@require_POST
@pages
def business_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    business = _business_recordable(request, pk)
    services.business_deactivate(actor=request.user, business=business)
    messages.success(request, _("已标记“%(name)s”停止经营，并结束其在链记录。") % {"name": business.name})
    return redirect("industry:business-detail", business.pk)


@require_POST
@pages
def business_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    business = _business_recordable(request, pk)
    services.business_reactivate(actor=request.user, business=business)
    messages.success(request, _("已恢复“%(name)s”为在营。") % {"name": business.name})
    return redirect("industry:business-detail", business.pk)


@pages
@require_http_methods(["GET", "POST"])
def participation_create(request: HttpRequest, pk: int) -> HttpResponse:
    business = _business_recordable(request, pk)
    chains = list(selectors.chains_for_choice())
    initial = {
        "idempotency_key": new_key(),
        "chain": int_param(request.GET.get("chain")),
        "joined_on": _today(),
    }
    form = ParticipationForm(request.POST or None, chains=chains, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chain = next((c for c in chains if c.pk == data["chain"]), None)
        link = ChainLink.objects.filter(pk=data["link"]).first() if data["link"] else None
        if chain is None:
            raise Http404
        try:
            services.participation_add(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                chain=chain,
                business=business,
                link=link,
                area_mu=data["area_mu"],
                output_value_yuan=data["output_value_yuan"],
                jobs=data["jobs"],
                households_driven=data["households_driven"],
                joined_on=data["joined_on"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request, _("“%(name)s”已加入%(chain)s。") % {"name": business.name, "chain": chain.name}
            )
            return redirect("industry:business-detail", business.pk)
    return render(
        request,
        "industry/chains/form.html",
        {
            "form": form,
            "title": _("加入产业链"),
            "subject": business.name,
            "back": reverse("industry:business-detail", args=[business.pk]),
        },
    )


def _participation_recordable(request: HttpRequest, pk: int) -> ChainParticipation:
    participation = selectors.participation_get_visible(request.user, pk)
    if not access.can_record_for_region(request.user, participation.business.region.path):
        raise Http404(str(selectors.PARTICIPATION_NOT_FOUND))
    return participation


@pages
@require_http_methods(["GET", "POST"])
def participation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _participation_recordable(request, pk)
    initial = {
        "link": participation.link_id,
        "area_mu": participation.area_mu,
        "output_value_yuan": f"{Decimal(participation.output_value_fen) / 100:.2f}",
        "jobs": participation.jobs,
        "households_driven": participation.households_driven,
        "joined_on": participation.joined_on,
        "left_on": participation.left_on,
    }
    form = ParticipationForm(
        request.POST or None, chains=[participation.chain], editing=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        link = ChainLink.objects.filter(pk=data["link"]).first() if data["link"] else None
        try:
            services.participation_update(
                actor=request.user,
                participation=participation,
                link=link,
                area_mu=data["area_mu"],
                output_value_yuan=data["output_value_yuan"],
                jobs=data["jobs"],
                households_driven=data["households_driven"],
                joined_on=data["joined_on"],
                left_on=data["left_on"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("industry:business-detail", participation.business_id)
    return render(
        request,
        "industry/chains/form.html",
        {
            "form": form,
            "title": _("编辑在链记录"),
            "subject": f"{participation.business.name} · {participation.chain.name}",
            "back": reverse("industry:business-detail", args=[participation.business_id]),
        },
    )


def _end_page(
    request: HttpRequest, *, title: str, subject: str, back: str, end: Callable[[dt.date], Any]
) -> HttpResponse | None:
    """A small form asking for the end date (today by default); None when it ended the record."""
    form = EndForm(request.POST or None, initial={"on": _today()})
    if request.method == "POST" and form.is_valid():
        try:
            end(form.cleaned_data["on"])
        except DomainError as error:
            form.add_error("on", str(error.message))
        else:
            return None
    return render(
        request,
        "industry/chains/form.html",
        {"form": form, "title": title, "subject": subject, "back": back, "submit": _("确认结束")},
    )


@pages
@require_http_methods(["GET", "POST"])
def participation_end(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _participation_recordable(request, pk)
    back = reverse("industry:business-detail", args=[participation.business_id])
    page = _end_page(
        request,
        title=_("退出产业链"),
        subject=f"{participation.business.name} · {participation.chain.name}",
        back=back,
        end=lambda on: services.participation_end(
            actor=request.user, participation=participation, left_on=on
        ),
    )
    if page is not None:
        return page
    messages.success(request, _("已记录退出。"))
    return redirect(back)


# --- households' projects and residents' work (per village, phone first) ------------------------------------


def _village_pick(
    request: HttpRequest, show: list[tuple[str, Any]]
) -> tuple[VillagePickForm, Region, dict[str, Any]]:
    villages = selectors.villages_in_scope(request.user, access.READ_ROLES)
    if not villages:
        raise Http404(_("您的管辖范围内没有村（社区）。"))
    form = VillagePickForm(request.GET or None, villages=villages, show=show)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    village = next((v for v in villages if v.pk == data.get("village")), villages[0])
    return form, village, data


PROJECT_SHOW = [
    ("", gettext_lazy("全部在册户")),
    ("0", gettext_lazy("还没有项目的户")),
    ("1", gettext_lazy("有项目的户")),
]


@require_GET
@pages
def project_list(request: HttpRequest) -> HttpResponseBase:
    """A village's active households with their projects active on the day (default today): who has a
    project, who still needs one; add or end projects (record roles over the village)."""
    form, village, data = _village_pick(request, PROJECT_SHOW)
    on = data.get("on") or _today()
    rows = selectors.households_with_projects(
        request.user, village, on=on, covered=data.get("show") or "", q=(data.get("q") or "").strip()
    )
    if request.GET.get("export") == "xlsx":
        return excel(
            request,
            title=_("%(village)s户项目") % {"village": village.name},
            headers=[_("网格"), _("户号"), _("户主"), _("项目"), _("在链农户主体"), _("是否有项目")],
            rows=(
                [
                    h.grid.name,
                    h.number,
                    h.head.name if h.head else "",
                    "；".join(f"{p.get_kind_display()}·{p.title}" for p in getattr(h, "active_projects", [])),
                    _("是") if getattr(h, "on_chain", False) else "",
                    _("是") if getattr(h, "has_project", False) or getattr(h, "on_chain", False) else _("否"),
                ]
                for h in rows
            ),
            object_type="industry.householdproject",
        )
    page = page_of(request, rows)
    return render(
        request,
        "industry/chains/projects.html",
        {
            "form": form,
            "village": village,
            "on": on,
            "page": page,
            "query": query_without(request, "page", "export"),
            "can_record": access.can_record_for_region(request.user, village.path),
            "today": _today(),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    household = selectors.household_get(
        request.user, int_param(request.GET.get("household")) or 0, record=True
    )
    village = household.grid.parent
    back = reverse("industry:projects") + f"?village={village.pk if village else ''}"
    form = ProjectForm(request.POST or None, initial={"idempotency_key": new_key(), "started_on": _today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chain = IndustryChain.objects.filter(pk=data["chain"]).first() if data["chain"] else None
        try:
            services.project_add(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                household=household,
                kind=data["kind"],
                title=data["title"],
                chain=chain,
                scale=data["scale"],
                started_on=data["started_on"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已为 %(number)s 户登记项目。") % {"number": household.number})
            return redirect(back)
    head = household.head.name if household.head else ""
    return render(
        request,
        "industry/chains/form.html",
        {"form": form, "title": _("登记户项目"), "subject": f"{household.number} {head}", "back": back},
    )


@pages
@require_http_methods(["GET", "POST"])
def project_end(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_get(request.user, pk, record=True)
    village = project.household.grid.parent
    back = reverse("industry:projects") + f"?village={village.pk if village else ''}"
    page = _end_page(
        request,
        title=_("结束户项目"),
        subject=f"{project.household.number} · {project.title}",
        back=back,
        end=lambda on: services.project_end(actor=request.user, project=project, ended_on=on),
    )
    if page is not None:
        return page
    messages.success(request, _("已结束项目“%(title)s”。") % {"title": project.title})
    return redirect(back)


WORK_SHOW = [
    ("", gettext_lazy("全部劳动年龄人口")),
    ("0", gettext_lazy("还没有事干的")),
    ("1", gettext_lazy("有事干的")),
    ("away", gettext_lazy("外出务工的")),
]


@require_GET
@pages
def employment_list(request: HttpRequest) -> HttpResponseBase:
    """A village's working-age residents (16–59 in full years on the day, living there or away for work)
    with their work; add or end work (record roles over the village). Names with masked ID numbers."""
    form, village, data = _village_pick(request, WORK_SHOW)
    on = data.get("on") or _today()
    rows = selectors.residents_working_age(
        request.user, village, on=on, work=data.get("show") or "", q=(data.get("q") or "").strip()
    )
    if request.GET.get("export") == "xlsx":
        return excel(
            request,
            title=_("%(village)s劳动年龄人口就业") % {"village": village.name},
            headers=[
                _("网格"),
                _("户号"),
                _("姓名"),
                _("身份证号"),
                _("年龄"),
                _("状态"),
                _("就业"),
                _("是否有事干"),
            ],
            rows=(
                [
                    r.household.grid.name,
                    r.household.number,
                    r.name,
                    r.id_number_masked,
                    selectors.age_on(r.birth_date, on),
                    r.get_status_display(),
                    "；".join(
                        f"{e.get_kind_display()}{'·' + e.business.name if e.business else ''}"
                        for e in getattr(r, "active_employments", [])
                    ),
                    _("是") if getattr(r, "employed", False) or r.status == "away" else _("否"),
                ]
                for r in rows
            ),
            object_type="industry.employment",
        )
    page = page_of(request, rows)
    return render(
        request,
        "industry/chains/employment.html",
        {
            "form": form,
            "village": village,
            "on": on,
            "page": page,
            "people": [(r, selectors.age_on(r.birth_date, on)) for r in page.object_list],
            "query": query_without(request, "page", "export"),
            "can_record": access.can_record_for_region(request.user, village.path),
            "age_min": selectors.WORKING_AGE_MIN,
            "age_max": selectors.WORKING_AGE_MAX,
            "age_limit": selectors.WORKING_AGE_MAX + 1,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def employment_create(request: HttpRequest) -> HttpResponse:
    resident = selectors.resident_get(request.user, int_param(request.GET.get("resident")) or 0, record=True)
    village = resident.household.grid.parent
    back = reverse("industry:employment") + f"?village={village.pk if village else ''}"
    employers = list(selectors.businesses_for_employer(request.user, village)[:500]) if village else []
    form = EmploymentForm(
        request.POST or None,
        employers=employers,
        initial={"idempotency_key": new_key(), "started_on": _today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        business = (
            next((b for b in employers if b.pk == data["business"]), None) if data["business"] else None
        )
        try:
            services.employment_add(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                resident=resident,
                kind=data["kind"],
                business=business,
                started_on=data["started_on"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("已为%(name)s登记就业。") % {"name": resident.name})
            return redirect(back)
    return render(
        request,
        "industry/chains/form.html",
        {
            "form": form,
            "title": _("登记就业"),
            "subject": f"{resident.name} {resident.id_number_masked}",
            "back": back,
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def employment_end(request: HttpRequest, pk: int) -> HttpResponse:
    employment = selectors.employment_get(request.user, pk, record=True)
    village = employment.resident.household.grid.parent
    back = reverse("industry:employment") + f"?village={village.pk if village else ''}"
    page = _end_page(
        request,
        title=_("结束就业"),
        subject=f"{employment.resident.name} · {employment.get_kind_display()}",
        back=back,
        end=lambda on: services.employment_end(actor=request.user, employment=employment, ended_on=on),
    )
    if page is not None:
        return page
    messages.success(request, _("已结束%(name)s的就业记录。") % {"name": employment.resident.name})
    return redirect(back)
