"""Data for the dashboard and tourism tests, on top of tests/industry/factories.py's world (read-only).

dashboard_world(demo_county) -> DashboardWorld: the industry world plus two events of 2022, whose
figures the tests assert exactly:

e1  城关镇2022春茶节   festival  城关镇  2022-03-05 … 2022-03-07
    exhibitors A01 新华茶叶专业合作社, A02 谷城新华食品有限公司, A03 新华家庭农场 (sells nothing)
    R1  A01 谷城毛尖 GC-TEA-0001  offline        03-05  qty 10   100,000 fen
    R2  A01 玉皇剑   GC-TEA-0002  online 抖音    03-05  qty 4     40,000 fen
    R3  A02 谷城毛尖 GC-TEA-0001  online 淘宝    03-06  qty 3     30,050 fen
    R4  A02 石花奎面 GC-PRO-0001  offline        03-06  qty 5     25,000 fen
    X4  reverses R4, dated 03-07 (it counts on 03-06), reason 录入错误
    R5  A02 石花奎面 GC-PRO-0001  offline        03-06  qty 2     20,000 fen   (the right figure)
    R6  A01 谷城毛尖 GC-TEA-0001  offline        03-07  qty 1     10,000 fen
    → total 200,050; by day 03-05 140,000 · 03-06 50,050 · 03-07 10,000; offline 130,000, online 70,050
      (抖音 40,000, 淘宝 30,050); tea 180,050 (2 kinds), processed 20,000 (1 kind); 5 records standing;
      3 product kinds; exhibitors 3 registered, 2 selling (A01 150,000, A02 50,050)

e2  石花镇2022香菇节   festival  石花镇  2022-05-10 … 2022-05-11
    exhibitors B01 石花香菇专业合作社
    Q1  B01 石花香菇 GC-FUN-0001  offline  05-10  qty 20  300,000 fen
    Q2  B01 石花香菇 GC-FUN-0001  online 抖音  05-11  qty 6   90,000 fen
    → total 390,000

2022 for the county: 2 events, 590,050 fen, 4 product kinds; for 城关镇's admin only e1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from governance.models import Region
from industry.models import (
    Event,
    EventKind,
    Exhibitor,
    Product,
    ProductCategory,
    SalesChannel,
    SalesRecord,
    SalesSource,
)
from tests.industry.factories import IndustryWorld, industry_world, key, sale_make

E1_TOTAL = 200_050
E2_TOTAL = 390_000
YEAR_TOTAL = E1_TOTAL + E2_TOTAL


@dataclass
class DashboardWorld:
    world: IndustryWorld
    e1: Event
    e2: Event
    exhibitors: dict[str, Exhibitor] = field(default_factory=dict)
    sales: dict[str, SalesRecord] = field(default_factory=dict)


def reversal_make(original: SalesRecord, *, sold_on: dt.date, reason: str = "录入错误") -> SalesRecord:
    """The reversal of `original` (negated, same event, exhibitor, product, channel and platform)."""
    return SalesRecord.objects.create(
        event_id=original.event_id,
        exhibitor_id=original.exhibitor_id,
        product_id=original.product_id,
        channel=original.channel,
        platform=original.platform,
        sold_on=sold_on,
        quantity=-original.quantity,
        amount_fen=-original.amount_fen,
        reverses=original,
        reason=reason,
        source=SalesSource.PAGE,
        idempotency_key=key(),
    )


def dashboard_world(regions: dict[str, Region]) -> DashboardWorld:
    world = industry_world(regions)
    b, p = world.businesses, world.products
    e1 = Event.objects.create(
        kind=EventKind.FESTIVAL,
        name="城关镇2022春茶节",
        region=regions["城关镇"],
        town_product="谷城毛尖",
        starts_on=dt.date(2022, 3, 5),
        ends_on=dt.date(2022, 3, 7),
    )
    e2 = Event.objects.create(
        kind=EventKind.FESTIVAL,
        name="石花镇2022香菇节",
        region=regions["石花镇"],
        town_product="石花香菇",
        starts_on=dt.date(2022, 5, 10),
        ends_on=dt.date(2022, 5, 11),
    )
    made = DashboardWorld(world=world, e1=e1, e2=e2)
    ex = made.exhibitors
    ex["A01"] = Exhibitor.objects.create(event=e1, business=b["新华茶叶专业合作社"], booth="A01")
    ex["A02"] = Exhibitor.objects.create(event=e1, business=b["谷城新华食品有限公司"], booth="A02")
    ex["A03"] = Exhibitor.objects.create(event=e1, business=b["新华家庭农场"], booth="A03")
    ex["B01"] = Exhibitor.objects.create(event=e2, business=b["石花香菇专业合作社"], booth="B01")
    d = dt.date
    online = SalesChannel.ONLINE
    s = made.sales
    s["R1"] = sale_make(
        exhibitor=ex["A01"],
        product=p["GC-TEA-0001"],
        sold_on=d(2022, 3, 5),
        amount_fen=100_000,
        quantity="10",
    )
    s["R2"] = sale_make(
        exhibitor=ex["A01"],
        product=p["GC-TEA-0002"],
        sold_on=d(2022, 3, 5),
        amount_fen=40_000,
        quantity="4",
        channel=online,
        platform="抖音",
    )
    s["R3"] = sale_make(
        exhibitor=ex["A02"],
        product=p["GC-TEA-0001"],
        sold_on=d(2022, 3, 6),
        amount_fen=30_050,
        quantity="3",
        channel=online,
        platform="淘宝",
    )
    s["R4"] = sale_make(
        exhibitor=ex["A02"], product=p["GC-PRO-0001"], sold_on=d(2022, 3, 6), amount_fen=25_000, quantity="5"
    )
    s["X4"] = reversal_make(s["R4"], sold_on=d(2022, 3, 7))
    s["R5"] = sale_make(
        exhibitor=ex["A02"], product=p["GC-PRO-0001"], sold_on=d(2022, 3, 6), amount_fen=20_000, quantity="2"
    )
    s["R6"] = sale_make(
        exhibitor=ex["A01"], product=p["GC-TEA-0001"], sold_on=d(2022, 3, 7), amount_fen=10_000, quantity="1"
    )
    s["Q1"] = sale_make(
        exhibitor=ex["B01"],
        product=p["GC-FUN-0001"],
        sold_on=d(2022, 5, 10),
        amount_fen=300_000,
        quantity="20",
    )
    s["Q2"] = sale_make(
        exhibitor=ex["B01"],
        product=p["GC-FUN-0001"],
        sold_on=d(2022, 5, 11),
        amount_fen=90_000,
        quantity="6",
        channel=online,
        platform="抖音",
    )
    return made


def big_event(regions: dict[str, Region], *, products: int, exhibitors: int, records: int) -> Event:
    """An event of 城关镇 in 2021 with `products` new catalogue products, `exhibitors` businesses and
    `records` sales spread over its ten days, every seventh one reversed (bulk-inserted: the trigger
    allows INSERT)."""
    from industry.models import Business, BusinessKind

    tag = key()[:6]
    event = Event.objects.create(
        kind=EventKind.EXPO,
        name=f"大型展会{tag}",
        region=regions["城关镇"],
        starts_on=dt.date(2021, 10, 1),
        ends_on=dt.date(2021, 10, 10),
    )
    categories = list(ProductCategory.values)
    catalogue = Product.objects.bulk_create(
        Product(code=f"B{tag}{i:04d}", name=f"产品{i}", category=categories[i % len(categories)])
        for i in range(products)
    )
    businesses = Business.objects.bulk_create(
        Business(kind=BusinessKind.COOPERATIVE, name=f"合作社{tag}{i}", region=regions["新华村"])
        for i in range(exhibitors)
    )
    booths = Exhibitor.objects.bulk_create(
        Exhibitor(event=event, business=business, booth=f"{i:03d}") for i, business in enumerate(businesses)
    )
    originals = SalesRecord.objects.bulk_create(
        SalesRecord(
            event=event,
            exhibitor=booths[i % len(booths)],
            product=catalogue[i % len(catalogue)],
            channel=SalesChannel.ONLINE if i % 3 == 0 else SalesChannel.OFFLINE,
            platform=("抖音", "淘宝", "拼多多")[i % 9 // 3] if i % 3 == 0 else "",
            sold_on=event.starts_on + dt.timedelta(days=i % 10),
            quantity=Decimal(1 + i % 5),
            amount_fen=1_000 + i * 7,
            idempotency_key=f"big-{tag}-{i}",
        )
        for i in range(records)
    )
    SalesRecord.objects.bulk_create(
        SalesRecord(
            event=event,
            exhibitor_id=o.exhibitor_id,
            product_id=o.product_id,
            channel=o.channel,
            platform=o.platform,
            sold_on=o.sold_on,
            quantity=-o.quantity,
            amount_fen=-o.amount_fen,
            reverses=o,
            reason="更正",
            idempotency_key=f"big-{tag}-x{o.pk}",
        )
        for o in originals[::7]
    )
    return event
