"""Coverage of 村村有产业、户户有项目、人人有事干: per village, per township and for the county (or whatever
region the reader asks for inside their scope), on a day (default today).

The rules (the coverage page states them too):
- A village has an industry on day d when at least one business sitting in it has a chain participation
  active on d (its village-collective business counts the same way), or at least one of its active
  households has a project active on d. Featured-village designations and development types do not count.
  Denominator: the village-level regions (村、社区) under the region, not abolished by d.
- A household has a project when it is active (在册) and has a household project active on d, or is the
  household of a household-kind business with a chain participation active on d. Denominator: the
  active households of the region.
- A working-age resident is aged 16 to 59 in full years on d and lives there (在籍) or is away for work
  (外出务工); they have work when they have an employment active on d, or are away for work.
Active on d: started (joined) on or before d, not ended (left) by d — an end date is the first day a
record no longer counts.

Each share is numerator / denominator as a percentage with one decimal (half up), None when nothing is
counted. Everything comes from three GROUP BY queries over the region's subtree (plus the townships'
names), never a loop of queries per village; townships and the region itself are sums of their villages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as region_access
from governance.models import Household, Region, RegionLevel, Resident
from governance.models.people import ResidentStatus
from industry import access
from industry.models import BusinessKind, ChainParticipation, Employment, HouseholdProject
from industry.selectors.chains import (
    WORKING_STATUSES,
    participation_active_q,
    period_active_q,
    working_age_q,
)

REGION_NOT_FOUND = gettext_lazy("未找到该区域，或者它不在您的管辖范围内。")


@dataclass
class Share:
    numerator: int = 0
    denominator: int = 0

    @property
    def percent(self) -> Decimal | None:
        """numerator / denominator × 100 with one decimal, half up; None for an empty denominator."""
        if not self.denominator:
            return None
        return (Decimal(self.numerator) * 100 / Decimal(self.denominator)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def add(self, other: Share) -> None:
        self.numerator += other.numerator
        self.denominator += other.denominator


@dataclass
class CoverageRow:
    """One region's coverage: the village count, households and working-age residents."""

    region_id: int
    name: str
    code: str
    level: str
    parent_id: int | None
    parent_name: str
    villages: Share = field(default_factory=Share)
    households: Share = field(default_factory=Share)
    residents: Share = field(default_factory=Share)

    def add(self, other: CoverageRow) -> None:
        self.villages.add(other.villages)
        self.households.add(other.households)
        self.residents.add(other.residents)


@dataclass
class Coverage:
    region: Region
    on: dt.date
    total: CoverageRow
    townships: list[CoverageRow]
    villages: list[CoverageRow]

    def rows(self) -> list[CoverageRow]:
        """The region, then its townships, then its villages (the API's list)."""
        if self.region.level == RegionLevel.VILLAGE:
            return [self.total]
        return [self.total, *self.townships, *self.villages]


def coverage_region(user: Any, *, code: str = "", region_id: int | None = None) -> Region:
    """The region asked for by statistical code or id, if `user` reads it (else NotFound); without
    either, the outermost region the user reads at (the first by path when several)."""
    paths = region_access.outermost([p for _r, p in region_access.assignments(user, access.READ_ROLES)])
    if not paths:
        raise NotFound(REGION_NOT_FOUND)
    regions = Region.objects.exclude(level=RegionLevel.GRID).select_related("parent")
    if code:
        found = regions.filter(code=code.strip()).order_by("-valid_from").first()
    elif region_id:
        found = regions.filter(pk=region_id).first()
    else:
        found = regions.filter(path=sorted(paths)[0]).first()
    if found is None or not any(found.path.startswith(p) for p in paths):
        raise NotFound(REGION_NOT_FOUND)
    return found


def coverage_compute(region: Region, *, on: dt.date) -> Coverage:
    """The coverage of `region`'s subtree on `on` (see the module's rules). The caller checked that the
    reader may see `region` (coverage_region)."""
    under = Q(path__startswith=region.path) if region.level != RegionLevel.VILLAGE else Q(pk=region.pk)
    villages_qs = (
        Region.objects.filter(under, level=RegionLevel.VILLAGE)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .annotate(
            on_chain=Exists(
                ChainParticipation.objects.filter(participation_active_q(on), business__region=OuterRef("pk"))
            ),
            has_project=Exists(
                HouseholdProject.objects.filter(
                    period_active_q(on), household__grid__parent=OuterRef("pk"), household__is_active=True
                )
            ),
        )
        .values("id", "name", "code", "parent_id", "parent__name", "on_chain", "has_project")
        .order_by("path")
    )
    households = (
        Household.objects.filter(grid__path__startswith=region.path, is_active=True)
        .annotate(
            has_project=Exists(
                HouseholdProject.objects.filter(period_active_q(on), household=OuterRef("pk"))
            ),
            on_chain=Exists(
                ChainParticipation.objects.filter(
                    participation_active_q(on),
                    business__household=OuterRef("pk"),
                    business__kind=BusinessKind.HOUSEHOLD,
                )
            ),
        )
        .values("grid__parent_id")
        .annotate(total=Count("id"), covered=Count("id", filter=Q(has_project=True) | Q(on_chain=True)))
        .order_by()
    )
    residents = (
        Resident.objects.filter(
            working_age_q(on), household__grid__path__startswith=region.path, status__in=WORKING_STATUSES
        )
        .annotate(employed=Exists(Employment.objects.filter(period_active_q(on), resident=OuterRef("pk"))))
        .values("household__grid__parent_id")
        .annotate(
            total=Count("id"),
            working=Count("id", filter=Q(employed=True) | Q(status=ResidentStatus.AWAY)),
        )
        .order_by()
    )
    household_counts = {row["grid__parent_id"]: row for row in households}
    resident_counts = {row["household__grid__parent_id"]: row for row in residents}

    village_rows: list[CoverageRow] = []
    for village in villages_qs:
        row = CoverageRow(
            region_id=village["id"],
            name=village["name"],
            code=village["code"],
            level=RegionLevel.VILLAGE,
            parent_id=village["parent_id"],
            parent_name=village["parent__name"] or "",
            villages=Share(int(bool(village["on_chain"] or village["has_project"])), 1),
        )
        hh = household_counts.get(village["id"])
        if hh:
            row.households = Share(hh["covered"], hh["total"])
        people = resident_counts.get(village["id"])
        if people:
            row.residents = Share(people["working"], people["total"])
        village_rows.append(row)

    total = CoverageRow(
        region_id=region.pk,
        name=region.name,
        code=region.code,
        level=region.level,
        parent_id=region.parent_id,
        parent_name=region.parent.name if region.parent_id and region.parent else "",
    )
    township_rows: dict[int, CoverageRow] = {}
    if region.level == RegionLevel.COUNTY:
        for township in Region.objects.filter(parent=region, level=RegionLevel.TOWNSHIP).order_by("path"):
            township_rows[township.pk] = CoverageRow(
                region_id=township.pk,
                name=township.name,
                code=township.code,
                level=RegionLevel.TOWNSHIP,
                parent_id=region.pk,
                parent_name=region.name,
            )
    for row in village_rows:
        total.add(row)
        if row.parent_id in township_rows:
            township_rows[row.parent_id].add(row)
    return Coverage(
        region=region, on=on, total=total, townships=list(township_rows.values()), villages=village_rows
    )


def coverage_for(user: Any, *, on: dt.date, code: str = "", region_id: int | None = None) -> Coverage:
    """coverage_compute for the region `user` asks for (see coverage_region)."""
    return coverage_compute(coverage_region(user, code=code, region_id=region_id), on=on)
