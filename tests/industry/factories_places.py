"""A small hand-computed county for the collective economy, joint building and places tests, on top of
demo_county's skeleton (谷城县; 城关镇/新华村/第一网格, 石花镇/民营社区, 紫金镇/花圃村, 五山镇/堰河村).

Added: 城关镇 东风村 and 红星社区 (with one grid), 石花镇 石花村. Income (元) entered through the service:

    village     2024: total            2025: by source                                  2025 total
    新华村       80,000.00             land_rent 60,000 + services 30,000.50             90,000.50
    东风村       100,000.00            land_rent 150,000 + tourism 50,000                200,000.00
    红星社区      —                     shares 0                                           0.00
    石花村       120,000.00            land_rent 95,000                                   95,000.00
    民营社区      —                     —                                                  (not reported)
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from governance.models import (
    Household,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionKind,
    RelationToHead,
    ResidentStatus,
    User,
)
from governance.services import party as party_services
from governance.services import people as people_services
from governance.services import regions as region_services
from industry.models import (
    Business,
    BusinessKind,
    ChainParticipation,
    Event,
    EventKind,
    IndustryChain,
)
from industry.services import economy as economy_services
from tests.governance.regions_fixture import id_number_make

PASSWORD = "xiangzhi-demo"
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


INCOME_2024 = {
    "新华村": {"land_rent": "80000"},
    "东风村": {"land_rent": "100000"},
    "石花村": {"services": "120000"},
}
INCOME_2025 = {
    "新华村": {"land_rent": "60000", "services": "30000.50"},
    "东风村": {"land_rent": "150000", "tourism": "50000"},
    "红星社区": {"shares": "0"},
    "石花村": {"land_rent": "95000"},
}


@dataclass
class PlacesWorld:
    r: dict[str, Region]
    admin: User
    business: Business
    other_business: Business
    chain: IndustryChain
    joint_committee: PartyOrganisation
    households: list[Household]


def places_world(demo_county: dict[str, Region], *, incomes: bool = True) -> PlacesWorld:
    r = dict(demo_county)
    admin = User.objects.get(username="county_admin")
    r["东风村"] = region_services.region_create(
        parent=r["城关镇"], name="东风村", kind=RegionKind.VILLAGE, code="420625100202"
    )
    r["红星社区"] = region_services.region_create(
        parent=r["城关镇"], name="红星社区", kind=RegionKind.COMMUNITY, code="420625100003"
    )
    r["石花村"] = region_services.region_create(
        parent=r["石花镇"], name="石花村", kind=RegionKind.VILLAGE, code="420625101201"
    )
    r["东风第一网格"] = region_services.region_create(
        parent=r["东风村"], name="东风第一网格", kind=RegionKind.GRID, code="420625100202001"
    )
    # 新华村: 2 households on its grid (one inactive), 3 residents of whom one moved out.
    households = []
    for number, active in (("xh-1", True), ("xh-2", True), ("xh-3", False)):
        households.append(
            people_services.household_create(actor=admin, grid=r["第一网格"], number=number, is_active=active)
        )
    for name, household, status, relation in (
        ("张一", households[0], ResidentStatus.RESIDENT, RelationToHead.SELF),
        ("张二", households[0], ResidentStatus.AWAY, RelationToHead.CHILD),
        ("李三", households[1], ResidentStatus.MOVED_OUT, RelationToHead.SELF),
    ):
        people_services.resident_create(
            actor=admin,
            household=household,
            name=name,
            id_number=id_number_make(dt.date(1970, 1, 1), "M"),
            relation_to_head=relation,
            status=status,
        )
    chain = IndustryChain.objects.create(name="茶叶")
    business = Business.objects.create(
        kind=BusinessKind.ENTERPRISE, name="新华茶业有限公司", region=r["新华村"]
    )
    other_business = Business.objects.create(
        kind=BusinessKind.COOPERATIVE, name="石花食用菌合作社", region=r["石花村"]
    )
    ChainParticipation.objects.create(chain=chain, business=business, area_mu=Decimal("100"))
    Event.objects.create(
        kind=EventKind.FESTIVAL,
        name="城关镇茶叶节",
        region=r["城关镇"],
        starts_on=dt.date(2025, 4, 1),
        ends_on=dt.date(2025, 4, 3),
    )
    county_committee = party_services.party_org_create(
        actor=admin, kind=PartyOrgKind.COUNTY_COMMITTEE, name="中共谷城县委员会", region=r["谷城县"]
    )
    township_committee = party_services.party_org_create(
        actor=admin,
        kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
        name="中共城关镇委员会",
        region=r["城关镇"],
        parent=county_committee,
    )
    joint_committee = party_services.party_org_create(
        actor=admin,
        kind=PartyOrgKind.JOINT_COMMITTEE,
        name="新华联合党委",
        region=r["新华村"],
        parent=township_committee,
        villages=[r["新华村"], r["东风村"]],
    )
    if incomes:
        for year, table in ((2024, INCOME_2024), (2025, INCOME_2025)):
            for village, amounts in table.items():
                economy_services.collective_income_set(
                    actor=admin,
                    idempotency_key=key("inc"),
                    village=r[village],
                    year=year,
                    amounts_yuan=amounts,
                )
    return PlacesWorld(
        r=r,
        admin=admin,
        business=business,
        other_business=other_business,
        chain=chain,
        joint_committee=joint_committee,
        households=households,
    )


def user(username: str) -> User:
    return User.objects.get(username=username)


def as_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)
