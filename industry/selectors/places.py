"""Reads of designations (featured towns, featured villages, development types), for an acting user and
inside their reading scope (the designated region's path). Key figures come from correlated subqueries
in the same statement, so a list costs one query whatever its length:
- a village: households on its grids (在册), residents (在籍 and 外出务工), last year's collective income,
  the chain participations of the businesses sitting in it (still taking part);
- a town: its villages and communities, the businesses sitting in them, the expos and festivals it held.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as governance_access
from governance.models import Household, Region, RegionLevel, Resident, ResidentStatus
from industry import access
from industry.models import (
    Business,
    ChainParticipation,
    CollectiveIncome,
    DesignationKind,
    DevelopmentType,
    Event,
    RegionDesignation,
)

AnyUser = access.AnyUser

VILLAGE_KINDS = (DesignationKind.FEATURED_VILLAGE, DesignationKind.DEVELOPMENT_TYPE)
SORTS = {
    "region": "region__path",
    "theme": "theme",
    "year": "designated_year",
    "households": "households",
    "residents": "residents",
    "income": "income_last_fen",
    "participations": "participations",
    "villages": "villages",
    "businesses": "businesses",
    "events": "events",
}


def designations_visible(user: AnyUser) -> QuerySet[RegionDesignation]:
    if not user.is_authenticated:
        return RegionDesignation.objects.none()
    return RegionDesignation.objects.filter(
        governance_access.scope_q(user, "region__path", access.READ_ROLES)
    ).select_related("region", "region__parent")


def designation_get_visible(user: AnyUser, designation_id: int | str) -> RegionDesignation:
    found = designations_visible(user).filter(pk=designation_id).first()
    if found is None:
        raise NotFound(DESIGNATION_NOT_FOUND)
    return found


DESIGNATION_NOT_FOUND = gettext_lazy("未找到该命名，或者它不在您的管辖范围内。")


def designations_for_region(region: Region) -> list[RegionDesignation]:
    """A region's designations (for templates/industry/places/_region_designations.html); the caller
    has already checked the region is in scope."""
    return list(RegionDesignation.objects.filter(region=region).order_by("kind", "theme"))


def theme_label(kind: str, theme: str) -> str:
    if kind == DesignationKind.DEVELOPMENT_TYPE and theme in DevelopmentType.values:
        return str(DevelopmentType(theme).label)
    return theme


@dataclass(frozen=True)
class ThemeCount:
    kind: str
    theme: str
    label: str
    regions: int


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    designations: int
    regions: int
    themes: list[ThemeCount]


def overview(user: AnyUser) -> list[KindCount]:
    """Per kind: how many designations and designated regions, and the count per theme (the five
    development types always listed, 0 included). Two queries."""
    rows = designations_visible(user).order_by().values("kind", "theme").annotate(n=Count("id"))
    regions = dict(
        designations_visible(user)
        .order_by()
        .values("kind")
        .annotate(n=Count("region", distinct=True))
        .values_list("kind", "n")
    )
    by_kind: dict[str, dict[str, int]] = {k: {} for k in DesignationKind.values}
    for row in rows:
        by_kind[row["kind"]][row["theme"]] = row["n"]
    for value in DevelopmentType.values:
        by_kind[DesignationKind.DEVELOPMENT_TYPE].setdefault(value, 0)
    result = []
    for kind, label in DesignationKind.choices:
        themes = by_kind[kind]
        if kind == DesignationKind.DEVELOPMENT_TYPE:
            ordered = [ThemeCount(kind, v, str(lbl), themes[v]) for v, lbl in DevelopmentType.choices]
            ordered += [
                ThemeCount(kind, t, t, n)
                for t, n in sorted(themes.items())
                if t not in DevelopmentType.values
            ]
        else:
            ordered = [
                ThemeCount(kind, t, t, n)
                for t, n in sorted(themes.items(), key=lambda item: (-item[1], item[0]))
            ]
        result.append(KindCount(kind, str(label), sum(themes.values()), int(regions.get(kind, 0)), ordered))
    return result


def _count(queryset: QuerySet, group: str) -> Coalesce:
    rows = queryset.order_by().values(group).annotate(c=Count("*")).values("c")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def last_year() -> int:
    return timezone.localdate().year - 1


def designations_list(
    user: AnyUser,
    *,
    kind: str,
    theme: str = "",
    township_id: int | None = None,
    q: str = "",
    sort: str = "region",
    income_year: int | None = None,
) -> QuerySet[RegionDesignation]:
    """The designations of `kind` (and `theme`) in scope, with the key figures of their regions
    (see the module's docstring): villages get `households`, `residents`, `income_last_fen` (the
    collective income of `income_year`, default last year; None when not reported) and `participations`;
    towns get `villages`, `businesses`, `events`. One query."""
    rows = designations_visible(user).filter(kind=kind)
    if theme:
        rows = rows.filter(theme=theme)
    if township_id:
        rows = rows.filter(Q(region_id=township_id) | Q(region__parent_id=township_id))
    if q:
        rows = rows.filter(Q(region__name__contains=q) | Q(theme__contains=q) | Q(note__contains=q))
    region = OuterRef("region_id")
    if kind in VILLAGE_KINDS:
        income = (
            CollectiveIncome.objects.filter(village=region, year=income_year or last_year())
            .order_by()
            .values("village")
            .annotate(t=Sum("amount_fen"))
            .values("t")
        )
        rows = rows.annotate(
            households=_count(Household.objects.filter(grid__parent=region, is_active=True), "grid__parent"),
            residents=_count(
                Resident.objects.filter(
                    household__grid__parent=region,
                    status__in=[ResidentStatus.RESIDENT, ResidentStatus.AWAY],
                ),
                "household__grid__parent",
            ),
            income_last_fen=Subquery(income, output_field=IntegerField()),
            participations=_count(
                ChainParticipation.objects.filter(business__region=region, left_on__isnull=True),
                "business__region",
            ),
        )
    else:
        rows = rows.annotate(
            villages=_count(Region.objects.filter(parent=region, level=RegionLevel.VILLAGE), "parent"),
            businesses=_count(Business.objects.filter(region__parent=region), "region__parent"),
            events=_count(Event.objects.filter(region=region), "region"),
        )
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), "region__path")
    if kind in VILLAGE_KINDS and key in ("villages", "businesses", "events"):
        key = "region__path"
    if kind not in VILLAGE_KINDS and key in ("households", "residents", "income_last_fen", "participations"):
        key = "region__path"
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return rows.order_by(order, "region__path", "theme")


def regions_for_designation(user: AnyUser) -> list[Region]:
    """Townships and villages the county admin may designate (their scope), in tree order."""
    if not user.is_authenticated:
        return []
    return list(
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.COUNTY_ROLES),
            level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE],
        )
        .select_related("parent")
        .order_by("path")
    )


def townships_for_filter(user: AnyUser) -> list[Region]:
    if not user.is_authenticated:
        return []
    return list(
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.READ_ROLES), level=RegionLevel.TOWNSHIP
        ).order_by("path")
    )
