"""Reads for the grid leader's home page (/grids/): their grids and households, their open cases with
deadlines, cases waiting for their follow-up, notifications and this month's work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case as When_
from django.db.models import Count, F, IntegerField, Q, Value, When
from django.utils import timezone

from governance.models import Household, Region, User
from grids.access import cases_visible, grid_leader_grids
from grids.models import Case, CaseStatus, Notification, WarningLevel, WorkLogEntry
from grids.workflow import OPEN_STATES

AnyUser = AbstractBaseUser | AnonymousUser

OPEN_CASES_SHOWN = 20
FOLLOW_UPS_SHOWN = 10
NOTIFICATIONS_SHOWN = 8
WORK_SHOWN = 5


@dataclass
class LeaderHome:
    """What the home page shows; every list already limited, every count exact."""

    grids: list[Region]
    households_count: int
    open_cases: list[Case]
    open_count: int
    red_count: int
    yellow_count: int
    follow_ups: list[Case]
    notifications: list[Notification]
    unread_count: int
    filed_this_month: int
    work_this_month: int
    recent_work: list[WorkLogEntry] = field(default_factory=list)
    month_start: dt.date | None = None


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight of the first day of the current month, local time (Asia/Shanghai)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _mine(user: AnyUser, grid_ids: list[int]) -> Q:
    """Cases the leader is responsible for: filed by them, in one of their grids, or assigned to them."""
    return Q(reporter_id=user.pk) | Q(grid_id__in=grid_ids) | Q(assigned_user_id=user.pk)


def leader_home(user: User) -> LeaderHome:
    """The home page of a grid leader, in a constant number of queries (10), whatever the case count.

    Open cases: red warnings first, then yellow, then the nearest deadline, then the newest.
    Follow-ups: resolved cases the leader reported (回访 by the reporter), oldest resolution first.
    """
    grids = list(grid_leader_grids(user).select_related("parent").order_by("path"))
    grid_ids = [grid.pk for grid in grids]
    start = month_start()

    households_count = Household.objects.filter(grid_id__in=grid_ids, is_active=True).count()

    visible = cases_visible(user).filter(_mine(user, grid_ids))
    open_cases_qs = visible.filter(status__in=OPEN_STATES)
    counts = open_cases_qs.order_by().aggregate(
        total=Count("id"),
        red=Count("id", filter=Q(warning=WarningLevel.RED)),
        yellow=Count("id", filter=Q(warning=WarningLevel.YELLOW)),
    )
    warning_rank = When_(
        When(warning=WarningLevel.RED, then=Value(0)),
        When(warning=WarningLevel.YELLOW, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    open_cases: list[Case] = list(
        open_cases_qs.select_related("category", "grid")
        .annotate(warning_rank=warning_rank)
        .order_by(
            "warning_rank",
            F("resolve_deadline").asc(nulls_last=True),
            F("sign_deadline").asc(nulls_last=True),
            "-filed_at",
            "-id",
        )[:OPEN_CASES_SHOWN]
    )
    follow_ups = list(
        visible.filter(status=CaseStatus.RESOLVED, reporter_id=user.pk)
        .select_related("category", "grid")
        .order_by("resolved_at", "id")[:FOLLOW_UPS_SHOWN]
    )
    notifications_qs = Notification.objects.filter(user_id=user.pk)
    notifications = list(
        notifications_qs.select_related("case").order_by(
            F("read_at").asc(nulls_first=True), "-created_at", "-id"
        )[:NOTIFICATIONS_SHOWN]
    )
    unread_count = notifications_qs.filter(read_at__isnull=True).count()
    filed_this_month = Case.objects.filter(reporter_id=user.pk, filed_at__gte=start).count()
    work = WorkLogEntry.objects.filter(author_id=user.pk, occurred_on__gte=start.date())
    work_this_month = work.count()
    recent_work = list(work.order_by("-occurred_on", "-id")[:WORK_SHOWN])
    return LeaderHome(
        grids=grids,
        households_count=households_count,
        open_cases=open_cases,
        open_count=counts["total"] or 0,
        red_count=counts["red"] or 0,
        yellow_count=counts["yellow"] or 0,
        follow_ups=follow_ups,
        notifications=notifications,
        unread_count=unread_count,
        filed_this_month=filed_this_month,
        work_this_month=work_this_month,
        recent_work=recent_work,
        month_start=start.date(),
    )
