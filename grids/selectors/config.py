"""Reads of the county's case-handling configuration for its pages and API: the category tree, the time
limits table, a year of the calendar, the handling units with their members, the routing table and the
response templates. County-wide rows: the gate (grids.services.config.config_gate, or the API's
reader check) runs before any of these."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from governance.models import Region, RegionLevel, User
from grids.calendar import WorkCalendar
from grids.models import (
    CalendarDay,
    Case,
    CaseCategory,
    CaseTimeLimit,
    HandlingUnit,
    ResponseTemplate,
    RoutingRule,
    Urgency,
)
from grids.services.config import DEFAULT_TIME_LIMITS


def categories_all() -> QuerySet[CaseCategory]:
    """Every category, duties first then their children in order, each annotated with `case_count`
    and `child_count`."""
    return (
        CaseCategory.objects.select_related("parent")
        .annotate(
            child_count=Count("children", distinct=True),
            in_use=Exists(Case.objects.filter(category_id=OuterRef("pk"))),
        )
        .order_by("duty", "sort_order", "code")
    )


@dataclass
class CategoryNode:
    category: CaseCategory
    children: list[CaseCategory] = field(default_factory=list)


def category_tree() -> list[CategoryNode]:
    """The five duties in their order, each with its sub-categories (active and not). Two queries."""
    rows = list(categories_all())
    nodes = {row.pk: CategoryNode(row) for row in rows if row.parent_id is None}
    for row in rows:
        if row.parent_id is not None and row.parent_id in nodes:
            nodes[row.parent_id].children.append(row)
    return sorted(nodes.values(), key=lambda node: (node.category.sort_order, node.category.pk))


@dataclass
class LimitCell:
    urgency: str
    own: tuple[int, int] | None
    effective: tuple[int, int]
    inherited_from: str  # "" when own; the parent's name, or "默认" for the default


@dataclass
class LimitRow:
    category: CaseCategory
    depth: int
    cells: list[LimitCell]


def time_limit_table() -> list[LimitRow]:
    """One row per category (duties, each followed by its sub-categories) with, per urgency, its own
    limits (or None) and the effective ones after inheritance. Two queries."""
    own: dict[tuple[int, str], tuple[int, int]] = {
        (category_id, urgency): (sign, resolve)
        for category_id, urgency, sign, resolve in CaseTimeLimit.objects.values_list(
            "category_id", "urgency", "sign_days", "resolve_days"
        )
    }
    rows: list[LimitRow] = []
    for node in category_tree():
        top_cells = []
        for urgency in Urgency.values:
            mine = own.get((node.category.pk, urgency))
            top_cells.append(
                LimitCell(urgency, mine, mine or DEFAULT_TIME_LIMITS[urgency], "" if mine else "default")
            )
        rows.append(LimitRow(node.category, 0, top_cells))
        for child in node.children:
            cells = []
            for urgency, parent_cell in zip(Urgency.values, top_cells, strict=True):
                mine = own.get((child.pk, urgency))
                cells.append(
                    LimitCell(
                        urgency,
                        mine,
                        mine or parent_cell.effective,
                        "" if mine else ("parent" if parent_cell.own else "default"),
                    )
                )
            rows.append(LimitRow(child, 1, cells))
    return rows


@dataclass
class CalendarCell:
    day: dt.date | None
    is_workday: bool = False
    is_weekend: bool = False
    row: CalendarDay | None = None


@dataclass
class CalendarMonth:
    month: int
    weeks: list[list[CalendarCell]]
    workdays: int


@dataclass
class CalendarYear:
    year: int
    months: list[CalendarMonth]
    rows: list[CalendarDay]
    workdays: int


def calendar_year(year: int) -> CalendarYear:
    """The 12 months of `year` as Monday-first weeks of cells (None for padding), each day marked
    working or not after the county's rows, plus the rows themselves. One query."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = list(CalendarDay.objects.filter(date__gte=first, date__lte=last).order_by("date"))
    by_date = {row.date: row for row in rows}
    work = WorkCalendar({row.date: row.is_workday for row in rows})
    work._loaded = (first, last)  # the rows above are the whole year: no second query
    months: list[CalendarMonth] = []
    total = 0
    for month in range(1, 13):
        weeks: list[list[CalendarCell]] = []
        count = 0
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(CalendarCell(None))
                    continue
                is_workday = work.is_workday(day)
                count += is_workday
                cells.append(CalendarCell(day, is_workday, day.weekday() >= 5, by_date.get(day)))
            weeks.append(cells)
        months.append(CalendarMonth(month, weeks, count))
        total += count
    return CalendarYear(year, months, rows, total)


def units_all() -> QuerySet[HandlingUnit]:
    """Every handling unit with its region and members (ordered by name), ordered by region then name."""
    return (
        HandlingUnit.objects.select_related("region")
        .prefetch_related(Prefetch("members", queryset=User.objects.order_by("username")))
        .order_by("region__path", "name")
    )


def unit_get(unit_id: int) -> HandlingUnit | None:
    return units_all().filter(pk=unit_id).first()


def routing_rules_all() -> QuerySet[RoutingRule]:
    """The routing table: category, region, unit joined; by category then region path."""
    return RoutingRule.objects.select_related("category", "category__parent", "region", "unit").order_by(
        "category__duty", "category__sort_order", "category__code", "region__path"
    )


def templates_all() -> QuerySet[ResponseTemplate]:
    return ResponseTemplate.objects.select_related("category").order_by("transition", "category__code", "pk")


def template_get(template_id: int) -> ResponseTemplate | None:
    return templates_all().filter(pk=template_id).first()


@dataclass
class RegionGroup:
    label: str
    regions: list[Region]


def region_choices() -> list[RegionGroup]:
    """The county, then each township followed by its villages: the regions a unit or a routing rule
    can be set at (grids are too many to list and take their village's rules). Two queries at most."""
    rows = list(
        Region.objects.filter(
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE], valid_to__isnull=True
        )
        .only("pk", "name", "level", "path", "parent_id")
        .order_by("path")
    )
    groups: list[RegionGroup] = []
    townships: dict[int, RegionGroup] = {}
    for row in rows:
        if row.level == RegionLevel.COUNTY:
            groups.append(RegionGroup(row.name, [row]))
        elif row.level == RegionLevel.TOWNSHIP:
            group = RegionGroup(row.name, [row])
            townships[row.pk] = group
            groups.append(group)
        elif row.parent_id in townships:
            townships[row.parent_id].regions.append(row)
    return groups
