"""A small county with people in it, for the region browser, the roles pages and the API scope test.

On top of the demo county's skeleton (seed_demo_county) it adds a few grids and, in two separate
subtrees (城关镇 / 新华村 and 石花镇 / 民营社区), households, residents, Party members and grid leaders.
Rows are made directly where no service exists yet for them; regions go through region_create.

The counts, by subtree (current households / current residents / Party members / current grid leaders):

    第一网格 (新华村)      2 / 5 / 2 / 1     (+1 inactive household, +1 deceased resident, +1 applicant,
                                              +1 ended grid-leader term: none of them counted)
    第二网格 (新华村)      1 / 2 / 0 / 0
    新华村                 3 / 7 / 2 / 1
    东街第一网格 (东街社区) 1 / 1 / 1 / 1
    东街社区               1 / 1 / 1 / 1
    城关镇                 4 / 8 / 3 / 2
    民营第一网格 (民营社区) 2 / 3 / 1 / 1
    民营社区, 石花镇        2 / 3 / 1 / 1
    谷城县                 6 / 11 / 4 / 3
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from governance import pii
from governance.models import (
    Gender,
    Household,
    MembershipStage,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionKind,
    RelationToHead,
    Resident,
    ResidentStatus,
)
from governance.services import regions as region_services
from grids.models import GridLeader

_sequence = itertools.count(1)


def id_number_make(birth: dt.date, gender: str) -> str:
    """A valid (fake) ID number registered in 谷城县 (420625) for someone born on `birth`."""
    serial = next(_sequence) % 500
    order = serial * 2 + (1 if gender == Gender.MALE else 0)
    first17 = f"420625{birth:%Y%m%d}{order:03d}"
    return first17 + pii.id_number_check_char(first17)


def resident_make(
    household: Household,
    name: str,
    *,
    gender: str = Gender.MALE,
    birth: dt.date = dt.date(1970, 5, 1),
    relation: str = RelationToHead.SELF,
    status: str = ResidentStatus.RESIDENT,
    phone: str = "",
) -> Resident:
    number = id_number_make(birth, gender)
    resident = Resident.objects.create(
        household=household,
        name=name,
        gender=gender,
        birth_date=birth,
        id_number_encrypted=pii.encrypt(number),
        id_number_hash=pii.lookup_hash(number),
        id_number_masked=pii.mask_id_number(number),
        phone_encrypted=pii.encrypt(phone),
        phone_hash=pii.lookup_hash(phone),
        phone_masked=pii.mask_phone(phone),
        relation_to_head=relation,
        status=status,
    )
    if relation == RelationToHead.SELF:
        Household.objects.filter(pk=household.pk).update(head=resident)
    return resident


def organisation_make(region: Region, name: str, kind: str, parent: PartyOrganisation | None = None):
    org = PartyOrganisation.objects.create(
        parent=parent, kind=kind, name=name, region=region, path="pending/"
    )
    org.path = f"{parent.path if parent else ''}{org.pk}/"
    PartyOrganisation.objects.filter(pk=org.pk).update(path=org.path)
    return org


@dataclass
class People:
    regions: dict[str, Region]
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    organisations: dict[str, PartyOrganisation] = field(default_factory=dict)
    members: dict[str, PartyMember] = field(default_factory=dict)
    leaders: dict[str, GridLeader] = field(default_factory=dict)


def build_people(regions: dict[str, Region]) -> People:
    """Add the grids and people described in the module docstring to the demo county `regions`."""
    r = dict(regions)
    r["第二网格"] = region_services.region_create(
        parent=r["新华村"], name="第二网格", kind=RegionKind.GRID, code="420625100201002"
    )
    r["东街社区"] = region_services.region_create(
        parent=r["城关镇"], name="东街社区", kind=RegionKind.COMMUNITY, code="420625100002"
    )
    r["东街第一网格"] = region_services.region_create(
        parent=r["东街社区"], name="东街第一网格", kind=RegionKind.GRID, code="420625100002001"
    )
    r["民营第一网格"] = region_services.region_create(
        parent=r["民营社区"], name="民营第一网格", kind=RegionKind.GRID, code="420625101002001"
    )
    people = People(regions=r)
    h, p = people.households, people.residents

    def household(key: str, grid: str, number: str, *, active: bool = True) -> Household:
        h[key] = Household.objects.create(
            grid=r[grid], number=number, address=f"{r[grid].name}{number}号", is_active=active
        )
        return h[key]

    household("王家", "第一网格", "XH-001")
    household("李家", "第一网格", "XH-002")
    household("旧户", "第一网格", "XH-003", active=False)
    household("张家", "第二网格", "XH-101")
    household("赵家", "东街第一网格", "DJ-001")
    household("孙家", "民营第一网格", "MY-001")
    household("周家", "民营第一网格", "MY-002")

    p["王建国"] = resident_make(h["王家"], "王建国", phone="13800001111")
    p["王秀英"] = resident_make(
        h["王家"], "王秀英", gender=Gender.FEMALE, relation=RelationToHead.SPOUSE, birth=dt.date(1972, 3, 8)
    )
    p["王小明"] = resident_make(
        h["王家"],
        "王小明",
        relation=RelationToHead.CHILD,
        birth=dt.date(2001, 9, 1),
        status=ResidentStatus.AWAY,
    )
    p["王老汉"] = resident_make(
        h["王家"],
        "王老汉",
        relation=RelationToHead.PARENT,
        birth=dt.date(1938, 1, 2),
        status=ResidentStatus.DECEASED,
    )
    p["李德明"] = resident_make(h["李家"], "李德明", birth=dt.date(1955, 11, 20))
    p["李芳"] = resident_make(
        h["李家"], "李芳", gender=Gender.FEMALE, relation=RelationToHead.CHILD, birth=dt.date(1990, 2, 14)
    )
    p["钱旧人"] = resident_make(h["旧户"], "钱旧人", status=ResidentStatus.MOVED_OUT)
    p["张伟"] = resident_make(h["张家"], "张伟", birth=dt.date(1980, 7, 7))
    p["张丽"] = resident_make(h["张家"], "张丽", gender=Gender.FEMALE, relation=RelationToHead.SPOUSE)
    p["赵刚"] = resident_make(h["赵家"], "赵刚", birth=dt.date(1966, 6, 6))
    p["孙大爷"] = resident_make(h["孙家"], "孙大爷", birth=dt.date(1946, 4, 4))
    p["孙奶奶"] = resident_make(
        h["孙家"], "孙奶奶", gender=Gender.FEMALE, relation=RelationToHead.SPOUSE, birth=dt.date(1948, 8, 8)
    )
    p["周明"] = resident_make(h["周家"], "周明", birth=dt.date(1985, 10, 10))

    o = people.organisations
    o["城关镇党委"] = organisation_make(
        r["城关镇"], "中共谷城县城关镇委员会", PartyOrgKind.TOWNSHIP_COMMITTEE
    )
    o["新华村党支部"] = organisation_make(
        r["新华村"], "中共新华村支部委员会", PartyOrgKind.VILLAGE_BRANCH, o["城关镇党委"]
    )
    o["东街社区党支部"] = organisation_make(
        r["东街社区"], "中共东街社区支部委员会", PartyOrgKind.VILLAGE_BRANCH, o["城关镇党委"]
    )
    o["石花镇党委"] = organisation_make(
        r["石花镇"], "中共谷城县石花镇委员会", PartyOrgKind.TOWNSHIP_COMMITTEE
    )
    o["民营社区党支部"] = organisation_make(
        r["民营社区"], "中共民营社区支部委员会", PartyOrgKind.VILLAGE_BRANCH, o["石花镇党委"]
    )

    def member(key: str, org: str, stage: str) -> None:
        people.members[key] = PartyMember.objects.create(resident=p[key], organisation=o[org], stage=stage)

    member("王建国", "新华村党支部", MembershipStage.FULL)
    member("李德明", "新华村党支部", MembershipStage.PROBATIONARY)
    member("李芳", "新华村党支部", MembershipStage.APPLICANT)
    member("赵刚", "东街社区党支部", MembershipStage.FULL)
    member("孙大爷", "民营社区党支部", MembershipStage.FULL)

    def leader(key: str, grid: str, resident: str, elected: dt.date, ended: dt.date | None = None) -> None:
        people.leaders[key] = GridLeader.objects.create(
            grid=r[grid],
            resident=p[resident],
            elected_on=elected,
            term_end=elected.replace(year=elected.year + 3),
            ended_on=ended,
        )

    leader("第一网格前任", "第一网格", "李德明", dt.date(2020, 1, 1), ended=dt.date(2023, 1, 1))
    leader("第一网格", "第一网格", "王秀英", dt.date(2023, 1, 1))
    leader("东街第一网格", "东街第一网格", "赵刚", dt.date(2024, 3, 1))
    leader("民营第一网格", "民营第一网格", "周明", dt.date(2024, 3, 1))
    return people
