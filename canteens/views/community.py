"""Pages of love classrooms, love workshops and red service stations (phone first, desktop tables).

Per site: the classroom's page (totals, recent sessions, the township's volunteers), the workshop's page
(the month's summary, products, workers, open orders) and the station's page (services, the month's
summary, recent log entries), each with its forms. Across sites: one list per record kind (sessions,
volunteers, hours, workers, orders, wages, service log) with the same filters and an Excel export, and the
monthly summaries of workshops and stations.

Thin: parse a form, call one selector or service, render. Creates carry a hidden uuid4 key; a service's
Chinese message shows next to its field with what was typed kept; out of scope answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from canteens import access
from canteens.models import ClassSession, OrderStatus, Site, SiteKind, VolunteerHours
from canteens.selectors import community as selectors
from canteens.selectors.community import ListFilters
from canteens.services import community as services
from common.errors import DomainError
from common.excel import xlsx_response
from common.views import pages
from governance.audit import audit_record
from governance.models import AuditAction

REQUIRED = gettext_lazy("请填写此项。")
PAGE_SIZE = 50
BAD_DATE = gettext_lazy("请输入有效的日期，如 2026-03-08。")
BAD_TIME = gettext_lazy("请输入有效的时间，例如 15:30。")


def _form_error(form: forms.Form, error: DomainError) -> None:
    if error.status == 404:
        raise error
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _key() -> str:
    return uuid.uuid4().hex


def yuan(fen: int | None) -> str:
    """¥1,234.50 for 123450 fen ("" for None)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def _fen(value: str, field_name: str, *, allow_blank: bool = False) -> int | None:
    from canteens.services._common import yuan_to_fen

    return yuan_to_fen(
        value, field=field_name, maximum=services.ORDER_AMOUNT_MAX_FEN, allow_blank=allow_blank
    )


def _date_field(label: Any, *, required: bool = True, initial: Any = None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": REQUIRED, "invalid": BAD_DATE},
    )


def _time_field(label: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": BAD_TIME},
    )


def _int_field(
    label: Any, *, minimum: int, maximum: int, message: Any, required: bool = True
) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=maximum,
        error_messages={"required": REQUIRED, "invalid": message, "min_value": message, "max_value": message},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _key_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, max_length=64)


def _text(label: Any, max_length: int, *, required: bool = True, placeholder: Any = "") -> forms.CharField:
    attrs = {"placeholder": placeholder} if placeholder else {}
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs=attrs),
    )


# --- the cross-site lists -----------------------------------------------------------------------------


class FilterForm(forms.Form):
    region = forms.TypedChoiceField(
        label=gettext_lazy("乡镇 / 村（社区）"), coerce=int, required=False, empty_value=None
    )
    site = forms.TypedChoiceField(label=gettext_lazy("阵地"), coerce=int, required=False, empty_value=None)
    date_from = _date_field(gettext_lazy("从"), required=False)
    date_to = _date_field(gettext_lazy("到"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    q = forms.CharField(label=gettext_lazy("关键词"), required=False, max_length=50)

    def __init__(self, *args: Any, user: Any, kind: str | None, extras: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: forms.TypedChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.choices = [("", _("全部"))] + [
            (r.pk, r.name if r.level == "township" else f"— {r.name}") for r in selectors.filter_regions(user)
        ]
        site_field: forms.TypedChoiceField = self.fields["site"]  # type: ignore[assignment]
        sites = (
            selectors.sites_of_kind(user, kind)
            if kind
            else access.sites_visible(user).order_by("kind", "name")
        )
        site_field.choices = [("", _("全部"))] + [(s.pk, s.name) for s in sites]
        status_field: forms.ChoiceField = self.fields["status"]  # type: ignore[assignment]
        status_field.choices = [("", _("全部")), *OrderStatus.choices]
        for name in ("status", "q"):
            if name not in extras:
                del self.fields[name]

    def filters(self) -> ListFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ListFilters(
            region=data.get("region"),
            site=data.get("site"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            status=data.get("status") or "",
            q=(data.get("q") or "").strip(),
        )


@dataclass
class Cell:
    text: Any
    url: str = ""
    number: bool = False


@dataclass
class ListSpec:
    """One cross-site list: its title, which site kind its filter offers, the extra filters, the columns
    and how a row becomes cells (the page and the Excel file share them)."""

    title: Any
    kind: str | None
    headers: list[Any]
    rows: Callable[[Any, ListFilters], Any]
    cells: Callable[[Any], list[Cell]]
    extras: tuple[str, ...] = ()
    personal: bool = False  # the rows name residents: an export is audited
    widths: list[int] = field(default_factory=list)
    # Rows that may be corrected: the page (not the Excel file) links each one the user runs, while its
    # date is within the edit window, to (edit url, date).
    edit: Callable[[Any], tuple[str, dt.date]] | None = None


def _site_url(site: Site) -> str:
    name = {
        SiteKind.CLASSROOM: "canteens:classroom",
        SiteKind.WORKSHOP: "canteens:workshop",
        SiteKind.RED_STATION: "canteens:station",
    }.get(SiteKind(site.kind))
    return reverse(name, args=[site.pk]) if name else ""


def _d(value: dt.date | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _people(count: int) -> str:
    return ngettext("%(n)s 人", "%(n)s 人", count) % {"n": count}


def _t(start: dt.time | None, end: dt.time | None) -> str:
    return f"{start:%H:%M}–{end:%H:%M}" if start and end else ""


def _products(user: Any, filters: ListFilters) -> Any:
    from canteens.models import WorkshopProduct

    rows = selectors.site_scoped(WorkshopProduct.objects.all(), user, filters)
    if filters.q:
        rows = rows.filter(name__contains=filters.q)
    return rows.select_related("site").order_by("site__name", "name")


def _services(user: Any, filters: ListFilters) -> Any:
    from canteens.models import StationService

    rows = selectors.site_scoped(StationService.objects.all(), user, filters)
    if filters.q:
        rows = rows.filter(name__contains=filters.q)
    return rows.select_related("site").order_by("site__name", "name")


LISTS: dict[str, ListSpec] = {
    "sessions": ListSpec(
        gettext_lazy("讲堂课程"),
        SiteKind.CLASSROOM,
        [
            gettext_lazy("日期"),
            gettext_lazy("时间"),
            gettext_lazy("爱心讲堂"),
            gettext_lazy("内容"),
            gettext_lazy("志愿教师"),
            gettext_lazy("到课人数"),
            gettext_lazy("登记姓名人数"),
        ],
        lambda user, f: selectors.session_list(user, f),
        lambda s: [
            Cell(_d(s.held_on)),
            Cell(_t(s.starts, s.ends)),
            Cell(s.site.name, _site_url(s.site)),
            Cell(s.subject),
            Cell(s.teacher.name),
            Cell(s.children_count, number=True),
            Cell(s.named_count, number=True),
        ],
        extras=("q",),
        widths=[12, 14, 20, 30, 12, 10, 10],
        edit=lambda s: (reverse("canteens:session_edit", args=[s.pk]), s.held_on),
    ),
    "volunteers": ListSpec(
        gettext_lazy("志愿者"),
        None,
        [
            gettext_lazy("姓名"),
            gettext_lazy("所属村（社区）"),
            gettext_lazy("手机号"),
            gettext_lazy("特长"),
            gettext_lazy("授课次数"),
            gettext_lazy("服务时长（小时）"),
            gettext_lazy("在册"),
        ],
        lambda user, f: selectors.volunteer_rows(user, f),
        lambda v: [
            Cell(v.name, reverse("canteens:volunteer_edit", args=[v.pk])),
            Cell(v.region.name),
            Cell(v.phone_masked),
            Cell(v.speciality),
            Cell(v.session_count, number=True),
            Cell(Decimal(v.hours_total).quantize(Decimal("0.1")), number=True),
            Cell(_("是") if v.is_active else _("否")),
        ],
        extras=("q",),
        personal=True,
        widths=[12, 16, 14, 16, 10, 14, 8],
    ),
    "hours": ListSpec(
        gettext_lazy("志愿服务时长"),
        None,
        [
            gettext_lazy("日期"),
            gettext_lazy("志愿者"),
            gettext_lazy("阵地"),
            gettext_lazy("服务内容"),
            gettext_lazy("时长（小时）"),
        ],
        lambda user, f: selectors.hours_list(user, f),
        lambda h: [
            Cell(_d(h.worked_on)),
            Cell(h.volunteer.name),
            Cell(h.site.name, _site_url(h.site)),
            Cell(h.activity),
            Cell(h.hours, number=True),
        ],
        widths=[12, 12, 20, 30, 12],
        edit=lambda h: (
            reverse("canteens:session_edit", args=[h.session_id])
            if h.session_id
            else reverse("canteens:hours_edit", args=[h.pk]),
            h.worked_on,
        ),
    ),
    "workers": ListSpec(
        gettext_lazy("作坊务工人员"),
        SiteKind.WORKSHOP,
        [
            gettext_lazy("姓名"),
            gettext_lazy("爱心作坊"),
            gettext_lazy("入职日期"),
            gettext_lazy("离开日期"),
            gettext_lazy("留守妇女"),
        ],
        lambda user, f: selectors.worker_list(user, f),
        lambda w: [
            Cell(w.resident.name),
            Cell(w.site.name, _site_url(w.site)),
            Cell(_d(w.joined_on)),
            Cell(_d(w.left_on) or _("在岗")),
            Cell(_("是") if w.is_left_behind else _("否")),
        ],
        extras=("q",),
        personal=True,
        widths=[12, 20, 12, 12, 10],
    ),
    "orders": ListSpec(
        gettext_lazy("作坊订单"),
        SiteKind.WORKSHOP,
        [
            gettext_lazy("下单日期"),
            gettext_lazy("爱心作坊"),
            gettext_lazy("产品"),
            gettext_lazy("客户"),
            gettext_lazy("数量"),
            gettext_lazy("金额"),
            gettext_lazy("交货期限"),
            gettext_lazy("状态"),
        ],
        lambda user, f: selectors.order_list(user, f),
        lambda o: [
            Cell(_d(o.ordered_on)),
            Cell(o.site.name, _site_url(o.site)),
            Cell(o.product.name),
            Cell(o.customer),
            Cell(o.quantity, number=True),
            Cell(yuan(o.amount_fen), number=True),
            Cell(_d(o.due_on)),
            Cell(
                o.get_status_display()
                + (f" {_d(o.delivered_on)}" if o.status == OrderStatus.DELIVERED and o.delivered_on else "")
            ),
        ],
        extras=("status", "q"),
        widths=[12, 20, 14, 20, 10, 14, 12, 16],
    ),
    "wages": ListSpec(
        gettext_lazy("工资发放"),
        SiteKind.WORKSHOP,
        [
            gettext_lazy("月份"),
            gettext_lazy("姓名"),
            gettext_lazy("爱心作坊"),
            gettext_lazy("计件数量"),
            gettext_lazy("工资"),
            gettext_lazy("发放日期"),
        ],
        lambda user, f: selectors.wage_list(user, f),
        lambda w: [
            Cell(f"{w.year}-{w.month:02d}"),
            Cell(w.worker.resident.name),
            Cell(w.site.name, _site_url(w.site)),
            Cell(w.pieces, number=True),
            Cell(yuan(w.amount_fen), number=True),
            Cell(_d(w.paid_on)),
        ],
        extras=("q",),
        personal=True,
        widths=[10, 12, 20, 10, 14, 12],
    ),
    "products": ListSpec(
        gettext_lazy("作坊产品"),
        SiteKind.WORKSHOP,
        [
            gettext_lazy("产品"),
            gettext_lazy("爱心作坊"),
            gettext_lazy("单位"),
            gettext_lazy("计件工价"),
            gettext_lazy("在产"),
        ],
        lambda user, f: _products(user, f),
        lambda p: [
            Cell(p.name),
            Cell(p.site.name, _site_url(p.site)),
            Cell(p.unit),
            Cell(yuan(p.piece_rate_fen), number=True),
            Cell(_("是") if p.is_active else _("否")),
        ],
        extras=("q",),
        widths=[16, 20, 8, 12, 8],
    ),
    "services": ListSpec(
        gettext_lazy("驿站服务项目"),
        SiteKind.RED_STATION,
        [gettext_lazy("服务项目"), gettext_lazy("红色驿站"), gettext_lazy("提供中")],
        lambda user, f: _services(user, f),
        lambda s: [
            Cell(s.name),
            Cell(s.site.name, _site_url(s.site)),
            Cell(_("是") if s.is_active else _("否")),
        ],
        extras=("q",),
        widths=[16, 20, 8],
    ),
    "logs": ListSpec(
        gettext_lazy("驿站服务记录"),
        SiteKind.RED_STATION,
        [
            gettext_lazy("服务日期"),
            gettext_lazy("红色驿站"),
            gettext_lazy("服务项目"),
            gettext_lazy("服务人数"),
            gettext_lazy("服务情况"),
        ],
        lambda user, f: selectors.log_list(user, f),
        lambda entry: [
            Cell(_d(entry.served_on)),
            Cell(entry.site.name, _site_url(entry.site)),
            Cell(entry.service.name),
            Cell(entry.people_served, number=True),
            Cell(entry.description),
        ],
        extras=("q",),
        widths=[12, 20, 14, 10, 40],
    ),
}


def _query_without(request: HttpRequest, *names: str) -> str:
    pairs = [(k, v) for k, v in request.GET.items() if k not in names and v]
    return urlencode(pairs)


@require_GET
@pages
def community_list(request: HttpRequest, which: str) -> HttpResponseBase:
    """One cross-site list (see LISTS), filtered, paginated, exportable (?export=xlsx)."""
    spec = LISTS.get(which)
    if spec is None:
        raise Http404
    if not access.sites_visible(request.user).exists():
        raise Http404(_("您的管辖范围内还没有民生阵地。"))
    form = FilterForm(request.GET or None, user=request.user, kind=spec.kind, extras=spec.extras)
    filters = form.filters()
    rows = spec.rows(request.user, filters)
    if request.GET.get("export") == "xlsx":
        title = str(spec.title)
        if spec.personal:
            audit_record(
                actor=request.user,
                action=AuditAction.EXPORT,
                object_type=f"canteens.{which}",
                object_repr=title,
                changes={"filters": [None, _query_without(request, "export")]},
                detail=_("导出%(title)s Excel。") % {"title": title},
                request=request,
            )
        return xlsx_response(
            filename=f"{title}.xlsx",
            sheet_title=title,
            headers=[str(h) for h in spec.headers],
            rows=([c.text for c in spec.cells(row)] for row in rows.iterator(chunk_size=2000)),
            widths=spec.widths or None,
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    edits = _edit_links(request, spec, page.object_list)
    return render(
        request,
        "canteens/community/list.html",
        {
            "spec": spec,
            "which": which,
            "form": form,
            "page": page,
            "table": [
                (list(zip(spec.headers, spec.cells(row), strict=True)), edits.get(row.pk, ""))
                for row in page.object_list
            ],
            "editable": spec.edit is not None and bool(edits),
            "query": _query_without(request, "page", "export"),
            "lists": LIST_NAV,
        },
    )


def _edit_links(request: HttpRequest, spec: ListSpec, rows: Iterable[Any]) -> dict[int, str]:
    """{row id: its edit url} for the rows of the page the user may still correct."""
    if spec.edit is None:
        return {}
    runnable = set(access.sites_runnable(request.user).values_list("pk", flat=True))
    links: dict[int, str] = {}
    for row in rows:
        url, day = spec.edit(row)
        if row.site_id in runnable and services.record_editable(day):
            links[row.pk] = url
    return links


LIST_NAV = [
    ("sessions", gettext_lazy("讲堂课程")),
    ("volunteers", gettext_lazy("志愿者")),
    ("hours", gettext_lazy("服务时长")),
    ("workers", gettext_lazy("务工人员")),
    ("orders", gettext_lazy("订单")),
    ("wages", gettext_lazy("工资")),
    ("products", gettext_lazy("产品")),
    ("services", gettext_lazy("服务项目")),
    ("logs", gettext_lazy("驿站服务")),
]


def _month(request: HttpRequest) -> tuple[int, int]:
    """The month asked for as ?month=YYYY-MM (the current month otherwise)."""
    today = timezone.localdate()
    raw = request.GET.get("month", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        dt.date(year, month, 1)
    except (ValueError, TypeError):
        return today.year, today.month
    if not 2000 <= year <= 2100:
        return today.year, today.month
    return year, month


def _month_links(year: int, month: int) -> dict[str, str]:
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return {"previous": f"{previous[0]}-{previous[1]:02d}", "next": f"{following[0]}-{following[1]:02d}"}


@require_GET
@pages
def workshop_summary(request: HttpRequest) -> HttpResponseBase:
    """The month's figures per workshop (orders, wages paid, workers), totals, Excel."""
    year, month = _month(request)
    form = FilterForm(request.GET or None, user=request.user, kind=SiteKind.WORKSHOP, extras=())
    rows = selectors.workshop_month_summary(request.user, year, month, form.filters())
    headers = [
        _("爱心作坊"),
        _("新接订单"),
        _("新接金额"),
        _("交付订单"),
        _("交付金额"),
        _("月末在产订单"),
        _("工资发放人数"),
        _("工资合计"),
        _("务工人数"),
    ]

    def cells(r: selectors.WorkshopMonth) -> list[Any]:
        return [
            r.site.name,
            r.orders_placed,
            yuan(r.orders_placed_fen),
            r.orders_delivered,
            yuan(r.orders_delivered_fen),
            r.orders_open,
            r.wages_paid,
            yuan(r.wages_fen),
            r.workers,
        ]

    total = [
        _("合计"),
        sum(r.orders_placed for r in rows),
        yuan(sum(r.orders_placed_fen for r in rows)),
        sum(r.orders_delivered for r in rows),
        yuan(sum(r.orders_delivered_fen for r in rows)),
        sum(r.orders_open for r in rows),
        sum(r.wages_paid for r in rows),
        yuan(sum(r.wages_fen for r in rows)),
        sum(r.workers for r in rows),
    ]
    title = _("爱心作坊 %(year)s年%(month)s月汇总") % {"year": year, "month": month}
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            filename=f"{title}.xlsx", sheet_title=title, headers=headers, rows=[*map(cells, rows), total]
        )
    return render(
        request,
        "canteens/community/summary.html",
        {
            "title": title,
            "form": form,
            "headers": headers,
            "table": [(r.site, cells(r)) for r in rows],
            "total": total,
            "month_value": f"{year}-{month:02d}",
            "links": _month_links(year, month),
            "query": _query_without(request, "month", "export"),
            "url_name": "canteens:community_workshop_summary",
        },
    )


@require_GET
@pages
def station_summary(request: HttpRequest) -> HttpResponseBase:
    """The month's service log per red station (entries, people served, by service), totals, Excel."""
    year, month = _month(request)
    form = FilterForm(request.GET or None, user=request.user, kind=SiteKind.RED_STATION, extras=())
    rows = selectors.station_month_summary(request.user, year, month, form.filters())
    headers = [_("红色驿站"), _("服务次数"), _("服务人数"), _("按服务项目")]

    def cells(r: selectors.StationMonth) -> list[Any]:
        detail = "；".join(
            _("%(service)s %(n)s 次 %(people)s 人") % {"service": s, "n": n, "people": p}
            for s, n, p in r.by_service
        )
        return [r.site.name, r.entries, r.people_served, detail]

    total = [_("合计"), sum(r.entries for r in rows), sum(r.people_served for r in rows), ""]
    title = _("红色驿站 %(year)s年%(month)s月汇总") % {"year": year, "month": month}
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            filename=f"{title}.xlsx", sheet_title=title, headers=headers, rows=[*map(cells, rows), total]
        )
    return render(
        request,
        "canteens/community/summary.html",
        {
            "title": title,
            "form": form,
            "headers": headers,
            "table": [(r.site, cells(r)) for r in rows],
            "total": total,
            "month_value": f"{year}-{month:02d}",
            "links": _month_links(year, month),
            "query": _query_without(request, "month", "export"),
            "url_name": "canteens:community_station_summary",
        },
    )


# --- forms --------------------------------------------------------------------------------------------


class VolunteerForm(forms.Form):
    idempotency_key = _key_field()
    name = _text(gettext_lazy("姓名"), 50)
    phone = _text(gettext_lazy("手机号"), 20, required=False, placeholder="13800001111")
    speciality = _text(
        gettext_lazy("特长"), 60, required=False, placeholder=gettext_lazy("例如：书法、数学辅导")
    )
    is_active = forms.BooleanField(label=gettext_lazy("在册"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["idempotency_key"]
            self.fields["phone"].help_text = gettext_lazy("留空则不修改；当前号码只显示脱敏后的形式")
        else:
            del self.fields["is_active"]


class SessionForm(forms.Form):
    idempotency_key = _key_field()
    held_on = _date_field(gettext_lazy("上课日期"))
    starts = _time_field(gettext_lazy("开始时间"))
    ends = _time_field(gettext_lazy("结束时间"))
    subject = _text(gettext_lazy("上课内容"), 100, placeholder=gettext_lazy("例如：作业辅导、书法"))
    teacher = forms.TypedChoiceField(
        label=gettext_lazy("志愿教师"),
        coerce=int,
        error_messages={"required": gettext_lazy("请选择志愿教师。")},
    )
    children_count = _int_field(
        gettext_lazy("到课儿童人数"),
        minimum=1,
        maximum=services.CHILDREN_MAX,
        message=gettext_lazy("到课儿童人数须是 1 到 500 的整数。"),
    )
    attendees = forms.TypedMultipleChoiceField(
        label=gettext_lazy("登记姓名的儿童"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("从居民名册中勾选（本乡镇未满 18 岁的居民），可少于到课人数"),
    )
    hours = _text(
        gettext_lazy("志愿服务时长（小时）"),
        8,
        required=False,
        placeholder="1.5",
    )
    notes = _text(gettext_lazy("备注"), 200, required=False)

    def __init__(
        self,
        *args: Any,
        site: Site,
        children: list[Any],
        session: ClassSession | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        teacher: forms.TypedChoiceField = self.fields["teacher"]  # type: ignore[assignment]
        teachers = list(selectors.volunteers_for_site(site))
        if session is not None:
            del self.fields["idempotency_key"]
            # The recorded teacher stays a choice even after leaving the register.
            if session.teacher_id not in {v.pk for v in teachers}:
                teachers.insert(0, session.teacher)
        teacher.choices = [("", _("请选择"))] + [
            (v.pk, f"{v.name}（{v.speciality}）" if v.speciality else v.name) for v in teachers
        ]
        attendees: forms.TypedMultipleChoiceField = self.fields["attendees"]  # type: ignore[assignment]
        attendees.choices = [(c.pk, f"{c.name}（{c.birth_date:%Y}）") for c in children]
        self.fields["hours"].help_text = gettext_lazy("留空则按上课时间自动计算")


class HoursForm(forms.Form):
    idempotency_key = _key_field()
    volunteer = forms.TypedChoiceField(
        label=gettext_lazy("志愿者"), coerce=int, error_messages={"required": gettext_lazy("请选择志愿者。")}
    )
    worked_on = _date_field(gettext_lazy("服务日期"))
    hours = _text(gettext_lazy("时长（小时）"), 8, placeholder="2")
    activity = _text(gettext_lazy("服务内容"), 100, placeholder=gettext_lazy("例如：帮厨、送餐"))

    def __init__(self, *args: Any, site: Site, row: VolunteerHours | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        volunteer: forms.TypedChoiceField = self.fields["volunteer"]  # type: ignore[assignment]
        volunteers = list(selectors.volunteers_for_site(site))
        if row is not None:
            del self.fields["idempotency_key"]
            if row.volunteer_id not in {v.pk for v in volunteers}:
                volunteers.insert(0, row.volunteer)
        volunteer.choices = [("", _("请选择"))] + [(v.pk, v.name) for v in volunteers]


class ProductForm(forms.Form):
    idempotency_key = _key_field()
    name = _text(gettext_lazy("产品"), 60, placeholder=gettext_lazy("例如：手工布鞋"))
    unit = _text(gettext_lazy("单位"), 10, placeholder=gettext_lazy("双、件"))
    piece_rate = _text(gettext_lazy("计件工价（元）"), 12, placeholder="2.50")
    is_active = forms.BooleanField(label=gettext_lazy("在产"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["idempotency_key"]
        else:
            del self.fields["is_active"]


class WorkerForm(forms.Form):
    idempotency_key = _key_field()
    resident = forms.TypedChoiceField(
        label=gettext_lazy("居民"), coerce=int, error_messages={"required": gettext_lazy("请选择居民。")}
    )
    joined_on = _date_field(gettext_lazy("入职日期"))

    def __init__(self, *args: Any, residents: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_: forms.TypedChoiceField = self.fields["resident"]  # type: ignore[assignment]
        field_.choices = [("", _("请选择"))] + [
            (r.pk, f"{r.name}（{r.id_number_masked[-4:]}）") for r in residents
        ]


class OrderForm(forms.Form):
    idempotency_key = _key_field()
    product = forms.TypedChoiceField(
        label=gettext_lazy("产品"), coerce=int, error_messages={"required": gettext_lazy("请选择产品。")}
    )
    customer = _text(gettext_lazy("客户"), 100)
    quantity = _int_field(
        gettext_lazy("数量"),
        minimum=1,
        maximum=services.QUANTITY_MAX,
        message=gettext_lazy("数量须是正整数。"),
    )
    amount = _text(gettext_lazy("订单金额（元）"), 16, placeholder="0.00")
    ordered_on = _date_field(gettext_lazy("下单日期"))
    due_on = _date_field(gettext_lazy("交货期限"), required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product: forms.TypedChoiceField = self.fields["product"]  # type: ignore[assignment]
        product.choices = [("", _("请选择"))] + [
            (p.pk, p.name) for p in selectors.products_of(site).filter(is_active=True)
        ]


class WageForm(forms.Form):
    idempotency_key = _key_field()
    worker = forms.TypedChoiceField(
        label=gettext_lazy("务工人员"),
        coerce=int,
        error_messages={"required": gettext_lazy("请选择务工人员。")},
    )
    month = forms.CharField(
        label=gettext_lazy("工资月份"),
        widget=forms.DateInput(attrs={"type": "month"}),
        error_messages={"required": REQUIRED},
    )
    pieces = _int_field(
        gettext_lazy("计件数量"),
        minimum=0,
        maximum=services.PIECES_MAX,
        message=gettext_lazy("计件数量须是 0 到 100 万的整数。"),
        required=False,
    )
    product = forms.TypedChoiceField(
        label=gettext_lazy("按产品计件"), coerce=int, required=False, empty_value=None
    )
    amount = _text(gettext_lazy("工资（元）"), 16, required=False, placeholder="0.00")
    paid_on = _date_field(gettext_lazy("发放日期"))

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        worker: forms.TypedChoiceField = self.fields["worker"]  # type: ignore[assignment]
        from canteens.models import WorkshopWorker

        worker.choices = [("", _("请选择"))] + [
            (w.pk, w.resident.name + ("" if w.left_on is None else _("（已离开）")))
            for w in WorkshopWorker.objects.filter(site=site)
            .select_related("resident")
            .order_by("left_on", "resident__name")
        ]
        product: forms.TypedChoiceField = self.fields["product"]  # type: ignore[assignment]
        product.choices = [("", _("不按计件"))] + [
            (p.pk, f"{p.name}（{yuan(p.piece_rate_fen)}/{p.unit}）") for p in selectors.products_of(site)
        ]
        self.fields["amount"].help_text = gettext_lazy("留空则按“计件数量 × 计件工价”计算")

    def year_month(self) -> tuple[int, int] | None:
        raw = self.cleaned_data.get("month") or ""
        try:
            year, month = (int(p) for p in str(raw).split("-")[:2])
            dt.date(year, month, 1)
        except (TypeError, ValueError):
            self.add_error("month", _("请选择工资月份。"))
            return None
        return year, month


class ServiceForm(forms.Form):
    idempotency_key = _key_field()
    name = _text(gettext_lazy("服务项目"), 40, placeholder=gettext_lazy("例如：理发、代缴代办、健康义诊"))


class LogForm(forms.Form):
    idempotency_key = _key_field()
    service = forms.TypedChoiceField(
        label=gettext_lazy("服务项目"),
        coerce=int,
        error_messages={"required": gettext_lazy("请选择服务项目。")},
    )
    served_on = _date_field(gettext_lazy("服务日期"))
    people_served = _int_field(
        gettext_lazy("服务人数"),
        minimum=1,
        maximum=services.PEOPLE_MAX,
        message=gettext_lazy("服务人数须是 1 到 10000 的整数。"),
    )
    description = _text(gettext_lazy("服务情况"), 200, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service: forms.TypedChoiceField = self.fields["service"]  # type: ignore[assignment]
        service.choices = [("", _("请选择"))] + [
            (s.pk, s.name) for s in selectors.services_of(site).filter(is_active=True)
        ]


def _form_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    site: Site | None,
    title: Any,
    back: str,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    return render(
        request,
        "canteens/community/form.html",
        {"form": form, "site": site, "title": title, "back": back, **extra},
        status=status,
    )


def _status(form: forms.Form) -> int:
    return 409 if getattr(form, "conflict", False) else (400 if form.is_bound and form.errors else 200)


def _fail(form: forms.Form, error: DomainError) -> None:
    _form_error(form, error)
    if error.status == 409:
        form.conflict = True  # type: ignore[attr-defined]


# --- classrooms ---------------------------------------------------------------------------------------


@require_GET
@pages
def classroom(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if site.kind != SiteKind.CLASSROOM:
        raise Http404
    year = timezone.localdate().year
    this_year = ListFilters(date_from=dt.date(year, 1, 1), date_to=dt.date(year, 12, 31))
    return render(
        request,
        "canteens/community/classroom.html",
        {
            "site": site,
            "can_run": access.can_run_site(request.user, site),
            "edit_from": services.edit_window_start(),
            "edit_grace": services.EDIT_GRACE_DAYS,
            "totals": selectors.classroom_totals(site),
            "year_totals": selectors.classroom_totals(site, this_year),
            "year": year,
            "sessions": selectors.session_list(request.user, ListFilters(site=site.pk))[:10],
            "volunteers": selectors.volunteer_rows(request.user, ListFilters(active=True)).filter(
                pk__in=selectors.volunteers_for_site(site).values("pk")
            ),
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.CLASSROOM)
    today = timezone.localdate()
    children = selectors.children_for_site(site, today, limit=300)
    form = SessionForm(
        request.POST or None,
        site=site,
        children=children,
        initial={"idempotency_key": _key(), "held_on": today},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                held_on=data["held_on"],
                starts=data["starts"],
                ends=data["ends"],
                subject=data["subject"],
                teacher_id=data["teacher"],
                children_count=data["children_count"],
                attendee_ids=data["attendees"],
                notes=data["notes"],
                hours=data["hours"] or None,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已登记 %(date)s 的课程“%(subject)s”，到课 %(n)s 人。")
                % {
                    "date": f"{session.held_on:%Y-%m-%d}",
                    "subject": session.subject,
                    "n": session.children_count,
                },
            )
            return redirect("canteens:classroom", site.pk)
    return _form_page(
        request,
        form=form,
        site=site,
        title=_("登记讲堂课程"),
        back=reverse("canteens:classroom", args=[site.pk]),
        status=_status(form),
        no_teachers=not selectors.volunteers_for_site(site).exists(),
    )


@pages
@require_http_methods(["GET", "POST"])
def volunteer_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_runnable(request.user, site_id)
    form = VolunteerForm(request.POST or None, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            volunteer = services.volunteer_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                name=data["name"],
                phone=data["phone"],
                speciality=data["speciality"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已登记志愿者 %(name)s。") % {"name": volunteer.name})
            return redirect(_site_url(site) or reverse("canteens:community_list", args=["volunteers"]))
    return _form_page(
        request,
        form=form,
        site=site,
        title=_("登记志愿者"),
        back=_site_url(site),
        status=_status(form),
    )


@pages
@require_http_methods(["GET", "POST"])
def volunteer_edit(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get_runnable(request.user, volunteer_id)
    initial = {"name": volunteer.name, "speciality": volunteer.speciality, "is_active": volunteer.is_active}
    form = VolunteerForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.volunteer_update(
                actor=request.user,
                volunteer=volunteer,
                name=data["name"],
                phone=data["phone"] or None,
                speciality=data["speciality"],
                is_active=data["is_active"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("canteens:community_list", "volunteers")
    return _form_page(
        request,
        form=form,
        site=None,
        title=_("修改志愿者 · %(name)s") % {"name": volunteer.name},
        back=reverse("canteens:community_list", args=["volunteers"]),
        status=_status(form),
        current_phone=volunteer.phone_masked,
    )


@pages
@require_http_methods(["GET", "POST"])
def hours_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_runnable(request.user, site_id)
    form = HoursForm(
        request.POST or None,
        site=site,
        initial={"idempotency_key": _key(), "worked_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = services.volunteer_hours_record(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                volunteer_id=data["volunteer"],
                worked_on=data["worked_on"],
                hours=data["hours"],
                activity=data["activity"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已登记 %(name)s 服务 %(hours)s 小时。") % {"name": row.volunteer.name, "hours": row.hours},
            )
            return redirect(_site_url(site) or reverse("canteens:community_list", args=["hours"]))
    return _form_page(
        request, form=form, site=site, title=_("登记志愿服务时长"), back=_site_url(site), status=_status(form)
    )


def _locked_notice(day: dt.date) -> str:
    return _(
        "这条记录的日期是 %(date)s，已过修改期限：讲堂课程和志愿服务时长只能在当月修改或删除"
        "（每月 %(grace)s 日前还可以改上个月的）。"
    ) % {"date": f"{day:%Y-%m-%d}", "grace": services.EDIT_GRACE_DAYS}


def _session_children(site: Site, session: ClassSession) -> list[Any]:
    """The form's children: the register's (as for a new session) and whoever the session named."""
    children = selectors.children_for_site(site, session.held_on, limit=300)
    listed = {c.pk for c in children}
    named = [c for c in selectors.session_attendees(session) if c.pk not in listed]
    return named + children


@pages
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get_runnable(request.user, session_id)
    site = session.site
    back = reverse("canteens:classroom", args=[site.pk])
    title = _("修改讲堂课程")
    if not services.record_editable(session.held_on):
        return _locked_page(request, site=site, title=title, back=back, day=session.held_on)
    entered = selectors.session_hours_entered(session)
    initial = {
        "held_on": session.held_on,
        "starts": session.starts,
        "ends": session.ends,
        "subject": session.subject,
        "teacher": session.teacher_id,
        "children_count": session.children_count,
        "attendees": [c.pk for c in selectors.session_attendees(session)],
        "hours": "" if entered is None else str(entered),
        "notes": session.notes,
    }
    form = SessionForm(
        request.POST or None,
        site=site,
        children=_session_children(site, session),
        session=session,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_update(
                actor=request.user,
                session=session,
                held_on=data["held_on"],
                starts=data["starts"],
                ends=data["ends"],
                subject=data["subject"],
                teacher_id=data["teacher"],
                children_count=data["children_count"],
                attendee_ids=data["attendees"],
                notes=data["notes"],
                hours=data["hours"] or None,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已保存 %(date)s 的课程“%(subject)s”。")
                % {"date": f"{session.held_on:%Y-%m-%d}", "subject": session.subject},
            )
            return redirect("canteens:classroom", site.pk)
    return _form_page(
        request,
        form=form,
        site=site,
        title=title,
        back=back,
        status=_status(form),
        delete_url=reverse("canteens:session_delete", args=[session.pk]),
    )


@pages
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get_runnable(request.user, session_id)
    site = session.site
    back = reverse("canteens:classroom", args=[site.pk])
    title = _("删除讲堂课程")
    if not services.record_editable(session.held_on):
        return _locked_page(request, site=site, title=title, back=back, day=session.held_on)
    error = None
    if request.method == "POST":
        try:
            services.session_delete(actor=request.user, session=session)
        except DomainError as failure:
            if failure.status == 404:
                raise
            error = str(failure.message)
        else:
            messages.success(
                request,
                _("已删除 %(date)s 的课程“%(subject)s”。")
                % {"date": f"{session.held_on:%Y-%m-%d}", "subject": session.subject},
            )
            return redirect("canteens:classroom", site.pk)
    hours = sum((h.hours for h in session.volunteer_hours.all()), Decimal("0"))
    facts = [
        (_("日期"), f"{session.held_on:%Y-%m-%d} {_t(session.starts, session.ends)}".strip()),
        (_("内容"), session.subject),
        (_("志愿教师"), session.teacher.name),
        (_("到课人数"), session.children_count),
        (_("登记姓名的儿童"), _people(session.attendees.count())),
        (_("志愿服务时长"), _("%(h)s 小时") % {"h": hours} if hours else "—"),
    ]
    return render(
        request,
        "canteens/community/delete.html",
        {
            "site": site,
            "title": title,
            "back": back,
            "facts": facts,
            "error": error,
            "consequence": _(
                "删除后，这次课程、登记姓名的到课记录和随课程登记的志愿服务时长一并删除，"
                "讲堂的课程数、到课人次和志愿者的服务时长随之减少。"
            ),
        },
        status=409 if error else 200,
    )


def _locked_page(request: HttpRequest, *, site: Site, title: Any, back: str, day: dt.date) -> HttpResponse:
    return render(
        request,
        "canteens/community/delete.html",
        {"site": site, "title": title, "back": back, "locked": _locked_notice(day)},
        status=409,
    )


@pages
@require_http_methods(["GET", "POST"])
def hours_edit(request: HttpRequest, hours_id: int) -> HttpResponse:
    row = selectors.hours_get_runnable(request.user, hours_id)
    site = row.site
    back = reverse("canteens:community_list", args=["hours"]) + f"?site={site.pk}"
    title = _("修改志愿服务时长")
    if row.session_id is not None:
        return redirect("canteens:session_edit", row.session_id)
    if not services.record_editable(row.worked_on):
        return _locked_page(request, site=site, title=title, back=back, day=row.worked_on)
    initial = {
        "volunteer": row.volunteer_id,
        "worked_on": row.worked_on,
        "hours": str(row.hours),
        "activity": row.activity,
    }
    form = HoursForm(request.POST or None, site=site, row=row, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = services.volunteer_hours_update(
                actor=request.user,
                row=row,
                volunteer_id=data["volunteer"],
                worked_on=data["worked_on"],
                hours=data["hours"],
                activity=data["activity"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已保存 %(name)s %(date)s 的服务时长 %(hours)s 小时。")
                % {"name": row.volunteer.name, "date": f"{row.worked_on:%Y-%m-%d}", "hours": row.hours},
            )
            return redirect(back)
    return _form_page(
        request,
        form=form,
        site=site,
        title=title,
        back=back,
        status=_status(form),
        delete_url=reverse("canteens:hours_delete", args=[row.pk]),
    )


@pages
@require_http_methods(["GET", "POST"])
def hours_delete(request: HttpRequest, hours_id: int) -> HttpResponse:
    row = selectors.hours_get_runnable(request.user, hours_id)
    site = row.site
    back = reverse("canteens:community_list", args=["hours"]) + f"?site={site.pk}"
    title = _("删除志愿服务时长")
    if row.session_id is not None:
        return redirect("canteens:session_delete", row.session_id)
    if not services.record_editable(row.worked_on):
        return _locked_page(request, site=site, title=title, back=back, day=row.worked_on)
    error = None
    if request.method == "POST":
        try:
            services.volunteer_hours_delete(actor=request.user, row=row)
        except DomainError as failure:
            if failure.status == 404:
                raise
            error = str(failure.message)
        else:
            messages.success(
                request,
                _("已删除 %(name)s %(date)s 的服务时长。")
                % {"name": row.volunteer.name, "date": f"{row.worked_on:%Y-%m-%d}"},
            )
            return redirect(back)
    facts = [
        (_("日期"), f"{row.worked_on:%Y-%m-%d}"),
        (_("志愿者"), row.volunteer.name),
        (_("阵地"), site.name),
        (_("服务内容"), row.activity),
        (_("时长"), _("%(h)s 小时") % {"h": row.hours}),
    ]
    return render(
        request,
        "canteens/community/delete.html",
        {
            "site": site,
            "title": title,
            "back": back,
            "facts": facts,
            "error": error,
            "consequence": _("删除后，这位志愿者的服务时长随之减少。"),
        },
        status=409 if error else 200,
    )


# --- workshops ----------------------------------------------------------------------------------------


@require_GET
@pages
def workshop(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if site.kind != SiteKind.WORKSHOP:
        raise Http404
    year, month = _month(request)
    summary = selectors.workshop_month_summary(request.user, year, month, ListFilters(site=site.pk))
    orders = list(selectors.order_list(request.user, ListFilters(site=site.pk, status=OrderStatus.OPEN)))
    for order in orders:
        order.amount_display = yuan(order.amount_fen)  # type: ignore[attr-defined]
    products = list(selectors.products_of(site))
    for product in products:
        product.rate_display = yuan(product.piece_rate_fen)  # type: ignore[attr-defined]
    month_row = summary[0] if summary else None
    return render(
        request,
        "canteens/community/workshop.html",
        {
            "site": site,
            "can_run": access.can_run_site(request.user, site),
            "summary": month_row,
            "yuan_delivered": yuan(month_row.orders_delivered_fen) if month_row else "",
            "wages_display": yuan(month_row.wages_fen) if month_row else "",
            "year": year,
            "month": month,
            "links": _month_links(year, month),
            "products": products,
            "workers": selectors.worker_list(request.user, ListFilters(site=site.pk, active=True)),
            "orders": orders,
            "today": timezone.localdate(),
        },
    )


def _rate_fen(form: forms.Form) -> int | None:
    try:
        return _fen(form.cleaned_data["piece_rate"], "piece_rate")
    except DomainError as error:
        form.add_error("piece_rate", str(error.message))
        return None


@pages
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.WORKSHOP)
    form = ProductForm(request.POST or None, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid() and (rate := _rate_fen(form)) is not None:
        data = form.cleaned_data
        try:
            services.product_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                name=data["name"],
                unit=data["unit"],
                piece_rate_fen=rate,
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已新增产品 %(name)s。") % {"name": data["name"]})
            return redirect("canteens:workshop", site.pk)
    return _form_page(
        request, form=form, site=site, title=_("新增产品"), back=_site_url(site), status=_status(form)
    )


@pages
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    from canteens.models import WorkshopProduct

    product = WorkshopProduct.objects.filter(
        pk=product_id, site__in=access.sites_runnable(request.user)
    ).first()
    if product is None:
        raise Http404
    site = access.site_get_runnable(request.user, product.site_id)
    initial = {
        "name": product.name,
        "unit": product.unit,
        "piece_rate": f"{product.piece_rate_fen / 100:.2f}",
        "is_active": product.is_active,
    }
    form = ProductForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid() and (rate := _rate_fen(form)) is not None:
        data = form.cleaned_data
        try:
            services.product_update(
                actor=request.user,
                product=product,
                name=data["name"],
                unit=data["unit"],
                piece_rate_fen=rate,
                is_active=data["is_active"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect("canteens:workshop", site.pk)
    return _form_page(
        request,
        form=form,
        site=site,
        title=_("修改产品 · %(name)s") % {"name": product.name},
        back=_site_url(site),
        status=_status(form),
    )


def _workshop_residents(site: Site, q: str) -> list[Any]:
    from governance.models import Resident, ResidentStatus

    parts = str(site.region.path).strip("/").split("/")
    township_path = "/".join(parts[:2]) + "/"
    queryset = Resident.objects.filter(household__grid__path__startswith=township_path).exclude(
        status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT]
    )
    if q.isdigit() and len(q) == 4:
        queryset = queryset.filter(id_number_masked__endswith=q)
    elif q:
        queryset = queryset.filter(name__contains=q)
    else:
        # Without a search: the township's left-behind women first (the workshops' purpose).
        queryset = queryset.filter(tags__tag="left_behind_woman")
    return list(queryset.order_by("name", "id")[:200])


@pages
@require_http_methods(["GET", "POST"])
def worker_add(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.WORKSHOP)
    q = request.GET.get("q", "").strip()[:20]
    residents = _workshop_residents(site, q)
    if request.method == "POST":
        # The chosen resident must stay choosable whatever the search showed.
        chosen = request.POST.get("resident", "")
        if chosen.isdigit() and all(r.pk != int(chosen) for r in residents):
            residents += _workshop_residents_by_id(site, int(chosen))
    form = WorkerForm(
        request.POST or None,
        residents=residents,
        initial={"idempotency_key": _key(), "joined_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            added = services.worker_add(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                resident_id=data["resident"],
                joined_on=data["joined_on"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request, _("已登记 %(name)s 在本作坊务工。") % {"name": added.worker.resident.name}
            )
            if added.warning:
                messages.warning(request, added.warning)
            return redirect("canteens:workshop", site.pk)
    return _form_page(
        request,
        form=form,
        site=site,
        title=_("登记务工人员"),
        back=_site_url(site),
        status=_status(form),
        resident_search=q,
    )


def _workshop_residents_by_id(site: Site, resident_id: int) -> list[Any]:
    from governance.models import Resident

    parts = str(site.region.path).strip("/").split("/")
    return list(
        Resident.objects.filter(pk=resident_id, household__grid__path__startswith="/".join(parts[:2]) + "/")
    )


@pages
@require_POST
def worker_leave(request: HttpRequest, worker_id: int) -> HttpResponse:
    worker = selectors.worker_get_runnable(request.user, worker_id)
    raw = request.POST.get("left_on", "")
    try:
        left_on = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        services.worker_leave(actor=request.user, worker=worker, left_on=left_on)
    except ValueError:
        messages.error(request, str(BAD_DATE))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已登记 %(name)s 离开本作坊。") % {"name": worker.resident.name})
    return redirect("canteens:workshop", worker.site_id)


@pages
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.WORKSHOP)
    form = OrderForm(
        request.POST or None,
        site=site,
        initial={"idempotency_key": _key(), "ordered_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            amount = _fen(data["amount"], "amount")
            services.order_create(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                product_id=data["product"],
                customer=data["customer"],
                quantity=data["quantity"],
                amount_fen=amount or 0,
                ordered_on=data["ordered_on"],
                due_on=data["due_on"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已登记订单。"))
            return redirect("canteens:workshop", site.pk)
    return _form_page(
        request, form=form, site=site, title=_("登记订单"), back=_site_url(site), status=_status(form)
    )


@pages
@require_POST
def order_state(request: HttpRequest, order_id: int) -> HttpResponse:
    """Deliver or cancel an open order from the workshop's page."""
    order = selectors.order_get_runnable(request.user, order_id)
    action = request.POST.get("action")
    try:
        if action == "deliver":
            raw = request.POST.get("delivered_on", "")
            delivered_on = dt.date.fromisoformat(raw) if raw else timezone.localdate()
            services.order_deliver(actor=request.user, order=order, delivered_on=delivered_on)
            messages.success(request, _("订单已交付。"))
        elif action == "cancel":
            services.order_cancel(actor=request.user, order=order, reason=request.POST.get("reason", ""))
            messages.success(request, _("订单已取消。"))
        else:
            raise Http404
    except ValueError:
        messages.error(request, str(BAD_DATE))
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, str(error.message))
    return redirect("canteens:workshop", order.site_id)


@pages
@require_http_methods(["GET", "POST"])
def wage_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.WORKSHOP)
    today = timezone.localdate()
    form = WageForm(
        request.POST or None,
        site=site,
        initial={"idempotency_key": _key(), "month": f"{today:%Y-%m}", "paid_on": today, "pieces": 0},
    )
    if request.method == "POST" and form.is_valid() and (ym := form.year_month()) is not None:
        data = form.cleaned_data
        try:
            amount = _fen(data["amount"], "amount", allow_blank=True)
            wage = services.wage_record(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                worker_id=data["worker"],
                year=ym[0],
                month=ym[1],
                pieces=data["pieces"] or 0,
                amount_fen=amount,
                product_id=data["product"],
                paid_on=data["paid_on"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已登记 %(name)s %(year)s年%(month)s月工资 %(amount)s。")
                % {
                    "name": wage.worker.resident.name,
                    "year": wage.year,
                    "month": wage.month,
                    "amount": yuan(wage.amount_fen),
                },
            )
            return redirect("canteens:workshop", site.pk)
    return _form_page(
        request, form=form, site=site, title=_("登记工资发放"), back=_site_url(site), status=_status(form)
    )


# --- red stations -------------------------------------------------------------------------------------


@require_GET
@pages
def station(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_visible(request.user, site_id)
    if site.kind != SiteKind.RED_STATION:
        raise Http404
    year, month = _month(request)
    summary = selectors.station_month_summary(request.user, year, month, ListFilters(site=site.pk))
    return render(
        request,
        "canteens/community/station.html",
        {
            "site": site,
            "can_run": access.can_run_site(request.user, site),
            "summary": summary[0] if summary else None,
            "year": year,
            "month": month,
            "links": _month_links(year, month),
            "services": selectors.services_of(site),
            "logs": selectors.log_list(request.user, ListFilters(site=site.pk))[:10],
        },
    )


@pages
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.RED_STATION)
    form = ServiceForm(request.POST or None, initial={"idempotency_key": _key()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.station_service_create(
                actor=request.user, idempotency_key=data["idempotency_key"], site=site, name=data["name"]
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(request, _("已新增服务项目 %(name)s。") % {"name": data["name"]})
            return redirect("canteens:station", site.pk)
    return _form_page(
        request, form=form, site=site, title=_("新增服务项目"), back=_site_url(site), status=_status(form)
    )


@pages
@require_POST
def service_toggle(request: HttpRequest, service_id: int) -> HttpResponse:
    service = selectors.service_get_runnable(request.user, service_id)
    services.station_service_set_active(actor=request.user, service=service, is_active=not service.is_active)
    return redirect("canteens:station", service.site_id)


@pages
@require_http_methods(["GET", "POST"])
def log_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = services.site_runnable_of_kind(request.user, site_id, SiteKind.RED_STATION)
    form = LogForm(
        request.POST or None,
        site=site,
        initial={"idempotency_key": _key(), "served_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            log = services.service_log_record(
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                site=site,
                service_id=data["service"],
                served_on=data["served_on"],
                people_served=data["people_served"],
                description=data["description"],
            )
        except DomainError as error:
            _fail(form, error)
        else:
            messages.success(
                request,
                _("已登记 %(service)s，服务 %(n)s 人。")
                % {"service": log.service.name, "n": log.people_served},
            )
            return redirect("canteens:station", site.pk)
    return _form_page(
        request,
        form=form,
        site=site,
        title=_("登记服务记录"),
        back=_site_url(site),
        status=_status(form),
        no_services=not selectors.services_of(site).filter(is_active=True).exists(),
    )
