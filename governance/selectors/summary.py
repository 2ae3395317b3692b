"""The dashboard summary (issue 8): the county's headline figures for one region and period, in a
constant number of queries.

Two kinds of figures (docs/dashboard.md, "The summary API", says what each key counts):
- **flow** figures over [start, end] come from the rollup facts only, read with the rules of
  governance/rollups/selectors.py (`metric_total`): one scalar subquery per metric, all in one
  statement, never from the source tables;
- **stock** figures are counted from the registries as at the period's end (today when the period
  ends in the future) within the region's current subtree: grid leaders in office, sites open, role
  models selected, featured towns designated, chains with a participant.
A rate is a Decimal in 0..1 rounded to 4 places, None when its denominator is 0.

Queries: `summary_for` with a Region — the user's dashboard roles and one statement (2); with a
region id, 3; `summary_for_code` / `summary_for_year` — the roles, the region by code (or the
caller's broadest region by id) and the statement (3).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from canteens.models import Site, SiteKind
from common.errors import DomainError, NotFound
from governance import access
from governance.models import (
    Household,
    Region,
    RegionLevel,
    Resident,
    RoleModel,
    RoleModelSelection,
    RollupKind,
    RollupRun,
    RollupStatus,
    ShennongGathering,
)
from governance.rollups import coarse
from governance.rollups import selectors as rollups
from governance.rollups.sql import MEMBERS
from grids.models import GridLeader
from industry.models import (
    Business,
    ChainParticipation,
    DesignationKind,
    Event,
    Exhibitor,
    IndustryChain,
    RegionDesignation,
)

AnyUser = access.AnyUser

MIN_YEAR = 2000
MAX_YEAR = 2100
_CODE = re.compile(r"^\d{6,15}$")
_RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class SummaryField:
    key: str  # e.g. "grid_leaders"
    label: str | Promise  # Chinese, gettext_lazy
    unit: str | Promise  # e.g. _("名"), _("元"), "%" for rates
    module: str  # "governance" | "grids" | "points" | "canteens" | "industry"
    kind: str  # "stock" (as at period end) | "flow" (over the period) | "rate" (0..1 or None)


SUMMARY_FIELDS: tuple[SummaryField, ...] = (
    SummaryField(
        "grid_leaders",
        pgettext_lazy("summary figure", "百户网格长"),
        pgettext_lazy("unit of grid leaders", "名"),
        "grids",
        "stock",
    ),
    SummaryField(
        "love_canteens",
        pgettext_lazy("summary figure", "爱心食堂"),
        pgettext_lazy("unit of love canteens", "个"),
        "canteens",
        "stock",
    ),
    SummaryField(
        "love_classrooms",
        pgettext_lazy("summary figure", "爱心讲堂"),
        pgettext_lazy("unit of love classrooms", "个"),
        "canteens",
        "stock",
    ),
    SummaryField(
        "canteen_classroom_beneficiaries",
        pgettext_lazy("summary figure", "食堂讲堂受益群众"),
        gettext_lazy("人"),
        "canteens",
        "flow",
    ),
    SummaryField(
        "love_workshops",
        pgettext_lazy("summary figure", "爱心作坊"),
        pgettext_lazy("unit of love workshops", "个"),
        "canteens",
        "stock",
    ),
    SummaryField(
        "red_stations",
        pgettext_lazy("summary figure", "红色驿站"),
        pgettext_lazy("unit of red stations", "个"),
        "canteens",
        "stock",
    ),
    SummaryField(
        "hero_gatherings",
        pgettext_lazy("summary figure", "神农英雄会"),
        pgettext_lazy("unit of gatherings", "届"),
        "governance",
        "stock",
    ),
    SummaryField(
        "role_models",
        pgettext_lazy("summary figure", "选树先进典型"),
        pgettext_lazy("unit of role models", "名"),
        "governance",
        "stock",
    ),
    SummaryField(
        "expos",
        pgettext_lazy("summary figure", "农旅展会节会"),
        pgettext_lazy("unit of expos", "场"),
        "industry",
        "flow",
    ),
    SummaryField(
        "expo_sales_yuan",
        pgettext_lazy("summary figure", "展会销售额"),
        gettext_lazy("元"),
        "industry",
        "flow",
    ),
    SummaryField(
        "expo_product_kinds",
        pgettext_lazy("summary figure", "展销产品种类"),
        gettext_lazy("种"),
        "industry",
        "flow",
    ),
    SummaryField(
        "industry_chains",
        pgettext_lazy("summary figure", "农业产业链"),
        pgettext_lazy("unit of chains", "条"),
        "industry",
        "stock",
    ),
    SummaryField(
        "featured_towns",
        pgettext_lazy("summary figure", "特色乡镇"),
        pgettext_lazy("unit of featured towns", "个"),
        "industry",
        "stock",
    ),
    SummaryField(
        "cases_filed", pgettext_lazy("summary figure", "受理事项"), gettext_lazy("件"), "grids", "flow"
    ),
    SummaryField(
        "cases_resolved_on_time_rate",
        pgettext_lazy("summary figure", "按时办结率"),
        "%",
        "grids",
        "rate",
    ),
    SummaryField("satisfaction_rate", pgettext_lazy("summary figure", "群众满意率"), "%", "grids", "rate"),
    SummaryField(
        "points_issued",
        pgettext_lazy("summary figure", "发放积分"),
        gettext_lazy("分"),
        "points",
        "flow",
    ),
    SummaryField(
        "points_redeemed",
        pgettext_lazy("summary figure", "兑换积分"),
        gettext_lazy("分"),
        "points",
        "flow",
    ),
    SummaryField(
        "points_balance",
        pgettext_lazy("summary figure", "积分余额"),
        gettext_lazy("分"),
        "points",
        "stock",
    ),
    SummaryField(
        "meals_served",
        pgettext_lazy("summary figure", "就餐人次"),
        pgettext_lazy("unit of meals", "人次"),
        "canteens",
        "flow",
    ),
    SummaryField(
        "subsidy_government_yuan",
        pgettext_lazy("summary figure", "食堂政府补贴"),
        gettext_lazy("元"),
        "canteens",
        "flow",
    ),
    SummaryField(
        "tourism_visits",
        pgettext_lazy("summary figure", "游客接待量"),
        pgettext_lazy("unit of visits", "人次"),
        "industry",
        "flow",
    ),
    SummaryField(
        "tourism_income_yuan",
        pgettext_lazy("summary figure", "旅游综合收入"),
        gettext_lazy("元"),
        "industry",
        "flow",
    ),
)

# Flow (and balance) keys read from the facts: key → metric. "_yuan" keys are fen / 100.
_FACT_KEYS: dict[str, str] = {
    "canteen_classroom_beneficiaries": "canteens.beneficiaries",
    "expo_sales_yuan": "industry.sales_fen",
    "expo_product_kinds": "industry.product_kinds",
    "cases_filed": "grids.cases_filed",
    "points_issued": "points.issued",
    "points_redeemed": "points.redeemed",
    "points_balance": "points.balance",
    "meals_served": "canteens.meals",
    "subsidy_government_yuan": "canteens.subsidy_government_fen",
    "tourism_visits": "industry.visits",
    "tourism_income_yuan": "industry.tourism_income_fen",
}
# Rates: key → (numerator metric, denominator metric); both read from the facts.
_RATES: dict[str, tuple[str, str]] = {
    "cases_resolved_on_time_rate": ("grids.cases_resolved_on_time", "grids.cases_resolved"),
    "satisfaction_rate": ("grids.satisfaction_yes", "grids.satisfaction_total"),
}
_SITE_KEYS: dict[str, str] = {
    "love_canteens": SiteKind.CANTEEN,
    "love_classrooms": SiteKind.CLASSROOM,
    "love_workshops": SiteKind.WORKSHOP,
    "red_stations": SiteKind.RED_STATION,
}


@dataclass(frozen=True)
class Summary:
    region: Region
    start: dt.date
    end: dt.date
    values: dict[str, int | Decimal | None]  # one entry per SUMMARY_FIELDS key; a rate None at 0/0
    # When the facts were last brought up to date: the last successful rollup pass's end (None: never).
    rollup_as_of: dt.datetime | None = None
    # The date the stock figures are counted at: `end`, or today when the period ends in the future.
    as_of: dt.date | None = None


# ---- scope and arguments


def _paths(user: AnyUser) -> list[str]:
    return [path for _role, path in access.assignments(user, rollups.DASHBOARD_ROLES)]


def _out_of_scope() -> NotFound:
    return NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise DomainError("date_range_reversed", _("开始日期不能晚于结束日期。"), field="start")
    for name, day in (("start", start), ("end", end)):
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise DomainError(
                "date_out_of_range",
                _("日期须在 %(low)d 年至 %(high)d 年之间。") % {"low": MIN_YEAR, "high": MAX_YEAR},
                field=name,
            )


def year_period(year: int) -> tuple[dt.date, dt.date]:
    """1 January to 31 December of `year`; a year outside MIN_YEAR..MAX_YEAR is a 400 on "year"."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(
            "year_invalid",
            _("年份须在 %(low)d 年至 %(high)d 年之间。") % {"low": MIN_YEAR, "high": MAX_YEAR},
            field="year",
        )
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# ---- the statement


def _fact_subquery(
    metric: str, column: str, region_id: int, start: dt.date, end: dt.date
) -> tuple[str, list[Any]]:
    """The scalar subquery metric_total runs for `metric` (same rules: governance/rollups/selectors.py)."""
    found = rollups._metric(metric)
    if found.distinct:
        counted = (
            coarse.member_counts_sql(
                column=column, region_id=region_id, metrics=[metric], year=start.year, children=False
            )
            if coarse.is_whole_year(start, end)
            else None
        )
        if counted is not None:
            # A county's or a township's year: its own row of the yearly members' counts.
            sql, params = counted
            return f"(SELECT c.count FROM ({sql}) AS c (metric, child, count) WHERE c.child IS NULL)", params  # noqa: S608
        where, params = rollups._where(found, column, region_id, start, end)
        return f"(SELECT {rollups._aggregate(found)} FROM {MEMBERS} WHERE {where})", params  # noqa: S608
    # A county's or a township's year is read from the facts summed per village and month.
    summed, last = ([], [metric]) if found.time_agg == "last" else ([metric], [])
    rows, params = coarse.fact_rows_sql(
        column=column, region_id=region_id, summed=summed, last=last, start=start, end=end
    )
    return f"(SELECT COALESCE(SUM(value), 0) FROM ({rows}) AS r)", params  # noqa: S608


def _stock_subqueries(
    place: Region, start: dt.date, end: dt.date, as_of: dt.date
) -> list[tuple[str, str, list[Any]]]:
    """(key, scalar subquery, params) of every figure counted from the registries."""
    region = Region._meta.db_table
    under = f"{place.path}%"
    county = place.level == RegionLevel.COUNTY
    leaders, sites = GridLeader._meta.db_table, Site._meta.db_table
    gatherings, selections = ShennongGathering._meta.db_table, RoleModelSelection._meta.db_table
    role_models = RoleModel._meta.db_table
    residents, households = Resident._meta.db_table, Household._meta.db_table
    events, exhibitors, businesses = Event._meta.db_table, Exhibitor._meta.db_table, Business._meta.db_table
    chains, participations = IndustryChain._meta.db_table, ChainParticipation._meta.db_table
    designations = RegionDesignation._meta.db_table

    rows: list[tuple[str, str, list[Any]]] = [
        (
            "grid_leaders",
            f"(SELECT COUNT(*) FROM {leaders} gl JOIN {region} g ON g.id = gl.grid_id "  # noqa: S608
            "WHERE g.path LIKE %s AND gl.elected_on <= %s AND (gl.ended_on IS NULL OR gl.ended_on > %s))",
            [under, as_of, as_of],
        )
    ]
    for key, kind in _SITE_KEYS.items():
        rows.append(
            (
                key,
                f"(SELECT COUNT(*) FROM {sites} s JOIN {region} r ON r.id = s.region_id "  # noqa: S608
                "WHERE s.kind = %s AND s.is_active AND (s.opened_on IS NULL OR s.opened_on <= %s) "
                "AND r.path LIKE %s)",
                [str(kind), as_of, under],
            )
        )
    # A role model "lives" where the resident's household's grid lies now.
    selected = (
        f"FROM {selections} sel JOIN {gatherings} sg ON sg.id = sel.gathering_id "
        f"JOIN {role_models} rm ON rm.id = sel.role_model_id JOIN {residents} res ON res.id = rm.resident_id "
        f"JOIN {households} h ON h.id = res.household_id JOIN {region} g ON g.id = h.grid_id "
        "WHERE sg.held_on <= %s AND g.path LIKE %s"
    )
    if county:
        rows.append(
            ("hero_gatherings", f"(SELECT COUNT(*) FROM {gatherings} WHERE held_on <= %s)", [as_of])  # noqa: S608
        )
    else:
        rows.append(
            ("hero_gatherings", f"(SELECT COUNT(DISTINCT sel.gathering_id) {selected})", [as_of, under])
        )
    rows.append(("role_models", f"(SELECT COUNT(DISTINCT sel.role_model_id) {selected})", [as_of, under]))
    if place.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP):
        # Events held in the subtree (a township's own; the county's: all).
        rows.append(
            (
                "expos",
                f"(SELECT COUNT(*) FROM {events} e JOIN {region} r ON r.id = e.region_id "  # noqa: S608
                "WHERE e.starts_on >= %s AND e.starts_on <= %s AND r.path LIKE %s)",
                [start, end, under],
            )
        )
    else:
        # A village (or grid) holds no events: those its businesses exhibited at.
        rows.append(
            (
                "expos",
                f"(SELECT COUNT(*) FROM {events} e WHERE e.starts_on >= %s AND e.starts_on <= %s "  # noqa: S608
                f"AND EXISTS (SELECT 1 FROM {exhibitors} x JOIN {businesses} b ON b.id = x.business_id "
                f"JOIN {region} r ON r.id = b.region_id WHERE x.event_id = e.id AND r.path LIKE %s))",
                [start, end, under],
            )
        )
    if county:
        rows.append(("industry_chains", f"(SELECT COUNT(*) FROM {chains} WHERE is_active)", []))  # noqa: S608
    else:
        rows.append(
            (
                "industry_chains",
                f"(SELECT COUNT(DISTINCT c.id) FROM {chains} c JOIN {participations} p ON p.chain_id = c.id "  # noqa: S608
                f"JOIN {businesses} b ON b.id = p.business_id JOIN {region} r ON r.id = b.region_id "
                "WHERE c.is_active AND r.path LIKE %s AND (p.joined_on IS NULL OR p.joined_on <= %s) "
                "AND (p.left_on IS NULL OR p.left_on > %s))",
                [under, as_of, as_of],
            )
        )
    rows.append(
        (
            "featured_towns",
            f"(SELECT COUNT(*) FROM {designations} d JOIN {region} r ON r.id = d.region_id "  # noqa: S608
            "WHERE d.kind = %s AND (d.designated_year IS NULL OR d.designated_year <= %s) "
            "AND r.path LIKE %s)",
            [str(DesignationKind.FEATURED_TOWN), as_of.year, under],
        )
    )
    return rows


def _rollup_as_of_subquery() -> tuple[str, list[Any]]:
    runs = RollupRun._meta.db_table
    return (
        f"(SELECT COALESCE(finished_at, started_at) FROM {runs} WHERE kind <> %s AND status = %s "  # noqa: S608
        "ORDER BY started_at DESC, id DESC LIMIT 1)",
        [str(RollupKind.VERIFY), str(RollupStatus.OK)],
    )


def _yuan(fen: int) -> int | Decimal:
    return fen // 100 if fen % 100 == 0 else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)


def _compute(place: Region, start: dt.date, end: dt.date) -> Summary:
    as_of = min(end, timezone.localdate())
    column = rollups.LEVEL_COLUMN[RegionLevel(place.level)]
    selects: list[tuple[str, str]] = []  # (alias, subquery)
    params: list[Any] = []
    for key, metric in _FACT_KEYS.items():
        sql, p = _fact_subquery(metric, column, place.pk, start, end)
        selects.append((key, sql))
        params += p
    for key, (numerator, denominator) in _RATES.items():
        for part, metric in (("n", numerator), ("d", denominator)):
            sql, p = _fact_subquery(metric, column, place.pk, start, end)
            selects.append((f"{key}__{part}", sql))
            params += p
    for key, sql, p in _stock_subqueries(place, start, end, as_of):
        selects.append((key, sql))
        params += p
    sql, p = _rollup_as_of_subquery()
    selects.append(("rollup_as_of", sql))
    params += p
    statement = "SELECT " + ", ".join(f"{sql} AS {alias}" for alias, sql in selects)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    got = {alias: value for (alias, _sql), value in zip(selects, row, strict=True)}

    values: dict[str, int | Decimal | None] = {}
    for field in SUMMARY_FIELDS:
        key = field.key
        if key in _RATES:
            values[key] = _rate(int(got[f"{key}__n"] or 0), int(got[f"{key}__d"] or 0))
        elif key.endswith("_yuan"):
            values[key] = _yuan(int(got[key] or 0))
        else:
            values[key] = int(got[key] or 0)
    return Summary(
        region=place, start=start, end=end, values=values, rollup_as_of=got["rollup_as_of"], as_of=as_of
    )


# ---- entries


def summary_for(*, user: AnyUser, region: Region | int, start: dt.date, end: dt.date) -> Summary:
    """Every SUMMARY_FIELDS figure for `region` over [start, end] (both included). The region must lie
    in one of the user's dashboard roles (governance/rollups/selectors.py `_region`), else NotFound.
    Two queries (three when `region` is an id)."""
    _check_period(start, end)
    place = rollups._region(user, region)
    return _compute(place, start, end)


def summary_for_code(*, user: AnyUser, region_code: str | None, start: dt.date, end: dt.date) -> Summary:
    """The API's entry: the region by its statistical code (default: the caller's broadest dashboard
    region), over [start, end]. A malformed code is a 400 on "region"; an unknown code and a region
    outside the caller's scope both answer 404 (the same message). Three queries."""
    _check_period(start, end)
    paths = _paths(user)
    if region_code is None or region_code == "":
        if not paths:
            raise _out_of_scope()
        broadest = sorted(paths, key=lambda p: (p.count("/"), p))[0]
        place = Region.objects.filter(pk=int(broadest.rstrip("/").rsplit("/", 1)[-1])).first()
    else:
        if not _CODE.match(region_code):
            raise DomainError(
                "region_code_invalid", _("区域代码应为 6 至 15 位数字（统计用区划代码）。"), field="region"
            )
        # Codes are re-issued (an attribute, not a key): of the regions holding it now, the first in
        # the caller's scope.
        candidates = list(Region.objects.filter(code=region_code).order_by("path"))
        place = next((r for r in candidates if any(r.path.startswith(p) for p in paths)), None)
    if place is None or not any(place.path.startswith(p) for p in paths):
        raise _out_of_scope()
    return _compute(place, start, end)


def summary_for_year(*, user: AnyUser, region_code: str | None, year: int | None) -> Summary:
    """The calendar year `year` (default: this year) for the region of `region_code` (default: the
    caller's broadest region). Three queries."""
    start, end = year_period(timezone.localdate().year if year is None else year)
    return summary_for_code(user=user, region_code=region_code, start=start, end=end)
