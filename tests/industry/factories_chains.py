"""Factories of the chains area's tests: a small hand-computed county for coverage, a larger generated one
for the query-count test, valid credit codes, and a chains world on the demo county.

small_county(): its own county root 小测县 (apart from the demo county), day D = 2026-06-15, with
admin `xiaoce_admin` (county admin at 小测县). Everything is written through the services.

    东镇 ─ 甲村 (grid 甲一)  H1 project 种茶 (2026-01-01 → open)                      covered
                            H2 project ended on D; household business 乙家庭 on 茶叶 (open)   covered
                            H3 project starting 2026-07-01                              not covered
                            H4 inactive household with an open project                  not counted
         乙村 (grid 乙一)  H5, H6 no project; 乙村食品公司 left 茶叶 on D; 乙村合作社 joins on D+1
    西乡 ─ 丙村 (grid 丙一)  H7 no project; 丙村茶厂 on 茶叶 (open)

    residents (age on D)       status     work on D                     counted  working
    甲村 R1 1980-03-01 (46)     在籍       employment open               yes      yes
         R2 2010-06-15 (16)     在籍       none                          yes      no
         R3 2010-06-16 (15)     在籍       —                             no
         R4 1966-06-16 (59)     外出务工    none (away counts)            yes      yes
         R5 1966-06-15 (60)     在籍       —                             no
         R6 1990-01-01 (36)     在籍       employment ended on D         yes      no
         R7 1985-01-01 (41)     迁出       —                             no
    乙村 R9 1975-05-05 (51)     在籍       employment starts D+1         yes      no
         R10 1970-01-01         去世       —                             no
         R11 2000-02-02 (26)    在籍       employment at 乙村食品公司 open  yes      yes
    丙村 R12 1995-09-09 (30)    外出务工    none                          yes      yes

    expected      villages  households  residents
    甲村           1/1       2/3         2/4
    乙村           0/1       0/2         1/2
    丙村           1/1       0/1         1/1
    东镇           1/2       2/5         3/6
    西乡           1/1       0/1         1/1
    小测县          2/3       2/6         4/7
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from governance.models import Household, Region, RegionKind, Resident, User
from governance.models.people import RelationToHead, ResidentStatus
from governance.roles import Role
from governance.services import people as people_services
from governance.services import regions as region_services
from governance.services import roles as role_services
from industry.models import (
    Business,
    BusinessKind,
    ChainParticipation,
    EmploymentKind,
    IndustryChain,
    ProjectKind,
)
from industry.services import chains as services
from tests.governance.regions_fixture import id_number_make

D = dt.date(2026, 6, 15)
_serial = itertools.count(1)


def key() -> str:
    return uuid.uuid4().hex


def credit_code_make(first17: str) -> str:
    """`first17` with its GB 32100 check character appended."""
    return first17 + services.credit_code_check_char(first17)


def credit_code_next() -> str:
    return credit_code_make(f"91420625MA4T{next(_serial):05d}")


@dataclass
class SmallCounty:
    county: Region
    regions: dict[str, Region]
    admin: User
    chain: IndustryChain
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    businesses: dict[str, Business] = field(default_factory=dict)


def _resident(
    admin: User, household: Household, name: str, birth: dt.date, status: str = ResidentStatus.RESIDENT
) -> Resident:
    relation = RelationToHead.SELF if household.head_id is None else RelationToHead.CHILD
    resident = people_services.resident_create(
        actor=admin,
        household=household,
        name=name,
        id_number=id_number_make(birth, "M"),
        relation_to_head=relation,
        status=status,
    )
    household.refresh_from_db()
    return resident


def small_county() -> SmallCounty:
    county = region_services.region_create(
        parent=None, name="小测县", kind=RegionKind.COUNTY, code="429999000000"
    )
    regions = {"小测县": county}
    regions["东镇"] = region_services.region_create(
        parent=county, name="东镇", kind=RegionKind.TOWN, code="429999100000"
    )
    regions["西乡"] = region_services.region_create(
        parent=county, name="西乡", kind=RegionKind.XIANG, code="429999200000"
    )
    for township, village, grid, code in (
        ("东镇", "甲村", "甲一", "429999100201"),
        ("东镇", "乙村", "乙一", "429999100202"),
        ("西乡", "丙村", "丙一", "429999200201"),
    ):
        regions[village] = region_services.region_create(
            parent=regions[township], name=village, kind=RegionKind.VILLAGE, code=code
        )
        regions[grid] = region_services.region_create(
            parent=regions[village], name=grid, kind=RegionKind.GRID, code=code + "001"
        )
    admin = role_services.user_create(
        username="xiaoce_admin", password="x-long-password-1", full_name="小测管理员"
    )
    role_services.role_assign(user=admin, role=Role.COUNTY_ADMIN, region=county)
    chain = services.chain_create(
        actor=admin,
        idempotency_key=key(),
        name="小测茶叶",
        base_region=regions["东镇"],
        links=[("production", "种植"), ("processing", "加工")],
    )
    world = SmallCounty(county=county, regions=regions, admin=admin, chain=chain)

    def household(label: str, grid: str) -> Household:
        made = people_services.household_create(actor=admin, grid=regions[grid], number=label, address="")
        world.households[label] = made
        return made

    def project(label: str, started: dt.date, title: str = "种茶") -> Any:
        return services.project_add(
            actor=admin,
            idempotency_key=key(),
            household=world.households[label],
            kind=ProjectKind.PLANTING,
            title=title,
            chain=chain,
            started_on=started,
        )

    for label in ("H1", "H2", "H3", "H4"):
        household(label, "甲一")
    for label in ("H5", "H6"):
        household(label, "乙一")
    household("H7", "丙一")

    project("H1", dt.date(2026, 1, 1))
    ended = project("H2", dt.date(2025, 3, 1))
    services.project_end(actor=admin, project=ended, ended_on=D)
    project("H3", dt.date(2026, 7, 1))
    project("H4", dt.date(2026, 1, 1))
    Household.objects.filter(pk=world.households["H4"].pk).update(is_active=False)

    def business(name: str, village: str, kind: str, number: str = "") -> Business:
        made = services.business_create(
            actor=admin,
            idempotency_key=key(),
            kind=kind,
            name=name,
            region=regions[village],
            household_number=number,
            credit_code="" if kind == BusinessKind.HOUSEHOLD else credit_code_next(),
        )
        world.businesses[name] = made
        return made

    def join(name: str, joined: dt.date | None = None) -> ChainParticipation:
        return services.participation_add(
            actor=admin,
            idempotency_key=key(),
            chain=chain,
            business=world.businesses[name],
            area_mu="10",
            output_value_yuan="100000",
            jobs=3,
            households_driven=2,
            joined_on=joined,
        )

    business("乙家庭", "甲村", BusinessKind.HOUSEHOLD, number="H2")
    join("乙家庭", dt.date(2025, 1, 1))
    business("乙村食品公司", "乙村", BusinessKind.ENTERPRISE)
    left = join("乙村食品公司", dt.date(2024, 1, 1))
    services.participation_end(actor=admin, participation=left, left_on=D)
    business("乙村合作社", "乙村", BusinessKind.COOPERATIVE)
    join("乙村合作社", D + dt.timedelta(days=1))
    business("丙村茶厂", "丙村", BusinessKind.ENTERPRISE)
    join("丙村茶厂")

    h = world.households
    people = [
        ("R1", "H1", dt.date(1980, 3, 1), ResidentStatus.RESIDENT),
        ("R2", "H1", dt.date(2010, 6, 15), ResidentStatus.RESIDENT),
        ("R3", "H1", dt.date(2010, 6, 16), ResidentStatus.RESIDENT),
        ("R4", "H2", dt.date(1966, 6, 16), ResidentStatus.AWAY),
        ("R5", "H2", dt.date(1966, 6, 15), ResidentStatus.RESIDENT),
        ("R6", "H3", dt.date(1990, 1, 1), ResidentStatus.RESIDENT),
        ("R7", "H3", dt.date(1985, 1, 1), ResidentStatus.MOVED_OUT),
        ("R9", "H5", dt.date(1975, 5, 5), ResidentStatus.RESIDENT),
        ("R10", "H6", dt.date(1970, 1, 1), ResidentStatus.DECEASED),
        ("R11", "H6", dt.date(2000, 2, 2), ResidentStatus.RESIDENT),
        ("R12", "H7", dt.date(1995, 9, 9), ResidentStatus.AWAY),
    ]
    for label, household_label, birth, status in people:
        world.residents[label] = _resident(admin, h[household_label], f"居民{label}", birth, status)

    r = world.residents

    def work(label: str, started: dt.date, business: Business | None = None) -> Any:
        return services.employment_add(
            actor=admin,
            idempotency_key=key(),
            resident=r[label],
            kind=EmploymentKind.LOCAL_BUSINESS if business else EmploymentKind.FLEXIBLE,
            business=business,
            started_on=started,
        )

    work("R1", dt.date(2025, 1, 1))
    gone = work("R6", dt.date(2024, 1, 1))
    services.employment_end(actor=admin, employment=gone, ended_on=D)
    work("R9", D + dt.timedelta(days=1))
    work("R11", dt.date(2026, 1, 1), world.businesses["乙村食品公司"])
    return world


def larger_county(*, townships: int, villages_per_township: int, households_per_village: int) -> Region:
    """A generated county 大测县 (bulk-created: the query-count test needs size, not service calls), each
    household with two working-age residents, every other household with a project and every third
    resident with work."""
    county = region_services.region_create(
        parent=None, name="大测县", kind=RegionKind.COUNTY, code="428888000000"
    )
    chain = IndustryChain.objects.create(name=f"大测链{county.pk}")
    project_rows, employment_rows = [], []
    from industry.models import Employment, HouseholdProject

    for t in range(townships):
        township = region_services.region_create(
            parent=county, name=f"大测{t}镇", kind=RegionKind.TOWN, code=f"42888810{t:02d}00"
        )
        for v in range(villages_per_township):
            village = region_services.region_create(
                parent=township,
                name=f"大测{t}-{v}村",
                kind=RegionKind.VILLAGE,
                code=f"42888810{t:02d}{v:02d}",
            )
            grid = region_services.region_create(
                parent=village, name=f"大测{t}-{v}网格", kind=RegionKind.GRID, code=f"42888810{t:02d}{v:02d}1"
            )
            business = Business.objects.create(
                kind=BusinessKind.ENTERPRISE, name=f"企业{t}-{v}", region=village
            )
            if v % 2 == 0:
                ChainParticipation.objects.create(chain=chain, business=business)
            households = Household.objects.bulk_create(
                [Household(grid=grid, number=f"{t}-{v}-{n}") for n in range(households_per_village)]
            )
            residents = []
            for hh in households:
                for m in range(2):
                    serial = f"{hh.pk}-{m}"
                    residents.append(
                        Resident(
                            household=hh,
                            name=f"居民{serial}",
                            gender="M",
                            birth_date=dt.date(1980 + m, 1, 1),
                            id_number_encrypted="x",
                            id_number_hash=f"bulk-{serial}",
                            id_number_masked="4206**********0000",
                            relation_to_head=RelationToHead.SELF if m == 0 else RelationToHead.CHILD,
                        )
                    )
                if hh.pk % 2 == 0:
                    project_rows.append(
                        HouseholdProject(
                            household=hh,
                            kind=ProjectKind.PLANTING,
                            title="种植",
                            started_on=dt.date(2025, 1, 1),
                        )
                    )
            for index, resident in enumerate(Resident.objects.bulk_create(residents)):
                if index % 3 == 0:
                    employment_rows.append(
                        Employment(
                            resident=resident, kind=EmploymentKind.FLEXIBLE, started_on=dt.date(2025, 1, 1)
                        )
                    )
    HouseholdProject.objects.bulk_create(project_rows)
    Employment.objects.bulk_create(employment_rows)
    return county


@dataclass
class ChainsWorld:
    """On the demo county (the `demo_county` fixture), as the county admin through the services:

    chain 茶叶 (base 紫金镇, Party branch 中共谷城县茶叶产业链支部委员会), links 种植 → 加工 → 销售
    chain 食用菌 (base 石花镇), links 种植 → 销售
    新华村 (城关镇): 新华茶叶合作社 cooperative on 茶叶 at 种植 (120 亩, ¥1,500,000.00, 12 jobs, 30 hh)
                    王家茶园 household business of household X-001 on 茶叶 at 加工 (5 亩, ¥80,000.00, 2, 0)
    民营社区 (石花镇): 石花菌业公司 enterprise on 茶叶 at 销售 (0 亩, ¥3,000,000.00, 25, 40)
                      and on 食用菌 at 种植 (50 亩, ¥2,000,000.00, 20, 15)
    第一网格 (新华村): households X-001 (王大山 b. 1970, 王小明 b. 2000) with project 种茶 3 亩,
                     X-002 (李四 b. 1980, away; 李小妹 b. 2015) without project
    王大山 works at 新华茶叶合作社 since 2025-03-01.
    """

    regions: dict[str, Region]
    admin: User
    tea: IndustryChain
    fungi: IndustryChain
    businesses: dict[str, Business]
    households: dict[str, Household]
    residents: dict[str, Resident]
    branch: Any


def chains_world(regions: dict[str, Region]) -> ChainsWorld:
    from governance.models.party import PartyOrgKind
    from governance.services import party as party_services
    from industry.models import Product, ProductCategory

    admin = User.objects.get(username="county_admin")
    county_committee = party_services.party_org_create(
        actor=admin, kind=PartyOrgKind.COUNTY_COMMITTEE, name="中共谷城县委员会", region=regions["谷城县"]
    )
    branch = party_services.party_org_create(
        actor=admin,
        kind=PartyOrgKind.CHAIN_BRANCH,
        name="中共谷城县茶叶产业链支部委员会",
        region=regions["紫金镇"],
        parent=county_committee,
    )
    tea = services.chain_create(
        actor=admin,
        idempotency_key=key(),
        name="茶叶",
        base_region=regions["紫金镇"],
        party_branch=branch,
        sort_order=1,
        links=[("production", "种植"), ("processing", "加工"), ("sales", "销售")],
    )
    fungi = services.chain_create(
        actor=admin,
        idempotency_key=key(),
        name="食用菌",
        base_region=regions["石花镇"],
        sort_order=2,
        links=[("production", "种植"), ("sales", "销售")],
    )
    links = {(link.chain_id, link.name): link for link in tea.links.all() | fungi.links.all()}
    households: dict[str, Household] = {}
    residents: dict[str, Resident] = {}
    for number, people in (
        (
            "X-001",
            [
                ("王大山", dt.date(1970, 5, 1), ResidentStatus.RESIDENT),
                ("王小明", dt.date(2000, 8, 8), ResidentStatus.RESIDENT),
            ],
        ),
        (
            "X-002",
            [
                ("李四", dt.date(1980, 2, 2), ResidentStatus.AWAY),
                ("李小妹", dt.date(2015, 1, 1), ResidentStatus.RESIDENT),
            ],
        ),
    ):
        households[number] = people_services.household_create(
            actor=admin, grid=regions["第一网格"], number=number, address="新华村"
        )
        for name, birth, status in people:
            residents[name] = _resident(admin, households[number], name, birth, status)
    businesses: dict[str, Business] = {}
    for name, village, kind, number in (
        ("新华茶叶合作社", "新华村", BusinessKind.COOPERATIVE, ""),
        ("王家茶园", "新华村", BusinessKind.HOUSEHOLD, "X-001"),
        ("石花菌业公司", "民营社区", BusinessKind.ENTERPRISE, ""),
    ):
        businesses[name] = services.business_create(
            actor=admin,
            idempotency_key=key(),
            kind=kind,
            name=name,
            region=regions[village],
            household_number=number,
            credit_code="" if kind == BusinessKind.HOUSEHOLD else credit_code_next(),
            legal_representative="王大山" if village == "新华村" else "赵总",
        )
    for chain, link, name, area_mu, output, jobs, driven in (
        (tea, "种植", "新华茶叶合作社", "120", "1500000", 12, 30),
        (tea, "加工", "王家茶园", "5", "80000", 2, 0),
        (tea, "销售", "石花菌业公司", "0", "3000000", 25, 40),
        (fungi, "种植", "石花菌业公司", "50", "2000000", 20, 15),
    ):
        services.participation_add(
            actor=admin,
            idempotency_key=key(),
            chain=chain,
            business=businesses[name],
            link=links[(chain.pk, link)],
            area_mu=area_mu,
            output_value_yuan=output,
            jobs=jobs,
            households_driven=driven,
            joined_on=dt.date(2024, 1, 1),
        )
    services.project_add(
        actor=admin,
        idempotency_key=key(),
        household=households["X-001"],
        kind=ProjectKind.PLANTING,
        title="种茶 3 亩",
        chain=tea,
        started_on=dt.date(2024, 3, 1),
    )
    services.employment_add(
        actor=admin,
        idempotency_key=key(),
        resident=residents["王大山"],
        kind=EmploymentKind.LOCAL_BUSINESS,
        business=businesses["新华茶叶合作社"],
        started_on=dt.date(2025, 3, 1),
    )
    Product.objects.create(
        code="GC-CHAINS-01",
        name="谷城毛尖",
        category=ProductCategory.TEA,
        chain=tea,
        origin_region=regions["新华村"],
        producer=businesses["新华茶叶合作社"],
        unit="斤",
    )
    return ChainsWorld(
        regions=regions,
        admin=admin,
        tea=tea,
        fungi=fungi,
        businesses=businesses,
        households=households,
        residents=residents,
        branch=branch,
    )
