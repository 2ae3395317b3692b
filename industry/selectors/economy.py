"""Reads of the village collective economy, always for an acting user and inside their scope (the reading
roles of industry.access over the villages' paths). Every figure is aggregated in the database, in a
constant number of queries whatever the number of villages.

Thresholds: a year uses its own CollectiveThreshold row; a year without one uses the latest earlier
year's; with none at all, the built-in default applies: a village under 100,000 元 is weak (薄弱村) and no
village is flagged strong. Only villages that reported for the year (at least one source row, 0 included)
are flagged, averaged and counted in the median; the others show as not reported (未填报).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as governance_access
from governance.models import Region, RegionLevel
from industry import access
from industry.models import CollectiveIncome, CollectiveThreshold, IncomeSource

AnyUser = access.AnyUser

DEFAULT_WEAK_BELOW_FEN = 100_000 * 100
VILLAGE_NOT_FOUND = gettext_lazy("未找到该村（社区），或者它不在您的管辖范围内。")

STATUS_UNREPORTED = "unreported"
STATUS_WEAK = "weak"
STATUS_ORDINARY = "ordinary"
STATUS_STRONG = "strong"
STATUS_LABELS = {
    STATUS_UNREPORTED: gettext_lazy("未填报"),
    STATUS_WEAK: gettext_lazy("薄弱村"),
    STATUS_ORDINARY: gettext_lazy("一般村"),
    STATUS_STRONG: gettext_lazy("强村"),
}
_STATUS_BY_RANK = {0: STATUS_UNREPORTED, 1: STATUS_WEAK, 2: STATUS_ORDINARY, 3: STATUS_STRONG}


@dataclass(frozen=True)
class Threshold:
    """The lines that apply to `year`; `from_year` is the year whose row they come from (None: the
    built-in default)."""

    year: int
    weak_below_fen: int
    strong_from_fen: int | None
    from_year: int | None

    @property
    def is_default(self) -> bool:
        return self.from_year is None

    @property
    def is_inherited(self) -> bool:
        return self.from_year is not None and self.from_year != self.year

    def status(self, total_fen: int | None) -> str:
        """The flag for a village's total (None: not reported)."""
        if total_fen is None:
            return STATUS_UNREPORTED
        if total_fen < self.weak_below_fen:
            return STATUS_WEAK
        if self.strong_from_fen is not None and total_fen >= self.strong_from_fen:
            return STATUS_STRONG
        return STATUS_ORDINARY


def _threshold_from(year: int, rows: list[CollectiveThreshold]) -> Threshold:
    """`rows` ordered by year descending."""
    for row in rows:
        if row.year <= year:
            return Threshold(year, row.weak_below_fen, row.strong_from_fen, row.year)
    return Threshold(year, DEFAULT_WEAK_BELOW_FEN, None, None)


def threshold_for(year: int) -> Threshold:
    """The thresholds that apply to `year` (one query)."""
    row = CollectiveThreshold.objects.filter(year__lte=year).order_by("-year").first()
    return _threshold_from(year, [row] if row is not None else [])


def thresholds_for(years: list[int]) -> dict[int, Threshold]:
    """The thresholds of each year in `years` (one query)."""
    if not years:
        return {}
    rows = list(CollectiveThreshold.objects.filter(year__lte=max(years)).order_by("-year"))
    return {year: _threshold_from(year, rows) for year in years}


def thresholds_list() -> list[CollectiveThreshold]:
    return list(CollectiveThreshold.objects.order_by("-year"))


# --- villages in scope -------------------------------------------------------------------------------


def villages_visible(user: AnyUser) -> QuerySet[Region]:
    """The villages and communities in `user`'s reading scope."""
    if not user.is_authenticated:
        return Region.objects.none()
    return Region.objects.filter(
        governance_access.scope_q(user, "path", access.READ_ROLES), level=RegionLevel.VILLAGE
    )


def village_get_visible(user: AnyUser, village_id: int | str) -> Region:
    found = villages_visible(user).select_related("parent").filter(pk=village_id).first()
    if found is None:
        raise NotFound(VILLAGE_NOT_FOUND)
    return found


def region_get_visible(user: AnyUser, region_id: int | str) -> Region:
    """Any region (county, township or village) in `user`'s reading scope; NotFound otherwise."""
    if not user.is_authenticated:
        raise NotFound(VILLAGE_NOT_FOUND)
    found = (
        Region.objects.filter(governance_access.scope_q(user, "path", access.READ_ROLES))
        .exclude(level=RegionLevel.GRID)
        .select_related("parent")
        .filter(pk=region_id)
        .first()
    )
    if found is None:
        raise NotFound(VILLAGE_NOT_FOUND)
    return found


def townships_for_filter(user: AnyUser) -> list[Region]:
    """The townships with a village in `user`'s scope, in tree order."""
    return list(
        Region.objects.filter(
            level=RegionLevel.TOWNSHIP, pk__in=villages_visible(user).values("parent_id")
        ).order_by("path")
    )


def latest_year(user: AnyUser) -> int:
    """The latest year any village in scope has income for; last year when there is none."""
    found = CollectiveIncome.objects.filter(village__in=villages_visible(user)).aggregate(y=Max("year"))["y"]
    return int(found) if found else timezone.localdate().year - 1


# --- the table of villages for a year -----------------------------------------------------------------


def _source_key(source: str) -> str:
    return f"src_{source}"


SORTS: dict[str, str] = {
    "village": "path",
    "total": "total",
    "last_total": "last_total",
    "change": "change",
    "change_pct": "change_pct",
    "status": "status_rank",
    **{_source_key(s): _source_key(s) for s in IncomeSource.values},
}


def income_table(
    user: AnyUser,
    *,
    year: int,
    township_id: int | None = None,
    weak_only: bool = False,
    source: str = "",
    q: str = "",
    sort: str = "village",
    threshold: Threshold | None = None,
) -> QuerySet[Region]:
    """The villages in scope for `year`, one row each, annotated with `total` (0 when not reported),
    `reported` (number of source rows), one `src_<source>` per IncomeSource (None: no row), `last_total`
    (None when last year was not reported), `change` (fen) and `change_pct` (float, None without a
    positive last year), and `status_rank` (0 not reported, 1 weak, 2 ordinary, 3 strong).

    Filters: a township, weak villages only, villages with income from `source` (amount > 0), a name.
    `sort` is a key of SORTS, "-" first for descending. One query (two with the paginator's count)."""
    threshold = threshold or threshold_for(year)
    this_year = Q(collective_incomes__year=year)
    last_year = Q(collective_incomes__year=year - 1)
    rows = villages_visible(user).select_related("parent")
    if township_id:
        rows = rows.filter(parent_id=township_id)
    if q:
        rows = rows.filter(name__contains=q)
    per_source = {
        _source_key(s): Sum(
            "collective_incomes__amount_fen", filter=this_year & Q(collective_incomes__source=s)
        )
        for s in IncomeSource.values
    }
    rows = rows.annotate(
        reported=Count("collective_incomes", filter=this_year),
        total=Coalesce(Sum("collective_incomes__amount_fen", filter=this_year), 0),
        last_total=Sum("collective_incomes__amount_fen", filter=last_year),
        **per_source,
    ).annotate(
        change=Case(
            When(reported__gt=0, last_total__isnull=False, then=F("total") - F("last_total")),
            default=None,
        ),
        change_pct=Case(
            When(
                reported__gt=0,
                last_total__gt=0,
                then=Cast(F("total") - F("last_total"), FloatField())
                * 100.0
                / Cast(F("last_total"), FloatField()),
            ),
            default=None,
            output_field=FloatField(),
        ),
        status_rank=_status_rank(threshold),
    )
    if weak_only:
        rows = rows.filter(status_rank=1)
    if source in IncomeSource.values:
        rows = rows.filter(**{f"{_source_key(source)}__gt": 0})
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), "path")
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return rows.order_by(order, "path")


def _status_rank(threshold: Threshold) -> Case:
    whens = [
        When(reported=0, then=Value(0)),
        When(total__lt=threshold.weak_below_fen, then=Value(1)),
    ]
    if threshold.strong_from_fen is not None:
        whens.append(When(total__gte=threshold.strong_from_fen, then=Value(3)))
    return Case(*whens, default=Value(2), output_field=IntegerField())


def status_of_rank(rank: int) -> str:
    return _STATUS_BY_RANK[rank]


# --- township summary (villages, weak, total, average, median) ------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One township (or the whole scope, `region` None) for a year: `villages` in scope, how many
    `reported`, how many are `weak` / `strong`, the `total`, and the `average` and `median` of the
    reporting villages' totals (fen, rounded half up; None when none reported)."""

    region: Region | None
    villages: int
    reported: int
    weak: int
    strong: int
    total_fen: int
    average_fen: int | None
    median_fen: int | None


_SUMMARY_SQL = """
WITH v AS (
    SELECT r.id, r.parent_id AS township_id, 1 AS everything, SUM(ci.amount_fen) AS total
    FROM {region} r
    LEFT JOIN {income} ci ON ci.village_id = r.id AND ci.year = %s
    WHERE r.level = %s AND ({scope})
    GROUP BY r.id, r.parent_id
),
ranked AS (
    SELECT {part} AS grp, total,
           ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY total) AS rn,
           COUNT(*) OVER (PARTITION BY {part}) AS n
    FROM v WHERE total IS NOT NULL
),
med AS (
    SELECT grp, AVG(total * 1.0) AS median FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY grp
)
SELECT {part} AS grp,
       COUNT(*) AS villages,
       COUNT(v.total) AS reported,
       SUM(CASE WHEN v.total IS NOT NULL AND v.total < %s THEN 1 ELSE 0 END) AS weak,
       SUM(CASE WHEN v.total IS NOT NULL AND v.total >= %s THEN 1 ELSE 0 END) AS strong,
       COALESCE(SUM(v.total), 0) AS total,
       AVG(v.total * 1.0) AS average,
       MAX(med.median) AS median
FROM v LEFT JOIN med ON med.grp = {part}
GROUP BY {part}
"""


def _round_half_up(value: Any) -> int | None:
    if value is None:
        return None
    return int(float(value) + 0.5)


def _summary_rows(paths: list[str], year: int, threshold: Threshold, *, by_township: bool) -> list[tuple]:
    scope = " OR ".join(["r.path LIKE %s"] * len(paths))
    sql = _SUMMARY_SQL.format(
        region=Region._meta.db_table,
        income=CollectiveIncome._meta.db_table,
        scope=scope,
        part="township_id" if by_township else "everything",
    )
    # No strong line: a bound no total reaches keeps the statement the same shape.
    strong = threshold.strong_from_fen if threshold.strong_from_fen is not None else 2**62
    params: list[Any] = [
        year,
        RegionLevel.VILLAGE,
        *[f"{p}%" for p in paths],
        threshold.weak_below_fen,
        strong,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass
class Summary:
    year: int
    threshold: Threshold
    townships: list[SummaryRow] = field(default_factory=list)
    overall: SummaryRow | None = None


def township_summary(user: AnyUser, *, year: int, threshold: Threshold | None = None) -> Summary:
    """Per township in `user`'s scope, and over the whole scope, for `year` (three queries)."""
    threshold = threshold or threshold_for(year)
    summary = Summary(year=year, threshold=threshold)
    if not user.is_authenticated:
        return summary
    paths = governance_access.outermost(
        [path for _role, path in governance_access.assignments(user, access.READ_ROLES)]
    )
    if not paths:
        return summary
    rows = _summary_rows(paths, year, threshold, by_township=True)
    townships = Region.objects.in_bulk([row[0] for row in rows])

    def make(region: Region | None, row: tuple) -> SummaryRow:
        return SummaryRow(
            region=region,
            villages=int(row[1]),
            reported=int(row[2]),
            weak=int(row[3] or 0),
            strong=int(row[4] or 0),
            total_fen=int(row[5] or 0),
            average_fen=_round_half_up(row[6]),
            median_fen=_round_half_up(row[7]),
        )

    summary.townships = sorted(
        (make(townships.get(row[0]), row) for row in rows),
        key=lambda r: r.region.path if r.region else "",
    )
    overall = _summary_rows(paths, year, threshold, by_township=False)
    if overall:
        summary.overall = make(None, overall[0])
    return summary


# --- one village over the years -------------------------------------------------------------------------


@dataclass(frozen=True)
class VillageYear:
    year: int
    amounts_fen: dict[str, int]
    threshold: Threshold
    last_total_fen: int | None

    @property
    def reported(self) -> bool:
        return bool(self.amounts_fen)

    @property
    def total_fen(self) -> int | None:
        return sum(self.amounts_fen.values()) if self.amounts_fen else None

    @property
    def change_fen(self) -> int | None:
        if self.total_fen is None or self.last_total_fen is None:
            return None
        return self.total_fen - self.last_total_fen

    @property
    def change_pct(self) -> float | None:
        if self.change_fen is None or not self.last_total_fen:
            return None
        return self.change_fen * 100.0 / self.last_total_fen

    @property
    def status(self) -> str:
        return self.threshold.status(self.total_fen)


def village_years(village: Region, *, at_least: int = 3, until: int | None = None) -> list[VillageYear]:
    """`village`'s income per year, newest first: every year it has rows for, and at least the
    `at_least` years up to `until` (default: last year, or the latest year with rows). Two queries."""
    rows = list(CollectiveIncome.objects.filter(village=village).values_list("year", "source", "amount_fen"))
    by_year: dict[int, dict[str, int]] = {}
    for year, source, fen in rows:
        by_year.setdefault(year, {})[source] = fen
    last = until or max([timezone.localdate().year - 1, *by_year])
    years = sorted(set(by_year) | set(range(last - at_least + 1, last + 1)), reverse=True)
    thresholds = thresholds_for(years)
    result = []
    for year in years:
        previous = by_year.get(year - 1)
        result.append(
            VillageYear(
                year=year,
                amounts_fen=by_year.get(year, {}),
                threshold=thresholds[year],
                last_total_fen=sum(previous.values()) if previous else None,
            )
        )
    return result


def region_year_totals(user: AnyUser, region: Region, *, year: int) -> dict[str, Any]:
    """For the API: `region`'s figures for `year` — a village's own, or the sum over the villages in
    `user`'s scope under a township or the county. Two queries."""
    villages = villages_visible(user).filter(path__startswith=region.path)
    base = CollectiveIncome.objects.filter(village__in=villages)
    amounts = {
        source: int(total)
        for source, total in base.filter(year=year).values_list("source").annotate(t=Sum("amount_fen"))
    }
    last = base.filter(year=year - 1).aggregate(t=Sum("amount_fen"))["t"]
    return {"amounts_fen": amounts, "last_total_fen": int(last) if last is not None else None}


def income_rows(
    user: AnyUser, *, year: int | None = None, region: Region | None = None
) -> QuerySet[CollectiveIncome]:
    """Collective income rows in `user`'s scope, optionally for a year and under a region."""
    rows = CollectiveIncome.objects.filter(village__in=villages_visible(user)).select_related("village")
    if year is not None:
        rows = rows.filter(year=year)
    if region is not None:
        rows = rows.filter(village__path__startswith=region.path)
    return rows.order_by("village__path", "-year", "source")


def years_for_filter(user: AnyUser) -> list[int]:
    """The years with income in scope, plus last year and this year, newest first."""
    today = timezone.localdate()
    found = set(
        CollectiveIncome.objects.filter(village__in=villages_visible(user))
        .values_list("year", flat=True)
        .distinct()
    )
    return sorted(found | {today.year, today.year - 1}, reverse=True)


def village_year_amounts(village: Region, year: int) -> dict[str, int]:
    """What `village` holds for `year`: source → fen."""
    return dict(
        CollectiveIncome.objects.filter(village=village, year=year).values_list("source", "amount_fen")
    )


def today() -> dt.date:
    return timezone.localdate()
