"""Reading expos and festivals, their exhibitors and the product catalogue, always for an acting user and
within their scope (industry.access). Sales figures are plain sums over the ledger: a reversal carries
the negated amount, so a sum is the net after corrections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access as region_access
from governance.models import Region, RegionLevel
from industry import access
from industry.access import AnyUser
from industry.models import Business, Event, Exhibitor, Product, SalesChannel, SalesRecord

EVENT_SORTS = {
    "-starts_on": ("-starts_on", "name"),
    "starts_on": ("starts_on", "name"),
    "name": ("name", "-starts_on"),
    "-total": ("-total_fen", "-starts_on"),
    "total": ("total_fen", "-starts_on"),
    "town": ("region__path", "-starts_on"),
}
PRODUCT_SORTS = {
    "code": ("code",),
    "name": ("name", "code"),
    "category": ("category", "code"),
    "-total": ("-total_fen", "code"),
}


def _total_subquery(outer: str, events: QuerySet[Event] | None = None) -> Coalesce:
    """The net sales amount of the row whose pk is `outer` in SalesRecord's `outer` field (event,
    exhibitor, product), optionally only at `events`."""
    records = SalesRecord.objects.filter(**{outer: OuterRef("pk")})
    if events is not None:
        records = records.filter(event__in=events)
    total = records.order_by().values(outer).annotate(t=Sum("amount_fen")).values("t")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def events_list(
    user: AnyUser,
    *,
    year: int | None = None,
    kind: str = "",
    town_id: int | None = None,
    series: str = "",
    q: str = "",
    sort: str = "-starts_on",
) -> QuerySet[Event]:
    """The events `user` sees, filtered by the year they open, kind, town, series and a name fragment;
    each with `total_fen` (net sales) and `exhibitor_count`."""
    events = access.events_visible(user).select_related("region")
    if year:
        events = events.filter(starts_on__year=year)
    if kind:
        events = events.filter(kind=kind)
    if town_id:
        events = events.filter(region_id=town_id)
    if series:
        events = events.filter(series=series)
    if q:
        events = events.filter(Q(name__icontains=q) | Q(town_product__icontains=q))
    events = events.annotate(
        total_fen=_total_subquery("event"),
        exhibitor_count=Coalesce(
            Subquery(
                Exhibitor.objects.filter(event=OuterRef("pk"))
                .order_by()
                .values("event")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )
    return events.order_by(*EVENT_SORTS.get(sort, EVENT_SORTS["-starts_on"]))


@dataclass(frozen=True)
class EventFilters:
    years: list[int]
    towns: list[Region]
    series: list[str]


def event_filter_choices(user: AnyUser) -> EventFilters:
    """The years, towns and series of the events `user` sees (for the list's filters)."""
    events = access.events_visible(user).order_by()
    years = sorted(
        {y for y in events.annotate(y=ExtractYear("starts_on")).values_list("y", flat=True)}, reverse=True
    )
    towns = list(Region.objects.filter(pk__in=events.values("region_id")).order_by("path"))
    series = sorted({s for s in events.exclude(series="").values_list("series", flat=True)})
    return EventFilters(years=years, towns=towns, series=series)


def regions_for_new_event(user: AnyUser) -> list[Region]:
    """The county and townships where `user` may create an event (county admin: all; township admin:
    theirs), by path."""
    paths = region_access.outermost(
        [path for _role, path in region_access.assignments(user, access.EVENT_ROLES)]
    )
    if not paths:
        return []
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return list(
        Region.objects.filter(condition, level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP]).order_by(
            "path"
        )
    )


@dataclass
class EventTotals:
    """An event's net sales: the total, per channel, per online platform and per day (fen), the number
    of records (originals and reversals) and of products with net sales."""

    total_fen: int = 0
    offline_fen: int = 0
    online_fen: int = 0
    records: int = 0
    products: int = 0
    platforms: list[tuple[str, int]] = field(default_factory=list)
    days: list[tuple[dt.date, int]] = field(default_factory=list)


def event_totals(event: Event) -> EventTotals:
    """The net sales of `event` (the caller has checked it may read the event)."""
    sales = SalesRecord.objects.filter(event=event).order_by()
    row = sales.aggregate(
        total=Coalesce(Sum("amount_fen"), 0),
        offline=Coalesce(Sum("amount_fen", filter=Q(channel=SalesChannel.OFFLINE)), 0),
        online=Coalesce(Sum("amount_fen", filter=Q(channel=SalesChannel.ONLINE)), 0),
        records=Count("pk"),
    )
    platforms = [
        (r["platform"], r["t"])
        for r in sales.filter(channel=SalesChannel.ONLINE)
        .values("platform")
        .annotate(t=Sum("amount_fen"))
        .order_by("-t", "platform")
        if r["t"]
    ]
    days = [
        (r["sold_on"], r["t"])
        for r in sales.values("sold_on").annotate(t=Sum("amount_fen")).order_by("sold_on")
    ]
    products = sales.values("product").annotate(t=Sum("amount_fen")).filter(t__gt=0).count()
    return EventTotals(
        total_fen=row["total"],
        offline_fen=row["offline"],
        online_fen=row["online"],
        records=row["records"],
        products=products,
        platforms=platforms,
        days=days,
    )


@dataclass(frozen=True)
class ProductSales:
    product_id: int
    code: str
    name: str
    category: str
    unit: str
    quantity: Decimal
    amount_fen: int


def event_top_products(event: Event, limit: int = 10) -> list[ProductSales]:
    """The products with the highest net sales at `event`, with their net quantity."""
    rows = (
        SalesRecord.objects.filter(event=event)
        .order_by()
        .values("product_id", "product__code", "product__name", "product__category", "product__unit")
        .annotate(
            t=Sum("amount_fen"),
            qty=Coalesce(Sum("quantity"), Value(Decimal("0")), output_field=DecimalField()),
        )
        .filter(t__gt=0)
        .order_by("-t", "product__code")[:limit]
    )
    return [
        ProductSales(
            product_id=r["product_id"],
            code=r["product__code"],
            name=r["product__name"],
            category=r["product__category"],
            unit=r["product__unit"],
            quantity=r["qty"],
            amount_fen=r["t"],
        )
        for r in rows
    ]


def event_exhibitors(event: Event) -> QuerySet[Exhibitor]:
    """The exhibitors of `event` with their business and region, each with `total_fen` (net sales) and
    `sale_count` (records naming it: one with any cannot be removed)."""
    return (
        Exhibitor.objects.filter(event=event)
        .select_related("business", "business__region", "business__region__parent")
        .annotate(
            total_fen=_total_subquery("exhibitor"),
            sale_count=Coalesce(
                Subquery(
                    SalesRecord.objects.filter(exhibitor=OuterRef("pk"))
                    .order_by()
                    .values("exhibitor")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
        .order_by("booth", "business__name", "pk")
    )


def exhibitor_get(user: AnyUser, event: Event, exhibitor_id: int | str) -> Exhibitor:
    """An exhibitor of `event` (which the caller has already found for `user`); NotFound otherwise."""
    found = (
        Exhibitor.objects.select_related("business", "event__region")
        .filter(pk=exhibitor_id, event=event)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该参展主体。"))
    return found


BUSINESS_SEARCH_MAX = 20


def businesses_for_exhibitor(user: AnyUser, event: Event, q: str) -> list[Business]:
    """Businesses `user` sees that do not exhibit at `event` yet, matching `q` in the name or credit
    code (at most 20; none for a blank query)."""
    q = (q or "").strip()
    if not q:
        return []
    return list(
        access.businesses_visible(user)
        .filter(is_active=True)
        .filter(Q(name__icontains=q) | Q(credit_code__icontains=q))
        .exclude(exhibits__event=event)
        .select_related("region", "region__parent")
        .order_by("name")[:BUSINESS_SEARCH_MAX]
    )


def business_for_exhibitor(user: AnyUser, business_id: int | str | None) -> Business | None:
    if not business_id:
        return None
    return access.businesses_visible(user).filter(pk=business_id).first()


# --- products ---------------------------------------------------------------------------------------


def products_list(
    user: AnyUser,
    *,
    category: str = "",
    chain_id: int | None = None,
    township_id: int | None = None,
    q: str = "",
    sort: str = "code",
) -> QuerySet[Product]:
    """The catalogue (county-wide reference data: every reader sees it), filtered by category, chain, the
    origin's township and a code/name fragment; each with `total_fen`, its net sales at the events
    `user` sees."""
    if not access.can_read_industry(user):
        return Product.objects.none()
    products = Product.objects.select_related("origin_region", "origin_region__parent", "chain", "producer")
    if category:
        products = products.filter(category=category)
    if chain_id:
        products = products.filter(chain_id=chain_id)
    if township_id:
        products = products.filter(origin_region__parent_id=township_id)
    if q:
        products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
    products = products.annotate(total_fen=_total_subquery("product", access.events_visible(user)))
    return products.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["code"]))


def product_get(user: AnyUser, product_id: int | str) -> Product:
    found = None
    if access.can_read_industry(user):
        found = (
            Product.objects.select_related("origin_region", "origin_region__parent", "chain", "producer")
            .filter(pk=product_id)
            .first()
        )
    if found is None:
        raise NotFound(_("未找到该产品。"))
    return found


@dataclass(frozen=True)
class ProductEventSales:
    event: Event
    quantity: Decimal
    amount_fen: int


def product_sales_by_event(user: AnyUser, product: Product) -> list[ProductEventSales]:
    """`product`'s net sales per event `user` sees, latest event first."""
    rows = (
        SalesRecord.objects.filter(product=product, event__in=access.events_visible(user))
        .order_by()
        .values("event_id")
        .annotate(t=Sum("amount_fen"), qty=Sum("quantity"))
    )
    by_event = {r["event_id"]: r for r in rows}
    events = Event.objects.filter(pk__in=by_event).select_related("region").order_by("-starts_on", "name")
    return [
        ProductEventSales(event=e, quantity=by_event[e.pk]["qty"], amount_fen=by_event[e.pk]["t"])
        for e in events
    ]


def product_townships(user: AnyUser) -> list[Region]:
    """The townships the catalogue's origins lie in (for the filter)."""
    ids = Product.objects.exclude(origin_region=None).values("origin_region__parent_id")
    return list(Region.objects.filter(pk__in=ids).order_by("path"))


def products_for_sale(q: str = "", limit: int = 400) -> list[Product]:
    """Products to pick from when entering a sale (the whole catalogue, by category and code)."""
    products = Product.objects.order_by("category", "code")
    if q:
        products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return list(products[:limit])
