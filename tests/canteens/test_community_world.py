"""The world of the community tests (classrooms, workshops, red stations), built through the services on
the demo county and tests/governance/regions_fixture.build_people. No tests here: the builder is shared by
tests/canteens/test_community*.py and tests/test_api_scope.py.

    sites (石花镇 / 民营社区, by shihua_admin)   民营社区爱心讲堂 (classroom), 民营社区爱心作坊 (workshop),
                                                民营社区红色驿站 (red station)
    sites (城关镇 / 新华村, by township_admin)   新华村爱心讲堂, 新华村爱心作坊, 新华村红色驿站
    residents (民营第一网格, household 周家)     周芳 (F, 36, tagged 留守妇女), 周明 (M, from build_people),
                                                周小宝 (10), 周小妹 (8); 新华村 household 王家: 王小宝 (9)
    users   canteen_manager (赵敏, 民营社区), shihua_admin (township admin 石花镇), township_admin (陈静,
            城关镇), minying_secretary (village secretary 民营社区: reads), keeper (no role, granted
            manage_site on 民营社区红色驿站), county_admin
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from canteens.models import Site, SiteKind
from canteens.services import sites as site_services
from governance.models import Gender, Region, RelationToHead, Resident, ResidentTag, ResidentTagKind, User
from governance.roles import Role
from governance.services import roles as role_services
from tests.governance.regions_fixture import People, build_people, resident_make

PASSWORD = "xiangzhi-demo"


def key() -> str:
    return uuid.uuid4().hex


def born(age: int) -> dt.date:
    return dt.date(timezone.localdate().year - age, 1, 1)


@dataclass
class CommunityWorld:
    people: People
    users: dict[str, User]
    sites: dict[str, Site] = field(default_factory=dict)

    @property
    def regions(self) -> dict[str, Region]:
        return self.people.regions

    @property
    def residents(self) -> dict[str, Resident]:
        return self.people.residents

    @property
    def manager(self) -> User:
        return self.users["canteen_manager"]


def user_make(username: str, full_name: str, role: Role | None = None, region: Region | None = None) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = role_services.user_create(username=username, password=PASSWORD, full_name=full_name)
    if role is not None and region is not None:
        role_services.role_assign(user=user, role=role, region=region)
    return user


def community_sites(regions: dict[str, Region]) -> dict[str, Site]:
    """The three community sites in each of 民营社区 (石花镇) and 新华村 (城关镇), made by their township
    admins (shihua_admin is created when missing)."""
    shihua = user_make("shihua_admin", "石花管理员", Role.TOWNSHIP_ADMIN, regions["石花镇"])
    chengguan = User.objects.get(username="township_admin")
    sites: dict[str, Site] = {}
    for actor, village in ((shihua, "民营社区"), (chengguan, "新华村")):
        for kind, label in (
            (SiteKind.CLASSROOM, "爱心讲堂"),
            (SiteKind.WORKSHOP, "爱心作坊"),
            (SiteKind.RED_STATION, "红色驿站"),
        ):
            name = f"{village}{label}"
            sites[name] = site_services.site_create(
                actor=actor, idempotency_key=key(), kind=kind, name=name, region=regions[village]
            )
    return sites


def community_world(regions: dict[str, Region]) -> CommunityWorld:
    people = build_people(regions)
    r = people.regions
    users = {user.username: user for user in User.objects.all()}
    sites = community_sites(r)
    users["shihua_admin"] = User.objects.get(username="shihua_admin")
    users["minying_secretary"] = user_make(
        "minying_secretary", "民营书记", Role.VILLAGE_SECRETARY, r["民营社区"]
    )
    users["keeper"] = user_make("keeper", "驿站站长")
    site_services.site_manager_grant(
        actor=users["shihua_admin"], site=sites["民营社区红色驿站"], user=users["keeper"]
    )
    world = CommunityWorld(people=people, users=users, sites=sites)

    h, p = people.households, people.residents
    p["周芳"] = resident_make(
        h["周家"], "周芳", gender=Gender.FEMALE, relation=RelationToHead.SPOUSE, birth=born(36)
    )
    ResidentTag.objects.create(resident=p["周芳"], tag=ResidentTagKind.LEFT_BEHIND_WOMAN)
    p["周小宝"] = resident_make(h["周家"], "周小宝", relation=RelationToHead.CHILD, birth=born(10))
    p["周小妹"] = resident_make(
        h["周家"], "周小妹", gender=Gender.FEMALE, relation=RelationToHead.CHILD, birth=born(8)
    )
    p["王小宝"] = resident_make(h["王家"], "王小宝", relation=RelationToHead.GRANDCHILD, birth=born(9))
    return world


def community_scope_data(regions: dict[str, Region]) -> dict[str, Site]:
    """For tests/test_api_scope.py: in each of 民营社区 and 新华村 a classroom with a volunteer, a session and
    hours, a workshop with a product, a worker (a resident already living there), an order and a wage, a red
    station with a service and a log entry; written by the county admin through the services."""
    from canteens.services import community as services

    admin = User.objects.get(username="county_admin")
    sites = community_sites(regions)
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    for village in ("民营社区", "新华村"):
        classroom = sites[f"{village}爱心讲堂"]
        workshop = sites[f"{village}爱心作坊"]
        station = sites[f"{village}红色驿站"]
        teacher = services.volunteer_create(
            actor=admin, idempotency_key=key(), site=classroom, name=f"{village}老师", phone="13700001111"
        )
        services.session_create(
            actor=admin,
            idempotency_key=key(),
            site=classroom,
            held_on=today,
            starts=dt.time(15, 0),
            ends=dt.time(16, 0),
            subject="作业辅导",
            teacher_id=teacher.pk,
            children_count=9,
        )
        services.volunteer_hours_record(
            actor=admin,
            idempotency_key=key(),
            site=classroom,
            volunteer_id=teacher.pk,
            worked_on=today,
            hours="2",
            activity="帮厨",
        )
        product = services.product_create(
            actor=admin, idempotency_key=key(), site=workshop, name="手工布鞋", unit="双", piece_rate_fen=250
        )
        resident = Resident.objects.filter(household__grid__path__startswith=regions[village].path).first()
        assert resident is not None
        worker = services.worker_add(
            actor=admin,
            idempotency_key=key(),
            site=workshop,
            resident_id=resident.pk,
            joined_on=dt.date(2024, 1, 1),
        ).worker
        services.order_create(
            actor=admin,
            idempotency_key=key(),
            site=workshop,
            product_id=product.pk,
            customer="供销社",
            quantity=10,
            amount_fen=30000,
            ordered_on=today,
        )
        services.wage_record(
            actor=admin,
            idempotency_key=key(),
            site=workshop,
            worker_id=worker.pk,
            year=last_month.year,
            month=last_month.month,
            pieces=40,
            product_id=product.pk,
            paid_on=today,
        )
        service = services.station_service_create(
            actor=admin, idempotency_key=key(), site=station, name="理发"
        )
        services.service_log_record(
            actor=admin,
            idempotency_key=key(),
            site=station,
            service_id=service.pk,
            served_on=today,
            people_served=5,
        )
    return sites
