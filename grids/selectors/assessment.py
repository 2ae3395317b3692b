"""The assessment (考核) of case handling: per township, village and grid (its grid leader), for a date
range, the cases filed and four rates:

- 按时签收率 on-time sign-for rate   = cases signed for on time / cases signed for (signed_on_time set);
- 按时办结率 on-time resolution rate = cases resolved on time / cases resolved (resolved_on_time set);
- 满意率     satisfaction rate       = 满意 + 基本满意 / cases followed up (satisfaction given);
- 发回重办率 re-handling rate        = cases re-handled at least once (rehandle_count > 0) / cases that
  reached resolution at least once (resolved_at set, or re-handled, which implies it).

The cohort is the cases *filed* in the range (filed_at, Asia/Shanghai days, both ends included); each
rate's numerator and denominator come from the flags the workflow stored at the moment of the event
(Case.signed_on_time, resolved_on_time, satisfaction, rehandle_count), so history is never recomputed. A
case signed or resolved with no deadline set has no flag and is in neither side of that rate.

Cost: one query for the user's role assignments, one for the region shown, one for the regions under
it, one for the counts, and one for the grid leaders when grids are rows: a constant number of queries
whatever the number of cases. The counts come from the per-(grid, year) and per-(grid, month) counters
the triggers of migration grids 0005 keep exact (grids.assessment_counters) plus, from the cases, the
edge months' remaining days and the open cases past their deadline (_tallies_counted); with a category
filter, or without the counters (SQLite), one GROUP BY grid with conditional aggregates (COUNT ...
FILTER (WHERE ...)) over the cases of those grids filed in the range (_tallies_live). Both give the same
numbers. Township and village rows are
the sums of their grids' (or villages') counts — exact, counts add up — and the heat map reads the same
grouped rows (a cell per grid; in the county's overview a cell per village).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import BooleanField, Count, Q, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError, NotFound
from governance import access
from governance.models import Region, RegionLevel
from governance.roles import Role
from grids import assessment_counters as counters
from grids.models import Case, CaseCategory, GridLeader, Satisfaction
from grids.workflow import OPEN_STATES

AnyUser = AbstractBaseUser | AnonymousUser

# Who sees the assessment, within their region scope. Canteen managers and mediators do not assess
# case handling.
ASSESSMENT_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER, Role.VIEWER}
)
CHILD_LEVEL: dict[str, str | None] = {
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
    RegionLevel.VILLAGE: RegionLevel.GRID,
    RegionLevel.GRID: None,
}
# The longest range one report covers: three years of cases is already more than an assessment needs.
RANGE_MAX_DAYS = 3 * 366
EMPTY = "—"
HEAT_MODES = ("count", "overdue")
HEAT_GRAINS = ("grid", "village")
HEAT_STEPS = 5
# Overdue share thresholds (upper bounds, inclusive) of heat steps 1–4; above the last is step 5.
OVERDUE_STEPS = (Decimal("0.05"), Decimal("0.10"), Decimal("0.20"), Decimal("0.35"))

SORTS = {
    "name": _("按区域"),
    "-filed": _("上报件数从多到少"),
    "sign_rate": _("按时签收率从低到高"),
    "resolve_rate": _("按时办结率从低到高"),
    "satisfaction_rate": _("满意率从低到高"),
    "-rehandle_rate": _("发回重办率从高到低"),
}


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage with one decimal (half up); None for an empty denominator."""
    if denominator == 0:
        return None
    return (Decimal(numerator * 100) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def percent_display(value: Decimal | None) -> str:
    """A rate as people read it in Chinese reports: "93.5%", "100.0%"; "—" when there is nothing to rate."""
    return EMPTY if value is None else f"{value}%"


@dataclass
class Tally:
    """The counts behind one row of the assessment. Counts add up, so a village's tally is the sum of
    its grids' tallies."""

    filed: int = 0
    signed: int = 0
    signed_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    followed_up: int = 0
    satisfied: int = 0
    rehandle_base: int = 0
    rehandled: int = 0
    overdue: int = 0

    def add(self, other: Tally) -> None:
        # Spelled out: this runs once per grid and level (thousands of times for the county).
        self.filed += other.filed
        self.signed += other.signed
        self.signed_on_time += other.signed_on_time
        self.resolved += other.resolved
        self.resolved_on_time += other.resolved_on_time
        self.followed_up += other.followed_up
        self.satisfied += other.satisfied
        self.rehandle_base += other.rehandle_base
        self.rehandled += other.rehandled
        self.overdue += other.overdue

    @property
    def sign_rate(self) -> Decimal | None:
        return rate(self.signed_on_time, self.signed)

    @property
    def resolve_rate(self) -> Decimal | None:
        return rate(self.resolved_on_time, self.resolved)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return rate(self.satisfied, self.followed_up)

    @property
    def rehandle_rate(self) -> Decimal | None:
        return rate(self.rehandled, self.rehandle_base)

    @property
    def overdue_share(self) -> Decimal | None:
        """Overdue cases / cases filed, as a fraction (not a percentage): the heat map's second colour."""
        if self.filed == 0:
            return None
        return Decimal(self.overdue) / Decimal(self.filed)

    @property
    def sign_rate_display(self) -> str:
        return percent_display(self.sign_rate)

    @property
    def resolve_rate_display(self) -> str:
        return percent_display(self.resolve_rate)

    @property
    def satisfaction_rate_display(self) -> str:
        return percent_display(self.satisfaction_rate)

    @property
    def rehandle_rate_display(self) -> str:
        return percent_display(self.rehandle_rate)

    @property
    def overdue_share_display(self) -> str:
        share = self.overdue_share
        return percent_display(None if share is None else rate(self.overdue, self.filed))


@dataclass
class AssessmentRow:
    """One region of the table: a township, a village, or a grid with its current grid leader."""

    region_id: int
    name: str
    level: str
    path: str
    # The statistical division code: the order county documents list regions in.
    code: str = ""
    tally: Tally = field(default_factory=Tally)
    leader: str = ""
    # Whether the row leads one level further down (grids are the last level).
    drillable: bool = True


@dataclass
class HeatCell:
    """One coloured cell: a grid (or, in the county's overview, a village)."""

    region_id: int
    name: str
    level: str
    tally: Tally
    step: int | None  # 0..HEAT_STEPS; None: no case filed (shown apart from "zero overdue")

    @property
    def short(self) -> str:
        """The name as a cell has room for: "第一网格" → "第一"."""
        return self.name.removesuffix("网格") or self.name


@dataclass
class HeatBlock:
    """The cells of one village (its grids) or, in the county's overview, of one township (its villages)."""

    region_id: int
    name: str
    parent: str  # the township of a village block ("" for a township block)
    cells: list[HeatCell]


@dataclass
class AssessmentReport:
    """What the assessment page shows for one region (`root`) and filter set."""

    root: Region | None  # None: the user holds several separate regions, each a row
    child_level: str | None  # the level of the rows (None: the root grid's own row)
    rows: list[AssessmentRow]
    total: Tally
    heat: list[HeatBlock]
    heat_mode: str
    heat_grain: str  # "grid": a cell per grid; "village": a cell per village (the county's overview)
    heat_max: int
    date_from: dt.date
    date_to: dt.date


@dataclass(frozen=True)
class AssessmentFilters:
    date_from: dt.date
    date_to: dt.date
    region_id: int | None = None
    category: CaseCategory | None = None
    heat_mode: str = "count"
    # "grid" or "village"; empty: villages when the county is shown (3,551 grids are too many cells for
    # one page), grids below it.
    heat_grain: str = ""
    sort: str = "name"


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """From the first day of this year to today: the period an annual assessment looks at so far."""
    today = today or timezone.localdate()
    return today.replace(month=1, day=1), today


def _range_check(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise DomainError("date_range_reversed", _("开始日期不能晚于结束日期。"), field="date_from")
    if (date_to - date_from).days > RANGE_MAX_DAYS:
        raise DomainError("date_range_too_long", _("统计区间最长三年，请缩短日期范围。"), field="date_from")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# A constant to count rows by (see _aggregates).
_ONE = Value(1)


def _aggregates(now: dt.datetime) -> dict[str, Count]:
    """The conditional aggregates of one Tally, as COUNT(*) FILTER (WHERE ...) expressions.

    COUNT(1), not COUNT(id): every column they read is in the covering index `case_assessment`
    (migration grids 0004), so PostgreSQL answers from the index alone without visiting the table
    (Django refuses COUNT(*) with a filter; a constant counts the same rows)."""
    overdue = Q(resolved_on_time=False) | Q(
        resolved_at__isnull=True, resolve_deadline__lt=now, status__in=sorted(OPEN_STATES)
    )
    return {
        "filed": Count(_ONE),
        "signed": Count(_ONE, filter=Q(signed_on_time__isnull=False)),
        "signed_on_time": Count(_ONE, filter=Q(signed_on_time=True)),
        "resolved": Count(_ONE, filter=Q(resolved_on_time__isnull=False)),
        "resolved_on_time": Count(_ONE, filter=Q(resolved_on_time=True)),
        "followed_up": Count(_ONE, filter=~Q(satisfaction="")),
        "satisfied": Count(_ONE, filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY])),
        "rehandle_base": Count(_ONE, filter=Q(resolved_at__isnull=False) | Q(rehandle_count__gt=0)),
        "rehandled": Count(_ONE, filter=Q(rehandle_count__gt=0)),
        "overdue": Count(_ONE, filter=overdue),
    }


def _prefix_q(paths: Iterable[str], lookup: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{lookup}__startswith": path})
    return q


# Up to this many grids (a county has 3,551) the ids go as one "= ANY(array)" condition, which the
# covering index `case_assessment` (grid, filed_at) walks grid by grid: it hands the rows over in grid
# order, index only, and PostgreSQL aggregates them as they come. Measured on the county-scale demo (300,000
# cases), that is ~25% faster than the semi-join on the unnested array the county used before, which
# hashes 290,000 rows into groups; beyond a county (a user over several) the semi-join is kept, so the
# planner does not estimate tens of thousands of index descents.
SCAN_FROM_GRIDS = 10_000
# Whether the assessment without a category filter reads the per-(grid, month) counters where it can
# (grids.assessment_counters); tests switch it off to compare with counting the cases.
USE_COUNTERS = True


def _in_grids_q(grid_ids: list[int]) -> Q:
    """Cases of these grids. On PostgreSQL the ids travel as one array parameter, not thousands of
    placeholders for the ORM to build and the driver to quote; SQLite (the embedded demo) takes IN."""
    if connection.vendor != "postgresql":
        return Q(grid_id__in=grid_ids)
    ids = _id_array(grid_ids)
    if len(grid_ids) >= SCAN_FROM_GRIDS:
        # A semi-join on the unnested array: the planner hashes it beside a scan of the cases.
        return Q(grid_id__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return Q(RawSQL('"grids_case"."grid_id" = ANY(%s::bigint[])', [ids], output_field=BooleanField()))


def _id_array(ids: list[int]) -> str:
    """Ids as one PostgreSQL array literal ('{1,2,3}'), cast to bigint[] where it is used. The driver
    would send a Python list as ARRAY[1, 2, 3]: an expression of 3,551 constants for the server to parse
    and fold, measured at ~9 ms per occurrence for the county's grids against ~1 ms for the literal."""
    return "{" + ",".join(map(str, ids)) + "}"


def _tallies(
    *, village_of: dict[int, int], by_village: bool, filters: AssessmentFilters, now: dt.datetime
) -> dict[int, Tally]:
    """{grid id: Tally} (or {village id: Tally} when `by_village`) for the cases filed in the range in
    the grids of `village_of` ({grid id: its village's id}): one query, none for no grids. The grids come
    from the regions already read, so the filter needs no join to the region tree, and neither does
    summing the grids into their villages (270 for the county's overview)."""
    if not village_of:
        return {}
    if filters.category is None and USE_COUNTERS and counters.counters_available():
        # Summed into villages by PostgreSQL when asked (270 rows for the county instead of 3,551).
        return _tallies_counted(village_of, by_village=by_village, filters=filters, now=now)
    tallies = _tallies_live(list(village_of), filters=filters, now=now)
    if not by_village:
        return tallies
    villages: dict[int, Tally] = {}
    for grid_id, tally in tallies.items():
        village_id = village_of[grid_id]
        village = villages.get(village_id)
        if village is None:
            villages[village_id] = tally
        else:
            village.add(tally)
    return villages


def _tallies_live(grid_ids: list[int], *, filters: AssessmentFilters, now: dt.datetime) -> dict[int, Tally]:
    """{grid id: Tally} counted from the cases themselves: one GROUP BY grid over the range."""
    in_grids = _in_grids_q(grid_ids)
    cases = Case.objects.filter(
        in_grids,
        filed_at__gte=_day_start(filters.date_from),
        filed_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)),
    )
    if filters.category is not None:
        # The category or one of its sub-categories, named by id: no join to the category table, and
        # the covering index holds category_id.
        family = CaseCategory.objects.filter(Q(pk=filters.category.pk) | Q(parent_id=filters.category.pk))
        cases = cases.filter(category_id__in=family.values("pk"))
    # Prefixed names: an annotation named like a field ("signed_on_time") would shadow it in the
    # FILTER clauses of the aggregates after it.
    named = _aggregates(now)
    aggregates = {f"n_{name}": expression for name, expression in named.items()}
    # Grouped by grid, always: the index yields the rows in grid order, so PostgreSQL aggregates as it
    # reads (no hash table, no join to the region tree for 300,000 rows); the county's 3,551 grid rows
    # are summed into their villages here.
    grouped = cases.order_by().values("grid_id").annotate(**aggregates).values_list("grid_id", *aggregates)
    return {row[0]: Tally(**dict(zip(named, row[1:], strict=True))) for row in grouped}


@dataclass(frozen=True)
class _Plan:
    """How the counters path covers a range: whole months from the counters (`months`, first days, both
    ends included; None: none), plus (`add`) or minus (`subtract`) the cases filed in day spans
    [start, end) of the edge months."""

    months: tuple[dt.date, dt.date] | None
    add: tuple[tuple[dt.date, dt.date], ...]
    subtract: tuple[tuple[dt.date, dt.date], ...]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _plan(date_from: dt.date, date_to: dt.date) -> _Plan:
    """Whole months from the counters; a partial edge month either counted from its cases (when the
    range covers at most half of it) or taken whole from the counters minus the cases of the days
    outside the range — this year's range up to today reads the current month from the counters minus
    the (no) cases filed after today."""
    months: list[dt.date] = []
    add: list[tuple[dt.date, dt.date]] = []
    subtract: list[tuple[dt.date, dt.date]] = []
    end = date_to + dt.timedelta(days=1)
    month = date_from.replace(day=1)
    while month < end:
        following = _next_month(month)
        start, stop = max(date_from, month), min(end, following)
        covered, days = (stop - start).days, (following - month).days
        if covered == days:
            months.append(month)
        elif covered * 2 <= days:
            add.append((start, stop))
        else:
            months.append(month)
            if start > month:
                subtract.append((month, start))
            if stop < following:
                subtract.append((stop, following))
        month = following
    return _Plan(months=(months[0], months[-1]) if months else None, add=tuple(add), subtract=tuple(subtract))


def _periods(months: tuple[dt.date, dt.date] | None) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """The counter rows that add up to the whole months `months` (first days, both included): (years to
    add, months to add, months to subtract). A year more than half inside is its row minus its months
    outside (this year so far: the year's row minus December's, which has no row yet), otherwise its
    months one by one — at most six rows per grid and year instead of twelve."""
    if months is None:
        return [], [], []
    first, last = months
    years: list[dt.date] = []
    inside: list[dt.date] = []
    outside: list[dt.date] = []
    for year in range(first.year, last.year + 1):
        low = first.month if year == first.year else 1
        high = last.month if year == last.year else 12
        if high - low + 1 > 6:
            years.append(dt.date(year, 1, 1))
            outside += [dt.date(year, month, 1) for month in range(1, 13) if not low <= month <= high]
        else:
            inside += [dt.date(year, month, 1) for month in range(low, high + 1)]
    return years, inside, outside


# The states whose cases count as overdue once past their deadline, spelled as the partial index
# case_assessment_open (migration grids 0005) is: the planner matches the query to its predicate.
_OPEN_SQL = ", ".join(f"'{state}'" for state in sorted(OPEN_STATES))


def _tallies_counted(
    village_of: dict[int, int], *, by_village: bool, filters: AssessmentFilters, now: dt.datetime
) -> dict[int, Tally]:
    """{grid id: Tally} from the per-(grid, year) and per-(grid, month) counters
    (grids.assessment_counters) for whole months, the cases of the edge months' remaining days, and the
    open cases past their deadline (overdue depends on the clock, so they are never stored): one
    statement, so one snapshot, whatever the number of cases. The county's year so far reads 3,551 year
    rows and ~400 open cases instead of ~290,000 cases."""
    plan = _plan(filters.date_from, filters.date_to)
    # The grids once, as a table every branch joins: a constant array in each branch would have the
    # planner estimate each of its thousands of elements, three times (~5 ms of planning at county scale).
    in_grids = "grid_id IN (SELECT grid_id FROM grids)"
    names = list(counters.COUNTS)
    branches: list[str] = []
    params: list[Any] = []
    years, months, months_out = _periods(plan.months)
    for table, sign, periods in (
        (counters.YEARS, "", years),
        (counters.MONTHS, "", months),
        (counters.MONTHS, "-", months_out),
    ):
        if periods:
            branches.append(
                f"SELECT grid_id, {', '.join(sign + name for name in names)} FROM {table}"  # noqa: S608
                f" WHERE {in_grids} AND period = ANY(%s::date[])"
            )
            params.append("{" + ",".join(f"{period:%Y-%m-%d}" for period in periods) + "}")
    for sign, spans in (("", plan.add), ("-", plan.subtract)):
        for start, stop in spans:
            branches.append(
                f"SELECT grid_id, {', '.join(counters.count_expressions(sign))} FROM grids_case"  # noqa: S608
                f" WHERE {in_grids} AND filed_at >= %s AND filed_at < %s GROUP BY grid_id"
            )
            params += [_day_start(start), _day_start(stop)]
    # Open, past the deadline, and not already counted as resolved late (a case resolved late and sent
    # back keeps its flag): the rest of "overdue", from the partial index of the open cases.
    zeros = ", ".join("0" for _name in names[:-1])
    branches.append(
        f"SELECT grid_id, {zeros}, count(1) FROM grids_case"  # noqa: S608
        f" WHERE {in_grids} AND filed_at >= %s AND filed_at < %s"
        f" AND resolved_at IS NULL AND status IN ({_OPEN_SQL}) AND resolve_deadline < %s"
        " AND (resolved_on_time IS NULL OR resolved_on_time) GROUP BY grid_id"
    )
    params += [
        _day_start(filters.date_from),
        _day_start(filters.date_to + dt.timedelta(days=1)),
        now,
    ]
    # Each grid with the row it is counted in: itself, or its village.
    sql = (
        "WITH grids AS MATERIALIZED (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS g (grid_id, row_id))"  # noqa: S608
        f" SELECT grids.row_id, {', '.join(f'sum({name})::int' for name in names)}"
        f" FROM ({' UNION ALL '.join(branches)}) AS part ({', '.join(['grid_id', *names])})"
        " JOIN grids USING (grid_id) GROUP BY grids.row_id"
    )
    grid_ids = list(village_of)
    row_ids = [village_of[grid_id] for grid_id in grid_ids] if by_village else grid_ids
    fields = [*names[:-1], "overdue"]
    tallies: dict[int, Tally] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [_id_array(grid_ids), _id_array(row_ids), *params])
        for row in cursor.fetchall():
            if row[1]:  # nothing filed in the range: no row, as on the live path
                tallies[row[0]] = Tally(**dict(zip(fields, row[1:], strict=True)))
    return tallies


def assessment_scope_paths(*, user: AnyUser) -> list[str]:
    """The outermost region paths where the user may see the assessment (empty: nothing to see)."""
    return access.outermost([path for _role, path in access.assignments(user, ASSESSMENT_ROLES)])


def _root(user_paths: list[str], region_id: int | None) -> Region | None:
    if region_id is not None:
        region = Region.objects.select_related("parent").filter(pk=region_id).first()
        if region is None or not any(region.path.startswith(p) for p in user_paths):
            raise NotFound(_("未找到该区域，或者它不在您的管辖范围内。"))
        return region
    if len(user_paths) == 1:
        return Region.objects.select_related("parent").get(path=user_paths[0])
    return None


def _heat_step(tally: Tally, mode: str, heat_max: int) -> int | None:
    if tally.filed == 0:
        return None
    if mode == "overdue":
        share = tally.overdue_share or Decimal(0)
        if share == 0:
            return 0
        for step, bound in enumerate(OVERDUE_STEPS, start=1):
            if share <= bound:
                return step
        return HEAT_STEPS
    return max(1, math.ceil(HEAT_STEPS * tally.filed / heat_max)) if heat_max else 0


def _region_order(row: AssessmentRow) -> tuple[bool, str, str]:
    """By statistical code (regions without one last), then by creation order."""
    return (not row.code, row.code, row.path)


def _heat_grain(asked: str, regions: list[dict[str, Any]], under: list[str]) -> str:
    """Grids, unless the county is shown (or villages are asked for above the village level)."""
    top = {r["level"] for r in regions if r["path"] in under}
    above_village = bool(top & {RegionLevel.COUNTY, RegionLevel.TOWNSHIP})
    if asked == "village" and above_village:
        return "village"
    if asked == "grid":
        return "grid"
    return "village" if RegionLevel.COUNTY in top else "grid"


def _heat(
    grain: str,
    mode: str,
    places: list[dict[str, Any]],
    tallies: dict[int, Tally],
    by_id: dict[int, dict[str, Any]],
) -> tuple[list[HeatBlock], int]:
    """The heat map's blocks and the largest count among its cells. Grid grain: a block per village, a
    cell per grid (`places` are grids). Village grain: a block per township, a cell per village."""
    cells = {place["id"]: (place, tallies.get(place["id"], Tally())) for place in places}
    heat_max = max((tally.filed for _region, tally in cells.values()), default=0)
    blocks: dict[int, HeatBlock] = {}
    for region, tally in cells.values():
        holder = by_id.get(region["parent_id"]) or {"id": 0, "name": "", "parent_id": None}
        block = blocks.get(holder["id"])
        if block is None:
            above = by_id.get(holder["parent_id"] or 0) if grain == "grid" else None
            block = blocks[holder["id"]] = HeatBlock(
                region_id=holder["id"], name=holder["name"], parent=above["name"] if above else "", cells=[]
            )
        block.cells.append(
            HeatCell(
                region_id=region["id"],
                name=region["name"],
                level=region["level"],
                tally=tally,
                step=_heat_step(tally, mode, heat_max),
            )
        )

    def order(region_id: int) -> tuple[bool, str, str]:
        region = by_id.get(region_id) or {"code": "", "path": ""}
        return (not region["code"], region["code"], region["path"])

    for block in blocks.values():
        block.cells.sort(key=lambda cell: order(cell.region_id))
    return sorted(blocks.values(), key=lambda block: order(block.region_id)), heat_max


def _sorted(rows: list[AssessmentRow], sort: str) -> list[AssessmentRow]:
    if sort == "-filed":
        return sorted(rows, key=lambda r: (-r.tally.filed, _region_order(r)))
    if sort == "-rehandle_rate":
        return sorted(
            rows,
            key=lambda r: (r.tally.rehandle_rate is None, -(r.tally.rehandle_rate or 0), _region_order(r)),
        )
    if sort in ("sign_rate", "resolve_rate", "satisfaction_rate"):
        # Lowest first: what needs attention leads; rows with nothing to rate go last.
        def key(row: AssessmentRow) -> tuple[bool, Decimal, tuple[bool, str, str]]:
            value = getattr(row.tally, sort)
            return (value is None, value if value is not None else Decimal(0), _region_order(row))

        return sorted(rows, key=key)
    return sorted(rows, key=_region_order)


def assessment_report(
    *,
    user: AnyUser,
    filters: AssessmentFilters,
    now: dt.datetime | None = None,
    paths: list[str] | None = None,
) -> AssessmentReport:
    """The assessment of the region `filters.region_id` (default: the user's own region) one level down
    — a county's townships, a township's villages, a village's grids with their current grid leaders, a
    grid's own row — with the total and the heat map of its grids, inside the user's scope only.

    A region outside the user's scope raises NotFound (404); a reversed or over-long range DomainError
    (field "date_from"). At most five queries whatever the number of cases (see the module docstring);
    four when the caller passes the user's `paths` (assessment_scope_paths) it already has.
    """
    _range_check(filters.date_from, filters.date_to)
    now = now or timezone.now()
    heat_mode = filters.heat_mode if filters.heat_mode in HEAT_MODES else "count"
    user_paths = paths if paths is not None else assessment_scope_paths(user=user)
    empty = AssessmentReport(
        root=None,
        child_level=None,
        rows=[],
        total=Tally(),
        heat=[],
        heat_mode=heat_mode,
        heat_grain="grid",
        heat_max=0,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    if not user_paths:
        return empty
    root = _root(user_paths, filters.region_id)
    under = [root.path] if root is not None else user_paths

    # The regions under the root, and the root's ancestors (a root grid's village names its heat block).
    ancestors = {int(part) for path in under for part in path.strip("/").split("/")[:-1] if part}
    regions: list[dict[str, Any]] = [
        dict(row)
        for row in Region.objects.filter(_prefix_q(under, "path") | Q(pk__in=sorted(ancestors)))
        .order_by("path")
        .values("id", "parent_id", "name", "level", "path", "code")
    ]
    by_id = {r["id"]: r for r in regions}
    prefixes = tuple(under)
    grid_level = RegionLevel.GRID.value
    grids = [r for r in regions if r["level"] == grid_level and r["path"].startswith(prefixes)]
    grain = _heat_grain(filters.heat_grain, regions, under)
    # Keyed by grid, or by village for the county's overview (neither its rows nor its heat map need
    # the grids one by one).
    tallies = _tallies(
        village_of={g["id"]: g["parent_id"] for g in grids},
        by_village=grain == "village",
        filters=filters,
        now=now,
    )

    # The rows: the root's children (or the user's separate regions, or a root grid itself).
    if root is None:
        child_level = None
        heads = [r for r in regions if r["path"] in user_paths]
    elif CHILD_LEVEL[root.level] is None:
        child_level = None
        heads = [by_id[root.pk]]
    else:
        child_level = CHILD_LEVEL[root.level]
        heads = [r for r in regions if r["parent_id"] == root.pk]
    rows_by_path = {
        r["path"]: AssessmentRow(
            region_id=r["id"],
            name=r["name"],
            level=r["level"],
            path=r["path"],
            code=r["code"],
            drillable=r["level"] != RegionLevel.GRID,
        )
        for r in heads
    }
    rows_by_id = {row.region_id: row for row in rows_by_path.values()}
    total = Tally()
    for region_id, tally in tallies.items():
        total.add(tally)
        # The row this grid (or village) lies under: up the parent chain (grid → village → township).
        region = by_id.get(region_id)
        while region is not None and region["id"] not in rows_by_id:
            region = by_id.get(region["parent_id"])
        if region is not None:
            rows_by_id[region["id"]].tally.add(tally)

    grid_rows = [row for row in rows_by_path.values() if row.level == RegionLevel.GRID]
    if grid_rows:
        leaders = GridLeader.objects.filter(
            grid_id__in=[row.region_id for row in grid_rows], ended_on__isnull=True
        ).values_list("grid_id", "resident__name")
        names = dict(leaders)
        for row in grid_rows:
            row.leader = names.get(row.region_id, "")

    if grain == "village":
        village_level = RegionLevel.VILLAGE.value
        places = [r for r in regions if r["level"] == village_level and r["path"].startswith(prefixes)]
    else:
        places = grids
    heat, heat_max = _heat(grain, heat_mode, places, tallies, by_id)

    return AssessmentReport(
        root=root,
        child_level=child_level,
        rows=_sorted(list(rows_by_path.values()), filters.sort),
        total=total,
        heat=heat,
        heat_mode=heat_mode,
        heat_grain=grain,
        heat_max=heat_max,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


@dataclass(frozen=True)
class AssessmentOptions:
    """What the filter bar offers: the townships and villages in the user's scope, and the categories."""

    townships: list[Region]
    villages: list[Region]
    categories: list[CaseCategory]


def assessment_filter_options(*, user: AnyUser, paths: list[str] | None = None) -> AssessmentOptions:
    """Townships and villages the user may assess (reading order) and the category tree: two queries
    (three without the user's `paths`)."""
    paths = paths if paths is not None else assessment_scope_paths(user=user)
    # Regions in scope, and the townships above a user's villages (so a village shows under its town).
    regions = (
        list(
            Region.objects.filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
            .filter(_prefix_q(paths, "path"))
            .order_by("path")
        )
        if paths
        else []
    )
    categories = list(
        CaseCategory.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("duty", "parent_id", "sort_order", "code")
    )
    return AssessmentOptions(
        townships=[r for r in regions if r.level == RegionLevel.TOWNSHIP],
        villages=[r for r in regions if r.level == RegionLevel.VILLAGE],
        categories=categories,
    )


def assessment_ancestors(
    *, user: AnyUser, region: Region | None, paths: list[str] | None = None
) -> list[Region]:
    """The drill-down trail: `region`'s ancestors inside the user's scope, outermost first, then itself.
    One query (two without the user's `paths`)."""
    if region is None:
        return []
    ids = [int(part) for part in region.path.strip("/").split("/") if part]
    paths = paths if paths is not None else assessment_scope_paths(user=user)
    chain = Region.objects.filter(pk__in=ids).filter(_prefix_q(paths, "path")).order_by("path")
    return list(chain)


def assessment_category_get(*, category_id: Any) -> CaseCategory | None:
    """The category a filter names (any level); None for an empty or unknown id."""
    try:
        pk = int(category_id)
    except (TypeError, ValueError):
        return None
    return CaseCategory.objects.filter(pk=pk).first()
