"""Reading an event's sales records for an acting user, within their scope (industry.access)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from common.errors import NotFound
from industry import access
from industry.access import AnyUser
from industry.models import Event, SalesChannel, SalesRecord
from industry.services.sales import SALE_NOT_FOUND

SALE_SORTS = {
    # A reversal sits right under the record it reverses: both share the original's id as group.
    "-sold_on": ("-sold_on", "-group", "pk"),
    "sold_on": ("sold_on", "group", "pk"),
    "-amount": ("-amount_fen", "-pk"),
    "amount": ("amount_fen", "pk"),
    "-created": ("-group", "pk"),
}


@dataclass(frozen=True)
class SaleFilters:
    day: dt.date | None = None
    channel: str = ""
    platform: str = ""
    exhibitor_id: int | None = None
    category: str = ""
    product_id: int | None = None


def sales_list(
    user: AnyUser, event: Event, filters: SaleFilters | None = None, sort: str = "-sold_on"
) -> QuerySet[SalesRecord]:
    """The records of `event` (the caller has found it for `user`), filtered; each with its exhibitor's
    business, its product, the record it reverses and its own reversal (`reversed_by`, if any)."""
    if not access.events_visible(user).filter(pk=event.pk).exists():
        return SalesRecord.objects.none()
    f = filters or SaleFilters()
    records = SalesRecord.objects.filter(event=event)
    if f.day:
        records = records.filter(sold_on=f.day)
    if f.channel in SalesChannel.values:
        records = records.filter(channel=f.channel)
    if f.platform:
        records = records.filter(platform=f.platform)
    if f.exhibitor_id:
        records = records.filter(exhibitor_id=f.exhibitor_id)
    if f.category:
        records = records.filter(product__category=f.category)
    if f.product_id:
        records = records.filter(product_id=f.product_id)
    return (
        records.select_related("exhibitor__business", "product", "reverses", "reversed_by", "recorded_by")
        .annotate(group=Coalesce("reverses_id", "pk"))
        .order_by(*SALE_SORTS.get(sort, SALE_SORTS["-sold_on"]))
    )


@dataclass(frozen=True)
class SalesSums:
    total_fen: int
    offline_fen: int
    online_fen: int
    records: int
    reversals: int


def sales_sums(records: QuerySet[SalesRecord]) -> SalesSums:
    """Net totals of `records` (a filtered sales_list)."""
    row = records.order_by().aggregate(
        total=Coalesce(Sum("amount_fen"), 0),
        offline=Coalesce(Sum("amount_fen", filter=Q(channel=SalesChannel.OFFLINE)), 0),
        online=Coalesce(Sum("amount_fen", filter=Q(channel=SalesChannel.ONLINE)), 0),
        records=Count("pk"),
        reversals=Count("pk", filter=Q(reverses__isnull=False)),
    )
    return SalesSums(row["total"], row["offline"], row["online"], row["records"], row["reversals"])


def sale_platforms(event: Event) -> list[str]:
    return sorted(
        set(
            SalesRecord.objects.filter(event=event, channel=SalesChannel.ONLINE)
            .order_by()
            .values_list("platform", flat=True)
            .distinct()
        )
    )


def sale_get_visible(user: AnyUser, sale_id: int | str) -> SalesRecord:
    """A record at an event `user` sees, else NotFound (404)."""
    found = (
        SalesRecord.objects.filter(event__in=access.events_visible(user))
        .select_related("event__region", "exhibitor__business", "product", "reverses", "reversed_by")
        .filter(pk=sale_id)
        .first()
    )
    if found is None:
        raise NotFound(SALE_NOT_FOUND)
    return found


def recent_entries(user: AnyUser, event: Event, limit: int = 8) -> list[SalesRecord]:
    """The last records `user` entered at `event` (the entry page shows them under the form)."""
    if not user.is_authenticated:
        return []
    return list(
        SalesRecord.objects.filter(event=event, recorded_by_id=user.pk)
        .select_related("exhibitor__business", "product", "reversed_by")
        .order_by("-pk")[:limit]
    )
