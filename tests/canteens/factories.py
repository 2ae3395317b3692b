"""The shared canteen world for the canteens tests, built through the services on the demo county
skeleton (the `demo_county` fixture) and tests/governance/regions_fixture.build_people.

    canteen_world(demo_county) -> CanteenWorld

    site        民营社区爱心食堂 (canteen in 民营社区, 石花镇), capacity 60, operator 民营社区居委会;
                slots breakfast 07:00–08:30, lunch 11:00–12:30, dinner 17:00–18:30
    classroom   民营社区爱心讲堂 (classroom hosted by the canteen)
    other_site  新华村爱心食堂 (canteen in 新华村, 城关镇: another township)
    tiers       canteens.defaults.TIERS by code:
                age-60-69, age-70-79, age-80-89, age-90, low-income, disability

    elders (household 吴家, 民营第一网格; born on 1 January so the age is today.year − birth year all year):
        吴桂兰   72   enrolled in 70–79 岁      card_code enrolments["吴桂兰"].card_code
        吴德厚   85   enrolled in 80–89 岁
        吴秀芝   65   tagged 低保, enrolled in 低保
        吴建军   55   not enrolled (too young; a guest at full price)
    every enrolment starts on ENROL_FROM (1 January of last year), open-ended.

    price rules (from ENROL_FROM, every slot):
        70–79 岁   400 fen: resident fixed 150; rest 250 → government 60 % = 150, community 30 % = 75,
                   donation 10 % = 25                                    (SPLIT_70: 150/150/75/25)
        80–89 岁   400 fen: resident fixed 100; rest 300 → 180 / 90 / 30   (SPLIT_80)
        60–69 岁   400 fen: resident fixed 200; rest 200 → 100 / 60 / 40   (SPLIT_60)
        低保       400 fen: resident fixed 50; rest 350 → government 70 % capped at 200 (245 → 200, the
                   45 cut goes to the remainder funder, community), community 20 % = 70 + 45 = 115,
                   donation 10 % = 35                                    (SPLIT_LOW)
        guest      600 fen: resident fixed 600                           (SPLIT_GUEST)
        remainder funder community, donation fallback community, government level county.

    donation fund  民营社区爱心食堂捐赠资金 (the canteen's), balance FUND_BALANCE = 10,000 fen (¥100.00)
                   from one donation (爱心企业, receipt JZ-TEST-0001, made directly: C2 owns the service).

    users   canteen_manager (赵敏, role canteen_manager at 民营社区), shihua_admin (石花管理员, township
            admin of 石花镇), township_admin (陈静, 城关镇: another township), village_secretary (刘强,
            新华村), minying_secretary (民营社区 village secretary: reads), county_admin,
            cook (厨师老吴: no role, granted manage_site on the canteen only).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from canteens.defaults import tiers_ensure
from canteens.models import (
    Donation,
    DonationFund,
    DonationKind,
    DonorKind,
    Enrolment,
    FundMovement,
    FundMovementKind,
    PriceRule,
    Site,
    SiteKind,
    SubsidyTier,
)
from canteens.services import enrolments as enrolment_services
from canteens.services import rules as rule_services
from canteens.services import sites as site_services
from canteens.split import Share
from governance.models import (
    Gender,
    Household,
    Region,
    RelationToHead,
    Resident,
    ResidentTag,
    ResidentTagKind,
    User,
)
from governance.roles import Role
from governance.services import roles as role_services
from tests.governance.regions_fixture import People, build_people, resident_make

PASSWORD = "xiangzhi-demo"
FUND_BALANCE = 10_000
SPLIT_70 = {"resident": 150, "government": 150, "community": 75, "donation": 25}
SPLIT_80 = {"resident": 100, "government": 180, "community": 90, "donation": 30}
SPLIT_60 = {"resident": 200, "government": 100, "community": 60, "donation": 40}
SPLIT_LOW = {"resident": 50, "government": 200, "community": 115, "donation": 35}
SPLIT_GUEST = {"resident": 600, "government": 0, "community": 0, "donation": 0}


def key() -> str:
    return uuid.uuid4().hex


def enrol_from() -> dt.date:
    return dt.date(timezone.localdate().year - 1, 1, 1)


def born(age: int) -> dt.date:
    """A birth date on 1 January, so the age today is exactly `age`."""
    return dt.date(timezone.localdate().year - age, 1, 1)


@dataclass
class CanteenWorld:
    people: People
    users: dict[str, User]
    site: Site
    classroom: Site
    other_site: Site
    tiers: dict[str, SubsidyTier]
    elders: dict[str, Resident] = field(default_factory=dict)
    enrolments: dict[str, Enrolment] = field(default_factory=dict)
    rules: dict[str, PriceRule] = field(default_factory=dict)
    fund: DonationFund | None = None

    @property
    def regions(self) -> dict[str, Region]:
        return self.people.regions

    @property
    def manager(self) -> User:
        return self.users["canteen_manager"]

    @property
    def admin(self) -> User:
        """The township admin of 石花镇 (the canteen's township)."""
        return self.users["shihua_admin"]


def user_make(username: str, full_name: str, role: Role | None = None, region: Region | None = None) -> User:
    user = role_services.user_create(username=username, password=PASSWORD, full_name=full_name)
    if role is not None and region is not None:
        role_services.role_assign(user=user, role=role, region=region)
    return user


def fund_seed(fund: DonationFund, amount_fen: int, actor: User, receipt: str) -> Donation:
    """Credit `fund` with a money donation (rows made directly until C2's donation service exists)."""
    donation = Donation.objects.create(
        fund=fund,
        donor_name="爱心企业",
        donor_kind=DonorKind.ENTERPRISE,
        kind=DonationKind.MONEY,
        amount_fen=amount_fen,
        received_on=enrol_from(),
        purpose="老人助餐",
        receipt_number=receipt,
        created_by=actor,
    )
    FundMovement.objects.create(
        fund=fund, kind=FundMovementKind.DONATION, amount_fen=amount_fen, donation=donation, created_by=actor
    )
    DonationFund.objects.filter(pk=fund.pk).update(balance_fen=fund.balance_fen + amount_fen)
    fund.refresh_from_db()
    return donation


def rule_make(
    world: CanteenWorld,
    tier: SubsidyTier | None,
    price: int,
    shares: list[Share],
    *,
    slot: str = "",
    effective_from: dt.date | None = None,
    site: Site | None = None,
) -> PriceRule:
    return rule_services.price_rule_create(
        actor=world.admin,
        idempotency_key=key(),
        site=site or world.site,
        tier=tier,
        slot=slot,
        effective_from=effective_from or enrol_from(),
        effective_to=None,
        price_fen=price,
        shares=shares,
        remainder_funder="community",
        donation_fallback="community",
    )


def canteen_world(regions: dict[str, Region]) -> CanteenWorld:
    """Build the world described in the module docstring on the demo county `regions`."""
    people = build_people(regions)
    r = people.regions
    users = {user.username: user for user in User.objects.all()}
    users["shihua_admin"] = user_make("shihua_admin", "石花管理员", Role.TOWNSHIP_ADMIN, r["石花镇"])
    users["minying_secretary"] = user_make(
        "minying_secretary", "民营书记", Role.VILLAGE_SECRETARY, r["民营社区"]
    )
    users["cook"] = user_make("cook", "厨师老吴")
    admin = users["shihua_admin"]
    tiers = tiers_ensure()

    site = site_services.site_create(
        actor=admin,
        idempotency_key=key(),
        kind=SiteKind.CANTEEN,
        name="民营社区爱心食堂",
        region=r["民营社区"],
        address="石花镇民营社区服务中心一楼",
        operator="民营社区居委会",
        capacity=60,
        phone="07107654321",
        description="为社区 60 岁以上老人提供一日三餐。",
        opened_on=dt.date(2023, 5, 1),
    )
    classroom = site_services.site_create(
        actor=admin,
        idempotency_key=key(),
        kind=SiteKind.CLASSROOM,
        name="民营社区爱心讲堂",
        region=r["民营社区"],
        capacity=30,
        host=site,
    )
    other_site = site_services.site_create(
        actor=users["township_admin"],
        idempotency_key=key(),
        kind=SiteKind.CANTEEN,
        name="新华村爱心食堂",
        region=r["新华村"],
        capacity=40,
    )
    site_services.site_manager_grant(actor=admin, site=site, user=users["cook"])
    world = CanteenWorld(
        people=people, users=users, site=site, classroom=classroom, other_site=other_site, tiers=tiers
    )

    household = Household.objects.create(
        grid=r["民营第一网格"], number="MY-003", address="民营第一网格MY-003号"
    )
    people.households["吴家"] = household
    e = world.elders
    e["吴德厚"] = resident_make(household, "吴德厚", birth=born(85))
    e["吴桂兰"] = resident_make(
        household, "吴桂兰", gender=Gender.FEMALE, relation=RelationToHead.SPOUSE, birth=born(72)
    )
    e["吴秀芝"] = resident_make(
        household, "吴秀芝", gender=Gender.FEMALE, relation=RelationToHead.SIBLING, birth=born(65)
    )
    e["吴建军"] = resident_make(household, "吴建军", relation=RelationToHead.CHILD, birth=born(55))
    ResidentTag.objects.create(resident=e["吴秀芝"], tag=ResidentTagKind.LOW_INCOME)
    people.residents.update(e)

    for name, code in (("吴桂兰", "age-70-79"), ("吴德厚", "age-80-89"), ("吴秀芝", "low-income")):
        world.enrolments[name] = enrolment_services.enrolment_create(
            actor=world.manager,
            idempotency_key=key(),
            site=site,
            resident=e[name],
            tier=tiers[code],
            starts_on=enrol_from(),
        )

    def pct(funder: str, percent: int, cap: int | None = None) -> Share:
        return Share(funder, share_bp=percent * 100, cap_fen=cap)

    world.rules["age-70-79"] = rule_make(
        world,
        tiers["age-70-79"],
        400,
        [Share("resident", fixed_fen=150), pct("government", 60), pct("community", 30), pct("donation", 10)],
    )
    world.rules["age-80-89"] = rule_make(
        world,
        tiers["age-80-89"],
        400,
        [Share("resident", fixed_fen=100), pct("government", 60), pct("community", 30), pct("donation", 10)],
    )
    world.rules["age-60-69"] = rule_make(
        world,
        tiers["age-60-69"],
        400,
        [Share("resident", fixed_fen=200), pct("government", 50), pct("community", 30), pct("donation", 20)],
    )
    world.rules["low-income"] = rule_make(
        world,
        tiers["low-income"],
        400,
        [
            Share("resident", fixed_fen=50),
            pct("government", 70, 200),
            pct("community", 20),
            pct("donation", 10),
        ],
    )
    world.rules["guest"] = rule_make(world, None, 600, [Share("resident", fixed_fen=600)])

    world.fund = DonationFund.objects.create(site=site, name="民营社区爱心食堂捐赠资金")
    fund_seed(world.fund, FUND_BALANCE, admin, "JZ-TEST-0001")
    return world


def canteen_scope_data(regions: dict[str, Region]) -> dict[str, Site]:
    """For tests/test_api_scope.py: a canteen in each of 民营社区 (石花镇) and 新华村 (城关镇) with an
    enrolled elder (a new 75-year-old in the village's first grid) and a 70–79 price rule; written by the
    county admin through the services."""
    from governance.models import RegionLevel

    admin = User.objects.get(username="county_admin")
    tiers = tiers_ensure()
    made: dict[str, Site] = {}
    for village in ("民营社区", "新华村"):
        region = regions[village]
        site = site_services.site_create(
            actor=admin,
            idempotency_key=key(),
            kind=SiteKind.CANTEEN,
            name=f"{village}范围测试食堂",
            region=region,
        )
        grid = (
            Region.objects.filter(path__startswith=region.path, level=RegionLevel.GRID).order_by("pk").first()
        )
        assert grid is not None
        household = Household.objects.create(grid=grid, number=f"SCOPE-{region.pk}", address="范围测试")
        elder = resident_make(household, f"{village}老人", birth=born(75))
        enrolment_services.enrolment_create(
            actor=admin,
            idempotency_key=key(),
            site=site,
            resident=elder,
            tier=tiers["age-70-79"],
            starts_on=enrol_from(),
        )
        rule_services.price_rule_create(
            actor=admin,
            idempotency_key=key(),
            site=site,
            tier=tiers["age-70-79"],
            slot="",
            effective_from=enrol_from(),
            effective_to=None,
            price_fen=400,
            shares=[Share("resident", fixed_fen=150), Share("government", share_bp=10_000)],
        )
        made[village] = site
    return made
