"""Shared factories for the grids tests: a small county with a user for every role, handling units,
categories with known time limits, and cases filed and moved through the real services.

    world = grids_world_make(demo_county)       # demo_county: the fixture in tests/conftest.py
    case = case_make(world)                     # filed by the 第一网格 grid leader, in 新华村's queue
    case_bring_to(world, case, CaseStatus.SIGNED)

The tree (governance demo skeleton + tests/governance/regions_fixture.build_people):

    谷城县 ─ 城关镇 ─ 新华村 ─ 第一网格, 第二网格
                   └ 东街社区 ─ 东街第一网格
           石花镇 ─ 民营社区 ─ 民营第一网格
           (紫金镇/花圃村, 五山镇/堰河村: no grids)

Users (world.users[...]), each with the role at the region named:
    county_admin 谷城县 · township_admin 城关镇 · village_secretary 新华村 · grid_leader 第一网格 ·
    grid_leader_2 第二网格 · dongjie_secretary 东街社区 · shihua_admin 石花镇 · minying_secretary 民营社区 ·
    minying_leader 民营第一网格 · canteen_manager 民营社区 · mediator (mediator role at 新华村, no cases) ·
    viewer 新华村 · nobody (no role).
Handling-unit members without any role: xinhua_clerk (新华村村民委员会),
chengguan_clerk (城关镇综合治理办公室), county_clerk (谷城县住房和城乡建设局),
minying_clerk (民营社区居民委员会).

Categories (world.categories[...]): "boundary" 宅基地边界纠纷 (dispute mediation, mediable) and "road"
道路损坏 (governance coordination). Their time limits in working days (sign, resolve):
normal (1, 5), urgent (1, 3), critical (1, 1) — TIME_LIMITS.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from governance.models import Region, RoleAssignment, User
from governance.roles import Role
from governance.services import roles as role_services
from grids.models import (
    Case,
    CaseCategory,
    CaseStatus,
    CaseTimeLimit,
    Duty,
    HandlingLevel,
    HandlingUnit,
    Privacy,
    Satisfaction,
    Urgency,
)
from grids.workflow import LEVEL_ROLE
from tests.governance.regions_fixture import People, build_people

PASSWORD = "xiangzhi-demo"
TIME_LIMITS: dict[str, tuple[int, int]] = {
    Urgency.NORMAL: (1, 5),
    Urgency.URGENT: (1, 3),
    Urgency.CRITICAL: (1, 1),
}
_serial = itertools.count(1)


@dataclass
class GridsWorld:
    regions: dict[str, Region]
    people: People
    users: dict[str, User]
    units: dict[str, HandlingUnit]
    categories: dict[str, CaseCategory]
    extra: dict[str, Any] = field(default_factory=dict)

    def level_user(self, case: Case) -> User:
        """Someone who staffs the level whose queue holds `case` now (the role of that level at the
        handling region; the county admin when nobody holds it there)."""
        case.refresh_from_db()
        role = LEVEL_ROLE[HandlingLevel(case.level)]
        assignment = (
            RoleAssignment.objects.filter(role=role, region_id=case.handling_region_id)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        return assignment.user if assignment else self.users["county_admin"]

    def unit_for(self, case: Case) -> HandlingUnit:
        """The handling unit of the case's village (a member can sign for it)."""
        grid = Region.objects.get(pk=case.grid_id)
        units = HandlingUnit.objects.filter(region_id=grid.parent_id) if grid.parent_id else None
        found = units.order_by("pk").first() if units is not None else None
        return found or self.units["county"]


def categories_make() -> dict[str, CaseCategory]:
    """The two test categories (under their duty, from grids_defaults_install when it exists) with the
    time limits of TIME_LIMITS."""
    import importlib.util

    if importlib.util.find_spec("grids.defaults") is not None:
        from grids.defaults import grids_defaults_install  # type: ignore[import-not-found,unused-ignore]

        grids_defaults_install()

    def top(duty: Duty, code: str) -> CaseCategory:
        found = CaseCategory.objects.filter(parent=None, duty=duty).order_by("pk").first()
        if found is not None:
            return found
        return CaseCategory.objects.get_or_create(
            code=code, defaults={"parent": None, "duty": duty, "name": str(duty.label)}
        )[0]

    made: dict[str, CaseCategory] = {}
    for key, duty, top_code, name, mediable in (
        ("boundary", Duty.DISPUTE_MEDIATION, "t-dispute", "宅基地边界纠纷", True),
        ("road", Duty.GOVERNANCE_COORDINATION, "t-coordination", "道路损坏", False),
    ):
        parent = top(duty, top_code)
        category, _created = CaseCategory.objects.get_or_create(
            parent=parent,
            name=name,
            defaults={"duty": duty, "code": f"t-{key}", "is_mediable": mediable},
        )
        for urgency, (sign_days, resolve_days) in TIME_LIMITS.items():
            CaseTimeLimit.objects.update_or_create(
                category=category,
                urgency=urgency,
                defaults={"sign_days": sign_days, "resolve_days": resolve_days},
            )
        made[key] = category
    return made


def user_make(username: str, full_name: str, role: Role | None = None, region: Region | None = None) -> User:
    user = User.objects.filter(username=username).first() or role_services.user_create(
        username=username, password=PASSWORD, full_name=full_name
    )
    if role is not None and region is not None:
        role_services.role_assign(user=user, role=role, region=region)
    return user


def grids_world_make(demo_county: dict[str, Region]) -> GridsWorld:
    """The county, users, units and categories described in the module docstring."""
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
    for username, full_name in (
        ("xinhua_clerk", "新华村文书"),
        ("chengguan_clerk", "城关镇综治专干"),
        ("county_clerk", "县住建局科员"),
        ("minying_clerk", "民营社区干事"),
        ("nobody", "无角色"),
    ):
        users[username] = user_make(username, full_name)

    units: dict[str, HandlingUnit] = {}
    for key, name, region, member in (
        ("xinhua", "新华村村民委员会", "新华村", "xinhua_clerk"),
        ("chengguan", "城关镇综合治理办公室", "城关镇", "chengguan_clerk"),
        ("county", "谷城县住房和城乡建设局", "谷城县", "county_clerk"),
        ("minying", "民营社区居民委员会", "民营社区", "minying_clerk"),
    ):
        unit, _created = HandlingUnit.objects.get_or_create(region=r[region], name=name)
        unit.members.add(users[member])
        units[key] = unit
    return GridsWorld(regions=r, people=people, users=users, units=units, categories=categories_make())


def case_make(
    world: GridsWorld,
    *,
    reporter: User | str = "grid_leader",
    grid: Region | str = "第一网格",
    category: CaseCategory | str = "road",
    description: str = "村道塌陷一处，约两米长，雨天车辆难以通行。",
    urgency: str = Urgency.NORMAL,
    privacy: str = Privacy.PUBLIC,
    resident: Any = None,
    idempotency_key: str | None = None,
    **kwargs: Any,
) -> Case:
    """A case filed through grids.services.cases.case_file (names are looked up in the world)."""
    from grids.services.cases import case_file

    actor = world.users[reporter] if isinstance(reporter, str) else reporter
    grid_row = world.regions[grid] if isinstance(grid, str) else grid
    category_row = world.categories[category] if isinstance(category, str) else category
    if isinstance(resident, str):
        resident = world.people.residents[resident]
    return case_file(
        actor=actor,
        idempotency_key=idempotency_key or f"test-{next(_serial)}-{uuid.uuid4().hex[:8]}",
        category=category_row,
        description=description,
        urgency=urgency,
        privacy=privacy,
        grid=grid_row,
        resident=resident,
        **kwargs,
    )


# How to reach each state from SUBMITTED: the states passed through, in order.
PATHS: dict[str, list[str]] = {
    CaseStatus.SUBMITTED: [],
    CaseStatus.ACCEPTED: ["accept"],
    CaseStatus.ASSIGNED: ["accept", "assign"],
    CaseStatus.SIGNED: ["accept", "assign", "sign_for"],
    CaseStatus.RETURNED: ["accept", "assign", "return"],
    CaseStatus.IN_PROGRESS: ["accept", "assign", "sign_for", "start"],
    CaseStatus.RESOLVED: ["accept", "assign", "sign_for", "start", "resolve"],
    CaseStatus.FOLLOWED_UP: ["accept", "assign", "sign_for", "start", "resolve", "follow_up"],
    CaseStatus.REOPENED: ["accept", "assign", "sign_for", "start", "resolve", "follow_up:unsatisfied"],
    CaseStatus.CLOSED: ["accept", "assign", "sign_for", "start", "resolve", "follow_up", "archive"],
    CaseStatus.DUPLICATE: ["mark_duplicate"],
    CaseStatus.NOT_RESPONSIBLE: ["not_responsible"],
    CaseStatus.WITHDRAWN: ["withdraw"],
}


def case_step_args(
    world: GridsWorld, case: Case, step: str, *, original: Case | None = None
) -> tuple[User, str, dict[str, Any]]:
    """(actor, note, params) for taking `step` ("name" or "follow_up:unsatisfied") on `case` as a user
    entitled to it: the level's staff, the handler (a member of the case's village unit) or the reporter,
    with a valid note and parameters. Writes nothing; mark_duplicate needs `original`."""
    case.refresh_from_db()
    name, _sep, variant = step.partition(":")
    level = world.level_user(case)
    unit = world.unit_for(case)
    handler = case.assigned_user or unit.members.order_by("pk").first()
    assert handler is not None
    reporter = User.objects.get(pk=case.reporter_id)
    actor: User = level
    note = ""
    params: dict[str, Any] = {}
    if name == "assign":
        params = {"unit": unit}
    elif name in ("sign_for", "start"):
        actor = handler
    elif name == "return":
        actor, note = handler, "不属于本单位职责，请重新派单。"
    elif name == "resolve":
        actor, note = handler, "已组织人员修复。"
    elif name == "follow_up":
        if variant == "unsatisfied":
            params, note = {"satisfaction": Satisfaction.UNSATISFIED}, "群众反映问题仍未解决。"
        else:
            params = {"satisfaction": Satisfaction.SATISFIED}
    elif name == "mark_duplicate":
        params = {"original": original}
    elif name == "not_responsible":
        note, params = "属供电公司维护范围。", {"routed_to": "国网谷城县供电公司"}
    elif name == "withdraw":
        actor, note = reporter, "问题已自行解决。"
    elif name == "escalate":
        note = "本级无法解决，请上级协调。"
    elif name == "send_down":
        note, params = "请网格先行处置。", {"region": Region.objects.get(pk=case.grid_id)}
    return actor, note, params


def case_step(world: GridsWorld, case: Case, step: str) -> Case:
    """Take one transition on `case` through case_transition with case_step_args (for mark_duplicate a
    new open case in the same grid is filed first as the original)."""
    from grids.services.cases import case_transition

    original = None
    if step == "mark_duplicate":
        reporter = User.objects.get(pk=case.reporter_id)
        original = case_make(world, reporter=reporter, grid=Region.objects.get(pk=case.grid_id))
    actor, note, params = case_step_args(world, case, step, original=original)
    return case_transition(actor=actor, case=case, name=step.partition(":")[0], note=note, **params)


def case_bring_to(world: GridsWorld, case: Case, status: str) -> Case:
    """Move a freshly filed case to `status` through the services (PATHS); returns it reloaded."""
    for step in PATHS[status]:
        case_step(world, case, step)
    case.refresh_from_db()
    assert case.status == status, (case.status, status)
    return case
