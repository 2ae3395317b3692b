"""Factories for the Party-area tests: villages with a grid, residents with valid (fake) ID numbers, and
a small Party organisation tree built through the services.

Households and residents are plain rows here (the people area's services own their writes in the app);
everything in the Party area goes through governance.services.party.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from governance import pii
from governance.models import (
    Household,
    LeadershipPosition,
    MemberCategory,
    MembershipStage,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionKind,
    RelationToHead,
    Resident,
    SagesGroup,
    SagesMemberKind,
    ShennongGathering,
    TalentCategory,
)
from governance.services import party as party_services
from governance.services import regions as region_services

_serial = itertools.count(1)


def id_number_for(birth: dt.date, gender: str) -> str:
    """A valid 18-digit ID number registered in 谷城县 (420625) for `birth` and `gender`."""
    seq = next(_serial) % 500
    order = seq * 2 + (1 if gender == "M" else 0)  # the 17th digit is odd for men
    first17 = f"420625{birth:%Y%m%d}{order:03d}"
    return first17 + pii.id_number_check_char(first17)


def village_make(township: Region, name: str) -> tuple[Region, Region]:
    """A village under `township` with one grid; returns (village, grid)."""
    village = region_services.region_create(parent=township, name=name, kind=RegionKind.VILLAGE)
    grid = region_services.region_create(parent=village, name="第一网格", kind=RegionKind.GRID)
    return village, grid


def resident_make(
    grid: Region, name: str, *, birth: dt.date = dt.date(1980, 5, 1), gender: str = "M"
) -> Resident:
    household = Household.objects.create(grid=grid, number=f"H{next(_serial):06d}", address="")
    id_number = id_number_for(birth, gender)
    return Resident.objects.create(
        household=household,
        name=name,
        gender=gender,
        birth_date=birth,
        id_number_encrypted=pii.encrypt(id_number),
        id_number_hash=pii.lookup_hash(id_number),
        id_number_masked=pii.mask_id_number(id_number),
        relation_to_head=RelationToHead.SELF,
    )


def full_steps(applied: dt.date) -> dict[MembershipStage, dt.date]:
    """Dates for a member registered directly as a full member: a year between each step."""
    return {stage: applied.replace(year=applied.year + i) for i, stage in enumerate(MembershipStage)}


def full_member_make(
    org: PartyOrganisation,
    grid: Region,
    name: str,
    *,
    applied: dt.date = dt.date(2000, 3, 1),
    category: MemberCategory = MemberCategory.REGULAR,
    birth: dt.date = dt.date(1970, 1, 1),
) -> PartyMember:
    resident = resident_make(grid, name, birth=birth)
    return party_services.party_member_create(
        actor=None, resident=resident, organisation=org, steps=full_steps(applied), category=category
    )


@dataclass
class PartyTree:
    county: PartyOrganisation
    chengguan: PartyOrganisation  # 城关镇党委
    xinhua: PartyOrganisation  # 新华村党支部
    wushan: PartyOrganisation  # 五山镇党委
    yanhe: PartyOrganisation  # 堰河村党总支
    regions: dict[str, Region]


def party_tree_make(demo_county: dict[str, Region]) -> PartyTree:
    """县委 → 城关镇党委 → 新华村党支部 and 县委 → 五山镇党委 → 堰河村党总支 (新华村's grid: 第一网格)."""
    regions = dict(demo_county)
    county = party_services.party_org_create(
        actor=None, kind=PartyOrgKind.COUNTY_COMMITTEE, name="中共谷城县委员会", region=regions["谷城县"]
    )
    chengguan = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
        name="中共城关镇委员会",
        region=regions["城关镇"],
        parent=county,
    )
    xinhua = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.VILLAGE_BRANCH,
        name="新华村党支部",
        region=regions["新华村"],
        parent=chengguan,
    )
    wushan = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
        name="中共五山镇委员会",
        region=regions["五山镇"],
        parent=county,
    )
    regions["堰河村第一网格"] = region_services.region_create(
        parent=regions["堰河村"], name="第一网格", kind=RegionKind.GRID
    )
    yanhe = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.VILLAGE_GENERAL_BRANCH,
        name="堰河村党总支",
        region=regions["堰河村"],
        parent=wushan,
    )
    return PartyTree(
        county=county, chengguan=chengguan, xinhua=xinhua, wushan=wushan, yanhe=yanhe, regions=regions
    )


def steps_until(stage: MembershipStage, probationary_on: dt.date) -> dict[MembershipStage, dt.date]:
    """Step dates up to `stage` for someone who became probationary on `probationary_on` (the earlier
    steps 6, 12 and 24 months before it; full membership a year after it)."""
    y, m, d = probationary_on.year, probationary_on.month, min(probationary_on.day, 28)
    dates = {
        MembershipStage.APPLICANT: dt.date(y - 2, m, d),
        MembershipStage.ACTIVIST: dt.date(y - 1, m, d),
        MembershipStage.CANDIDATE: dt.date(y, m, d) - dt.timedelta(days=180),
        MembershipStage.PROBATIONARY: probationary_on,
        MembershipStage.FULL: dt.date(y + 1, m, d),
    }
    stages = list(MembershipStage)
    return {s: dates[s] for s in stages[: stages.index(stage) + 1]}


@dataclass
class PartyWorld:
    tree: PartyTree
    chain: PartyOrganisation  # 食用菌产业链党支部, directly under the county committee
    members: dict[str, PartyMember]
    sages: dict[str, SagesGroup]
    gathering: ShennongGathering


def party_world_make(demo_county: dict[str, Region]) -> PartyWorld:
    """A small county for the selector, page and API tests, built through the services.

    Young farmer members by the year they became probationary members:
    城关镇 (新华村党支部): 2022 ×2 (青年甲, 青年乙), 2023 ×1 (青年丙); 青年丁 is only a candidate.
    五山镇 (堰河村党总支): 2023 ×1 (青年戊), 2024 ×2 (青年己, 青年庚).
    县直 (食用菌产业链党支部): 2024 ×1 (青年辛).
    Also: 刘强 (full, 新华村 secretary since 2021-01-10), 赵国建 (veteran, full since 1979), 周平 (regular,
    probationary 2022), 孙浩宇 (applicant 2025), 彭勇 (full, transferred 新华村 → 堰河村 on 2023-05-01),
    王军 (full, 堰河村).
    """
    tree = party_tree_make(demo_county)
    regions = tree.regions
    xinhua_grid, yanhe_grid = regions["第一网格"], regions["堰河村第一网格"]
    chain = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.CHAIN_BRANCH,
        name="食用菌产业链党支部",
        region=regions["谷城县"],
        parent=tree.county,
    )
    members: dict[str, PartyMember] = {}
    xinhua, yanhe, xgrid, ygrid = tree.xinhua, tree.yanhe, xinhua_grid, yanhe_grid

    def add(
        name: str,
        org: PartyOrganisation,
        grid: Region,
        steps: dict,
        category=MemberCategory.REGULAR,
        birth=dt.date(1995, 4, 4),
        gender="M",
        sponsors=None,
    ) -> PartyMember:
        members[name] = party_services.party_member_create(
            actor=None,
            resident=resident_make(grid, name, birth=birth, gender=gender),
            organisation=org,
            steps=steps,
            category=category,
            sponsors=sponsors,
        )
        return members[name]

    add("刘强", xinhua, xgrid, full_steps(dt.date(2000, 3, 1)), birth=dt.date(1980, 5, 1))
    add(
        "赵国建",
        xinhua,
        xgrid,
        full_steps(dt.date(1975, 3, 1)),
        MemberCategory.VETERAN,
        birth=dt.date(1950, 2, 2),
    )
    sponsors = (members["刘强"], members["赵国建"])
    young = MemberCategory.YOUNG_FARMER
    PROBATIONARY, FULL, CANDIDATE = (
        MembershipStage.PROBATIONARY,
        MembershipStage.FULL,
        MembershipStage.CANDIDATE,
    )
    add("青年甲", xinhua, xgrid, steps_until(PROBATIONARY, dt.date(2022, 7, 1)), young, sponsors=sponsors)
    add("青年乙", xinhua, xgrid, steps_until(FULL, dt.date(2022, 3, 1)), young, gender="F", sponsors=sponsors)
    add(
        "青年丙",
        tree.xinhua,
        xinhua_grid,
        steps_until(PROBATIONARY, dt.date(2023, 6, 1)),
        young,
    )
    add("青年丁", xinhua, xgrid, steps_until(CANDIDATE, dt.date(2024, 6, 1)), young, sponsors=sponsors)
    add("周平", xinhua, xgrid, steps_until(PROBATIONARY, dt.date(2022, 5, 1)))
    add("孙浩宇", xinhua, xgrid, {MembershipStage.APPLICANT: dt.date(2025, 3, 1)}, young)
    add("彭勇", xinhua, xgrid, full_steps(dt.date(2005, 3, 1)), birth=dt.date(1982, 1, 1))
    add("王军", yanhe, ygrid, full_steps(dt.date(2001, 3, 1)), birth=dt.date(1978, 1, 1))
    add(
        "青年戊",
        tree.yanhe,
        yanhe_grid,
        steps_until(PROBATIONARY, dt.date(2023, 5, 1)),
        young,
    )
    add("青年己", yanhe, ygrid, steps_until(FULL, dt.date(2024, 2, 1)), young)
    add(
        "青年庚",
        tree.yanhe,
        yanhe_grid,
        steps_until(PROBATIONARY, dt.date(2024, 8, 1)),
        young,
    )
    add("青年辛", chain, yanhe_grid, steps_until(PROBATIONARY, dt.date(2024, 4, 1)), young)

    party_services.party_leadership_assign(
        actor=None,
        organisation=tree.xinhua,
        member=members["刘强"],
        position=LeadershipPosition.SECRETARY,
        term_start=dt.date(2021, 1, 10),
    )
    party_services.party_member_transfer(
        actor=None,
        member=members["彭勇"],
        to_organisation=tree.yanhe,
        transferred_on=dt.date(2023, 5, 1),
        reason="婚迁",
    )

    sages = {
        "新华村": party_services.sages_group_create(actor=None, village=regions["新华村"]),
        "堰河村": party_services.sages_group_create(actor=None, village=regions["堰河村"]),
    }
    party_services.sages_member_add(
        actor=None,
        group=sages["新华村"],
        resident=members["赵国建"].resident,
        kind=SagesMemberKind.VETERAN_MEMBER,
        joined_on=dt.date(2020, 5, 1),
    )
    party_services.sages_member_add(
        actor=None,
        group=sages["堰河村"],
        resident=resident_make(yanhe_grid, "堰河乡贤", birth=dt.date(1955, 5, 5)),
        kind=SagesMemberKind.RESPECTED_VILLAGER,
        joined_on=dt.date(2021, 5, 1),
    )

    tea = resident_make(xinhua_grid, "田茶农")
    talent = party_services.talent_register(
        actor=None,
        resident=tea,
        category=TalentCategory.PRODUCTION,
        speciality="茶叶种植",
        registered_on=dt.date(2021, 4, 1),
    )
    party_services.talent_training_add(
        actor=None, talent=talent, title="茶园绿色防控技术培训", held_on=dt.date(2021, 5, 1), hours=16
    )
    party_services.talent_training_add(
        actor=None, talent=talent, title="高素质农民培育班", held_on=dt.date(2022, 5, 1), hours=40
    )
    party_services.talent_register(
        actor=None,
        resident=tea,
        category=TalentCategory.ECOMMERCE,
        speciality="直播带货",
        registered_on=dt.date(2022, 4, 1),
    )
    party_services.talent_register(
        actor=None,
        resident=resident_make(yanhe_grid, "堰河茶艺"),
        category=TalentCategory.PRODUCTION,
        speciality="茶叶加工",
        registered_on=dt.date(2021, 4, 1),
    )

    gathering = party_services.shennong_gathering_create(
        actor=None,
        session=1,
        held_on=dt.date(2018, 12, 28),
        venue="谷城县文体中心",
        theme="崇尚劳动 致富光荣",
    )
    for resident, title in ((tea, "致富带头人"), (members["王军"].resident, "乡村振兴带头人")):
        model = party_services.role_model_create(actor=None, resident=resident, title=title)
        party_services.role_model_select(actor=None, gathering=gathering, role_model=model)
    return PartyWorld(tree=tree, chain=chain, members=members, sages=sages, gathering=gathering)
