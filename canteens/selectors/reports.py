"""Canteen reports for officials, each a fixed number of queries over the sites the user may see:

- budget vs. spent vs. remaining per funder, year to date, with the spend rate projected to the year's
  end (a funder whose budget runs out before 31 December shows the day it runs out and the gap: the
  deficit shows early);
- per canteen: person-times (人次, a reversal counts −1), distinct elders served, cost per meal, what the
  meals cost and who paid it (income = resident payments + subsidies + donation draws; equal to the cost
  by the split's rule, so the balance to watch is the projected gap against the budgets);
- per month for one canteen;
- the people benefiting from canteens and classrooms: distinct residents with a meal (their own, not
  reversed) or a class attendance in the year.

"Year to date" ends today for the current year and on 31 December for a past one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from canteens import access
from canteens.models import Budget, ClassAttendance, ClassSession, Funder, Meal, Site, SiteKind
from canteens.selectors.settlements import fen_to_yuan
from governance.access import AnyUser
from governance.models import Region

FUNDERS: tuple[str, ...] = (Funder.GOVERNMENT, Funder.COMMUNITY, Funder.DONATION, Funder.RESIDENT)
_STANDING = Q(is_guest=False, reverses__isnull=True, voided_at__isnull=True)


def year_span(year: int, today: dt.date | None = None) -> tuple[dt.date, dt.date, int, int]:
    """(1 January, the last day counted, days counted, days in the year) for `year` as of `today`."""
    today = today or timezone.localdate()
    start, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    end = min(last, today) if year == today.year else last
    if year > today.year:
        end = start - dt.timedelta(days=1)
    elapsed = max(0, (end - start).days + 1)
    return start, end, elapsed, (last - start).days + 1


@dataclass(frozen=True)
class FunderRow:
    """One funder's year: budget, spent to date, remaining, and the spend rate projected to 31 December."""

    funder: str
    label: str
    budget_fen: int | None
    spent_fen: int
    projected_fen: int
    runs_out_on: dt.date | None

    @property
    def remaining_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.spent_fen

    @property
    def gap_fen(self) -> int:
        """What the projected year's spend exceeds the budget by (0 without a budget or within it)."""
        if self.budget_fen is None:
            return 0
        return max(0, self.projected_fen - self.budget_fen)

    @property
    def used_percent(self) -> int | None:
        if not self.budget_fen:
            return None
        return round(self.spent_fen * 100 / self.budget_fen)

    @property
    def budget_yuan(self) -> str:
        return "" if self.budget_fen is None else fen_to_yuan(self.budget_fen)

    @property
    def spent_yuan(self) -> str:
        return fen_to_yuan(self.spent_fen)

    @property
    def remaining_yuan(self) -> str:
        remaining = self.remaining_fen
        return "" if remaining is None else fen_to_yuan(remaining)

    @property
    def projected_yuan(self) -> str:
        return fen_to_yuan(self.projected_fen)

    @property
    def gap_yuan(self) -> str:
        return fen_to_yuan(self.gap_fen)


@dataclass(frozen=True)
class Figures:
    """Meal figures of a canteen (or a total) over a span."""

    meals: int = 0
    elders: int = 0
    price_fen: int = 0
    resident_fen: int = 0
    government_fen: int = 0
    government_township_fen: int = 0
    community_fen: int = 0
    donation_fen: int = 0
    shortfall_fen: int = 0

    @property
    def cost_per_meal_fen(self) -> int | None:
        """The average cost of a meal, rounded to the fen (None without meals)."""
        if self.meals <= 0:
            return None
        return (2 * self.price_fen + self.meals) // (2 * self.meals)

    @property
    def income_fen(self) -> int:
        return self.resident_fen + self.government_fen + self.community_fen + self.donation_fen

    @property
    def balance_fen(self) -> int:
        return self.income_fen - self.price_fen

    def spent(self, funder: str) -> int:
        by_funder: dict[str, int] = {
            Funder.GOVERNMENT: self.government_fen,
            Funder.COMMUNITY: self.community_fen,
            Funder.DONATION: self.donation_fen,
            Funder.RESIDENT: self.resident_fen,
        }
        return by_funder[funder]

    def yuan(self, name: str) -> str:
        return fen_to_yuan(getattr(self, name))

    @property
    def cost_per_meal_yuan(self) -> str:
        value = self.cost_per_meal_fen
        return "" if value is None else fen_to_yuan(value)

    @property
    def price_yuan(self) -> str:
        return fen_to_yuan(self.price_fen)

    @property
    def income_yuan(self) -> str:
        return fen_to_yuan(self.income_fen)

    @property
    def resident_yuan(self) -> str:
        return fen_to_yuan(self.resident_fen)

    @property
    def government_yuan(self) -> str:
        return fen_to_yuan(self.government_fen)

    @property
    def community_yuan(self) -> str:
        return fen_to_yuan(self.community_fen)

    @property
    def donation_yuan(self) -> str:
        return fen_to_yuan(self.donation_fen)


@dataclass
class SiteReport:
    site: Site
    figures: Figures
    funders: list[FunderRow] = field(default_factory=list)

    @property
    def gap_fen(self) -> int:
        return sum(row.gap_fen for row in self.funders)

    @property
    def gap_yuan(self) -> str:
        return fen_to_yuan(self.gap_fen)

    @property
    def first_runout(self) -> FunderRow | None:
        dated = [row for row in self.funders if row.runs_out_on is not None]
        return min(dated, key=lambda row: row.runs_out_on or dt.date.max) if dated else None


@dataclass
class CanteenReport:
    """The report over a set of canteens for a year: per canteen, and the totals."""

    year: int
    start: dt.date
    end: dt.date
    elapsed_days: int
    year_days: int
    sites: list[SiteReport]
    total: Figures
    funders: list[FunderRow]
    beneficiaries: int

    @property
    def gap_fen(self) -> int:
        return sum(row.gap_fen for row in self.funders)

    @property
    def gap_yuan(self) -> str:
        return fen_to_yuan(self.gap_fen)


# Keyed "t_<figure>": an annotation may not take a model field's name.
_FIGURE_AGGREGATES = {
    "t_meals": Sum(
        Case(When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField())
    ),
    "t_elders": Count("resident_id", distinct=True, filter=_STANDING),
    "t_price_fen": Sum("price_fen"),
    "t_resident_fen": Sum("resident_fen"),
    "t_government_fen": Sum("government_fen"),
    "t_government_township_fen": Sum("government_fen", filter=Q(government_level="township")),
    "t_community_fen": Sum("community_fen"),
    "t_donation_fen": Sum("donation_fen"),
    "t_shortfall_fen": Sum("donation_shortfall_fen"),
}


def _figures(row: dict[str, int | None]) -> Figures:
    return Figures(**{name[2:]: int(row.get(name) or 0) for name in _FIGURE_AGGREGATES})


def _projected(spent: int, elapsed: int, year_days: int) -> int:
    """The year's spend at the rate so far, rounded to the fen."""
    if elapsed <= 0:
        return spent
    return (2 * spent * year_days + elapsed) // (2 * elapsed)


def _runs_out_on(
    budget: int | None, spent: int, start: dt.date, elapsed: int, year_days: int
) -> dt.date | None:
    """The day the budget runs out at the spend rate so far, when that is within the year; else None."""
    if budget is None or spent <= 0 or elapsed <= 0:
        return None
    days = budget * elapsed // spent  # whole days the budget lasts at this rate
    if days >= year_days:
        return None
    return start + dt.timedelta(days=days)


def funder_rows(
    figures: Figures, budgets: dict[str, int], start: dt.date, elapsed: int, year_days: int
) -> list[FunderRow]:
    rows = []
    for funder in FUNDERS:
        spent = figures.spent(funder)
        budget = budgets.get(funder)
        rows.append(
            FunderRow(
                funder=funder,
                label=str(Funder(funder).label),
                budget_fen=budget,
                spent_fen=spent,
                projected_fen=_projected(spent, elapsed, year_days),
                runs_out_on=_runs_out_on(budget, spent, start, elapsed, year_days),
            )
        )
    return rows


def canteens_in_scope(user: AnyUser, region: Region | None = None) -> QuerySet[Site]:
    """The canteens the user may see, under `region` when given."""
    sites = access.sites_visible(user).filter(kind=SiteKind.CANTEEN)
    if region is not None:
        sites = sites.filter(region__path__startswith=region.path)
    return sites.select_related("region__parent").order_by("region__path", "name")


def canteen_report(
    user: AnyUser,
    *,
    year: int,
    region: Region | None = None,
    site_id: int | None = None,
    today: dt.date | None = None,
) -> CanteenReport:
    """The canteens the user may see (under `region`, or the one `site_id`) for `year`, year to date.
    Five queries: the sites, the meals per site, the meals' total (distinct elders over all), the
    budgets, the beneficiaries."""
    sites_qs = canteens_in_scope(user, region)
    if site_id is not None:
        sites_qs = sites_qs.filter(pk=site_id)
    sites = list(sites_qs)
    ids = [site.pk for site in sites]
    start, end, elapsed, year_days = year_span(year, today)
    meals = Meal.objects.filter(site_id__in=ids, served_on__gte=start, served_on__lte=end)
    per_site = {
        row["site_id"]: _figures(row)
        for row in meals.values("site_id").annotate(**_FIGURE_AGGREGATES).order_by()
    }
    total = _figures(meals.aggregate(**_FIGURE_AGGREGATES)) if ids else Figures()
    budgets: dict[int, dict[str, int]] = {}
    for site_pk, funder, amount in Budget.objects.filter(site_id__in=ids, year=year).values_list(
        "site_id", "funder", "amount_fen"
    ):
        budgets.setdefault(site_pk, {})[funder] = amount
    reports = []
    for site in sites:
        figures = per_site.get(site.pk, Figures())
        reports.append(
            SiteReport(
                site=site,
                figures=figures,
                funders=funder_rows(figures, budgets.get(site.pk, {}), start, elapsed, year_days),
            )
        )
    total_budgets: dict[str, int] = {}
    for site_budgets in budgets.values():
        for funder, amount in site_budgets.items():
            total_budgets[funder] = total_budgets.get(funder, 0) + amount
    # A total gap is the sum of the canteens' gaps (one canteen's surplus does not pay another's meals),
    # so the total rows carry the sum of the per-site projections and the earliest run-out.
    total_funders = []
    for index, funder in enumerate(FUNDERS):
        site_rows = [report.funders[index] for report in reports]
        dated = [row.runs_out_on for row in site_rows if row.runs_out_on is not None]
        total_funders.append(
            _TotalFunderRow(
                funder=funder,
                label=str(Funder(funder).label),
                budget_fen=total_budgets.get(funder),
                spent_fen=total.spent(funder),
                projected_fen=sum(row.projected_fen for row in site_rows),
                runs_out_on=min(dated) if dated else None,
                summed_gap_fen=sum(row.gap_fen for row in site_rows),
            )
        )
    return CanteenReport(
        year=year,
        start=start,
        end=end,
        elapsed_days=elapsed,
        year_days=year_days,
        sites=reports,
        total=total,
        funders=list(total_funders),
        beneficiaries=beneficiaries_count(user, year=year, region=region, site_id=site_id, today=today),
    )


@dataclass(frozen=True)
class _TotalFunderRow(FunderRow):
    summed_gap_fen: int = 0

    @property
    def gap_fen(self) -> int:
        return self.summed_gap_fen


def beneficiaries_count(
    user: AnyUser,
    *,
    year: int,
    region: Region | None = None,
    site_id: int | None = None,
    today: dt.date | None = None,
) -> int:
    """Distinct residents who had a meal of their own (not a guest's, not reversed) at a canteen, or
    attended a class at a classroom, that the user may see (under `region`; for one canteen `site_id`:
    its meals and the classes of the classrooms it hosts), in `year` to date. One query."""
    start, end, _elapsed, _days = year_span(year, today)
    sites = access.sites_visible(user)
    if region is not None:
        sites = sites.filter(region__path__startswith=region.path)
    if site_id is not None:
        canteens = sites.filter(pk=site_id, kind=SiteKind.CANTEEN)
        classrooms = sites.filter(host_id=site_id, kind=SiteKind.CLASSROOM)
    else:
        canteens = sites.filter(kind=SiteKind.CANTEEN)
        classrooms = sites.filter(kind=SiteKind.CLASSROOM)
    eaters = Meal.objects.filter(
        _STANDING, site__in=canteens, served_on__gte=start, served_on__lte=end
    ).values("resident_id")
    pupils = ClassAttendance.objects.filter(
        session__in=ClassSession.objects.filter(site__in=classrooms, held_on__gte=start, held_on__lte=end)
    ).values("resident_id")
    union = eaters.union(pupils)  # UNION (not ALL): a resident counts once
    sql, params = union.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS people", params)  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class MonthRow:
    month: dt.date
    figures: Figures


def canteen_months(site: Site, *, year: int, today: dt.date | None = None) -> list[MonthRow]:
    """One canteen's figures per month of `year` to date (months without meals left out). One query."""
    start, end, _elapsed, _days = year_span(year, today)
    rows = (
        Meal.objects.filter(site=site, served_on__gte=start, served_on__lte=end)
        .annotate(period=TruncMonth("served_on"))
        .values("period")
        .annotate(**_FIGURE_AGGREGATES)
        .order_by("period")
    )
    result = []
    for row in rows:
        period = row["period"]
        if isinstance(period, dt.datetime):
            period = period.date()
        result.append(MonthRow(month=period, figures=_figures(row)))
    return result
