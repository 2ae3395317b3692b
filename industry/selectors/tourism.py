"""Reading tourism figures: the records a user sees, the year's list of subjects with their totals, one
subject's year month by month, and the subjects a user may record for.

Who sees what: a region's figures whoever holds a reading role over the region; a brand's figures
whoever sees its joint community (industry.access.joint_communities_visible).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as governance_access
from governance.models import Region, RegionLevel
from industry import access
from industry.access import AnyUser
from industry.models import JointCommunity, TourismRecord
from industry.services.tourism import SUBJECT_LEVELS, TourismSubject

SUBJECT_KINDS = ("region", "community")
RECORD_NOT_FOUND = gettext_lazy("未找到该旅游统计记录，或者它不在您的管辖范围内。")
SORTS = {
    "visits": lambda r: (-r.visits, r.name),
    "income": lambda r: (-r.income_fen, r.name),
    "name": lambda r: (r.town, r.name),
}


def tourism_records_visible(user: AnyUser) -> QuerySet[TourismRecord]:
    """Every tourism record `user` may read."""
    if not user.is_authenticated:
        return TourismRecord.objects.none()
    condition = governance_access.scope_q(user, "region__path", access.READ_ROLES) | Q(
        community__in=access.joint_communities_visible(user).values("pk")
    )
    return TourismRecord.objects.filter(condition)


def tourism_record_get_visible(user: AnyUser, record_id: int | str) -> TourismRecord:
    found = (
        tourism_records_visible(user)
        .select_related("region", "community", "community__lead_region")
        .filter(pk=record_id)
        .first()
    )
    if found is None:
        raise NotFound(RECORD_NOT_FOUND)
    return found


def tourism_region_get_visible(user: AnyUser, region_id: int | str) -> TourismSubject:
    """A township or village `user` reads, as a subject; NotFound otherwise."""
    region = Region.objects.filter(pk=region_id, level__in=SUBJECT_LEVELS).select_related("parent").first()
    if region is None or not governance_access.covers(user, str(region.path), access.READ_ROLES):
        raise NotFound(_("未找到该村镇，或者它不在您的管辖范围内。"))
    return TourismSubject(region=region)


def tourism_community_get_visible(user: AnyUser, community_id: int | str) -> TourismSubject:
    community = access.joint_community_get_visible(user, community_id)
    return TourismSubject(community=community)


# --- the year's list --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRow:
    kind: str  # "region" or "community"
    pk: int
    name: str
    kind_label: str
    town: str  # the township it lies in (a brand: its lead village's)
    months: int  # months with figures
    visits: int
    income_fen: int


@dataclass(frozen=True)
class MonthTotal:
    month: dt.date
    visits: int
    income_fen: int
    filled: bool  # any subject has figures for the month


@dataclass(frozen=True)
class TourismYear:
    year: int
    rows: list[SubjectRow]
    months: list[MonthTotal]  # the twelve months of the filtered subjects together
    visits: int
    income_fen: int


def tourism_years(user: AnyUser) -> list[int]:
    """This year and the years with figures `user` sees, latest first."""
    years = set(
        tourism_records_visible(user)
        .annotate(year=ExtractYear("month"))
        .values_list("year", flat=True)
        .distinct()
    )
    years.add(timezone.localdate().year)
    return sorted((int(y) for y in years), reverse=True)


def tourism_year(
    user: AnyUser,
    *,
    year: int,
    kind: str = "",
    township_id: int | None = None,
    sort: str = "visits",
) -> TourismYear:
    """Per subject, the year's visits and income; with the twelve months' totals. `kind` keeps only
    regions or only brands; `township_id` only subjects in (or, a brand, led from) that township."""
    records = tourism_records_visible(user).filter(month__year=year)
    if kind == "region":
        records = records.filter(region__isnull=False)
    elif kind == "community":
        records = records.filter(community__isnull=False)
    if township_id is not None:
        township = Region.objects.filter(pk=township_id, level=RegionLevel.TOWNSHIP).first()
        if township is None:
            records = records.none()
        else:
            records = records.filter(
                Q(region__path__startswith=township.path)
                | Q(community__lead_region__path__startswith=township.path)
            )
    grouped = records.values(
        "region_id",
        "region__name",
        "region__level",
        "region__parent__name",
        "community_id",
        "community__name",
        "community__brand",
        "community__lead_region__parent__name",
    ).annotate(
        visits_sum=Coalesce(Sum("visits"), 0),
        income_sum=Coalesce(Sum("income_fen"), 0),
        filled=Count("pk"),
    )
    rows = [_subject_row(row) for row in grouped]
    rows.sort(key=SORTS.get(sort, SORTS["visits"]))
    monthly = {
        row["month"]: row
        for row in records.values("month").annotate(
            visits_sum=Coalesce(Sum("visits"), 0), income_sum=Coalesce(Sum("income_fen"), 0)
        )
    }
    months = []
    for number in range(1, 13):
        month = dt.date(year, number, 1)
        found = monthly.get(month)
        months.append(
            MonthTotal(
                month=month,
                visits=int(found["visits_sum"]) if found else 0,
                income_fen=int(found["income_sum"]) if found else 0,
                filled=found is not None,
            )
        )
    return TourismYear(
        year=year,
        rows=rows,
        months=months,
        visits=sum(r.visits for r in rows),
        income_fen=sum(r.income_fen for r in rows),
    )


def _subject_row(row: dict[str, Any]) -> SubjectRow:
    if row["region_id"] is not None:
        township = row["region__level"] == RegionLevel.TOWNSHIP
        return SubjectRow(
            kind="region",
            pk=row["region_id"],
            name=row["region__name"],
            kind_label=_("乡镇") if township else _("村（社区）"),
            town=row["region__name"] if township else row["region__parent__name"],
            months=int(row["filled"]),
            visits=int(row["visits_sum"]),
            income_fen=int(row["income_sum"]),
        )
    return SubjectRow(
        kind="community",
        pk=row["community_id"],
        name=row["community__brand"] or row["community__name"],
        kind_label=_("联建品牌"),
        town=row["community__lead_region__parent__name"] or "",
        months=int(row["filled"]),
        visits=int(row["visits_sum"]),
        income_fen=int(row["income_sum"]),
    )


# --- one subject's year -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    month: dt.date
    visits: int | None  # None: not filled in
    income_fen: int | None
    note: str = ""
    record_id: int | None = None
    is_future: bool = False


@dataclass(frozen=True)
class SubjectYear:
    subject: TourismSubject
    year: int
    months: list[MonthRow]
    visits: int
    income_fen: int
    previous_visits: int | None  # the year before (None: no figures then)
    previous_income_fen: int | None
    filled: int = field(default=0)

    @property
    def visits_change_percent(self) -> float | None:
        return _change(self.visits, self.previous_visits)

    @property
    def income_change_percent(self) -> float | None:
        return _change(self.income_fen, self.previous_income_fen)


def _change(now: int, before: int | None) -> float | None:
    if not before:
        return None
    return round((now - before) * 100 / before, 1)


def tourism_subject_year(subject: TourismSubject, *, year: int) -> SubjectYear:
    """The twelve months of `year` for `subject` (already checked visible by the caller), with the year's
    totals and the year before's."""
    records = {r.month: r for r in TourismRecord.objects.filter(**subject.lookup(), month__year=year)}
    this_month = timezone.localdate().replace(day=1)
    months = []
    for number in range(1, 13):
        month = dt.date(year, number, 1)
        record = records.get(month)
        months.append(
            MonthRow(
                month=month,
                visits=record.visits if record else None,
                income_fen=record.income_fen if record else None,
                note=record.note if record else "",
                record_id=record.pk if record else None,
                is_future=month > this_month,
            )
        )
    previous = TourismRecord.objects.filter(**subject.lookup(), month__year=year - 1).aggregate(
        visits=Sum("visits"), income=Sum("income_fen")
    )
    return SubjectYear(
        subject=subject,
        year=year,
        months=months,
        visits=sum(r.visits for r in records.values()),
        income_fen=sum(r.income_fen for r in records.values()),
        previous_visits=previous["visits"],
        previous_income_fen=previous["income"],
        filled=len(records),
    )


# --- what a user may record -------------------------------------------------------------------------------


def tourism_regions_recordable(user: AnyUser) -> list[Region]:
    """Townships and villages `user` may record figures for, in tree order."""
    if not user.is_authenticated:
        return []
    return list(
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.RECORD_ROLES), level__in=SUBJECT_LEVELS
        )
        .select_related("parent")
        .order_by("path")
    )


def tourism_communities_recordable(user: AnyUser) -> list[JointCommunity]:
    """Joint communities whose brand figures `user` may record."""
    if not user.is_authenticated:
        return []
    return list(
        JointCommunity.objects.filter(
            governance_access.scope_q(user, "lead_region__path", access.EVENT_ROLES)
        ).order_by("name")
    )


def townships_visible(user: AnyUser) -> list[Region]:
    """The townships `user` reads (or whose subtree they read part of), for a filter."""
    paths = governance_access.outermost(
        [path for _role, path in governance_access.assignments(user, access.READ_ROLES)]
    )
    if not paths:
        return []
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path) | Q(pk__in=_ancestor_ids(path))
    return list(Region.objects.filter(condition, level=RegionLevel.TOWNSHIP).order_by("path"))


def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]
