"""Shared factories for the points tests: a small county with a user for every role, households with
points accounts, a township store with scarce items, a few rules and a township policy.

    world = points_world_make(demo_county)          # demo_county: the fixture in tests/conftest.py
    points_give(world, "王家", 100)                  # 100 spendable points, posted from issuance
    world.accounts["王家"].refresh_from_db()

or use the `points_world` fixture (import it into a test module: `from tests.points.factories import
points_world  # noqa: F401`).

The tree (governance demo skeleton + tests/governance/regions_fixture.build_people):

    谷城县 ─ 城关镇 ─ 新华村 ─ 第一网格 (王家 XH-001, 李家 XH-002, 旧户 XH-003 inactive), 第二网格 (张家)
                   └ 东街社区 ─ 东街第一网格 (赵家)
           石花镇 ─ 民营社区 ─ 民营第一网格 (孙家, 周家)
           (紫金镇/花圃村, 五山镇/堰河村: no grids)

Users (world.users[...]), each with the role at the region named:
    county_admin 谷城县 · township_admin 城关镇 · village_secretary 新华村 · grid_leader 第一网格 ·
    grid_leader_2 第二网格 · dongjie_secretary 东街社区 · shihua_admin 石花镇 · minying_secretary 民营社区 ·
    minying_leader 民营第一网格 · canteen_manager 民营社区 · mediator 新华村 · viewer 新华村 ·
    till_clerk (no role; guardian points.run_till on 城关镇积分超市) · nobody (no role).

Accounts (world.accounts[...]): every household above except 旧户, all at balance 0, pending 0.
Stores (world.stores[...]): "城关镇" 城关镇积分超市 (township store), "石花镇" 石花镇积分超市.
Items (world.items[...]) — (store, price, on hand): "洗衣粉" (城关镇, 20, 3), "食用油" (城关镇, 50, 1),
"毛巾" (城关镇, 10, 5), "香皂" (石花镇, 5, 10). Stock is put in as purchase movements (on_hand = their sum).
Rules (world.rules[...]) — (region, code, points, evidence, cap): "庭院整洁" (谷城县, HJ01, +5, no, 1/month),
"志愿服务" (谷城县, ZY01, +10, yes, 2/month), "孝老爱亲" (谷城县, XL01, +20, no, 1/year),
"乱倒垃圾" (谷城县, HJ09, −5, no, none), "城关助学" (城关镇, CG01, +8, no, 1/quarter).
Policies: 城关镇 (min balance to redeem 0, notice 7 days, annual expiry on 1 January),
石花镇 (min balance 30, notice 5 days, no expiry).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from guardian.shortcuts import assign_perm

from governance.models import Household, Region, User
from governance.roles import Role
from governance.services import roles as role_services
from points.ledger import account_for_household, ledger_post, system_account
from points.models import (
    Account,
    AccountKind,
    CapPeriod,
    ExpiryMode,
    Item,
    LedgerTransaction,
    Rule,
    RuleCategory,
    StockKind,
    StockMovement,
    Store,
    TownshipPolicy,
    TransactionKind,
)
from tests.governance.regions_fixture import People, build_people

PASSWORD = "xiangzhi-demo"
_serial = itertools.count(1)


@dataclass
class PointsWorld:
    regions: dict[str, Region]
    people: People
    users: dict[str, User]
    households: dict[str, Household]
    accounts: dict[str, Account]
    stores: dict[str, Store]
    items: dict[str, Item]
    rules: dict[str, Rule]
    policies: dict[str, TownshipPolicy]
    extra: dict[str, Any] = field(default_factory=dict)

    def account(self, household: str) -> Account:
        """The household's account, re-read from the database (exact balance and pending)."""
        return Account.objects.get(pk=self.accounts[household].pk)


def key_new() -> str:
    """A fresh idempotency key."""
    return f"t{next(_serial)}-{uuid.uuid4().hex[:12]}"


def user_make(username: str, full_name: str, role: Role | None = None, region: Region | None = None) -> User:
    user = User.objects.filter(username=username).first() or role_services.user_create(
        username=username, password=PASSWORD, full_name=full_name
    )
    if role is not None and region is not None:
        role_services.role_assign(user=user, role=role, region=region)
    return user


def store_make(name: str, region: Region, township: Region) -> Store:
    return Store.objects.create(name=name, region=region, township=township, address=f"{region.name}政府旁")


def item_make(store: Store, name: str, unit: str, price: int, on_hand: int, sort_order: int = 0) -> Item:
    """An item with `on_hand` units put in by one purchase movement (the stock ledger stays exact)."""
    item = Item.objects.create(store=store, name=name, unit=unit, points_price=price, sort_order=sort_order)
    if on_hand:
        StockMovement.objects.create(
            item=item, kind=StockKind.PURCHASE, quantity=on_hand, source="测试供货商", value_fen=on_hand * 500
        )
        Item.objects.filter(pk=item.pk).update(on_hand=on_hand)
        item.on_hand = on_hand
    return item


def points_world_make(demo_county: dict[str, Region]) -> PointsWorld:
    """The county, users, accounts, stores, items, rules and policies of the module docstring."""
    people = build_people(demo_county)
    r = people.regions
    users = {
        name: User.objects.get(username=name)
        for name in ("county_admin", "township_admin", "village_secretary", "grid_leader", "canteen_manager")
    }
    for username, full_name, role, region in (
        ("grid_leader_2", "张网格", Role.GRID_LEADER, "第二网格"),
        ("dongjie_secretary", "赵书记", Role.VILLAGE_SECRETARY, "东街社区"),
        ("shihua_admin", "石花镇管理员", Role.TOWNSHIP_ADMIN, "石花镇"),
        ("minying_secretary", "孙书记", Role.VILLAGE_SECRETARY, "民营社区"),
        ("minying_leader", "周明", Role.GRID_LEADER, "民营第一网格"),
        ("mediator", "钱调解", Role.MEDIATOR, "新华村"),
        ("viewer", "只读员", Role.VIEWER, "新华村"),
    ):
        users[username] = user_make(username, full_name, role, r[region])
    users["till_clerk"] = user_make("till_clerk", "超市收银员")
    users["nobody"] = user_make("nobody", "无角色")

    households = {key: h for key, h in people.households.items()}
    accounts = {key: account_for_household(h) for key, h in households.items() if h.is_active}

    stores = {
        "城关镇": store_make("城关镇积分超市", r["城关镇"], r["城关镇"]),
        "石花镇": store_make("石花镇积分超市", r["石花镇"], r["石花镇"]),
    }
    assign_perm("points.run_till", users["till_clerk"], stores["城关镇"])
    items = {
        "洗衣粉": item_make(stores["城关镇"], "洗衣粉", "袋", 20, 3, 1),
        "食用油": item_make(stores["城关镇"], "食用油", "桶", 50, 1, 2),
        "毛巾": item_make(stores["城关镇"], "毛巾", "条", 10, 5, 3),
        "香皂": item_make(stores["石花镇"], "香皂", "块", 5, 10, 1),
    }

    def rule(
        key: str,
        region: str,
        code: str,
        category: str,
        points: int,
        evidence: bool = False,
        cap: int | None = None,
        period: str = CapPeriod.MONTH,
    ) -> Rule:
        return Rule.objects.create(
            region=r[region],
            code=code,
            name=key,
            category=category,
            points=points,
            is_evidence_required=evidence,
            cap_count=cap,
            cap_period=period,
        )

    rules = {
        "庭院整洁": rule("庭院整洁", "谷城县", "HJ01", RuleCategory.ENVIRONMENT, 5, cap=1),
        "志愿服务": rule("志愿服务", "谷城县", "ZY01", RuleCategory.VOLUNTEERING, 10, evidence=True, cap=2),
        "孝老爱亲": rule(
            "孝老爱亲", "谷城县", "XL01", RuleCategory.FILIAL_PIETY, 20, cap=1, period=CapPeriod.YEAR
        ),
        "乱倒垃圾": rule("乱倒垃圾", "谷城县", "HJ09", RuleCategory.ENVIRONMENT, -5),
        "城关助学": rule(
            "城关助学", "城关镇", "CG01", RuleCategory.OTHER, 8, cap=1, period=CapPeriod.QUARTER
        ),
    }
    policies = {
        "城关镇": TownshipPolicy.objects.update_or_create(
            township=r["城关镇"],
            defaults={
                "min_balance_to_redeem": 0,
                "notice_days": 7,
                "expiry_mode": ExpiryMode.ANNUAL,
                "clearing_month": 1,
                "clearing_day": 1,
            },
        )[0],
        "石花镇": TownshipPolicy.objects.update_or_create(
            township=r["石花镇"],
            defaults={"min_balance_to_redeem": 30, "notice_days": 5, "expiry_mode": ExpiryMode.NONE},
        )[0],
    }
    return PointsWorld(
        regions=r,
        people=people,
        users=users,
        households=households,
        accounts=accounts,
        stores=stores,
        items=items,
        rules=rules,
        policies=policies,
    )


def township_of(world: PointsWorld, household: str) -> Region:
    """The township Region of a household's account."""
    return Region.objects.get(pk=world.accounts[household].township_id)


def points_give(
    world: PointsWorld, household: str, points: int, *, memo: str = "测试发放", actor: User | None = None
) -> LedgerTransaction:
    """Post `points` to the household from its township's issuance account (an award transaction,
    written straight through points.ledger.ledger_post, without the award workflow)."""
    account = world.accounts[household]
    township = township_of(world, household)
    issuance = system_account(township, AccountKind.ISSUANCE)
    return ledger_post(
        township=township,
        kind=TransactionKind.AWARD,
        memo=memo,
        legs=[(issuance, -points), (account, points)],
        actor=actor or world.users["township_admin"],
    )


@pytest.fixture
def points_world(demo_county) -> PointsWorld:
    return points_world_make(demo_county)
