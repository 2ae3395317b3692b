"""The sales dashboards: one expo or festival (industry:event-dashboard) and the year's overview across the
events the user sees (industry:sales-dashboard ?year=). Figures come from industry.selectors.dashboard;
this module only lays them out as tables (the page and the Excel file share one spec per table) and as
chart data for static/industry/charts.js.

    /industry/events/<pk>/dashboard/            one event (?export=<table> answers that table as .xlsx)
    /industry/dashboard/?year=                  the year's overview (?export=<table> likewise)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from common.excel import xlsx_response
from common.views import pages as pages
from industry.selectors import dashboard as selectors
from industry.selectors.dashboard import SalesDashboard
from industry.templatetags.industry_tags import count_cn, url_or_blank, yuan, yuan_big


def fen_yuan(fen: int) -> Decimal:
    """Yuan as an exact two-place Decimal (what an Excel cell and a chart take)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


# --- tables: one spec for the page and the Excel file ---------------------------------------------------


@dataclass
class Cell:
    value: Any  # what the Excel cell holds
    text: str = ""  # what the page shows (defaults to the value)
    number: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            self.text = "" if self.value is None else str(self.value)


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    numeric: list[bool]
    rows: list[list[Cell]] = field(default_factory=list)
    total: list[Cell] | None = None
    note: str = ""
    empty: str = ""

    @property
    def head(self) -> list[tuple[str, bool]]:
        return list(zip(self.headers, self.numeric, strict=True))


def _money(fen: int) -> Cell:
    return Cell(fen_yuan(fen), yuan(fen), number=True)


def _count(n: int | Decimal) -> Cell:
    return Cell(n, count_cn(n), number=True)


def _share(part: int, whole: int) -> Cell:
    if not whole:
        return Cell("", "—", number=True)
    percent = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))
    return Cell(float(percent), f"{percent}％", number=True)


def _total_row(label: str, width: int, **at: Cell) -> list[Cell]:
    """A 合计 row: `label` in the first column, the cells given by column index (as "c<i>")."""
    cells = [Cell(label)] + [Cell("", "") for _ in range(width - 1)]
    for name, cell in at.items():
        cells[int(name[1:])] = cell
    return cells


def dashboard_tables(board: SalesDashboard, *, top: bool = True) -> dict[str, Table]:
    """Every table of `board`, by key. With `top`, products and exhibitors stop at the first TOP (the
    page); without, they hold every row (the Excel file), and their 合计 is the whole total."""
    total = board.totals.amount_fen
    tables: dict[str, Table] = {}
    tables["days"] = Table(
        "days",
        _("按日销售"),
        [_("日期"), _("销售额（元）"), _("记录数")],
        [False, True, True],
        rows=[
            [Cell(d.day, f"{d.day:%Y-%m-%d}"), _money(d.amount_fen), _count(d.records)]
            for d in board.days
            if d.amount_fen or d.records
        ],
        total=_total_row(
            _("合计"), 3, c1=_money(sum(d.amount_fen for d in board.days)), c2=_count(board.totals.records)
        ),
        note=_("更正（冲正）记录计在被更正记录的销售日期。"),
    )
    tables["channels"] = Table(
        "channels",
        _("线上线下"),
        [_("渠道"), _("销售额（元）"), _("占比"), _("记录数")],
        [False, True, True, True],
        rows=[
            [Cell(c.label), _money(c.amount_fen), _share(c.amount_fen, total), _count(c.records)]
            for c in board.channels
        ],
        total=_total_row(_("合计"), 4, c1=_money(total), c3=_count(board.totals.records)),
    )
    tables["platforms"] = Table(
        "platforms",
        _("线上平台"),
        [_("平台"), _("销售额（元）"), _("占线上"), _("记录数")],
        [False, True, True, True],
        rows=[
            [
                Cell(p.platform),
                _money(p.amount_fen),
                _share(p.amount_fen, board.totals.online_fen),
                _count(p.records),
            ]
            for p in board.platforms
        ],
        total=_total_row(
            _("合计"),
            4,
            c1=_money(sum(p.amount_fen for p in board.platforms)),
            c3=_count(sum(p.records for p in board.platforms)),
        ),
        empty=_("没有线上销售。"),
    )
    tables["categories"] = Table(
        "categories",
        _("产品品类"),
        [_("品类"), _("销售额（元）"), _("占比"), _("产品种类"), _("记录数")],
        [False, True, True, True, True],
        rows=[
            [
                Cell(c.label),
                _money(c.amount_fen),
                _share(c.amount_fen, total),
                _count(c.product_kinds),
                _count(c.records),
            ]
            for c in board.categories
        ],
        total=_total_row(
            _("合计"),
            5,
            c1=_money(total),
            c3=_count(board.totals.product_kinds),
            c4=_count(board.totals.records),
        ),
    )
    products = board.top_products if top else board.products
    tables["products"] = Table(
        "products",
        _("产品销售排行（前 %(n)s 名）") % {"n": selectors.TOP} if top else _("产品销售排行"),
        [
            _("名次"),
            _("产品编码"),
            _("产品"),
            _("品类"),
            _("数量"),
            _("单位"),
            _("销售额（元）"),
            _("记录数"),
        ],
        [True, False, False, False, True, False, True, True],
        rows=[
            [
                Cell(rank, number=True),
                Cell(p.code),
                Cell(p.name),
                Cell(p.category_label),
                Cell(p.quantity, count_cn(p.quantity), number=True),
                Cell(p.unit),
                _money(p.amount_fen),
                _count(p.records),
            ]
            for rank, p in enumerate(products, start=1)
        ],
        total=None if top else _total_row(_("合计"), 8, c6=_money(total), c7=_count(board.totals.records)),
    )
    exhibitors = board.top_exhibitors if top else board.exhibitors
    tables["exhibitors"] = Table(
        "exhibitors",
        _("参展主体销售排行（前 %(n)s 名）") % {"n": selectors.TOP} if top else _("参展主体销售排行"),
        [_("名次"), _("参展主体"), _("主体类型"), _("所在村（社区）"), _("销售额（元）"), _("记录数")],
        [True, False, False, False, True, True],
        rows=[
            [
                Cell(rank, number=True),
                Cell(e.name, url=url_or_blank("industry:business-detail", e.business_id)),
                Cell(e.kind_label),
                Cell(e.village),
                _money(e.amount_fen),
                _count(e.records),
            ]
            for rank, e in enumerate(exhibitors, start=1)
        ],
        total=None if top else _total_row(_("合计"), 6, c4=_money(total), c5=_count(board.totals.records)),
    )
    if board.event is None:
        tables["events"] = Table(
            "events",
            _("各场展会节会"),
            [
                _("展会节会"),
                _("类型"),
                _("举办乡镇"),
                _("开始日期"),
                _("结束日期"),
                _("销售额（元）"),
                _("记录数"),
            ],
            [False, False, False, False, False, True, True],
            rows=[
                [
                    Cell(e.name, url=reverse("industry:event-dashboard", args=[e.event_id])),
                    Cell(e.kind_label),
                    Cell(e.town),
                    Cell(e.starts_on, f"{e.starts_on:%Y-%m-%d}"),
                    Cell(e.ends_on, f"{e.ends_on:%Y-%m-%d}"),
                    _money(e.amount_fen),
                    _count(e.records),
                ]
                for e in board.events
            ],
            total=_total_row(
                _("合计"),
                7,
                c0=Cell(_("合计 %(n)s 场") % {"n": len(board.events)}),
                c5=_money(total),
                c6=_count(board.totals.records),
            ),
            empty=_("这一年没有您可查看的展会节会。"),
        )
        tables["towns"] = Table(
            "towns",
            _("各乡镇"),
            [_("举办乡镇"), _("展会节会（场）"), _("销售额（元）"), _("占比"), _("记录数")],
            [False, True, True, True, True],
            rows=[
                [
                    Cell(t.name),
                    _count(t.events),
                    _money(t.amount_fen),
                    _share(t.amount_fen, total),
                    _count(t.records),
                ]
                for t in board.towns
            ],
            total=_total_row(
                _("合计"), 5, c1=_count(len(board.events)), c2=_money(total), c4=_count(board.totals.records)
            ),
        )
    for table in tables.values():
        table.empty = table.empty or _("还没有销售记录。")
    return tables


# --- charts: the JSON blobs static/industry/charts.js draws ---------------------------------------------


def _yuan_float(fen: int) -> float:
    return float(fen_yuan(fen))


def _chart(
    chart_id: str, title: str, kind: str, labels: list[str], fen: list[int], *, wide: bool = False
) -> dict[str, Any]:
    return {
        "id": chart_id,
        "title": title,
        "wide": wide,
        "data": {
            "type": kind,
            "labels": labels,
            "series": [{"name": _("销售额"), "values": [_yuan_float(f) for f in fen]}],
            "unit": _("元"),
        },
    }


def dashboard_charts(board: SalesDashboard) -> list[dict[str, Any]]:
    """The charts of `board`: {"id", "title", "wide", "data"}, where data is what charts.js draws:
    {"type": line|bar|hbar|pie, "labels", "series": [{"name", "values"}], "unit"}."""
    charts = [
        _chart(
            "chart-days",
            _("按日销售额"),
            "line",
            [f"{d.day:%m-%d}" for d in board.days],
            [d.amount_fen for d in board.days],
            wide=True,
        ),
        _chart(
            "chart-channels",
            _("线上线下"),
            "pie",
            [c.label for c in board.channels],
            [c.amount_fen for c in board.channels],
        ),
    ]
    if board.platforms:
        charts.append(
            _chart(
                "chart-platforms",
                _("线上平台"),
                "pie",
                [p.platform for p in board.platforms],
                [p.amount_fen for p in board.platforms],
            )
        )
    charts.append(
        _chart(
            "chart-categories",
            _("产品品类"),
            "hbar",
            [c.label for c in board.categories],
            [c.amount_fen for c in board.categories],
        )
    )
    if board.event is None:
        charts.append(
            _chart(
                "chart-towns",
                _("各乡镇"),
                "bar",
                [t.name for t in board.towns],
                [t.amount_fen for t in board.towns],
            )
        )
    charts.append(
        _chart(
            "chart-products",
            _("销售额前 10 的产品"),
            "hbar",
            [p.name for p in board.products[:10]],
            [p.amount_fen for p in board.products[:10]],
        )
    )
    if sum(1 for chart in charts if not chart["wide"]) % 2:
        # Two charts a row on wider screens: the odd one out takes the whole row.
        charts[-1]["wide"] = True
    return charts


def _figures(board: SalesDashboard) -> list[dict[str, str]]:
    t = board.totals
    figures = [
        {"label": _("销售额"), "value": yuan_big(t.amount_fen), "testid": "total-amount"},
        {"label": _("线上销售额"), "value": yuan_big(t.online_fen), "testid": "total-online"},
        {"label": _("线下销售额"), "value": yuan_big(t.offline_fen), "testid": "total-offline"},
        {"label": _("销售产品（种）"), "value": count_cn(t.product_kinds), "testid": "total-products"},
        {"label": _("参展主体（家）"), "value": count_cn(t.exhibitors), "testid": "total-exhibitors"},
        {"label": _("销售记录（条）"), "value": count_cn(t.records), "testid": "total-records"},
    ]
    if board.event is None:
        figures.insert(
            0, {"label": _("展会节会（场）"), "value": count_cn(t.events), "testid": "total-events"}
        )
    return figures


def _export(board: SalesDashboard, which: str, title: str) -> HttpResponseBase:
    table = dashboard_tables(board, top=False).get(which)
    if table is None:
        raise Http404(_("没有这张表。"))
    rows = [[cell.value for cell in row] for row in table.rows]
    if table.total is not None:
        rows.append([cell.value for cell in table.total])
    return xlsx_response(
        filename=f"{title}-{table.title}.xlsx",
        sheet_title=table.title,
        headers=table.headers,
        rows=rows,
    )


ORDER = {
    "event": ["days", "channels", "platforms", "categories", "products", "exhibitors"],
    "year": ["events", "towns", "days", "channels", "platforms", "categories", "products", "exhibitors"],
}


@pages
@require_GET
def event_dashboard(request: HttpRequest, pk: int) -> HttpResponseBase:
    board = selectors.event_dashboard(request.user, pk)
    event = board.event
    assert event is not None
    if request.GET.get("export"):
        return _export(board, request.GET["export"], f"{event.name}销售")
    tables = dashboard_tables(board)
    return render(
        request,
        "industry/dashboard/event.html",
        {
            "board": board,
            "event": event,
            "figures": _figures(board),
            "tables": [tables[key] for key in ORDER["event"]],
            "charts": dashboard_charts(board),
            "event_url": url_or_blank("industry:event-detail", event.pk),
            "events_url": url_or_blank("industry:events"),
            "sales_url": url_or_blank("industry:event-sales", event.pk),
            "year_url": f"{reverse('industry:sales-dashboard')}?year={event.starts_on.year}",
            "export_query": "",
        },
    )


@pages
@require_GET
def sales_dashboard(request: HttpRequest) -> HttpResponseBase:
    years = selectors.sales_years(request.user)
    try:
        year = int(request.GET.get("year") or (years[0] if years else 0)) or None
    except ValueError:
        year = None
    if year is None or not 2000 <= year <= 2100:
        year = years[0] if years else timezone.localdate().year
    board = selectors.year_dashboard(request.user, year)
    if request.GET.get("export"):
        return _export(board, request.GET["export"], _("%(year)s年展会节会销售") % {"year": year})
    tables = dashboard_tables(board)
    headline = _("%(year)s年：展会节会 %(events)s 场，销售额 %(amount)s，产品 %(products)s 种") % {
        "year": year,
        "events": count_cn(board.totals.events),
        "amount": yuan_big(board.totals.amount_fen),
        "products": count_cn(board.totals.product_kinds),
    }
    return render(
        request,
        "industry/dashboard/year.html",
        {
            "board": board,
            "year": year,
            "years": sorted(set(years) | {year}, reverse=True),
            "headline": headline,
            "figures": _figures(board),
            "tables": [tables[key] for key in ORDER["year"]],
            "charts": dashboard_charts(board),
            "events_url": url_or_blank("industry:events"),
            "export_query": f"year={year}&",
        },
    )
