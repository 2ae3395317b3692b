"""A small population for the people-area tests, built through the people services.

新华村/第一网格 (城关镇): two households, six residents; 民营社区 (石花镇) gets a grid with one household;
花圃村 (紫金镇) gets a grid with one household and its own village secretary (`huapu_secretary`), the
"secretary of another village". Birth dates are set from today so that ages (and age bands) are exact
on any day.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.utils import timezone

from governance import pii
from governance.demo import seed_demo_county
from governance.models import Household, Region, RegionKind, Resident, User
from governance.roles import Role
from governance.selectors.people import years_before
from governance.services import people as people_services
from governance.services import regions as region_services
from governance.services import roles as role_services

_serial = itertools.count(1)
PASSWORD = "xiangzhi-demo"


def id_number_for(birth: dt.date, gender: str, prefix: str = "420625") -> str:
    """A valid 18-digit ID number for `birth` and `gender` (the 17th digit is odd for men)."""
    order = (next(_serial) * 2 + (1 if gender == "M" else 0)) % 1000
    first17 = f"{prefix}{birth:%Y%m%d}{order:03d}"
    return first17 + pii.id_number_check_char(first17)


def born_aged(age: int, *, today: dt.date | None = None) -> dt.date:
    """A birth date giving exactly `age` today and for the next ~11 months."""
    return years_before(today or timezone.localdate(), age) - dt.timedelta(days=30)


@dataclass
class Person:
    name: str
    gender: str
    age: int
    relation: str
    phone: str = ""
    tags: tuple[str, ...] = ()


@dataclass
class PeopleWorld:
    regions: dict[str, Region]
    users: dict[str, User]
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    id_numbers: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)

    def client(self, username: str) -> Client:
        client = Client()
        client.force_login(self.users[username])
        return client


POPULATION: dict[tuple[str, str, str], list[Person]] = {
    ("第一网格", "XH-001", "谷城县城关镇新华村一组12号"): [
        Person("张德明", "M", 82, "self", "13800001111", ("left_behind_elderly", "party_member")),
        Person("李桂兰", "F", 79, "spouse", "13900002222", ("left_behind_elderly",)),
    ],
    ("第一网格", "XH-002", "谷城县城关镇新华村二组3号"): [
        Person("王建国", "M", 45, "self", "13700003333"),
        Person("刘芳", "F", 43, "spouse"),
        Person("王小明", "M", 10, "child", "", ("left_behind_child",)),
        Person("王秀兰", "F", 91, "parent"),
    ],
    ("民营一网格", "MY-001", "谷城县石花镇民营社区振兴路8号"): [
        Person("赵淑珍", "F", 68, "self", "13600004444"),
    ],
    ("花圃一网格", "HP-001", "谷城县紫金镇花圃村三组5号"): [
        Person("孙立平", "M", 63, "self"),
    ],
}
HOUSEHOLD_TAGS = {"XH-001": ["low_income"]}


def people_world_build(regions: dict[str, Region]) -> PeopleWorld:
    users = {user.username: user for user in User.objects.all()}
    regions = dict(regions)
    regions["民营一网格"] = region_services.region_create(
        parent=regions["民营社区"], name="民营一网格", kind=RegionKind.GRID, code="420625101002001"
    )
    regions["花圃一网格"] = region_services.region_create(
        parent=regions["花圃村"], name="花圃一网格", kind=RegionKind.GRID, code="420625107203001"
    )
    huapu = role_services.user_create(username="huapu_secretary", password=PASSWORD, full_name="周平")
    role_services.role_assign(user=huapu, role=Role.VILLAGE_SECRETARY, region=regions["花圃村"])
    users["huapu_secretary"] = huapu
    world = PeopleWorld(regions=regions, users=users)
    admin = users["county_admin"]
    for (grid_name, number, address), people in POPULATION.items():
        household = people_services.household_create(
            actor=admin,
            grid=regions[grid_name],
            number=number,
            address=address,
            tags=HOUSEHOLD_TAGS.get(number, []),
        )
        for person in people:
            id_number = id_number_for(born_aged(person.age), person.gender)
            resident = people_services.resident_create(
                actor=admin,
                household=household,
                name=person.name,
                id_number=id_number,
                relation_to_head=person.relation,
                phone=person.phone,
                tags=person.tags,
            )
            world.residents[person.name] = resident
            world.id_numbers[person.name] = id_number
            world.phones[person.name] = person.phone
        household.refresh_from_db()
        world.households[number] = household
    return world


@pytest.fixture
def people_world(db, settings) -> PeopleWorld:
    """The demo county's skeleton (as the `demo_county` fixture seeds it) plus the population above.

    Seeding hashes six passwords; with the default PBKDF2 hasher that costs seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return people_world_build(seed_demo_county(password=PASSWORD))
