"""Scope rules of the events API (expos and festivals, exhibitors, the catalogue) for tests/test_api_scope.py.

An event is its town's (a township); an exhibitor its event's; the product catalogue is county-wide
reference data (industry.access: every reader sees it)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from governance.models import Region, User
from industry.models import Business, BusinessKind, Event, EventKind, Exhibitor, Product, ProductCategory
from industry.services import events as event_services
from industry.services import sales as sales_services
from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/industry/events/": Scoped(Event, "region__path"),
    "/api/v1/industry/events/{id}/": Scoped(Event, "region__path"),
    "/api/v1/industry/events/{id}/exhibitors/": Scoped(
        Exhibitor, "event__region__path", under=(Event, "region__path")
    ),
    "/api/v1/industry/products/": Exempt("the county's product catalogue: reference data, no personal data"),
    "/api/v1/industry/products/{id}/": Exempt(
        "a catalogue product; its sales per event are filtered to the events the caller sees"
    ),
}

SIDES = {"xinhua": ("城关镇", "新华村"), "minying": ("石花镇", "民营社区")}


def side_events(r: dict[str, Region], label: str) -> dict[str, dict[str, Any]]:
    """Per side, an event of the township (opened three days ago) with one exhibitor (a new cooperative
    of the village) and one offline sale of 100 yuan, through the services as the county admin."""
    admin = User.objects.get(username="county_admin")
    today = timezone.localdate()
    product = Product.objects.filter(code="GC-SCOPE-0001").first() or event_services.product_create(
        actor=admin,
        idempotency_key=uuid.uuid4().hex,
        code="GC-SCOPE-0001",
        name="范围测试茶叶",
        category=ProductCategory.TEA,
    )
    made: dict[str, dict[str, Any]] = {}
    for side, (township, village) in SIDES.items():
        business = Business.objects.create(
            kind=BusinessKind.COOPERATIVE, name=f"{village}{label}范围测试合作社", region=r[village]
        )
        event = event_services.event_create(
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
            kind=EventKind.FESTIVAL,
            name=f"{township}{label}范围测试节",
            region=r[township],
            starts_on=today - dt.timedelta(days=3),
            ends_on=today,
        )
        exhibitor = event_services.exhibitor_add(
            actor=admin, idempotency_key=uuid.uuid4().hex, event=event, business=business, booth="S01"
        )
        sale = sales_services.sales_record_create(
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
            event=event,
            exhibitor=exhibitor,
            product=product,
            channel="offline",
            platform="",
            sold_on=today - dt.timedelta(days=1),
            quantity=Decimal("1"),
            amount_fen=10_000,
        )
        made[side] = {"event": event, "exhibitor": exhibitor, "sale": sale}
    return made


def data(r: dict[str, Region]) -> Any:
    return side_events(r, "展会")
