"""The sales figures of an expo or festival (the event dashboard) and of a year's events (the year's
overview): totals, sales by day, channel, online platform, product category and town, products and
exhibitors ranked by sales.

The figures come from the sales rollup (industry_sales_rollup, industry/rollup.py): per event, net sales by
day, by channel and platform, by product and by exhibitor, kept exact at every commit by a PostgreSQL
trigger on SalesRecord. Products, categories, exhibitors' businesses and towns are read by joining the
small dimension tables. So a function answers in a constant number of queries whose rows grow with days,
products and exhibitors, never with records (tests/industry/test_dashboard.py and
test_dashboard_rollup.py count them; bench/industry_dashboard.py times them at 200,000 records).

The rules are those of a GROUP BY over SalesRecord with the reversals included, so a correction nets out
the record it names: a reversal counts on its original's day (it may be dated later), its amount and
quantity are negative, and it takes one off the record count. That direct GROUP BY is kept (`direct=True`)
as the answer on SQLite, where no trigger keeps the rollup (the `make demo` database), and as the
benchmark's floor; on PostgreSQL both give the same dataclasses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from industry import access, rollup
from industry.access import AnyUser
from industry.models import (
    BusinessKind,
    Event,
    EventKind,
    Exhibitor,
    ProductCategory,
    SalesChannel,
    SalesRecord,
    SalesRollup,
    SalesRollupGrain,
)

TOP = 20
# A line of more days than this is not an event's sales any more (the year's line is at most 366 days).
DAYS_MAX = 400


def _net_records() -> Sum:
    """One for an original, minus one for a reversal: the records that still stand."""
    return Sum(
        Case(When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField())
    )


def _amount() -> Coalesce:
    return Coalesce(Sum("amount_fen"), 0)


@dataclass(frozen=True)
class SalesTotals:
    amount_fen: int
    online_fen: int
    offline_fen: int
    records: int  # records standing after corrections (originals not reversed)
    product_kinds: int  # distinct products with net sales above zero
    exhibitors: int  # distinct businesses exhibiting (registered at the event(s))
    exhibitors_selling: int  # distinct businesses with net sales above zero
    events: int  # 1 for an event's dashboard; the year's events for the overview


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    amount_fen: int
    records: int


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    label: str
    amount_fen: int
    records: int


@dataclass(frozen=True)
class PlatformRow:
    platform: str
    amount_fen: int
    records: int


@dataclass(frozen=True)
class CategoryRow:
    category: str
    label: str
    amount_fen: int
    records: int
    product_kinds: int


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    code: str
    name: str
    category: str
    category_label: str
    unit: str
    quantity: Decimal
    amount_fen: int
    records: int


@dataclass(frozen=True)
class ExhibitorRow:
    business_id: int
    name: str
    kind_label: str
    village: str
    amount_fen: int
    records: int


@dataclass(frozen=True)
class TownRow:
    region_id: int
    name: str
    events: int
    amount_fen: int
    records: int


@dataclass(frozen=True)
class EventRow:
    event_id: int
    name: str
    kind_label: str
    region_id: int
    town: str
    starts_on: dt.date
    ends_on: dt.date
    amount_fen: int
    records: int


@dataclass(frozen=True)
class SalesDashboard:
    """Figures for one event (`event` set) or for a year's events (`year` set). `products` and
    `exhibitors` hold every row, ranked by sales (the pages show the first TOP)."""

    event: Event | None
    year: int | None
    totals: SalesTotals
    days: list[DayRow]
    channels: list[ChannelRow]
    platforms: list[PlatformRow]
    categories: list[CategoryRow]
    products: list[ProductRow]
    exhibitors: list[ExhibitorRow]
    towns: list[TownRow]
    events: list[EventRow]

    @property
    def top_products(self) -> list[ProductRow]:
        return self.products[:TOP]

    @property
    def top_exhibitors(self) -> list[ExhibitorRow]:
        return self.exhibitors[:TOP]


def event_dashboard(user: AnyUser, event_id: int | str, *, direct: bool = False) -> SalesDashboard:
    """The dashboard of the event `event_id`; NotFound (404) when `user` may not see it. `direct`: the
    GROUP BY over the sales records instead of the rollup (always so where no trigger keeps it)."""
    event = access.event_get_visible(user, event_id)
    figures = _figures(_source([event.pk], direct=direct), Exhibitor.objects.filter(event_id=event.pk))
    totals = _totals(figures, events=1)
    days = _days_filled(figures.pop("days"), start=event.starts_on, end=event.ends_on)
    return SalesDashboard(
        event=event,
        year=None,
        totals=totals,
        days=days,
        towns=[],
        events=[],
        **figures,
    )


def sales_years(user: AnyUser) -> list[int]:
    """The years in which `user` sees an event, latest first."""
    years = (
        access.events_visible(user)
        .annotate(year=ExtractYear("starts_on"))
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return [int(year) for year in years]


def year_dashboard(user: AnyUser, year: int, *, direct: bool = False) -> SalesDashboard:
    """The overview of the events `user` sees that start in `year` (an empty one when there is none).
    `direct` as for event_dashboard."""
    events = _year_events(user, year)
    ids = [row["pk"] for row in events]
    source = _source(ids, direct=direct)
    event_rows = _event_rows(events, source.by_event())
    figures = _figures(source, Exhibitor.objects.filter(event_id__in=ids))
    totals = _totals(figures, events=len(event_rows))
    days = figures.pop("days")
    if days:
        days = _days_filled(days, start=days[0].day, end=days[-1].day)
    return SalesDashboard(
        event=None,
        year=year,
        totals=totals,
        days=days,
        towns=_towns(event_rows),
        events=event_rows,
        **figures,
    )


# --- the queries ----------------------------------------------------------------------------------------


class _Rollup:
    """The figures of the events `ids` from the rollup: one query per grain, joined to its dimension."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def _grain(self, grain: SalesRollupGrain) -> QuerySet[SalesRollup]:
        if len(self.ids) == 1:
            return SalesRollup.objects.filter(event_id=self.ids[0], grain=grain)
        return SalesRollup.objects.filter(event_id__in=self.ids, grain=grain)

    @staticmethod
    def _sums(quantity: bool = False) -> dict[str, Any]:
        sums: dict[str, Any] = {
            "amount": Coalesce(Sum("amount_fen"), 0),
            "records": Coalesce(Sum("records"), 0),
        }
        if quantity:
            sums["quantity"] = Coalesce(Sum("quantity"), Value(Decimal("0")))
        return sums

    def by_event(self) -> dict[int, dict[str, Any]]:
        rows = self._grain(SalesRollupGrain.CHANNEL).values("event_id").annotate(**self._sums())
        return {row["event_id"]: row for row in rows}

    def by_channel(self) -> list[dict[str, Any]]:
        rows = self._grain(SalesRollupGrain.CHANNEL).values("channel", "platform")
        return list(rows.annotate(**self._sums()).order_by("channel", "platform"))

    def by_day(self) -> list[dict[str, Any]]:
        return list(self._grain(SalesRollupGrain.DAY).values("day").annotate(**self._sums()).order_by("day"))

    def by_product(self) -> list[dict[str, Any]]:
        rows = self._grain(SalesRollupGrain.PRODUCT).values(
            "product_id", "product__code", "product__name", "product__category", "product__unit"
        )
        return list(rows.annotate(**self._sums(quantity=True)))

    def by_business(self) -> list[dict[str, Any]]:
        rows = self._grain(SalesRollupGrain.EXHIBITOR).values(
            business_id=F("exhibitor__business_id"),
            business_name=F("exhibitor__business__name"),
            business_kind=F("exhibitor__business__kind"),
            village=F("exhibitor__business__region__name"),
        )
        return list(rows.annotate(**self._sums()))


class _Direct(_Rollup):
    """The same figures as GROUP BYs over the sales records themselves (the old way: SQLite, the floor)."""

    def _sales(self) -> QuerySet[SalesRecord]:
        if len(self.ids) == 1:
            return SalesRecord.objects.filter(event_id=self.ids[0])
        return SalesRecord.objects.filter(event_id__in=self.ids)

    def by_event(self) -> dict[int, dict[str, Any]]:
        rows = self._sales().values("event_id").annotate(amount=_amount(), records=_net_records())
        return {row["event_id"]: row for row in rows}

    def by_channel(self) -> list[dict[str, Any]]:
        rows = self._sales().values("channel", "platform").annotate(amount=_amount(), records=_net_records())
        return list(rows.order_by("channel", "platform"))

    def by_day(self) -> list[dict[str, Any]]:
        rows = (
            self._sales()
            .annotate(day=Coalesce("reverses__sold_on", "sold_on"))
            .values("day")
            .annotate(amount=_amount(), records=_net_records())
        )
        return list(rows.order_by("day"))

    def by_product(self) -> list[dict[str, Any]]:
        rows = self._sales().values(
            "product_id", "product__code", "product__name", "product__category", "product__unit"
        )
        return list(
            rows.annotate(
                amount=_amount(),
                quantity=Coalesce(Sum("quantity"), Value(Decimal("0"))),
                records=_net_records(),
            )
        )

    def by_business(self) -> list[dict[str, Any]]:
        rows = self._sales().values(
            business_id=F("exhibitor__business_id"),
            business_name=F("exhibitor__business__name"),
            business_kind=F("exhibitor__business__kind"),
            village=F("exhibitor__business__region__name"),
        )
        return list(rows.annotate(amount=_amount(), records=_net_records()))


def _source(ids: list[int], *, direct: bool) -> _Rollup:
    return _Direct(ids) if direct or not rollup.is_kept() else _Rollup(ids)


def _year_events(user: AnyUser, year: int) -> list[dict[str, Any]]:
    rows = (
        access.events_visible(user)
        .filter(starts_on__year=year)
        .values("pk", "name", "kind", "region_id", "region__name", "starts_on", "ends_on")
        .order_by("starts_on", "name", "pk")
    )
    return [dict(row) for row in rows]


def _event_rows(events: list[dict[str, Any]], sales: dict[int, dict[str, Any]]) -> list[EventRow]:
    kinds = dict(EventKind.choices)
    none = {"amount": 0, "records": 0}
    return [
        EventRow(
            event_id=row["pk"],
            name=row["name"],
            kind_label=str(kinds.get(row["kind"], row["kind"])),
            region_id=row["region_id"],
            town=row["region__name"],
            starts_on=row["starts_on"],
            ends_on=row["ends_on"],
            amount_fen=int(sales.get(row["pk"], none)["amount"]),
            records=int(sales.get(row["pk"], none)["records"]),
        )
        for row in events
    ]


def _figures(source: _Rollup, exhibitors: QuerySet[Exhibitor]) -> dict[str, Any]:
    """Four GROUP BY queries over the source and one count of the exhibitors."""
    products = _products(source.by_product())
    by_channel = source.by_channel()
    days = [
        DayRow(day=row["day"], amount_fen=int(row["amount"]), records=int(row["records"]))
        for row in source.by_day()
        if row["amount"] or row["records"]
    ]
    return {
        "days": days,
        "channels": _channels(by_channel),
        "platforms": _platforms(by_channel),
        "categories": _categories(products),
        "products": products,
        "exhibitors": _exhibitors(source.by_business()),
        "exhibitor_count": exhibitors.values("business_id").distinct().count(),
    }


def _totals(figures: dict[str, Any], *, events: int) -> SalesTotals:
    channels: list[ChannelRow] = figures["channels"]
    products: list[ProductRow] = figures["products"]
    by_channel = {row.channel: row.amount_fen for row in channels}
    return SalesTotals(
        amount_fen=sum(row.amount_fen for row in channels),
        online_fen=by_channel.get(SalesChannel.ONLINE, 0),
        offline_fen=by_channel.get(SalesChannel.OFFLINE, 0),
        records=sum(row.records for row in channels),
        product_kinds=sum(1 for row in products if row.amount_fen > 0),
        exhibitors=figures.pop("exhibitor_count"),
        exhibitors_selling=sum(1 for row in figures["exhibitors"] if row.amount_fen > 0),
        events=events,
    )


def _products(rows: list[dict[str, Any]]) -> list[ProductRow]:
    # Translated once, not once per row (a thousand lazy strings cost more than the queries).
    labels = {value: str(label) for value, label in ProductCategory.choices}
    products = [
        ProductRow(
            product_id=row["product_id"],
            code=row["product__code"],
            name=row["product__name"],
            category=row["product__category"],
            category_label=labels.get(row["product__category"], row["product__category"]),
            unit=row["product__unit"],
            quantity=Decimal(row["quantity"]),
            amount_fen=int(row["amount"]),
            records=int(row["records"]),
        )
        for row in rows
        if row["amount"] or row["records"]
    ]
    products.sort(key=lambda p: (-p.amount_fen, p.code))
    return products


def _categories(products: Iterable[ProductRow]) -> list[CategoryRow]:
    amount: dict[str, int] = defaultdict(int)
    records: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    for product in products:
        amount[product.category] += product.amount_fen
        records[product.category] += product.records
        kinds[product.category] += product.amount_fen > 0
    labels = dict(ProductCategory.choices)
    rows = [
        CategoryRow(
            category=category,
            label=str(labels.get(category, category)),
            amount_fen=amount[category],
            records=records[category],
            product_kinds=kinds[category],
        )
        for category in amount
    ]
    rows.sort(key=lambda r: (-r.amount_fen, r.category))
    return rows


def _channels(by_channel: list[dict[str, Any]]) -> list[ChannelRow]:
    amount: dict[str, int] = defaultdict(int)
    records: dict[str, int] = defaultdict(int)
    for row in by_channel:
        amount[row["channel"]] += int(row["amount"])
        records[row["channel"]] += int(row["records"])
    return [
        ChannelRow(channel=value, label=str(label), amount_fen=amount[value], records=records[value])
        for value, label in SalesChannel.choices
        if value in amount
    ]


def _platforms(by_channel: list[dict[str, Any]]) -> list[PlatformRow]:
    rows = [
        PlatformRow(platform=row["platform"], amount_fen=int(row["amount"]), records=int(row["records"]))
        for row in by_channel
        if row["channel"] == SalesChannel.ONLINE and (row["amount"] or row["records"])
    ]
    rows.sort(key=lambda r: (-r.amount_fen, r.platform))
    return rows


def _exhibitors(rows: list[dict[str, Any]]) -> list[ExhibitorRow]:
    # One row per business: at the year's overview a business exhibiting at three events is one row.
    kinds = {value: str(label) for value, label in BusinessKind.choices}
    exhibitors = [
        ExhibitorRow(
            business_id=row["business_id"],
            name=row["business_name"],
            kind_label=kinds.get(row["business_kind"], row["business_kind"]),
            village=row["village"],
            amount_fen=int(row["amount"]),
            records=int(row["records"]),
        )
        for row in rows
        if row["amount"] or row["records"]
    ]
    exhibitors.sort(key=lambda e: (-e.amount_fen, e.name, e.business_id))
    return exhibitors


def _towns(events: list[EventRow]) -> list[TownRow]:
    towns: dict[int, list[EventRow]] = defaultdict(list)
    for event in events:
        towns[event.region_id].append(event)
    rows = [
        TownRow(
            region_id=region_id,
            name=held[0].town,
            events=len(held),
            amount_fen=sum(e.amount_fen for e in held),
            records=sum(e.records for e in held),
        )
        for region_id, held in towns.items()
    ]
    rows.sort(key=lambda r: (-r.amount_fen, r.name))
    return rows


def _days_filled(days: list[DayRow], *, start: dt.date, end: dt.date) -> list[DayRow]:
    """Every day from `start` to `end` (at most DAYS_MAX, never past today), zero where nothing sold,
    plus any day with sales outside that span (a record dated outside its event is still counted)."""
    end = min(end, max(timezone.localdate(), start), start + dt.timedelta(days=DAYS_MAX - 1))
    known = {row.day: row for row in days}
    filled = dict(known)
    day = start
    while day <= end:
        filled.setdefault(day, DayRow(day=day, amount_fen=0, records=0))
        day += dt.timedelta(days=1)
    return [filled[d] for d in sorted(filled)]
