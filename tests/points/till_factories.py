"""A points store world for the till tests: on top of the demo county and tests/governance/regions_fixture
(households 王家, 李家, 旧户 (inactive) in 新华村 / 城关镇; 孙家 in 民营社区 / 石花镇), a store in each of
城关镇 and 石花镇 with stocked items, households funded from their township's issuance account, a clerk
granted the 城关镇 store's till, and an open redemption day there today.

    城关镇积分超市   大米 30 分/袋 × 5   食用油 50 分/瓶 × 2   洗衣粉 10 分/袋 × 1   香皂 5 分/块 (下架) × 3
    石花镇积分超市   毛巾 8 分/条 × 4
    王家 100 分, 李家 40 分, 孙家 60 分
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from governance.models import Household, Region, User
from governance.roles import Role
from governance.services import roles as role_services
from points.ledger import account_for_household, ledger_post, system_account
from points.models import AccountKind, DayStatus, Item, RedemptionDay, Store, TransactionKind
from points.services import stores as store_services
from tests.governance.regions_fixture import People, build_people

PASSWORD = "xiangzhi-demo"


def key() -> str:
    return uuid.uuid4().hex


def fund(household: Household, points: int) -> None:
    """Give `household` `points` from its township's issuance account (an award, posted)."""
    account = account_for_household(household)
    township = Region.objects.get(pk=account.township_id)
    ledger_post(
        township=township,
        kind=TransactionKind.AWARD,
        memo="测试奖励",
        legs=[(system_account(township, AccountKind.ISSUANCE), -points), (account, points)],
        actor=None,
    )


@dataclass
class TillWorld:
    people: People
    users: dict[str, User]
    stores: dict[str, Store] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    day: RedemptionDay | None = None

    @property
    def households(self) -> dict[str, Household]:
        return self.people.households

    @property
    def regions(self) -> dict[str, Region]:
        return self.people.regions


def item_make(admin: User, store: Store, name: str, unit: str, price: int, stock: int) -> Item:
    item = store_services.item_create(
        actor=admin, idempotency_key=key(), store=store, name=name, unit=unit, points_price=price
    )
    if stock:
        store_services.stock_in(
            actor=admin,
            idempotency_key=key(),
            item=item,
            kind="purchase",
            quantity=stock,
            source="谷城县供销社",
            value_fen=stock * 1250,
        )
    item.refresh_from_db()
    return item


def till_world_build(regions: dict[str, Region]) -> TillWorld:
    people = build_people(regions)
    users = {user.username: user for user in User.objects.all()}
    shihua_admin = role_services.user_create(
        username="shihua_admin", password=PASSWORD, full_name="石花管理员"
    )
    role_services.role_assign(user=shihua_admin, role=Role.TOWNSHIP_ADMIN, region=people.regions["石花镇"])
    users["shihua_admin"] = shihua_admin
    clerk = role_services.user_create(username="clerk", password=PASSWORD, full_name="收银员小周")
    users["clerk"] = clerk
    admin = users["township_admin"]
    world = TillWorld(people=people, users=users)
    r = people.regions
    world.stores["城关"] = store_services.store_create(
        actor=admin,
        idempotency_key=key(),
        region=r["城关镇"],
        name="城关镇积分超市",
        address="城关镇人民路 8 号",
    )
    world.stores["石花"] = store_services.store_create(
        actor=shihua_admin, idempotency_key=key(), region=r["石花镇"], name="石花镇积分超市"
    )
    chengguan = world.stores["城关"]
    world.items["大米"] = item_make(admin, chengguan, "大米", "袋", 30, 5)
    world.items["食用油"] = item_make(admin, chengguan, "食用油", "瓶", 50, 2)
    world.items["洗衣粉"] = item_make(admin, chengguan, "洗衣粉", "袋", 10, 1)
    soap = item_make(admin, chengguan, "香皂", "块", 5, 3)
    world.items["香皂"] = store_services.item_update(
        actor=admin, item=soap, name="香皂", unit="块", points_price=5, is_active=False
    )
    world.items["毛巾"] = item_make(shihua_admin, world.stores["石花"], "毛巾", "条", 8, 4)
    store_services.store_clerk_grant(actor=admin, store=chengguan, user=clerk)
    world.day = RedemptionDay.objects.create(
        store=chengguan,
        date=timezone.localdate(),
        title="测试兑换日",
        status=DayStatus.OPEN,
        opened_at=timezone.now(),
    )
    fund(people.households["王家"], 100)
    fund(people.households["李家"], 40)
    fund(people.households["孙家"], 60)
    return world
