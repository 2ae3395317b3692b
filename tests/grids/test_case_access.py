"""The gates of grids/access.py: who sees which case, who files where, who acts, who sees the resident.

Cases are filed in four grids of two townships (tests/grids/factories.py): 第一网格 and 第二网格 of 新华村,
东街第一网格 of 东街社区 (all 城关镇) and 民营第一网格 of 民营社区 (石花镇).
"""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from common.errors import DomainError, NotFound
from grids import access
from grids.models import Case, CaseStatus, Privacy
from grids.selectors.cases import case_actions_for, case_detail, resident_label
from grids.workflow import Actor
from tests.grids.factories import GridsWorld, case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> GridsWorld:
    world = grids_world_make(demo_county)
    world.extra["cases"] = {
        "第一网格": case_make(world, reporter="grid_leader", grid="第一网格"),
        "第二网格": case_make(world, reporter="grid_leader_2", grid="第二网格"),
        "东街第一网格": case_make(world, reporter="dongjie_secretary", grid="东街第一网格"),
        "民营第一网格": case_make(world, reporter="minying_leader", grid="民营第一网格"),
    }
    return world


def _visible(world: GridsWorld, username: str) -> set[str]:
    by_pk = {case.pk: grid for grid, case in world.extra["cases"].items()}
    return {by_pk[pk] for pk in access.cases_visible(world.users[username]).values_list("pk", flat=True)}


@pytest.mark.parametrize(
    ("username", "grids"),
    [
        ("county_admin", {"第一网格", "第二网格", "东街第一网格", "民营第一网格"}),
        ("township_admin", {"第一网格", "第二网格", "东街第一网格"}),
        ("shihua_admin", {"民营第一网格"}),
        ("village_secretary", {"第一网格", "第二网格"}),
        ("dongjie_secretary", {"东街第一网格"}),
        ("minying_secretary", {"民营第一网格"}),
        ("grid_leader", {"第一网格"}),
        ("grid_leader_2", {"第二网格"}),
        ("minying_leader", {"民营第一网格"}),
        ("viewer", {"第一网格", "第二网格"}),
        # Not their business: the canteen manager's role, the mediator's role, unit members, no role.
        ("canteen_manager", set()),
        ("mediator", set()),
        ("xinhua_clerk", set()),
        ("county_clerk", set()),
        ("nobody", set()),
    ],
)
def test_each_role_sees_the_cases_of_its_subtree_only(world, username, grids):
    assert _visible(world, username) == grids


@pytest.mark.parametrize("username", ["grid_leader", "village_secretary", "minying_secretary", "nobody"])
def test_out_of_scope_is_not_found_like_a_missing_case(world, username):
    visible = _visible(world, username)
    for grid, case in world.extra["cases"].items():
        if grid in visible:
            assert access.case_get_visible(world.users[username], case.pk).pk == case.pk
            assert access.case_get_visible(world.users[username], case.number).pk == case.pk
            continue
        for key in (case.pk, case.number):
            with pytest.raises(NotFound) as outside:
                access.case_get_visible(world.users[username], key)
            with pytest.raises(NotFound) as missing:
                access.case_get_visible(world.users[username], 2_147_483_000)
            assert str(outside.value.message) == str(missing.value.message)


def test_a_mediator_sees_only_the_case_handed_to_them(world):
    mediator = world.users["mediator"]
    case = world.extra["cases"]["第一网格"]
    assign_perm("grids.mediate_case", mediator, case)
    assert _visible(world, "mediator") == {"第一网格"}
    assert access.case_get_visible(mediator, case.number).pk == case.pk
    with pytest.raises(NotFound):
        access.case_get_visible(mediator, world.extra["cases"]["第二网格"].pk)
    # Seeing is not acting: a mediator takes no workflow transition.
    assert access.case_actor_roles(mediator, case) == set()
    assert case_actions_for(mediator, case) == []


def test_a_handler_sees_the_case_assigned_to_their_unit(world):
    case = case_bring_to(world, world.extra["cases"]["第一网格"], CaseStatus.ASSIGNED)
    assert _visible(world, "xinhua_clerk") == {"第一网格"}
    assert access.case_actor_roles(world.users["xinhua_clerk"], case) == {Actor.HANDLER}


def test_the_reporter_keeps_seeing_what_they_filed_after_leaving_the_grid(world):
    from governance.models import RoleAssignment

    RoleAssignment.objects.filter(user=world.users["grid_leader"]).delete()
    assert _visible(world, "grid_leader") == {"第一网格"}


# ---------------------------------------------------------------------------------------------------------
# Filing


@pytest.mark.parametrize(
    ("username", "grids"),
    [
        ("grid_leader", {"第一网格"}),
        ("grid_leader_2", {"第二网格"}),
        ("village_secretary", {"第一网格", "第二网格"}),
        ("township_admin", {"第一网格", "第二网格", "东街第一网格"}),
        ("minying_leader", {"民营第一网格"}),
        ("county_admin", {"第一网格", "第二网格", "东街第一网格", "民营第一网格"}),
        ("viewer", set()),
        ("mediator", set()),
        ("canteen_manager", set()),
        ("xinhua_clerk", set()),
        ("nobody", set()),
    ],
)
def test_who_files_where(world, username, grids):
    assert set(access.grid_leader_grids(world.users[username]).values_list("name", flat=True)) == grids
    for grid in ("第一网格", "第二网格", "东街第一网格", "民营第一网格"):
        if grid in grids:
            assert case_make(world, reporter=username, grid=grid).grid.name == grid
        else:
            with pytest.raises(DomainError) as refused:
                case_make(world, reporter=username, grid=grid)
            assert (refused.value.code, refused.value.field) == ("case_grid_invalid", "grid")


# ---------------------------------------------------------------------------------------------------------
# Actors and actions


def test_level_staff_is_the_role_of_the_level_at_or_above_the_handling_region(world):
    case = world.extra["cases"]["第一网格"]  # village level, 新华村
    expected = {
        "village_secretary": {Actor.LEVEL},
        "township_admin": {Actor.LEVEL},
        "county_admin": {Actor.LEVEL},
        "grid_leader": {Actor.REPORTER},
        "grid_leader_2": set(),
        "viewer": set(),
        "dongjie_secretary": set(),
        "minying_secretary": set(),
    }
    assert {name: access.case_actor_roles(world.users[name], case) for name in expected} == expected


def test_actions_for_each_role_on_a_submitted_case(world):
    case = world.extra["cases"]["第一网格"]
    level_actions = ["accept", "escalate", "send_down", "mark_duplicate", "not_responsible"]
    names = {
        username: [t.name for t in case_actions_for(world.users[username], case)]
        for username in ("village_secretary", "county_admin", "grid_leader", "viewer", "xinhua_clerk")
    }
    assert names == {
        "village_secretary": level_actions,
        "county_admin": level_actions,
        "grid_leader": ["withdraw"],
        "viewer": [],
        "xinhua_clerk": [],
    }
    assert access.case_can(world.users["village_secretary"], case, "accept") is True
    assert access.case_can(world.users["village_secretary"], case, "sign_for") is False
    assert access.case_can(world.users["village_secretary"], case, "no_such_thing") is False


def test_actions_of_the_handler_on_a_signed_case(world):
    case = case_bring_to(world, world.extra["cases"]["第一网格"], CaseStatus.SIGNED)
    assert [t.name for t in case_actions_for(world.users["xinhua_clerk"], case)] == [
        "return",
        "start",
        "resolve",
    ]
    assert [t.name for t in case_actions_for(world.users["grid_leader"], case)] == ["withdraw"]
    assert case_actions_for(world.users["village_secretary"], case) == []


# ---------------------------------------------------------------------------------------------------------
# The resident's identity


@pytest.mark.parametrize(
    ("privacy", "sees"),
    [
        (
            Privacy.PUBLIC,
            {
                "grid_leader": True,
                "village_secretary": True,
                "township_admin": True,
                "county_admin": True,
                "viewer": False,
                "xinhua_clerk": True,
                "mediator": True,
            },
        ),
        (
            Privacy.ANONYMOUS,
            {
                "grid_leader": True,
                "village_secretary": False,
                "township_admin": False,
                "county_admin": False,
                "viewer": False,
                "xinhua_clerk": True,
                "mediator": False,
            },
        ),
        (
            Privacy.CONFIDENTIAL,
            {
                "grid_leader": True,
                "village_secretary": False,
                "township_admin": False,
                "county_admin": False,
                "viewer": False,
                "xinhua_clerk": True,
                "mediator": False,
            },
        ),
    ],
)
def test_who_sees_the_residents_identity(world, privacy, sees):
    case = case_bring_to(world, case_make(world, privacy=privacy, resident="王建国"), CaseStatus.ASSIGNED)
    assign_perm("grids.mediate_case", world.users["mediator"], case)
    assert {name: access.case_sees_identity(world.users[name], case) for name in sees} == sees
    checker = access.case_identity_checker(world.users["village_secretary"])
    assert checker(Case.objects.select_related("grid").get(pk=case.pk)) is sees["village_secretary"]


@pytest.mark.parametrize(
    ("privacy", "username", "label"),
    [
        (Privacy.PUBLIC, "village_secretary", "王建国"),
        (Privacy.PUBLIC, "viewer", "王**"),
        (Privacy.ANONYMOUS, "village_secretary", "匿名"),
        (Privacy.CONFIDENTIAL, "village_secretary", "保密"),
        (Privacy.CONFIDENTIAL, "grid_leader", "王建国"),
    ],
)
def test_the_detail_shows_the_resident_only_to_who_may_see_them(world, privacy, username, label):
    case = case_make(world, privacy=privacy, resident="王建国")
    detail = case_detail(user=world.users[username], case=case.pk)
    assert detail.resident_label == label


def test_a_case_without_a_resident_is_the_grid_leaders_own_finding(world):
    case = world.extra["cases"]["第一网格"]
    assert resident_label(case, sees_identity=False) == "网格员发现"
