"""Reads of awards for the pages and the API, always scoped to the acting user (points.access)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access as governance_access
from governance.models import Household, Region, RegionLevel, Resident, ResidentStatus
from points import access
from points.models import Award, AwardStatus, Objection, ObjectionStatus

AnyUser = AbstractBaseUser | AnonymousUser

REVIEWER_ROLES = access.REVIEWER_ROLES


def awards_list(
    user: AnyUser,
    *,
    status: str = "",
    village: int | None = None,
    grid: int | None = None,
    household: int | None = None,
    period: str = "",
    query: str = "",
) -> QuerySet[Award]:
    """The awards visible to `user`, filtered, newest first, with what a list row shows joined and
    `open_objections` counted."""
    awards = access.awards_visible(user).select_related(
        "household__grid__parent", "household__head", "rule", "resident", "proposed_by"
    )
    if status:
        awards = awards.filter(status=status)
    if village:
        awards = awards.filter(household__grid__parent_id=village)
    if grid:
        awards = awards.filter(household__grid_id=grid)
    if household:
        awards = awards.filter(household_id=household)
    if period:
        awards = awards.filter(period=period)
    if query:
        awards = awards.filter(
            Q(household__number__icontains=query)
            | Q(household__head__name__contains=query)
            | Q(rule__name__contains=query)
            | Q(rule__code__icontains=query)
        )
    return awards.annotate(
        open_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.OPEN))
    ).order_by("-proposed_at", "-id")


def award_detail(user: AnyUser, award_id: int | str) -> Award:
    """One award visible to `user`, with photos and objections; NotFound (404) otherwise."""
    award = access.award_get_visible(user, award_id)
    return (
        Award.objects.select_related(
            "household__grid__parent",
            "household__head",
            "rule__region",
            "resident",
            "proposed_by",
            "reviewed_by",
            "transaction",
        )
        .prefetch_related("photos", Prefetch("objections", queryset=Objection.objects.order_by("created_at")))
        .get(pk=award.pk)
    )


def review_queue(user: AnyUser) -> QuerySet[Award]:
    """The PROPOSED awards `user` may review (village secretary of the village, or above), oldest first."""
    scope = governance_access.scope_q(user, "household__grid__path", REVIEWER_ROLES)
    return (
        Award.objects.filter(scope, status=AwardStatus.PROPOSED)
        .select_related("household__grid__parent", "household__head", "rule", "resident", "proposed_by")
        .prefetch_related("photos")
        .order_by("proposed_at", "id")
    )


def objections_open(user: AnyUser) -> QuerySet[Objection]:
    """Open objections to awards `user` may review, oldest first."""
    scope = governance_access.scope_q(user, "award__household__grid__path", REVIEWER_ROLES)
    return (
        Objection.objects.filter(scope, status=ObjectionStatus.OPEN)
        .select_related("award__household__grid", "award__rule", "award__household__head")
        .order_by("created_at")
    )


def objection_get_reviewable(user: AnyUser, objection_id: int | str) -> Objection:
    scope = governance_access.scope_q(user, "award__household__grid__path", REVIEWER_ROLES)
    found = (
        Objection.objects.filter(scope)
        .select_related("award__household__grid")
        .filter(pk=objection_id)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该异议，或者它不在您的管辖范围内。"))
    return found


def proposer_grids(user: AnyUser) -> QuerySet[Region]:
    """The grids where `user` may propose: every grid under their proposer roles' regions."""
    scope = governance_access.scope_q(user, "path", access.PROPOSER_ROLES)
    return Region.objects.filter(scope, level=RegionLevel.GRID).select_related("parent").order_by("path")


def grid_households(user: AnyUser, grid_id: int) -> QuerySet[Household]:
    """The active households of a grid where `user` may propose, by number; empty if out of scope."""
    scope = governance_access.scope_q(user, "grid__path", access.PROPOSER_ROLES)
    return (
        Household.objects.filter(scope, grid_id=grid_id, is_active=True)
        .select_related("head", "grid")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Resident.objects.exclude(
                    status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT]
                ).order_by("id"),
            )
        )
        .order_by("number")
    )


def household_for_proposal(user: AnyUser, household_id: int | str) -> Household:
    """A household `user` may propose for (grid joined); NotFound otherwise."""
    scope = governance_access.scope_q(user, "grid__path", access.PROPOSER_ROLES)
    found = Household.objects.filter(scope).select_related("grid").filter(pk=household_id).first()
    if found is None:
        raise NotFound(_("未找到该户，或者它不在您的管辖范围内。"))
    return found


def batch_existing(
    households: list[int], rule_ids: list[int], periods: dict[int, str]
) -> set[tuple[int, int]]:
    """(household id, rule id) pairs that already have a counted award in the rule's period (`periods`:
    rule id → period key) — the batch form marks them."""
    if not households or not rule_ids:
        return set()
    condition = Q()
    for rule_id, period in periods.items():
        condition |= Q(rule_id=rule_id, period=period)
    rows = Award.objects.filter(
        condition,
        household_id__in=households,
        status__in=[AwardStatus.PROPOSED, AwardStatus.NOTICE, AwardStatus.POSTED],
    ).values_list("household_id", "rule_id")
    return set(rows)


def is_reviewer(user: AnyUser) -> bool:
    return bool(governance_access.assignments(user, REVIEWER_ROLES))


def is_proposer(user: AnyUser) -> bool:
    return bool(governance_access.assignments(user, access.PROPOSER_ROLES))


def month_bounds(month: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a "YYYY-MM" month, or None if it does not parse."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m").date().replace(day=1)
    except ValueError:
        return None
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)
