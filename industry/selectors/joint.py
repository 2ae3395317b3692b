"""Reads of joint building, for an acting user and inside industry.access.joint_communities_visible:
the list of communities with their member counts, last year's results and tourism; one community's
members, yearly results and its tourism summed per year from its monthly TourismRecord rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from governance import access as governance_access
from governance.models import PartyOrganisation, PartyOrgKind, Region, RegionLevel
from industry import access
from industry.models import Business, JointCommunity, JointMember, JointResult, TourismRecord

AnyUser = access.AnyUser

SORTS = {
    "name": "name",
    "kind": "kind",
    "lead": "lead_region__path",
    "established": "established_on",
    "villages": "village_count",
    "businesses": "business_count",
    "visits": "visits",
    "tourism_income": "tourism_income_fen",
    "jobs": "jobs",
    "income": "income_fen",
}


def _year_sum(field: str, year: int) -> Coalesce:
    rows = (
        TourismRecord.objects.filter(community=OuterRef("pk"), month__year=year)
        .values("community")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _result(field: str, year: int) -> Subquery:
    return Subquery(
        JointResult.objects.filter(community=OuterRef("pk"), year=year).values(field)[:1],
        output_field=IntegerField(),
    )


def communities_list(
    user: AnyUser,
    *,
    year: int,
    kind: str = "",
    township_id: int | None = None,
    q: str = "",
    sort: str = "name",
) -> QuerySet[JointCommunity]:
    """The communities `user` sees, annotated with `village_count`, `business_count`, the year's
    tourism (`visits`, `tourism_income_fen`) and results (`jobs`, `income_fen`, `households`; None
    when not entered). One query."""
    rows = access.joint_communities_visible(user).select_related(
        "lead_region", "lead_region__parent", "party_organisation"
    )
    if kind:
        rows = rows.filter(kind=kind)
    if township_id:
        rows = rows.filter(lead_region__parent_id=township_id)
    if q:
        rows = rows.filter(Q(name__contains=q) | Q(brand__contains=q))
    rows = rows.annotate(
        village_count=Count("members", filter=Q(members__region__isnull=False)),
        business_count=Count("members", filter=Q(members__business__isnull=False)),
        visits=_year_sum("visits", year),
        tourism_income_fen=_year_sum("income_fen", year),
        jobs=_result("jobs", year),
        income_fen=_result("income_fen", year),
        households=_result("households_benefited", year),
    )
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), "name")
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return rows.order_by(order, "name")


def members_of(community: JointCommunity) -> list[JointMember]:
    """Villages first (in tree order), then businesses by name."""
    members = list(
        JointMember.objects.filter(community=community).select_related(
            "region", "region__parent", "business", "business__region"
        )
    )
    return sorted(
        members,
        key=lambda m: (0, m.region.path, "") if m.region else (1, "", m.business.name if m.business else ""),
    )


@dataclass(frozen=True)
class CommunityYear:
    year: int
    visits: int | None
    tourism_income_fen: int | None
    months: int
    result: JointResult | None


def community_years(community: JointCommunity) -> list[CommunityYear]:
    """Per year, newest first: tourism summed over its months (None when no month was entered) and
    the year's results. Two queries."""
    tourism = {
        row["y"]: row
        for row in TourismRecord.objects.filter(community=community)
        .annotate(y=ExtractYear("month"))
        .values("y")
        .annotate(visits=Sum("visits"), income=Sum("income_fen"), months=Count("id"))
    }
    results = {r.year: r for r in JointResult.objects.filter(community=community)}
    years = sorted(set(tourism) | set(results), reverse=True)
    return [
        CommunityYear(
            year=year,
            visits=int(tourism[year]["visits"]) if year in tourism else None,
            tourism_income_fen=int(tourism[year]["income"]) if year in tourism else None,
            months=int(tourism[year]["months"]) if year in tourism else 0,
            result=results.get(year),
        )
        for year in years
    ]


def results_of(community: JointCommunity) -> QuerySet[JointResult]:
    return JointResult.objects.filter(community=community).order_by("-year")


def member_get_visible(user: AnyUser, member_id: int | str) -> JointMember:
    found = (
        JointMember.objects.filter(community__in=access.joint_communities_visible(user))
        .select_related("community", "community__lead_region", "region", "business", "business__region")
        .filter(pk=member_id)
        .first()
    )
    if found is None:
        from common.errors import NotFound

        raise NotFound(access.COMMUNITY_NOT_FOUND)
    return found


# --- what the forms offer ----------------------------------------------------------------------------


def lead_villages_for(user: AnyUser) -> list[Region]:
    """Villages where `user` may lead a community (township and county admins)."""
    if not user.is_authenticated:
        return []
    return list(
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.EVENT_ROLES), level=RegionLevel.VILLAGE
        )
        .select_related("parent")
        .order_by("path")
    )


def member_villages_for(user: AnyUser) -> list[Region]:
    """Villages `user` may add as members (their reading scope)."""
    if not user.is_authenticated:
        return []
    return list(
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.READ_ROLES), level=RegionLevel.VILLAGE
        )
        .select_related("parent")
        .order_by("path")
    )


def member_businesses_for(user: AnyUser) -> list[Business]:
    return list(
        Business.objects.filter(governance_access.scope_q(user, "region__path", access.READ_ROLES))
        .select_related("region")
        .order_by("region__path", "name")[:500]
    )


def joint_committees_for(user: AnyUser) -> list[PartyOrganisation]:
    """Joint Party committees (联合党委) in `user`'s reading scope."""
    if not user.is_authenticated:
        return []
    return list(
        PartyOrganisation.objects.filter(
            governance_access.scope_q(user, "region__path", access.READ_ROLES),
            kind=PartyOrgKind.JOINT_COMMITTEE,
        )
        .select_related("region")
        .order_by("path")
    )


def townships_for_filter(user: AnyUser) -> list[Region]:
    return list(
        Region.objects.filter(
            level=RegionLevel.TOWNSHIP,
            pk__in=access.joint_communities_visible(user).values("lead_region__parent_id"),
        ).order_by("path")
    )


def default_year() -> int:
    return timezone.localdate().year - 1
