"""The public points board of a village (积分公示榜): read without logging in, so it carries no personal
data at all — households are named by the head's masked name (张*明, governance.pii.mask_name) and
their household number; no ID number, phone, full name or address beyond the grid's name. Award notes
(free text that may name people) are never shown, only the catalog item.

Every read here is for anyone: the village is found by its statistical code, and the only rows read are
that village's households, accounts and awards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, Rank
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance.models import Household, Region, RegionLevel
from governance.pii import mask_name
from points.models import Award, AwardStatus, ObjectionStatus

PAGE_SIZE = 50
HONOUR_SIZE = 10
POSTED_LIMIT = 100
POSTER_RANKS = 20


@dataclass(frozen=True)
class BoardHousehold:
    rank: int
    number: str
    name: str  # the head's masked name
    grid: str
    balance: int
    pending: int


@dataclass(frozen=True)
class BoardAward:
    id: int
    household_number: str
    household_name: str  # masked
    resident_name: str  # masked; "" when the award names no resident
    grid: str
    rule_code: str
    rule_name: str
    category: str
    points: int
    occurred_on: dt.date
    notice_ends_at: dt.datetime | None
    posted_at: dt.datetime | None
    open_objections: int = 0


@dataclass(frozen=True)
class HonourRow:
    rank: int
    number: str
    name: str
    grid: str
    points: int


@dataclass
class Board:
    village: Region
    township_name: str
    month: dt.date  # the first day of the month shown
    households: Page  # of BoardHousehold
    household_count: int
    pending: list[BoardAward]
    posted: list[BoardAward]
    posted_count: int
    posted_points: int
    honour: list[HonourRow]
    months: list[dt.date] = field(default_factory=list)


def board_village_get(*, code: str) -> Region:
    """The village (or community) whose current statistical code is `code`; NotFound (404) otherwise.

    Codes are re-issued (design.md §1): a region whose code has a `valid_to` is no longer that code."""
    village = (
        Region.objects.filter(code=code, level=RegionLevel.VILLAGE, valid_to__isnull=True)
        .select_related("parent")
        .order_by("-pk")
        .first()
    )
    if village is None:
        raise NotFound(_("未找到该村（社区）的积分公示榜。"))
    return village


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    following = (month + dt.timedelta(days=32)).replace(day=1)
    end = timezone.make_aware(dt.datetime.combine(following, dt.time.min))
    return start, end


def board_month_parse(raw: str | None, *, today: dt.date | None = None) -> dt.date:
    """The month a board shows: `raw` as YYYY-MM when it is a valid month not in the future, else the
    current month (a wrong value in a shared link shows the current board rather than an error)."""
    current = month_start(today or timezone.localdate())
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        chosen = dt.date(year, month, 1)
    except ValueError:
        return current
    return chosen if dt.date(2000, 1, 1) <= chosen <= current else current


def _household_rows(village: Region) -> list[dict]:
    return list(
        Household.objects.filter(grid__path__startswith=village.path, is_active=True)
        .annotate(
            balance=Coalesce(F("points_account__balance"), Value(0), output_field=IntegerField()),
            pending_points=Coalesce(F("points_account__pending"), Value(0), output_field=IntegerField()),
        )
        .annotate(rank=Window(Rank(), order_by=F("balance").desc()))
        .order_by("-balance", "number", "pk")
        .values("number", "head__name", "grid__name", "balance", "pending_points", "rank")
    )


def _household(row: dict) -> BoardHousehold:
    return BoardHousehold(
        rank=row["rank"],
        number=row["number"],
        name=mask_name(row["head__name"] or ""),
        grid=row["grid__name"],
        balance=row["balance"],
        pending=row["pending_points"],
    )


def _awards(village: Region):
    return Award.objects.filter(household__grid__path__startswith=village.path).select_related(
        "household__head", "household__grid", "resident", "rule"
    )


def _award(award: Award, open_objections: int = 0) -> BoardAward:
    head = award.household.head
    return BoardAward(
        id=award.pk,
        household_number=award.household.number,
        household_name=mask_name(head.name if head is not None else ""),
        resident_name=mask_name(award.resident.name) if award.resident is not None else "",
        grid=award.household.grid.name,
        rule_code=award.rule.code,
        rule_name=award.rule.name,
        category=award.rule.get_category_display(),
        points=award.points,
        occurred_on=award.occurred_on,
        notice_ends_at=award.notice_ends_at,
        posted_at=award.posted_at,
        open_objections=open_objections,
    )


def board_pending_awards(*, village: Region, now: dt.datetime | None = None) -> list[BoardAward]:
    """The village's awards under public notice whose period has not ended, soonest end first, each with
    its number of open objections."""
    now = now or timezone.now()
    rows = (
        _awards(village)
        .filter(status=AwardStatus.NOTICE, notice_ends_at__gt=now)
        .annotate(open_count=Count("objections", filter=Q(objections__status=ObjectionStatus.OPEN)))
        .order_by("notice_ends_at", "pk")
    )
    return [_award(a, a.open_count) for a in rows]


def board_award_under_notice(*, village: Region, award_id: int, now: dt.datetime | None = None) -> Award:
    """The award `award_id` if it is on this village's board and still open for objection; NotFound
    otherwise (an award of another village, or one no longer under notice, is not on this board)."""
    now = now or timezone.now()
    award = (
        _awards(village)
        .filter(pk=award_id, status=AwardStatus.NOTICE, notice_ends_at__gt=now)
        .select_related("household__grid__parent")
        .first()
    )
    if award is None:
        raise NotFound(_("该条公示不存在或公示期已结束。"))
    return award


def board_honour_list(*, village: Region, month: dt.date, size: int = HONOUR_SIZE) -> list[HonourRow]:
    """月度光荣榜: the households with the most points posted in `month` (awards net of deductions, only
    households with a positive total), at most `size`; ties share a rank and go by household number."""
    start, end = _month_bounds(month)
    rows = (
        Award.objects.filter(
            household__grid__path__startswith=village.path,
            status=AwardStatus.POSTED,
            posted_at__gte=start,
            posted_at__lt=end,
        )
        .values("household_id", "household__number", "household__head__name", "household__grid__name")
        .annotate(total=Sum("points"))
        .filter(total__gt=0)
        .order_by("-total", "household__number")[:size]
    )
    honour: list[HonourRow] = []
    previous: int | None = None
    rank = 0
    for position, row in enumerate(rows, start=1):
        if row["total"] != previous:
            rank, previous = position, row["total"]
        honour.append(
            HonourRow(
                rank=rank,
                number=row["household__number"],
                name=mask_name(row["household__head__name"] or ""),
                grid=row["household__grid__name"],
                points=row["total"],
            )
        )
    return honour


def board_get(
    *, code: str, month: dt.date | None = None, page: int | str = 1, page_size: int = PAGE_SIZE
) -> Board:
    """The whole board of the village with code `code`: a page of the household ranking by balance
    (ties share a rank), this month's posted awards (the latest POSTED_LIMIT and their count and total),
    awards under notice, and the month's honour list. NotFound (404) for an unknown code."""
    village = board_village_get(code=code)
    month = month or month_start(timezone.localdate())
    households = [_household(row) for row in _household_rows(village)]
    paginator = Paginator(households, page_size)
    start, end = _month_bounds(month)
    posted_qs = _awards(village).filter(status=AwardStatus.POSTED, posted_at__gte=start, posted_at__lt=end)
    totals = posted_qs.aggregate(count=Count("pk"), points=Coalesce(Sum("points"), 0))
    posted = [_award(a) for a in posted_qs.order_by("-posted_at", "-pk")[:POSTED_LIMIT]]
    current = month_start(timezone.localdate())
    months = [current]
    while len(months) < 12:
        months.append(month_start(months[-1] - dt.timedelta(days=1)))
    return Board(
        village=village,
        township_name=village.parent.name if village.parent is not None else "",
        month=month,
        households=paginator.get_page(page),
        household_count=paginator.count,
        pending=board_pending_awards(village=village),
        posted=posted,
        posted_count=totals["count"],
        posted_points=totals["points"],
        honour=board_honour_list(village=village, month=month),
        months=months,
    )
