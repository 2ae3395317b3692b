"""Factories for the awards tests: a small county with points users, the default catalog, photos, and
awards moved through the real services.

    world = awards_world_make(demo_county)        # demo_county: the fixture in tests/conftest.py
    award = award_make(world, "王家", "HJ-02")     # proposed by the 第一网格 grid leader
    award_bring_to(world, award, AwardStatus.NOTICE)

The tree (governance demo skeleton + tests/governance/regions_fixture.build_people):

    谷城县 ─ 城关镇 ─ 新华村 ─ 第一网格 (王家, 李家, 旧户 inactive), 第二网格 (张家)
                   └ 东街社区 ─ 东街第一网格 (赵家)
           石花镇 ─ 民营社区 ─ 民营第一网格 (孙家, 周家)

Users: county_admin 谷城县 · township_admin 城关镇 · village_secretary 新华村 · grid_leader 第一网格 ·
grid_leader_2 第二网格 · dongjie_secretary 东街社区 · minying_secretary 民营社区 · minying_leader
民营第一网格 · viewer 新华村 · canteen_manager 民营社区 · nobody (no role).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from governance.models import Household, Region, Resident, User
from governance.roles import Role
from points.defaults import points_defaults_install
from points.models import Award, AwardStatus, Rule
from tests.governance.regions_fixture import People, build_people
from tests.grids.factories import user_make


@dataclass
class AwardsWorld:
    regions: dict[str, Region]
    people: People
    users: dict[str, User]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def households(self) -> dict[str, Household]:
        return self.people.households

    @property
    def residents(self) -> dict[str, Resident]:
        return self.people.residents

    def rule(self, code: str) -> Rule:
        return Rule.objects.get(code=code, region=self.regions["谷城县"])


def awards_world_make(demo_county: dict[str, Region]) -> AwardsWorld:
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
        ("viewer", "只读员", Role.VIEWER, "新华村"),
    ):
        users[username] = user_make(username, full_name, role, r[region])
    users["nobody"] = user_make("nobody", "无角色")
    points_defaults_install()
    return AwardsWorld(regions=r, people=people, users=users)


def photo_upload(name: str = "scene.jpg", colour: tuple[int, int, int] = (40, 160, 90)) -> SimpleUploadedFile:
    """A small real JPEG as a browser would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def award_make(
    world: AwardsWorld,
    household: str = "王家",
    code: str = "HJ-02",
    *,
    actor: str = "grid_leader",
    occurred_on: dt.date | None = None,
    resident: str | None = None,
    photos: tuple[Any, ...] | None = None,
    note: str = "",
    key: str | None = None,
) -> Award:
    """An award proposed through award_propose (a photo is attached when the rule requires one)."""
    from points.services.awards import award_propose

    rule = world.rule(code)
    if photos is None:
        photos = (photo_upload(),) if rule.is_evidence_required else ()
    return award_propose(
        actor=world.users[actor],
        idempotency_key=key or str(uuid.uuid4()),
        household=world.households[household],
        rule=rule,
        occurred_on=occurred_on or timezone.localdate(),
        resident=world.residents[resident] if resident else None,
        note=note,
        photos=photos,
    )


def award_bring_to(
    world: AwardsWorld, award: Award, status: str, *, reviewer: str = "village_secretary"
) -> Award:
    """Move a PROPOSED award to NOTICE, REJECTED or POSTED through the services (POSTED runs the posting
    at the end of the notice period)."""
    from points.services.awards import award_post, award_review

    if status == AwardStatus.PROPOSED:
        return award
    if status == AwardStatus.REJECTED:
        return award_review(actor=world.users[reviewer], award=award, approve=False, reason="与事实不符")
    award = award_review(actor=world.users[reviewer], award=award, approve=True)
    if status == AwardStatus.POSTED:
        assert award.notice_ends_at is not None
        award_post(award_id=award.pk, now=award.notice_ends_at)
        award.refresh_from_db()
    return award
