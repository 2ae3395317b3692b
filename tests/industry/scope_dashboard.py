"""Scope rules of the sales dashboards' API for tests/test_api_scope.py.

An event's dashboard is its event's (a township's); the year's summary lists, in `results`, the events it
counts, each of which must lie in the caller's subtree."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from governance.models import Region
from industry.models import (
    Business,
    BusinessKind,
    Event,
    EventKind,
    Exhibitor,
    Product,
    ProductCategory,
    SalesChannel,
    SalesRecord,
)
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/events/{id}/dashboard/": Scoped(
        Event, "region__path", items=lambda body: [{"id": body["event"]["id"]}]
    ),
    "/api/v1/industry/sales-summary/": Scoped(Event, "region__path"),
}

SIDES = {"xinhua": ("城关镇", "新华村"), "minying": ("石花镇", "民营社区")}


def data(r: dict[str, Region]) -> dict[str, Any]:
    """Per side, a festival of the township that ended yesterday, one exhibitor and two sales."""
    today = timezone.localdate()
    product, _created = Product.objects.get_or_create(
        code="GC-DASH-SCOPE", defaults={"name": "看板范围测试香菇", "category": ProductCategory.FUNGI}
    )
    made: dict[str, Any] = {}
    for side, (township, village) in SIDES.items():
        business = Business.objects.create(
            kind=BusinessKind.COOPERATIVE, name=f"{village}看板范围测试合作社", region=r[village]
        )
        event = Event.objects.create(
            kind=EventKind.FESTIVAL,
            name=f"{township}看板范围测试节",
            region=r[township],
            starts_on=today - dt.timedelta(days=2),
            ends_on=today - dt.timedelta(days=1),
        )
        exhibitor = Exhibitor.objects.create(event=event, business=business, booth="D01")
        for channel, platform, amount in (
            (SalesChannel.OFFLINE, "", 12_000),
            (SalesChannel.ONLINE, "抖音", 3_450),
        ):
            SalesRecord.objects.create(
                event=event,
                exhibitor=exhibitor,
                product=product,
                channel=channel,
                platform=platform,
                sold_on=event.starts_on,
                quantity=Decimal("1"),
                amount_fen=amount,
                idempotency_key=uuid.uuid4().hex,
            )
        made[side] = event
    return made
