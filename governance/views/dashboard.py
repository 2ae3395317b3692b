"""The county dashboard: /dashboard/ (the overview) and /dashboard/<module>/ (grids, points, canteens,
industry), the same page for every dashboard role, scoped to the user's region.

    ?region=<code>        a region within the user's scope (id:<pk> for a region without a code)
    ?period=month&month=YYYY-MM | quarter&year=&quarter= | year&year= | custom&start=&end=
    ?rank=<column>        the figure the ranking orders by
    ?export=drill|ranking|trend   that table as .xlsx (the page and the file share one table spec)

Figures come from governance.selectors.dashboard (the rollup facts); the headline cards of the overview
from governance.selectors.summary (summary_for), the data-quality panel from governance.selectors.quality.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from common.excel import xlsx_response
from common.views import pages as pages
from governance.models import RegionLevel
from governance.rollups.selectors import rollup_status
from governance.selectors import dashboard as selectors
from governance.selectors.dashboard import Column, Figures, PageSpec, Period, Place
from industry.templatetags.industry_tags import count_cn, yuan, yuan_big

LEVEL_NAMES = {
    RegionLevel.TOWNSHIP: gettext_lazy("乡镇"),
    RegionLevel.VILLAGE: gettext_lazy("村（社区）"),
    RegionLevel.GRID: gettext_lazy("网格"),
}


# --- formatting ------------------------------------------------------------------------------------------


def percent(value: Decimal | None) -> Decimal | None:
    """A 0..1 rate as a percent with one place (0.9340 → 93.4)."""
    return None if value is None else (value * 100).quantize(Decimal("0.1"))


def percent_text(value: Decimal | None) -> str:
    shown = percent(value)
    return "—" if shown is None else f"{shown}%"


def fen_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def level_name(level: str | None) -> str:
    return str(LEVEL_NAMES.get(RegionLevel(level), "")) if level else ""


# --- tables: one spec for the page and the Excel file ----------------------------------------------------


@dataclass
class Cell:
    value: Any  # what the Excel cell holds
    text: str = ""  # what the page shows
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
    own_rows: set[int] = field(default_factory=set)  # indexes of 本级 rows
    collapsed: bool = False  # shown folded on the page (long and secondary: the per-day figures)

    @property
    def head(self) -> list[tuple[str, bool]]:
        return list(zip(self.headers, self.numeric, strict=True))

    @property
    def body(self) -> list[tuple[list[Cell], bool]]:
        return [(row, index in self.own_rows) for index, row in enumerate(self.rows)]


def header(column: Column) -> str:
    return _("%(label)s（%(unit)s）") % {"label": column.label, "unit": column.unit}


def cell(column: Column, values: dict[str, int]) -> Cell:
    value = selectors.column_value(column, values)
    if column.kind == "rate":
        assert not isinstance(value, int)
        return Cell(percent(value), percent_text(value), number=True)
    assert isinstance(value, int)
    if column.kind == "money":
        return Cell(fen_yuan(value), yuan(value), number=True)
    return Cell(value, count_cn(value), number=True)


@dataclass(frozen=True)
class Context:
    """What every part of a page needs to know."""

    spec: PageSpec
    place: Place
    period: Period
    figures: Figures
    rank_column: Column
    base_url: str

    def query(self, **extra: str) -> str:
        """The query string of this page with `extra` changed ("" drops a key)."""
        params = dict(self.period.params())
        if not self.place.is_top:
            params["region"] = selectors.region_param(self.place.region.pk, self.place.region.code)
        if self.rank_column.key != self.spec.rank_default:
            params["rank"] = self.rank_column.key
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v})


def drill_table(ctx: Context) -> Table | None:
    level = ctx.place.child_level
    if level is None:
        return None
    columns = ctx.spec.columns
    table = Table(
        "drill",
        _("各%(level)s情况") % {"level": level_name(level)},
        [level_name(level), *[header(c) for c in columns]],
        [False, *[True] * len(columns)],
        empty=_("没有下级区域。"),
    )
    for child in ctx.figures.children:
        url = f"{ctx.base_url}?{ctx.query(region=child.param, rank='')}" if child.region_id else ""
        if not child.region_id:
            table.own_rows.add(len(table.rows))
        table.rows.append([Cell(child.name, url=url), *[cell(c, child.values) for c in columns]])
    table.total = [Cell(_("合计")), *[cell(c, ctx.figures.totals) for c in columns]]
    notes = []
    if any(not c.region_id for c in ctx.figures.children):
        notes.append(
            _("“本级”是直接记在%(name)s名下、不属于任何下级的记录。") % {"name": ctx.place.region.name}
        )
    if any(_distinct(c) for c in columns):
        notes.append(_("人数、户数、种数为去重计数：合计不等于各行之和。"))
    table.note = " ".join(notes)
    return table


def _distinct(column: Column) -> bool:
    from governance.rollups import registry

    metric = registry.metric_get(column.metric)
    return bool(metric and metric.distinct)


def ranking_table(ctx: Context) -> Table | None:
    level = ctx.place.child_level
    if level is None:
        return None
    column = ctx.rank_column
    extra = (
        [_column_for(ctx.spec, column.metric), _column_for(ctx.spec, column.denominator)]
        if column.kind == "rate"
        else []
    )
    table = Table(
        "ranking",
        _("各%(level)s排名：%(label)s") % {"level": level_name(level), "label": column.label},
        [_("名次"), level_name(level), header(column), *[header(c) for c in extra]],
        [True, False, True, *[True] * len(extra)],
        empty=_("没有下级区域。"),
    )
    for ranked in selectors.ranking(ctx.figures.children, column):
        child = ranked.child
        table.rows.append(
            [
                Cell(ranked.rank or "", str(ranked.rank) if ranked.rank else "—", number=True),
                Cell(child.name, url=f"{ctx.base_url}?{ctx.query(region=child.param, rank='')}"),
                cell(column, child.values),
                *[cell(c, child.values) for c in extra],
            ]
        )
    if column.kind == "rate":
        table.note = _("比率相同的名次并列；没有分母（例如没有办结的诉求）的不参加排名。")
    return table


def trend_table(ctx: Context) -> Table:
    metrics = _trend_metrics(ctx.spec)
    by_day = ctx.figures.by == "day"
    columns = [_column_for(ctx.spec, m) for m in metrics]
    table = Table(
        "trend",
        _("逐日数据") if by_day else _("逐月数据"),
        [_("日期") if by_day else _("月份"), *[header(c) for c in columns]],
        [False, *[True] * len(columns)],
        collapsed=by_day,
    )
    for index, period in enumerate(ctx.figures.trend_periods):
        values = {m: ctx.figures.trends[m][index] for m in metrics}
        label = f"{period:%Y-%m-%d}" if by_day else f"{period:%Y-%m}"
        table.rows.append([Cell(label), *[cell(c, values) for c in columns]])
    return table


def _trend_metrics(spec: PageSpec) -> list[str]:
    names: list[str] = []
    for _key, drawn in spec.trends:
        names += [n for n in drawn if n not in names]
    return names


def _column_for(spec: PageSpec, metric: str) -> Column:
    found = spec.column_of_metric(metric)
    if found is not None:
        return found
    for candidate in selectors.PAGES["grids"].columns + selectors.PAGES["points"].columns:
        if candidate.metric == metric and candidate.kind != "rate":
            return candidate
    from governance.rollups import registry

    metric_ = registry.metric_get(metric)
    assert metric_ is not None
    return Column(metric, metric_.label, metric_.unit, metric)


# --- charts: the JSON blobs static/js/dashboard.js draws -------------------------------------------------


def charts(ctx: Context) -> list[dict[str, Any]]:
    """{"id", "title", "wide", "data"}: data is {"type", "labels", "series": [{"name", "values"}], "unit"}."""
    figures = ctx.figures
    by_day = figures.by == "day"
    labels = [f"{p:%m-%d}" if by_day else f"{p:%Y-%m}" for p in figures.trend_periods]
    found = []
    for key, drawn in ctx.spec.trends:
        columns = [_column_for(ctx.spec, m) for m in drawn]
        money = columns[0].kind == "money"
        found.append(
            {
                "id": f"chart-{key}",
                "title": str(selectors.TREND_TITLES[key]),
                "wide": False,
                "data": {
                    "type": "line" if by_day else "bar",
                    "labels": labels,
                    "series": [
                        {
                            "name": str(c.label),
                            "values": [float(fen_yuan(v)) if money else v for v in figures.trends[c.metric]],
                        }
                        for c in columns
                    ],
                    "unit": str(columns[0].unit),
                },
            }
        )
    ranked = [r for r in selectors.ranking(figures.children, ctx.rank_column) if r.value is not None]
    if ranked:
        column = ctx.rank_column

        def shown(value: int | Decimal | None) -> float | int | None:
            if column.kind == "rate":
                share = percent(value) if isinstance(value, Decimal) else None
                return None if share is None else float(share)
            if column.kind == "money" and isinstance(value, int):
                return float(fen_yuan(value))
            return value if isinstance(value, int) else None

        found.append(
            {
                "id": "chart-ranking",
                "title": str(
                    _("各%(level)s：%(label)s")
                    % {"level": level_name(ctx.place.child_level), "label": column.label}
                ),
                "wide": True,
                "data": {
                    "type": "hbar",
                    "labels": [r.child.name for r in ranked[:30]],
                    "series": [{"name": str(column.label), "values": [shown(r.value) for r in ranked[:30]]}],
                    "unit": str(column.unit),
                },
            }
        )
    if sum(1 for chart in found if not chart["wide"]) % 2:
        found[-1 if not found[-1]["wide"] else -2]["wide"] = True
    return found


# --- cards -----------------------------------------------------------------------------------------------


def _summary_module() -> Any:
    """governance.selectors.summary (the headline figures), or None while it does not exist."""
    try:
        return importlib.import_module("governance.selectors.summary")
    except ModuleNotFoundError:
        return None


def summary_cards(request: HttpRequest, ctx: Context) -> list[dict[str, str]] | None:
    module = _summary_module()
    if module is None:
        return None
    summary = module.summary_for(
        user=request.user, region=ctx.place.region, start=ctx.period.start, end=ctx.period.end
    )
    cards = []
    for spec in module.SUMMARY_FIELDS:
        value = summary.values.get(spec.key)
        unit = str(spec.unit)
        if spec.kind == "rate":
            text, unit = percent_text(value), ""
        elif value is None:
            text = "—"
        elif spec.key.endswith("_yuan"):  # money, whatever the unit's translation
            text, unit = yuan_big(int(Decimal(value) * 100)), ""
        else:
            text = count_cn(value)
        cards.append(
            {"key": spec.key, "label": str(spec.label), "value": text, "unit": unit, "module": spec.module}
        )
    return cards


def column_cards(ctx: Context) -> list[dict[str, str]]:
    cards = []
    for column in ctx.spec.columns:
        value = selectors.column_value(column, ctx.figures.totals)
        unit = str(column.unit)
        if column.kind == "rate":
            text, unit = percent_text(value if isinstance(value, Decimal) else None), ""
        elif column.kind == "money":
            text, unit = yuan_big(value), ""
        else:
            text = count_cn(value)
        cards.append(
            {"key": column.key, "label": str(column.label), "value": text, "unit": unit, "module": ""}
        )
    return cards


# --- the page --------------------------------------------------------------------------------------------


def _status(request: HttpRequest) -> tuple[str, str]:
    """The note under the title ("数据每 5 分钟更新，截至 HH:MM") and the printed header's "数据截至"."""
    status = rollup_status(user=request.user)
    if status.last_run_at is None:
        return _("数据每 5 分钟更新；还没有汇总过。"), _("数据尚未汇总")
    at = timezone.localtime(status.last_run_at)
    as_of = _("数据截至 %(at)s") % {"at": f"{at:%Y-%m-%d %H:%M}"}
    if at.date() == timezone.localdate():
        return _("数据每 5 分钟更新，截至 %(t)s") % {"t": f"{at:%H:%M}"}, as_of
    return _("数据每 5 分钟更新，截至 %(d)s %(t)s") % {"d": f"{at:%Y-%m-%d}", "t": f"{at:%H:%M}"}, as_of


def _quality(request: HttpRequest) -> Any:
    """H3's data-quality panel, or None while governance.selectors.quality or its template is missing."""
    try:
        module = importlib.import_module("governance.selectors.quality")
        get_template("governance/dashboard/_quality.html")
    except (ModuleNotFoundError, TemplateDoesNotExist):
        return None
    return module.quality_for(user=request.user)


def _empty_figures(period: Period) -> Figures:
    return Figures(totals={}, children=[], trend_periods=[], trends={}, by=period.by)


def _export(ctx: Context, which: str) -> HttpResponseBase:
    tables = {"drill": drill_table, "ranking": ranking_table, "trend": trend_table}
    make = tables.get(which)
    table = make(ctx) if make else None
    if table is None:
        raise Http404(_("没有这张表。"))
    rows = [[c.value for c in row] for row in table.rows]
    if table.total is not None:
        rows.append([c.value for c in table.total])
    title = f"{ctx.place.region.name}{ctx.spec.title}{ctx.period.label}"
    return xlsx_response(
        filename=f"{title}-{table.title}.xlsx",
        sheet_title=table.title.replace("：", " "),
        headers=table.headers,
        rows=rows,
    )


def _period_links(request: HttpRequest, ctx: Context, today: dt.date) -> dict[str, Any]:
    def link(period: Period | None) -> str:
        if period is None or period.start > today:
            return ""
        return f"{ctx.base_url}?{urlencode({**_keep(ctx), **period.params()})}"

    this_month = selectors.period_default(today)
    quarter = selectors._period_of("quarter", today.year, (today.month - 1) // 3 * 3 + 1)
    year = selectors._period_of("year", today.year, 1)
    return {
        "previous": link(ctx.period.shifted(-1)),
        "next": link(ctx.period.shifted(1)),
        "quick": [
            {"label": label, "url": link(period), "current": ctx.period == period}
            for label, period in (
                (pgettext("period quick link", "本月"), this_month),
                (pgettext("period quick link", "上月"), this_month.shifted(-1)),
                (pgettext("period quick link", "本季度"), quarter),
                (pgettext("period quick link", "本年"), year),
                (pgettext("period quick link", "上年"), year.shifted(-1)),
            )
        ],
    }


def _keep(ctx: Context) -> dict[str, str]:
    keep = {}
    if not ctx.place.is_top:
        keep["region"] = selectors.region_param(ctx.place.region.pk, ctx.place.region.code)
    if ctx.rank_column.key != ctx.spec.rank_default:
        keep["rank"] = ctx.rank_column.key
    return keep


def _page(request: HttpRequest, slug: str) -> HttpResponseBase:
    spec = selectors.PAGES[slug]
    today = timezone.localdate()
    choice = selectors.period_parse(request.GET, today=today)
    place = selectors.dashboard_place(user=request.user, param=request.GET.get("region", ""))
    rank_column = spec.column(request.GET.get("rank", "")) or spec.column(spec.rank_default)
    assert rank_column is not None
    period = choice.period
    on_postgres = connection.vendor == "postgresql"
    figures = (
        selectors.figures_read(
            place=place,
            metrics=spec.metrics,
            trend_metrics=_trend_metrics(spec),
            start=period.start,
            end=period.end,
            by=period.by,
            # A period still running: its trend stops today rather than trail off in zeros.
            trend_end=today if period.start <= today else period.end,
        )
        if on_postgres
        else _empty_figures(period)
    )
    base_url = (
        reverse("dashboard:overview") if slug == "overview" else reverse("dashboard:module", args=[slug])
    )
    ctx = Context(spec, place, period, figures, rank_column, base_url)
    if request.GET.get("export"):
        if not on_postgres:
            raise Http404(_("没有这张表。"))
        return _export(ctx, request.GET["export"])
    cards = summary_cards(request, ctx) if slug == "overview" and on_postgres else None
    tables = [t for t in (drill_table(ctx), ranking_table(ctx), trend_table(ctx)) if t is not None]
    region = place.region
    status, as_of = _status(request)
    modules = [
        {
            "slug": s,
            "title": selectors.PAGES[s].title,
            "url": f"{reverse('dashboard:module', args=[s])}?{urlencode(_keep_region(ctx))}",
            "current": s == slug,
        }
        for s in selectors.MODULE_SLUGS
    ]
    return render(
        request,
        "governance/dashboard/page.html",
        {
            "spec": spec,
            "slug": slug,
            "title": _("%(region)s%(page)s") % {"region": region.name, "page": spec.title}
            if slug != "overview"
            else _("%(region)s数据看板") % {"region": region.name},
            "place": place,
            "period": period,
            "choice": choice,
            "crumbs": [{"name": c.name, "url": _crumb_url(base_url, period, c.param)} for c in place.crumbs],
            "child_level_name": level_name(place.child_level),
            "cards": cards if cards is not None else column_cards(ctx),
            "summary_cards": cards is not None,
            "tables": tables,
            "charts": charts(ctx) if on_postgres else [],
            "rank_columns": spec.columns,
            "rank_column": rank_column,
            "links": _period_links(request, ctx, today),
            "keep": _keep(ctx),
            "export_query": ctx.query(),
            "status": status,
            "as_of": as_of,
            "quality": _quality(request) if slug == "overview" and on_postgres else None,
            "on_postgres": on_postgres,
            "modules": modules,
            "overview_url": f"{reverse('dashboard:overview')}?{urlencode(_keep_region(ctx))}",
            "years": list(range(today.year + 1, selectors.EARLIEST.year - 1, -1)),
            "quarters": [
                ("1", _("第一季度")),
                ("2", _("第二季度")),
                ("3", _("第三季度")),
                ("4", _("第四季度")),
            ],
            "kinds": [
                ("month", _("按月")),
                ("quarter", _("按季度")),
                ("year", _("按年")),
                ("custom", _("自定义")),
            ],
            "form": _form_values(choice, period),
            "printed_at": timezone.localtime(),
        },
    )


def _crumb_url(base_url: str, period: Period, param: str) -> str:
    params = period.params()
    if param:
        params["region"] = param
    return f"{base_url}?{urlencode(params)}"


def _keep_region(ctx: Context) -> dict[str, str]:
    params = dict(ctx.period.params())
    if not ctx.place.is_top:
        params["region"] = selectors.region_param(ctx.place.region.pk, ctx.place.region.code)
    return params


def _form_values(choice: selectors.PeriodChoice, period: Period) -> dict[str, str]:
    """What the picker shows: the user's own input after an error (nothing typed is lost), else the
    period shown."""
    shown = {
        "period": period.kind,
        "month": f"{period.start:%Y-%m}",
        "year": str(period.start.year),
        "quarter": str((period.start.month - 1) // 3 + 1),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    if choice.valid:
        return shown
    return {key: choice.values.get(key) or shown[key] for key in shown}


@pages
@require_GET
def overview(request: HttpRequest) -> HttpResponseBase:
    return _page(request, "overview")


@pages
@require_GET
def module_summary(request: HttpRequest, module: str) -> HttpResponseBase:
    if module not in selectors.MODULE_SLUGS:
        raise Http404(_("没有这个看板。"))
    return _page(request, module)
