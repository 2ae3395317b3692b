"""Household and resident lists: scope per demo role, filters, age bands, sorting and query counts."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from common.errors import NotFound
from governance.models import User
from governance.selectors import people as people_selectors
from governance.selectors.people import address_mask, age_band_q, years_before
from governance.services import people as people_services
from tests.governance.people_factories import born_aged, id_number_for, people_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

XINHUA = ["XH-001", "XH-002"]
XINHUA_PEOPLE = {"张德明", "李桂兰", "王建国", "刘芳", "王小明", "王秀兰"}


def _numbers(world, username, **filters):
    user = world.users[username]
    return [h.number for h in people_selectors.household_list(user=user, filters=filters or None)]


def _names(world, username, **filters):
    user = world.users[username]
    return [r.name for r in people_selectors.resident_list(user=user, filters=filters or None)]


@pytest.mark.parametrize(
    ("username", "households", "residents"),
    [
        ("county_admin", ["XH-001", "XH-002", "MY-001", "HP-001"], {*XINHUA_PEOPLE, "赵淑珍", "孙立平"}),
        ("township_admin", XINHUA, XINHUA_PEOPLE),
        ("village_secretary", XINHUA, XINHUA_PEOPLE),
        ("grid_leader", XINHUA, XINHUA_PEOPLE),
        ("canteen_manager", ["MY-001"], {"赵淑珍"}),
        ("huapu_secretary", ["HP-001"], {"孙立平"}),
    ],
)
def test_each_role_lists_exactly_its_subtree(people_world, username, households, residents):
    assert sorted(_numbers(people_world, username)) == sorted(households)
    assert set(_names(people_world, username)) == residents


def test_no_role_and_anonymous_see_nothing(people_world):
    nobody = User.objects.create(username="nobody")
    for user in (nobody, AnonymousUser()):
        assert list(people_selectors.household_list(user=user)) == []
        assert list(people_selectors.resident_list(user=user)) == []


def test_details_outside_scope_are_not_found(people_world):
    canteen = people_world.users["canteen_manager"]
    with pytest.raises(NotFound):
        people_selectors.household_detail(user=canteen, household_id=people_world.households["XH-001"].pk)
    with pytest.raises(NotFound):
        people_selectors.resident_detail(user=canteen, resident_id=people_world.residents["张德明"].pk)
    household = people_selectors.household_detail(
        user=canteen, household_id=people_world.households["MY-001"].pk
    )
    assert [m.name for m in household.members.all()] == ["赵淑珍"]


def test_household_detail_lists_the_head_first_then_the_oldest(people_world):
    household = people_selectors.household_detail(
        user=people_world.users["grid_leader"], household_id=people_world.households["XH-002"].pk
    )
    assert [m.name for m in household.members.all()] == ["王建国", "王秀兰", "刘芳", "王小明"]


# ---------------------------------------------------------------------------------------------------------
# Filters


def _region_ids(world, filters):
    """Region filters are given by name in the cases below and sent as ids, as a page or the API would."""
    named = ("township", "village", "grid", "region")
    return {k: (str(world.regions[v].pk) if k in named else v) for k, v in filters.items()}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "王"}, ["王建国", "王秀兰", "王小明"]),
        ({"age_band": "60-69", "sort": "name"}, sorted(["赵淑珍", "孙立平"])),
        ({"age_band": "70-79"}, ["李桂兰"]),
        ({"age_band": "80-89"}, ["张德明"]),
        ({"age_band": "90+"}, ["王秀兰"]),
        ({"tag": "left_behind_elderly"}, ["张德明", "李桂兰"]),
        ({"gender": "F", "township": "城关镇"}, ["李桂兰", "王秀兰", "刘芳"]),
        ({"village": "民营社区"}, ["赵淑珍"]),
        ({"grid": "花圃一网格"}, ["孙立平"]),
        ({"region": "石花镇"}, ["赵淑珍"]),
        ({"household_number": "xh-001"}, ["张德明", "李桂兰"]),
        ({"relation_to_head": "self", "sort": "name"}, sorted(["张德明", "王建国", "赵淑珍", "孙立平"])),
    ],
)
def test_resident_filters(people_world, filters, expected):
    assert _names(people_world, "county_admin", **_region_ids(people_world, filters)) == expected


def test_searching_a_full_id_number_or_phone_finds_the_person_by_hash(people_world):
    assert _names(people_world, "grid_leader", q=people_world.id_numbers["李桂兰"]) == ["李桂兰"]
    assert _names(people_world, "grid_leader", q="139 0000 2222") == ["李桂兰"]
    # Outside the scope the hash finds nothing.
    assert _names(people_world, "canteen_manager", q=people_world.id_numbers["李桂兰"]) == []


def test_status_filter(people_world):
    people_services.resident_update(
        actor=people_world.users["grid_leader"], resident=people_world.residents["王建国"], status="away"
    )
    assert _names(people_world, "grid_leader", status="away") == ["王建国"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "刘芳"}, ["XH-002"]),
        ({"q": "张德"}, ["XH-001"]),
        ({"q": "hp-"}, ["HP-001"]),
        ({"tag": "low_income"}, ["XH-001"]),
        ({"member_tag": "left_behind_child"}, ["XH-002"]),
        ({"member_tag": "left_behind_elderly"}, ["XH-001"]),
        ({"sort": "-members", "region": "新华村"}, ["XH-002", "XH-001"]),
        ({"sort": "members", "village": "新华村"}, ["XH-001", "XH-002"]),
        ({"grid": "民营一网格"}, ["MY-001"]),
        ({"township": "紫金镇"}, ["HP-001"]),
        ({"sort": "-number"}, ["XH-002", "XH-001", "MY-001", "HP-001"]),
    ],
)
def test_household_filters_and_sorts(people_world, filters, expected):
    assert _numbers(people_world, "county_admin", **_region_ids(people_world, filters)) == expected


def test_resident_sort_by_age(people_world):
    assert _names(people_world, "grid_leader", sort="-age") == [
        "王秀兰",
        "张德明",
        "李桂兰",
        "王建国",
        "刘芳",
        "王小明",
    ]
    assert _names(people_world, "grid_leader", sort="age")[0] == "王小明"


def test_an_invalid_filter_value_filters_nothing_out(people_world):
    assert len(_names(people_world, "grid_leader", age_band="100-109")) == 6


def test_age_bands_at_their_boundaries(people_world):
    today = dt.date(2026, 3, 1)
    turns_70_today = years_before(today, 70)
    turns_70_tomorrow = turns_70_today + dt.timedelta(days=1)
    q70 = age_band_q("70-79", today=today)
    q60 = age_band_q("60-69", today=today)
    admin = people_world.users["county_admin"]
    household = people_world.households["XH-001"]
    for name, birth in (("七十整", turns_70_today), ("差一天", turns_70_tomorrow)):
        people_services.resident_create(
            actor=admin,
            household=household,
            name=name,
            id_number=id_number_for(birth, "M"),
            relation_to_head="other",
        )
    base = people_selectors.resident_list(user=admin).filter(name__in=["七十整", "差一天"])
    assert [r.name for r in base.filter(q70)] == ["七十整"]
    assert [r.name for r in base.filter(q60)] == ["差一天"]
    # 29 February: in a common year the birthday is kept on 28 February.
    assert years_before(dt.date(2024, 2, 29), 1) == dt.date(2023, 2, 28)


def test_age_on():
    assert people_selectors.age_on(dt.date(1950, 6, 15), dt.date(2026, 6, 14)) == 75
    assert people_selectors.age_on(dt.date(1950, 6, 15), dt.date(2026, 6, 15)) == 76
    assert people_selectors.age_on(born_aged(82, today=dt.date(2026, 6, 15)), dt.date(2026, 6, 15)) == 82


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("谷城县城关镇新华村一组12号", "谷城县城关镇新华村****"),
        ("谷城县石花镇民营社区振兴路8号", "谷城县石花镇民营社区****"),
        ("谷城县城关镇解放路23号", "谷城县城关镇****"),
        ("振兴路8号", "振兴路****"),
        ("", ""),
        ("谷城县城关镇新华村", "谷城县城关镇新华村"),
    ],
)
def test_address_mask(address, masked):
    assert address_mask(address) == masked


# ---------------------------------------------------------------------------------------------------------
# Query counts: a page of any length costs the same


def test_lists_and_counts_cost_a_fixed_number_of_queries(people_world, django_assert_num_queries):
    admin = people_world.users["county_admin"]
    # 1: the user's role assignments (the scope), 1: the rows with grid, village and head joined, 1: tags.
    with django_assert_num_queries(3):
        rows = list(people_selectors.household_list(user=admin, filters={"q": "X"}))
        assert [(h.number, h.members_count, h.grid.parent.name, h.head.name) for h in rows] == [
            ("XH-001", 2, "新华村", "张德明"),
            ("XH-002", 4, "新华村", "王建国"),
        ]
        assert [t.tag for t in rows[0].tags.all()] == ["low_income"]
    # The count is one query (after the scope look-up).
    with django_assert_num_queries(2):
        assert people_selectors.household_list(user=admin).count() == 4
    with django_assert_num_queries(2):
        assert people_selectors.resident_list(user=admin, filters={"age_band": "60-69"}).count() == 2
    with django_assert_num_queries(3):
        residents = list(people_selectors.resident_list(user=admin))
        assert sorted(
            (r.household.number, r.household.grid.parent.name, len(r.tags.all())) for r in residents
        )[:3] == [
            ("HP-001", "花圃村", 0),
            ("MY-001", "民营社区", 0),
            ("XH-001", "新华村", 1),
        ]
        assert len(residents) == 8
