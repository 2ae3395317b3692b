"""The county dashboard's reads: the period picker, the region in scope, and every figure of a page
(totals, the drill-down by child region, the trends) in a constant number of queries.

A page asks for a set of metrics at once. The facts of all its summed metrics are read in one GROUP BY
over (metric, child region), the members of its distinct metrics in one GROUPING SETS query (by child and
for the region as a whole: a distinct count is never a sum of children), and the trends in one GROUP BY
over (metric, day or month). A county's and a township's figures are read from the coarser facts
(governance/rollups/coarse.py: per village and day or month, a calendar year's distinct members per
level), a village's and a grid's from the facts. The conditions are those of
governance/rollups/selectors.py (metric_total, metric_by_child, metric_series), which read the facts and
which the tests hold these reads equal to; the scope check is the same (dashboard roles, the region
inside one of the user's regions, else NotFound).

Queries for a page: the user's role assignments, the region with its ancestors (one, two when the region is
picked by code), the facts, the members, the child regions' names, the trends (facts, and members for a
monthly trend). None of them depends on how many children or days the region and period hold.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access
from governance.models import METRIC_TYPE, Region, RegionLevel
from governance.rollups import coarse, engine, registry
from governance.rollups.selectors import CHILD_LEVEL, DASHBOARD_ROLES, LEVEL_COLUMN
from governance.rollups.sql import MEMBERS

AnyUser = access.AnyUser

# --- the period picker ---------------------------------------------------------------------------------

PERIOD_KINDS = ("month", "quarter", "year", "custom")
EARLIEST = dt.date(2000, 1, 1)
# A custom period longer than this is a typing mistake more often than a question (and a daily trend of
# it unreadable); a longer view is a year at a time.
CUSTOM_MAX_DAYS = 366 * 5


@dataclass(frozen=True)
class Period:
    """A period of whole days [start, end]. `kind` month|quarter|year|custom."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(y)s年%(m)s月") % {"y": self.start.year, "m": self.start.month}
        if self.kind == "quarter":
            return _("%(y)s年第%(q)s季度") % {"y": self.start.year, "q": (self.start.month - 1) // 3 + 1}
        if self.kind == "year":
            return _("%(y)s年") % {"y": self.start.year}
        return _("%(start)s 至 %(end)s") % {"start": f"{self.start:%Y-%m-%d}", "end": f"{self.end:%Y-%m-%d}"}

    @property
    def by(self) -> str:
        """The trend's step: per day for up to a month and a half, else per month."""
        return "day" if (self.end - self.start).days <= 45 else "month"

    def params(self) -> dict[str, str]:
        """The query parameters that pick this period again."""
        if self.kind == "month":
            return {"period": "month", "month": f"{self.start:%Y-%m}"}
        if self.kind == "quarter":
            return {
                "period": "quarter",
                "year": str(self.start.year),
                "quarter": str((self.start.month - 1) // 3 + 1),
            }
        if self.kind == "year":
            return {"period": "year", "year": str(self.start.year)}
        return {"period": "custom", "start": self.start.isoformat(), "end": self.end.isoformat()}

    def shifted(self, step: int) -> Period | None:
        """The previous (-1) or next (+1) period of the same kind; a custom period moves by its length.
        None before EARLIEST."""
        if self.kind == "custom":
            length = (self.end - self.start).days + 1
            start = self.start + dt.timedelta(days=step * length)
            found = Period("custom", start, start + dt.timedelta(days=length - 1))
        else:
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            index = self.start.year * 12 + self.start.month - 1 + step * months
            found = _period_of(self.kind, index // 12, index % 12 + 1)
        return found if found.start >= EARLIEST else None


def _period_of(kind: str, year: int, month: int) -> Period:
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    start = dt.date(year, month, 1)
    last_month = month + months - 1
    end = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
    return Period(kind, start, end)


def period_default(today: dt.date) -> Period:
    """This month: the county reports monthly (月报), and the print view is that report."""
    return _period_of("month", today.year, today.month)


@dataclass
class PeriodChoice:
    """The period read from a request: `period` is what the page shows (the default when the input was
    bad), `errors` the Chinese messages by field, `values` what the user typed (shown back in the form)."""

    period: Period
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def _year(text: str, errors: dict[str, str], today: dt.date) -> int | None:
    try:
        year = int(text)
    except ValueError:
        errors["year"] = _("请填写年份，例如 %(y)s。") % {"y": today.year}
        return None
    if not EARLIEST.year <= year <= today.year + 1:
        errors["year"] = _("年份应在 %(a)s 至 %(b)s 之间。") % {"a": EARLIEST.year, "b": today.year + 1}
        return None
    return year


def _date(text: str, name: str, errors: dict[str, str], today: dt.date) -> dt.date | None:
    if not text:
        errors[name] = _("请选择日期。")
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = _("日期格式不对，应为 年-月-日，例如 %(d)s。") % {"d": f"{today:%Y-%m-%d}"}
        return None
    if day < EARLIEST or day.year > today.year + 1:
        errors[name] = _("日期应在 %(a)s 年至 %(b)s 年之间。") % {"a": EARLIEST.year, "b": today.year + 1}
        return None
    return day


def period_parse(params: Mapping[str, str], *, today: dt.date) -> PeriodChoice:
    """The period the query parameters ask for:

        period=month&month=YYYY-MM          (default: this month)
        period=quarter&year=YYYY&quarter=1..4
        period=year&year=YYYY
        period=custom&start=YYYY-MM-DD&end=YYYY-MM-DD

    A bad value gives this month, with a Chinese message by the field it came from."""
    names = ("period", "month", "year", "quarter", "start", "end")
    values = {name: str(params.get(name, "")).strip() for name in names}
    default = period_default(today)
    kind = values["period"] or "month"
    errors: dict[str, str] = {}
    if kind not in PERIOD_KINDS:
        errors["period"] = _("请选择按月、按季度、按年或自定义时段。")
        return PeriodChoice(default, errors, values)
    found: Period | None = None
    if kind == "month":
        text = values["month"]
        if not text:
            found = default
        else:
            try:
                year, month = (int(part) for part in text.split("-"))
                found = _period_of("month", year, month)
            except ValueError:
                errors["month"] = _("月份格式不对，应为 年-月，例如 %(m)s。") % {"m": f"{today:%Y-%m}"}
            else:
                if found.start < EARLIEST or found.start.year > today.year + 1:
                    errors["month"] = _("月份应在 %(a)s 年至 %(b)s 年之间。") % {
                        "a": EARLIEST.year,
                        "b": today.year + 1,
                    }
    elif kind in ("quarter", "year"):
        chosen = _year(values["year"] or str(today.year), errors, today)
        if kind == "quarter":
            quarter_text = values["quarter"] or str((today.month - 1) // 3 + 1)
            if quarter_text not in ("1", "2", "3", "4"):
                errors["quarter"] = _("季度应为第一至第四季度。")
            elif chosen is not None:
                found = _period_of("quarter", chosen, (int(quarter_text) - 1) * 3 + 1)
        elif chosen is not None:
            found = _period_of("year", chosen, 1)
    else:
        start = _date(values["start"], "start", errors, today)
        end = _date(values["end"], "end", errors, today)
        if start and end:
            if start > end:
                errors["end"] = _("结束日期不能早于开始日期。")
            elif (end - start).days + 1 > CUSTOM_MAX_DAYS:
                errors["end"] = _("自定义时段最长五年；更长的时段请按年查看。")
            else:
                found = Period("custom", start, end)
    if errors or found is None:
        return PeriodChoice(default, errors, values)
    return PeriodChoice(found, {}, values)


# --- the region in scope -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crumb:
    name: str
    param: str  # the ?region= value that opens it ("" for the user's own top region)


@dataclass(frozen=True)
class Place:
    """The region a page shows, within the user's dashboard scope."""

    region: Region
    crumbs: tuple[Crumb, ...]  # from the user's top region down to the region itself
    child_level: str | None
    is_top: bool  # the user's own top region (no ?region= needed)

    @property
    def column(self) -> str:
        return LEVEL_COLUMN[RegionLevel(self.region.level)]

    @property
    def child_column(self) -> str | None:
        return LEVEL_COLUMN[RegionLevel(self.child_level)] if self.child_level else None


def region_param(region_id: int, code: str) -> str:
    """The ?region= value of a region: its statistical code, or id:<pk> when it has none."""
    return code or f"id:{region_id}"


def dashboard_place(*, user: AnyUser, param: str = "") -> Place:
    """The region `param` names (a code, or id:<pk>; empty: the user's own top region) if it lies in the
    user's dashboard scope, with the breadcrumb from the user's region down. NotFound (404) otherwise,
    and for a user without a dashboard role. Two queries (three with `param`)."""
    paths = access.outermost([path for _role, path in access.assignments(user, DASHBOARD_ROLES)])
    if not paths:
        raise NotFound(_("未找到该页面。"))
    param = param.strip()
    region: Region | None
    if not param:
        region = Region.objects.filter(path=paths[0]).first()
    else:
        candidates = (
            Region.objects.filter(pk=int(param[3:]))
            if param.startswith("id:") and param[3:].isdigit() and len(param) < 20
            else (Region.objects.filter(code=param).order_by("-valid_to"))
        )
        region = next((r for r in candidates[:5] if any(r.path.startswith(p) for p in paths)), None)
    if region is None:
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
    top = next(p for p in paths if region.path.startswith(p))
    ids = [int(part) for part in region.path.strip("/").split("/")]
    top_depth = len(top.strip("/").split("/"))
    above = {r.pk: r for r in Region.objects.filter(pk__in=ids[top_depth - 1 : -1])}
    chain = [above[i] for i in ids[top_depth - 1 : -1] if i in above] + [region]
    crumbs = tuple(Crumb(r.name, "" if r.path == top else region_param(r.pk, r.code)) for r in chain)
    return Place(
        region=region,
        crumbs=crumbs,
        child_level=CHILD_LEVEL[RegionLevel(region.level)],
        is_top=region.path == top,
    )


# --- the metrics of each page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One figure of a page: a metric's value (`metric`), or a rate `metric` / `denominator` (0..1).
    `kind` count|money (fen)|rate."""

    key: str
    label: str | Promise
    unit: str | Promise
    metric: str
    kind: str = "count"
    denominator: str = ""


@dataclass(frozen=True)
class PageSpec:
    slug: str
    title: str | Promise
    columns: tuple[Column, ...]  # the drill-down's and the cards' figures, in order
    trends: tuple[tuple[str, tuple[str, ...]], ...]  # (chart title key, metrics drawn together)
    rank_default: str  # the column the ranking orders by unless ?rank= says otherwise

    @property
    def metrics(self) -> list[str]:
        names: list[str] = []
        for column in self.columns:
            for name in (column.metric, column.denominator):
                if name and name not in names:
                    names.append(name)
        for _title, drawn in self.trends:
            names += [n for n in drawn if n not in names]
        return names

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def column_of_metric(self, metric: str) -> Column | None:
        """The page's column showing `metric` itself (not a rate of it)."""
        return next((c for c in self.columns if c.metric == metric and c.kind != "rate"), None)


# Read at import time: the labels translate when shown.
CASES_FILED = Column("cases_filed", gettext_lazy("受理诉求"), gettext_lazy("件"), "grids.cases_filed")
CASES_RESOLVED = Column("cases_resolved", gettext_lazy("办结"), gettext_lazy("件"), "grids.cases_resolved")
ON_TIME = Column("on_time", gettext_lazy("按期办结"), gettext_lazy("件"), "grids.cases_resolved_on_time")
ON_TIME_RATE = Column(
    "on_time_rate",
    gettext_lazy("按期办结率"),
    "%",
    "grids.cases_resolved_on_time",
    "rate",
    "grids.cases_resolved",
)
SATISFACTION_RATE = Column(
    "satisfaction_rate",
    gettext_lazy("满意率"),
    "%",
    "grids.satisfaction_yes",
    "rate",
    "grids.satisfaction_total",
)
FOLLOW_UPS = Column("follow_ups", gettext_lazy("回访"), gettext_lazy("件"), "grids.satisfaction_total")
OVERDUE = Column("overdue", gettext_lazy("超期督办"), gettext_lazy("件次"), "grids.cases_overdue")
ISSUED = Column("issued", gettext_lazy("发放积分"), gettext_lazy("分"), "points.issued")
REDEEMED = Column("redeemed", gettext_lazy("兑换积分"), gettext_lazy("分"), "points.redeemed")
REDEEM_RATE = Column("redeem_rate", gettext_lazy("兑换率"), "%", "points.redeemed", "rate", "points.issued")
BALANCE = Column("balance", gettext_lazy("积分余额"), gettext_lazy("分"), "points.balance")
AWARDED = Column("awarded", gettext_lazy("获得积分户数"), gettext_lazy("户"), "points.households_awarded")
MEALS = Column("meals", gettext_lazy("就餐人次"), gettext_lazy("人次"), "canteens.meals")
SUBSIDY = Column(
    "subsidy", gettext_lazy("政府补贴"), gettext_lazy("元"), "canteens.subsidy_government_fen", "money"
)
BENEFICIARIES = Column(
    "beneficiaries", gettext_lazy("受益人数"), gettext_lazy("人"), "canteens.beneficiaries"
)
SALES = Column("sales", gettext_lazy("销售额"), gettext_lazy("元"), "industry.sales_fen", "money")
SALES_RECORDS = Column(
    "sales_records", gettext_lazy("销售记录"), gettext_lazy("笔"), "industry.sales_records"
)
PRODUCT_KINDS = Column(
    "product_kinds", gettext_lazy("销售产品"), gettext_lazy("种"), "industry.product_kinds"
)
VISITS = Column("visits", gettext_lazy("游客接待量"), gettext_lazy("人次"), "industry.visits")
TOURISM_INCOME = Column(
    "tourism_income", gettext_lazy("旅游收入"), gettext_lazy("元"), "industry.tourism_income_fen", "money"
)

PAGES: dict[str, PageSpec] = {
    "overview": PageSpec(
        "overview",
        gettext_lazy("数据看板"),
        (CASES_FILED, ON_TIME_RATE, SATISFACTION_RATE, ISSUED, REDEEMED, MEALS, SUBSIDY, SALES, VISITS),
        (
            ("cases", ("grids.cases_filed", "grids.cases_resolved_on_time")),
            ("points", ("points.issued", "points.redeemed")),
            ("meals", ("canteens.meals",)),
            ("sales", ("industry.sales_fen",)),
        ),
        "cases_filed",
    ),
    "grids": PageSpec(
        "grids",
        gettext_lazy("网格民情考核"),
        (CASES_FILED, CASES_RESOLVED, ON_TIME, ON_TIME_RATE, FOLLOW_UPS, SATISFACTION_RATE, OVERDUE),
        (
            ("cases", ("grids.cases_filed", "grids.cases_resolved", "grids.cases_resolved_on_time")),
            ("overdue", ("grids.cases_overdue",)),
        ),
        "on_time_rate",
    ),
    "points": PageSpec(
        "points",
        gettext_lazy("百分奖积分"),
        (ISSUED, REDEEMED, REDEEM_RATE, BALANCE, AWARDED),
        (("points", ("points.issued", "points.redeemed")), ("balance", ("points.balance",))),
        "issued",
    ),
    "canteens": PageSpec(
        "canteens",
        gettext_lazy("爱心食堂"),
        (MEALS, SUBSIDY, BENEFICIARIES),
        (("meals", ("canteens.meals",)), ("subsidy", ("canteens.subsidy_government_fen",))),
        "meals",
    ),
    "industry": PageSpec(
        "industry",
        gettext_lazy("产业发展"),
        (SALES, SALES_RECORDS, PRODUCT_KINDS, VISITS, TOURISM_INCOME),
        (("sales", ("industry.sales_fen",)), ("visits", ("industry.visits",))),
        "sales",
    ),
}
MODULE_SLUGS = ("grids", "points", "canteens", "industry")
TREND_TITLES: dict[str, str | Promise] = {
    "cases": gettext_lazy("诉求受理与办结"),
    "overdue": gettext_lazy("超期督办"),
    "points": gettext_lazy("积分发放与兑换"),
    "balance": gettext_lazy("积分余额"),
    "meals": gettext_lazy("爱心食堂就餐人次"),
    "subsidy": gettext_lazy("爱心食堂政府补贴"),
    "sales": gettext_lazy("展会节会销售额"),
    "visits": gettext_lazy("游客接待量"),
}


def rate(numerator: int | None, denominator: int | None) -> Decimal | None:
    """numerator / denominator in 0..1, four places (93.4% is 0.9340); None when nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# --- the figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    region_id: int  # 0: the records of the region itself (本级)
    name: str
    level: str
    code: str
    values: dict[str, int]  # by metric

    @property
    def param(self) -> str:
        return region_param(self.region_id, self.code) if self.region_id else ""


@dataclass(frozen=True)
class Figures:
    """A page's figures for one region and period."""

    totals: dict[str, int]  # by metric
    children: list[Child]  # the drill-down rows, in code order, the 本级 row (id 0) last
    trend_periods: list[dt.date]
    trends: dict[str, list[int]]  # by metric, one value per trend period
    by: str


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _split(names: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """The metrics summed over days, those read as a running value (a balance), the distinct ones."""
    summed: list[str] = []
    last: list[str] = []
    distinct: list[str] = []
    for name in names:
        metric = registry.metric_get(name)
        if metric is None:
            raise ValueError(f"unknown metric {name}")
        (distinct if metric.distinct else last if metric.time_agg == "last" else summed).append(name)
    return summed, last, distinct


def figures_read(
    *,
    place: Place,
    metrics: Sequence[str],
    trend_metrics: Sequence[str],
    start: dt.date,
    end: dt.date,
    by: str,
    trend_end: dt.date | None = None,
) -> Figures:
    """Every figure a page needs of `metrics` for `place` over [start, end]: the totals, one row per child
    region (as metric_by_child lists them: every child in the tree, those the facts still name after a
    move, and 本级 when the region's own records have values) and the trends of `trend_metrics` per `by`
    (day|month; a distinct metric has a monthly trend only, and none by day) up to `trend_end` (default
    `end`; the page stops a period still running at today). At most six queries."""
    metrics = [*metrics, *[m for m in trend_metrics if m not in metrics]]
    summed, last, distinct = _split(metrics)
    region_id = place.region.pk
    # A grid has no children: grouping by its own column keeps one group.
    column, child_column = place.column, place.child_column or place.column
    by_child: dict[int, dict[str, int]] = {}
    by_period: dict[str, dict[dt.date | None, int]] = {m: {} for m in metrics}
    totals = dict.fromkeys(metrics, 0)
    if summed or last:
        # A county's or a township's rows come from the facts summed per village (per month where the
        # trend is monthly): coarse.fact_rows_sql.
        facts, params = coarse.fact_rows_sql(
            column=column,
            region_id=region_id,
            summed=summed,
            last=last,
            start=start,
            end=end,
            by_day=by == "day",
        )
        step = "day" if by == "day" else "date_trunc('month', day)::date"
        # One pass over the facts for the drill-down (by child) and the trend (by day or month; the days
        # before the period, a balance's opening value, are one group keyed NULL).
        rows = _fetch(
            "SELECT metric, child, period, GROUPING(child), COALESCE(SUM(value), 0) FROM ("  # noqa: S608
            f"SELECT metric, {child_column} AS child, "
            f"CASE WHEN day < %s THEN NULL ELSE {step} END AS period, value FROM ({facts}) AS r) AS f "
            "GROUP BY GROUPING SETS ((metric, child), (metric, period))",
            [start, *params],
        )
        for metric, child, period_start, per_period, value in rows:
            if per_period:
                by_period[metric][period_start] = int(value)
            else:
                by_child.setdefault(int(child), {})[metric] = int(value)
                totals[metric] += int(value)
    counted = (
        coarse.member_counts_sql(column=column, region_id=region_id, metrics=distinct, year=start.year)
        if distinct and coarse.is_whole_year(start, end)
        else None
    )
    if counted is not None:
        # A county's or a township's calendar year: counted from the yearly members.
        for metric, child, value in _fetch(*counted):
            if child is None:
                totals[metric] = int(value)
            else:
                by_child.setdefault(int(child), {})[metric] = int(value)
    elif distinct:
        rows = _fetch(
            f"SELECT metric, {child_column}, GROUPING({child_column}), COUNT(DISTINCT member_id) "  # noqa: S608
            f"FROM {MEMBERS} WHERE {column} = %s AND metric = ANY(%s::{METRIC_TYPE}[]) "
            "AND month >= %s AND month <= %s "
            f"GROUP BY GROUPING SETS ((metric, {child_column}), (metric))",
            [region_id, distinct, engine.month_start(start), engine.month_start(end)],
        )
        for metric, child, whole, value in rows:
            if whole:
                totals[metric] = int(value)
            else:
                by_child.setdefault(int(child), {})[metric] = int(value)
    children: list[Child] = []
    if place.child_level is not None:
        named = list(
            Region.objects.filter(parent=place.region).values("id", "name", "level", "code", "path")
            | Region.objects.filter(pk__in=[i for i in by_child if i]).values(
                "id", "name", "level", "code", "path"
            )
        )
        named.sort(key=lambda r: (not r["code"], r["code"], r["path"]))
        empty = dict.fromkeys(metrics, 0)
        children = [
            Child(r["id"], r["name"], r["level"], r["code"], {**empty, **by_child.get(r["id"], {})})
            for r in named
        ]
        own = by_child.get(0, {})
        if any(own.values()):
            if place.region.level == RegionLevel.COUNTY:
                label = _("乡镇本级")
            elif place.region.level == RegionLevel.VILLAGE:
                label = _("村（社区）本级")
            else:
                label = _("本级")
            children.append(Child(0, label, place.child_level, "", {**empty, **own}))
    periods, trends = _trends(place, trend_metrics, start, min(end, trend_end or end), by, by_period)
    return Figures(totals=totals, children=children, trend_periods=periods, trends=trends, by=by)


def _periods(start: dt.date, end: dt.date, by: str) -> list[dt.date]:
    if by == "day":
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    months, month = [], engine.month_start(start)
    while month <= end:
        months.append(month)
        month = engine.month_after(month)
    return months


def _trends(
    place: Place,
    metrics: Sequence[str],
    start: dt.date,
    end: dt.date,
    by: str,
    by_period: dict[str, dict[dt.date | None, int]],
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """The series of `metrics` from the facts' per-period sums (`by_period`) and, for a monthly trend of
    a distinct metric, one query on the members."""
    summed, last, distinct = _split(metrics)
    if by == "day":
        distinct = []
    periods = _periods(start, end, by)
    values: dict[str, dict[dt.date | None, int]] = {m: dict(by_period.get(m, {})) for m in metrics}
    if distinct:
        rows = _fetch(
            f"SELECT metric, month, COUNT(DISTINCT member_id) FROM {MEMBERS} "  # noqa: S608
            f"WHERE {place.column} = %s AND metric = ANY(%s::{METRIC_TYPE}[]) "
            "AND month >= %s AND month <= %s GROUP BY 1, 2",
            [place.region.pk, distinct, engine.month_start(start), engine.month_start(end)],
        )
        for metric, month, value in rows:
            values[metric][month] = int(value)
    trends: dict[str, list[int]] = {}
    for metric in summed + last + distinct:
        running = values[metric].get(None, 0)
        series = []
        for period in periods:
            value = values[metric].get(period, 0)
            if metric in last:
                running += value
                value = running
            series.append(value)
        trends[metric] = series
    return periods, trends


def column_value(column: Column, values: Mapping[str, int]) -> int | Decimal | None:
    """A column's figure from a row's metric values: the metric, or the rate (None when 0/0)."""
    if column.kind == "rate":
        return rate(values.get(column.metric, 0), values.get(column.denominator, 0))
    return values.get(column.metric, 0)


@dataclass(frozen=True)
class Ranked:
    rank: int
    child: Child
    value: int | Decimal | None


def ranking(children: Sequence[Child], column: Column) -> list[Ranked]:
    """The child regions (not the 本级 row) ordered by `column`, highest first; equal figures share a
    rank (1, 2, 2, 4); a rate without a denominator goes last, unranked."""
    rows = [(c, column_value(column, c.values)) for c in children if c.region_id]
    rows.sort(key=lambda row: (row[1] is None, -(row[1] or 0)))
    ranked: list[Ranked] = []
    previous: int | Decimal | None = None
    rank = 0
    for index, (child, value) in enumerate(rows, start=1):
        if value is None:
            ranked.append(Ranked(0, child, None))
            continue
        if value != previous:
            rank, previous = index, value
        ranked.append(Ranked(rank, child, value))
    return ranked
