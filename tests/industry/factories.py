"""A small industry world for the industry tests, on the demo county skeleton (the `demo_county` fixture).
Other helpers' tests may import it read-only; it does not call tests.governance.regions_fixture.build_people,
so a test may add people itself.

    industry_world(demo_county) -> IndustryWorld

    chains      茶叶 (base 紫金镇; links 种植 → 加工 → 销售), 食用菌 (base 石花镇; links 种植 → 销售)

    businesses  (world.businesses by name)
        新华村 (城关镇):   新华茶叶专业合作社 cooperative, credit code 93420625MA4XH00014, on 茶叶 at 种植
                          新华家庭农场 family farm
                          谷城新华食品有限公司 enterprise, credit code 91420625MA4XH0002D
        民营社区 (石花镇): 石花香菇专业合作社 cooperative, credit code 93420625MA4TH0001C, on 食用菌 at 种植
                          民营社区股份经济合作社 village collective
                          石花奎面食品有限公司 enterprise, credit code 91420625MA4TH0002M

    products    (world.products by code)
        GC-TEA-0001 谷城毛尖   tea        origin 新华村   chain 茶叶   producer 新华茶叶专业合作社  unit 斤
        GC-TEA-0002 玉皇剑     tea        origin 新华村   chain 茶叶   producer 新华茶叶专业合作社  unit 盒
        GC-FUN-0001 石花香菇   fungi      origin 民营社区 chain 食用菌 producer 石花香菇专业合作社  unit 斤
        GC-PRO-0001 石花奎面   processed  origin 民营社区 —           producer 石花奎面食品有限公司 unit 箱

    events      (dates are relative to today, so the current one accepts today's sales)
        world.chengguan_event  城关镇农旅展览会  expo      region 城关镇, town product 谷城毛尖,
                               CG_START = today − 2 days … today + 1 day (running now),
                               series 五谷情深·味在谷城
            exhibitors  A01 新华茶叶专业合作社, A02 谷城新华食品有限公司
        world.shihua_event     石花镇香菇节      festival  region 石花镇, town product 石花香菇,
                               today − 40 days … today − 38 days (over), series 五谷情深·味在谷城
            exhibitors  B01 石花香菇专业合作社, B02 石花奎面食品有限公司

    sales       (world.sales by label; created directly, source "page", recorded by the township admins)
        C1  城关  A01 谷城毛尖  offline        CG_START   qty 2    80,000 fen
        S1  石花  B01 石花香菇  offline        day 1      qty 10  120,000 fen
        S2  石花  B01 石花香菇  online 抖音    day 1      qty 5    65,050 fen
        S3  石花  B02 石花奎面  offline        day 2      qty 20   30,000 fen
        S4  石花  B02 石花奎面  online 淘宝    day 2      qty 8    16,000 fen
        totals: 城关 80,000 (offline 80,000); 石花 231,050 (offline 150,000, online 81,050: 抖音 65,050,
        淘宝 16,000)

    users   county_admin, township_admin (陈静, 城关镇), village_secretary (刘强, 新华村) from the demo;
            shihua_admin (township admin of 石花镇; reused if the canteen world made it already),
            expo_organiser (展会公司: no role, granted industry.manage_event on the 石花 event only).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.utils import timezone

from governance.models import Region, User
from governance.roles import Role
from governance.services import roles as role_services
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    Event,
    EventKind,
    EventUserObjectPermission,
    Exhibitor,
    IndustryChain,
    LinkKind,
    Product,
    ProductCategory,
    SalesChannel,
    SalesRecord,
    SalesSource,
)

PASSWORD = "xiangzhi-demo"
SERIES = "五谷情深·味在谷城"
CG_TOTAL = 80_000
SH_TOTAL = 231_050
SH_OFFLINE = 150_000
SH_ONLINE = 81_050


def key() -> str:
    return uuid.uuid4().hex


def today() -> dt.date:
    return timezone.localdate()


@dataclass
class IndustryWorld:
    regions: dict[str, Region]
    users: dict[str, User]
    chains: dict[str, IndustryChain]
    businesses: dict[str, Business]
    products: dict[str, Product]
    chengguan_event: Event
    shihua_event: Event
    exhibitors: dict[str, Exhibitor] = field(default_factory=dict)  # by booth
    sales: dict[str, SalesRecord] = field(default_factory=dict)

    @property
    def county_admin(self) -> User:
        return self.users["county_admin"]

    @property
    def chengguan_admin(self) -> User:
        return self.users["township_admin"]

    @property
    def shihua_admin(self) -> User:
        return self.users["shihua_admin"]

    @property
    def organiser(self) -> User:
        return self.users["expo_organiser"]


def user_ensure(
    username: str, full_name: str, role: Role | None = None, region: Region | None = None
) -> User:
    """The user `username`, created with the demo password if new; `role` over `region` assigned."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = role_services.user_create(username=username, password=PASSWORD, full_name=full_name)
    if role is not None and region is not None:
        role_services.role_assign(user=user, role=role, region=region)
    return user


def event_grant(event: Event, user: User) -> None:
    """Grant `user` industry.manage_event on `event` (guardian direct row)."""
    EventUserObjectPermission.objects.get_or_create(
        content_object=event,
        user=user,
        permission=Permission.objects.get(content_type__app_label="industry", codename="manage_event"),
    )


def sale_make(
    *,
    exhibitor: Exhibitor,
    product: Product,
    sold_on: dt.date,
    amount_fen: int,
    quantity: str | Decimal = "1",
    channel: str = SalesChannel.OFFLINE,
    platform: str = "",
    recorded_by: User | None = None,
) -> SalesRecord:
    """An original sales record, written directly (the trigger allows INSERT) — for setting up a test."""
    return SalesRecord.objects.create(
        event=exhibitor.event,
        exhibitor=exhibitor,
        product=product,
        channel=channel,
        platform=platform,
        sold_on=sold_on,
        quantity=Decimal(quantity),
        amount_fen=amount_fen,
        source=SalesSource.PAGE,
        idempotency_key=key(),
        recorded_by=recorded_by,
    )


def industry_world(regions: dict[str, Region]) -> IndustryWorld:
    """Build the world described in the module docstring on the demo county `regions`."""
    r = regions
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["county_admin", "township_admin", "village_secretary"])
    }
    users["shihua_admin"] = user_ensure("shihua_admin", "石花管理员", Role.TOWNSHIP_ADMIN, r["石花镇"])
    users["expo_organiser"] = user_ensure("expo_organiser", "展会公司")

    tea = IndustryChain.objects.create(name="茶叶", base_region=r["紫金镇"], sort_order=1)
    fungi = IndustryChain.objects.create(name="食用菌", base_region=r["石花镇"], sort_order=2)
    links = {}
    for chain, names in ((tea, ("种植", "加工", "销售")), (fungi, ("种植", "销售"))):
        kinds = {"种植": LinkKind.PRODUCTION, "加工": LinkKind.PROCESSING, "销售": LinkKind.SALES}
        for order, name in enumerate(names, start=1):
            links[(chain.name, name)] = ChainLink.objects.create(
                chain=chain, kind=kinds[name], name=name, sort_order=order
            )

    def business(name: str, kind: str, village: str, code: str = "") -> Business:
        return Business.objects.create(
            name=name, kind=kind, region=r[village], credit_code=code, legal_representative="负责人"
        )

    b = {
        "新华茶叶专业合作社": business(
            "新华茶叶专业合作社", BusinessKind.COOPERATIVE, "新华村", "93420625MA4XH00014"
        ),
        "新华家庭农场": business("新华家庭农场", BusinessKind.FAMILY_FARM, "新华村"),
        "谷城新华食品有限公司": business(
            "谷城新华食品有限公司", BusinessKind.ENTERPRISE, "新华村", "91420625MA4XH0002D"
        ),
        "石花香菇专业合作社": business(
            "石花香菇专业合作社", BusinessKind.COOPERATIVE, "民营社区", "93420625MA4TH0001C"
        ),
        "民营社区股份经济合作社": business(
            "民营社区股份经济合作社", BusinessKind.VILLAGE_COLLECTIVE, "民营社区"
        ),
        "石花奎面食品有限公司": business(
            "石花奎面食品有限公司", BusinessKind.ENTERPRISE, "民营社区", "91420625MA4TH0002M"
        ),
    }
    ChainParticipation.objects.create(
        chain=tea,
        link=links[("茶叶", "种植")],
        business=b["新华茶叶专业合作社"],
        area_mu=Decimal("120.00"),
        jobs=15,
    )
    ChainParticipation.objects.create(
        chain=fungi,
        link=links[("食用菌", "种植")],
        business=b["石花香菇专业合作社"],
        area_mu=Decimal("80.00"),
        jobs=22,
    )

    def product(
        code: str,
        name: str,
        category: str,
        village: str,
        chain: IndustryChain | None,
        producer: str,
        unit: str,
    ) -> Product:
        return Product.objects.create(
            code=code,
            name=name,
            category=category,
            origin_region=r[village],
            chain=chain,
            producer=b[producer],
            unit=unit,
        )

    p = {
        "GC-TEA-0001": product(
            "GC-TEA-0001", "谷城毛尖", ProductCategory.TEA, "新华村", tea, "新华茶叶专业合作社", "斤"
        ),
        "GC-TEA-0002": product(
            "GC-TEA-0002", "玉皇剑", ProductCategory.TEA, "新华村", tea, "新华茶叶专业合作社", "盒"
        ),
        "GC-FUN-0001": product(
            "GC-FUN-0001", "石花香菇", ProductCategory.FUNGI, "民营社区", fungi, "石花香菇专业合作社", "斤"
        ),
        "GC-PRO-0001": product(
            "GC-PRO-0001",
            "石花奎面",
            ProductCategory.PROCESSED,
            "民营社区",
            None,
            "石花奎面食品有限公司",
            "箱",
        ),
    }

    now = today()
    chengguan_event = Event.objects.create(
        kind=EventKind.EXPO,
        name="城关镇农旅展览会",
        series=SERIES,
        region=r["城关镇"],
        town_product="谷城毛尖",
        starts_on=now - dt.timedelta(days=2),
        ends_on=now + dt.timedelta(days=1),
        venue="城关镇文化广场",
        organiser="城关镇人民政府",
    )
    shihua_event = Event.objects.create(
        kind=EventKind.FESTIVAL,
        name="石花镇香菇节",
        series=SERIES,
        region=r["石花镇"],
        town_product="石花香菇",
        starts_on=now - dt.timedelta(days=40),
        ends_on=now - dt.timedelta(days=38),
        venue="石花镇民营社区广场",
        organiser="石花镇人民政府",
    )
    event_grant(shihua_event, users["expo_organiser"])
    world = IndustryWorld(
        regions=dict(r),
        users=users,
        chains={"茶叶": tea, "食用菌": fungi},
        businesses=b,
        products=p,
        chengguan_event=chengguan_event,
        shihua_event=shihua_event,
    )
    ex = world.exhibitors
    ex["A01"] = Exhibitor.objects.create(event=chengguan_event, business=b["新华茶叶专业合作社"], booth="A01")
    ex["A02"] = Exhibitor.objects.create(
        event=chengguan_event, business=b["谷城新华食品有限公司"], booth="A02"
    )
    ex["B01"] = Exhibitor.objects.create(event=shihua_event, business=b["石花香菇专业合作社"], booth="B01")
    ex["B02"] = Exhibitor.objects.create(event=shihua_event, business=b["石花奎面食品有限公司"], booth="B02")

    day1, day2 = shihua_event.starts_on, shihua_event.starts_on + dt.timedelta(days=1)
    cg, sh = users["township_admin"], users["shihua_admin"]
    s = world.sales
    s["C1"] = sale_make(
        exhibitor=ex["A01"],
        product=p["GC-TEA-0001"],
        sold_on=chengguan_event.starts_on,
        amount_fen=80_000,
        quantity="2",
        recorded_by=cg,
    )
    s["S1"] = sale_make(
        exhibitor=ex["B01"],
        product=p["GC-FUN-0001"],
        sold_on=day1,
        amount_fen=120_000,
        quantity="10",
        recorded_by=sh,
    )
    s["S2"] = sale_make(
        exhibitor=ex["B01"],
        product=p["GC-FUN-0001"],
        sold_on=day1,
        amount_fen=65_050,
        quantity="5",
        channel=SalesChannel.ONLINE,
        platform="抖音",
        recorded_by=sh,
    )
    s["S3"] = sale_make(
        exhibitor=ex["B02"],
        product=p["GC-PRO-0001"],
        sold_on=day2,
        amount_fen=30_000,
        quantity="20",
        recorded_by=sh,
    )
    s["S4"] = sale_make(
        exhibitor=ex["B02"],
        product=p["GC-PRO-0001"],
        sold_on=day2,
        amount_fen=16_000,
        quantity="8",
        channel=SalesChannel.ONLINE,
        platform="淘宝",
        recorded_by=sh,
    )
    return world
