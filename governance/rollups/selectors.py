"""Reads of the rollup facts for the dashboard, each scoped to the acting user and each a constant
number of queries (the user's role assignments, the region when given by id, one GROUP BY on the
facts, and for the drill-down the children's names) whatever the period or the county's size.

A level's value is one condition on that level's id column of the facts (county_id, township_id,
village_id, grid_id: the region as it was when the events happened), so history stays where it
happened when a grid is re-zoned. Time aggregation follows the metric: "sum" adds the period's days;
"last" (a balance, stored as daily net changes) is the running sum up to the period's end; a distinct
metric counts distinct members over the period's months (a period is widened to whole months).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance import access
from governance.models import Region, RegionLevel
from governance.roles import Role
from governance.rollups import engine, registry
from governance.rollups.registry import Metric
from governance.rollups.sql import FACTS, MEMBERS

AnyUser = access.AnyUser

# Who sees the dashboard figures, within their region scope.
DASHBOARD_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER, Role.VIEWER}
)
LEVEL_COLUMN = {
    RegionLevel.COUNTY: "county_id",
    RegionLevel.TOWNSHIP: "township_id",
    RegionLevel.VILLAGE: "village_id",
    RegionLevel.GRID: "grid_id",
}
CHILD_LEVEL: dict[str, str | None] = {
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
    RegionLevel.VILLAGE: RegionLevel.GRID,
    RegionLevel.GRID: None,
}
BY = ("month", "day")


@dataclass(frozen=True)
class MetricTotal:
    metric: str
    region_id: int
    start: dt.date
    end: dt.date
    value: int


@dataclass(frozen=True)
class SeriesPoint:
    period: dt.date  # the day, or the month's first day
    value: int


@dataclass(frozen=True)
class ChildValue:
    region_id: int  # 0: the records of the region itself (a canteen at village level, a town's tourism)
    name: str
    level: str
    value: int


def _metric(name: str) -> Metric:
    metric = registry.metric_get(name)
    if metric is None:
        raise DomainError("metric_unknown", _("没有这个统计指标。"), field="metric")
    return metric


def _region(user: AnyUser, region: Region | int) -> Region:
    """The region if the user may see the dashboard there; NotFound (404) otherwise."""
    paths = [path for _role, path in access.assignments(user, DASHBOARD_ROLES)]
    found = region if isinstance(region, Region) else Region.objects.filter(pk=region).first()
    if found is None or not any(found.path.startswith(p) for p in paths):
        raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
    return found


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise DomainError("date_range_reversed", _("开始日期不能晚于结束日期。"), field="start")


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _where(
    metric: Metric, column: str, region_id: int, start: dt.date, end: dt.date
) -> tuple[str, list[Any]]:
    """The condition and parameters selecting the facts (or members) of `metric` behind a period."""
    if metric.distinct:
        return (
            f"metric = %s AND {column} = %s AND month >= %s AND month <= %s",
            [metric.name, region_id, engine.month_start(start), engine.month_start(end)],
        )
    if metric.time_agg == "last":
        return f"metric = %s AND {column} = %s AND day <= %s", [metric.name, region_id, end]
    return f"metric = %s AND {column} = %s AND day >= %s AND day <= %s", [metric.name, region_id, start, end]


def _aggregate(metric: Metric) -> str:
    return "COUNT(DISTINCT member_id)" if metric.distinct else "COALESCE(SUM(value), 0)"


def metric_total(
    *, user: AnyUser, metric: str, region: Region | int, start: dt.date, end: dt.date
) -> MetricTotal:
    """The value of `metric` for `region` over [start, end] (both included). Two queries (three when
    `region` is an id)."""
    found = _metric(metric)
    _check_period(start, end)
    place = _region(user, region)
    where, params = _where(found, LEVEL_COLUMN[RegionLevel(place.level)], place.pk, start, end)
    table = MEMBERS if found.distinct else FACTS
    row = _fetch(f"SELECT {_aggregate(found)} FROM {table} WHERE {where}", params)  # noqa: S608
    return MetricTotal(metric=metric, region_id=place.pk, start=start, end=end, value=int(row[0][0] or 0))


def _periods(start: dt.date, end: dt.date, by: str) -> list[dt.date]:
    if by == "day":
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    months, month = [], engine.month_start(start)
    while month <= end:
        months.append(month)
        month = engine.month_after(month)
    return months


def metric_series(
    *, user: AnyUser, metric: str, region: Region | int, start: dt.date, end: dt.date, by: str = "month"
) -> list[SeriesPoint]:
    """`metric` for `region` per day or month of [start, end], every period present (0 when nothing
    happened; a balance carries its running value). Two queries (three when `region` is an id)."""
    found = _metric(metric)
    _check_period(start, end)
    if by not in BY:
        raise DomainError("series_by_invalid", _("只能按日或按月统计。"), field="by")
    if found.distinct and by == "day":
        raise DomainError("series_by_day_distinct", _("去重人数只能按月统计。"), field="by")
    place = _region(user, region)
    column = LEVEL_COLUMN[RegionLevel(place.level)]
    where, params = _where(found, column, place.pk, start, end)
    if found.distinct:
        sql = f"SELECT month, COUNT(DISTINCT member_id) FROM {MEMBERS} WHERE {where} GROUP BY 1"  # noqa: S608
    else:
        period = "day" if by == "day" else "date_trunc('month', day)::date"
        # Before the period (a balance's opening value) is one group keyed NULL.
        sql = (
            f"SELECT CASE WHEN day < %s THEN NULL ELSE {period} END, COALESCE(SUM(value), 0) "  # noqa: S608
            f"FROM {FACTS} WHERE {where} GROUP BY 1"
        )
        params = [start, *params]
    values = {row[0]: int(row[1]) for row in _fetch(sql, params)}
    points = []
    running = values.get(None, 0) if found.time_agg == "last" else 0
    for period_start in _periods(start, end, by):
        value = values.get(period_start, 0)
        if found.time_agg == "last":
            running += value
            value = running
        points.append(SeriesPoint(period=period_start, value=value))
    return points


def metric_by_child(
    *, user: AnyUser, metric: str, region: Region | int, start: dt.date, end: dt.date
) -> list[ChildValue]:
    """The drill-down: `metric` over [start, end] for each child of `region` (a county's townships, a
    township's villages, a village's grids), in the code order of the tree; children without facts
    show 0, and a child id the facts name but the tree no longer holds there (a grid moved away keeps
    its history here) is listed too. One GROUP BY on the child level's id column; three queries
    (four when `region` is an id). A grid has no children: an empty list."""
    found = _metric(metric)
    _check_period(start, end)
    place = _region(user, region)
    child_level = CHILD_LEVEL[place.level]
    if child_level is None:
        return []
    column = LEVEL_COLUMN[RegionLevel(place.level)]
    child_column = LEVEL_COLUMN[RegionLevel(child_level)]
    where, params = _where(found, column, place.pk, start, end)
    table = MEMBERS if found.distinct else FACTS
    rows = _fetch(
        f"SELECT {child_column}, {_aggregate(found)} FROM {table} WHERE {where} GROUP BY 1",  # noqa: S608
        params,
    )
    values = {int(r[0]): int(r[1] or 0) for r in rows}
    named = list(
        Region.objects.filter(parent=place).values("id", "name", "level", "code", "path")
        | Region.objects.filter(pk__in=[i for i in values if i]).values("id", "name", "level", "code", "path")
    )
    named.sort(key=lambda r: (not r["code"], r["code"], r["path"]))
    children = [
        ChildValue(region_id=r["id"], name=r["name"], level=r["level"], value=values.get(r["id"], 0))
        for r in named
    ]
    if values.get(0):
        label = _("乡镇本级") if place.level == RegionLevel.COUNTY else _("本级")
        if place.level == RegionLevel.VILLAGE:
            label = _("村（社区）本级")
        children.append(ChildValue(region_id=0, name=label, level=child_level, value=values[0]))
    return children


@dataclass(frozen=True)
class RollupStatusView:
    """What the data-quality panel shows about the rollups."""

    last_run_at: dt.datetime | None
    last_run_status: str
    last_verify_at: dt.datetime | None
    last_verify_exact: bool | None
    last_verify_differences: int
    progress: engine.Progress


def rollup_status(*, user: AnyUser) -> RollupStatusView:
    """The last rollup pass, the last verification and a running rebuild's progress (county admins
    and anyone holding a dashboard role see it; nobody else). Three queries and one cache read."""
    from governance.models import RollupKind, RollupRun, RollupStatus

    if not access.assignments(user, DASHBOARD_ROLES):
        raise NotFound(_("未找到该页面。"))
    last = (
        RollupRun.objects.exclude(kind=RollupKind.VERIFY)
        .exclude(status=RollupStatus.SKIPPED)
        .order_by("-started_at", "-id")
        .first()
    )
    checked = RollupRun.objects.filter(kind=RollupKind.VERIFY).order_by("-started_at", "-id").first()
    return RollupStatusView(
        last_run_at=last.finished_at or last.started_at if last else None,
        last_run_status=last.status if last else "",
        last_verify_at=checked.finished_at if checked else None,
        last_verify_exact=None if checked is None else checked.status == RollupStatus.OK,
        last_verify_differences=int(checked.detail.get("differences", 0)) if checked else 0,
        progress=engine.progress_read(),
    )
