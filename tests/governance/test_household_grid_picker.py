"""The household form's grid picker: a <select> grouped by village (what works without JavaScript), the
township → village → grid steps it opens at the chosen grid, and households registered and moved
through it, limited to the grids the user may edit."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import AuditAction, AuditEvent, Household, RegionKind, User
from governance.services import regions as region_services
from tests.governance.regions_fixture import build_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def url(name: str, *args: object) -> str:
    return reverse(f"governance:{name}", args=args)


def grid_select(html: str) -> str:
    start = html.index('name="grid"')
    return html[html.rfind("<select", 0, start) : html.index("</select>", start)]


def groups(html: str) -> list[tuple[str, list[str]]]:
    return [
        (label, re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', body))
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', grid_select(html), re.S)
    ]


def steps(html: str) -> list[tuple[str, str]]:
    """The picker's steps above the grid select: (level, the id it opens at)."""
    return re.findall(r'data-step="(\w+)" data-selected="(\d*)" hidden', html)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (
            "county_admin",
            [
                ("城关镇 · 东街社区", ["东街第一网格"]),
                ("城关镇 · 新华村", ["第一网格", "第二网格"]),
                ("石花镇 · 民营社区", ["民营第一网格"]),
            ],
        ),
        (
            "township_admin",
            [("城关镇 · 东街社区", ["东街第一网格"]), ("城关镇 · 新华村", ["第一网格", "第二网格"])],
        ),
        ("village_secretary", [("城关镇 · 新华村", ["第一网格", "第二网格"])]),
        ("grid_leader", [("城关镇 · 新华村", ["第一网格"])]),
    ],
)
def test_form_groups_the_grids_the_user_may_edit_by_village(people, username, expected):
    html = login(username).get(url("people_household_create")).content.decode()
    assert groups(html) == expected
    assert '<option value="" selected>请选择网格</option>' in grid_select(html)
    # The steps start hidden and carry no name: without JavaScript only the grouped select is there and
    # only it is submitted.
    assert steps(html) == [("township", ""), ("village", "")]
    assert re.findall(
        r'<select id="id_grid_(\w+)" data-placeholder="([^"]+)" data-waiting="([^"]*)"', html
    ) == [
        ("township", "请选择乡镇", ""),
        ("village", "请选择村（社区）", "请先选择乡镇"),
    ]
    assert 'data-purpose="people"' in html
    assert f'data-url="{url("regions_picker")}"' in html
    assert 'data-waiting="请先选择村（社区）" data-placeholder="请选择网格"' in html
    assert '<script src="/static/js/regions.js" defer></script>' in html


def test_edit_form_opens_the_steps_at_the_households_grid(people):
    household = people.households["张家"]  # on 第二网格, 新华村, 城关镇
    html = login("village_secretary").get(url("people_household_edit", household.pk)).content.decode()
    assert steps(html) == [
        ("township", str(people.regions["城关镇"].pk)),
        ("village", str(people.regions["新华村"].pk)),
    ]
    assert f'<option value="{people.regions["第二网格"].pk}" selected>第二网格</option>' in grid_select(html)


def test_a_household_registered_through_the_picker(people):
    """What the cascade does, step by step through the endpoint, then the form posted with its grid."""
    client = login("township_admin")

    def choices(parent=None) -> dict[str, int]:
        query = {"purpose": "people", **({"parent": parent} if parent else {})}
        return {c["name"]: c["id"] for c in client.get(url("regions_picker"), query).json()["choices"]}

    townships = choices()
    assert list(townships) == ["城关镇"]
    villages = choices(townships["城关镇"])
    assert list(villages) == ["东街社区", "新华村"]
    grids = choices(villages["东街社区"])
    assert grids == {"东街第一网格": people.regions["东街第一网格"].pk}

    response = client.post(
        url("people_household_create"),
        {"grid": grids["东街第一网格"], "number": "DJ-002", "address": "东街12号", "tags": []},
    )
    household = Household.objects.get(number="DJ-002")
    assert response.status_code == 302
    assert response["Location"] == url("people_household_detail", household.pk)
    assert (household.grid_id, household.address, household.is_active, household.head_id) == (
        people.regions["东街第一网格"].pk,
        "东街12号",
        True,
        None,
    )
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="governance.household")
    assert (event.actor_id, event.object_id, event.region_path) == (
        User.objects.get(username="township_admin").pk,
        str(household.pk),
        people.regions["东街第一网格"].path,
    )


def test_a_grid_out_of_reach_is_refused_next_to_the_field_with_the_input_kept(people):
    client = login("township_admin")
    response = client.post(
        url("people_household_create"),
        {"grid": people.regions["民营第一网格"].pk, "number": "MY-009", "address": "民营路9号"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    picker = html[html.index('data-testid="region-picker"') :]
    picker = picker[: picker.index("data-failed hidden")]
    assert (
        '<p class="field__error" id="id_grid-error">请选择列表中的网格：只能登记在您可以编辑的网格上。</p>'
        in picker
    )
    assert 'value="MY-009"' in html
    assert 'value="民营路9号"' in html
    assert not Household.objects.filter(number="MY-009").exists()


def test_a_household_error_reopens_the_steps_at_the_grid_chosen(people):
    grid = people.regions["东街第一网格"]
    response = login("township_admin").post(url("people_household_create"), {"grid": grid.pk, "number": ""})
    html = response.content.decode()
    assert "请填写户号。" in html
    assert steps(html) == [
        ("township", str(people.regions["城关镇"].pk)),
        ("village", str(people.regions["东街社区"].pk)),
    ]
    assert f'<option value="{grid.pk}" selected>东街第一网格</option>' in grid_select(html)


def test_a_household_moved_to_another_grid_through_the_grouped_select(people):
    household = people.households["张家"]
    client = login("township_admin")
    response = client.post(
        url("people_household_edit", household.pk),
        {
            "grid": people.regions["东街第一网格"].pk,
            "number": "XH-101",
            "address": household.address,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.grid_id == people.regions["东街第一网格"].pk


def test_the_form_costs_the_same_queries_whatever_the_number_of_grids(people):
    client = login("county_admin")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("people_household_create")).status_code == 200
        return len(captured)

    before = queries()
    village = people.regions["东街社区"]
    for n in range(2, 32):
        region_services.region_create(parent=village, name=f"东街第{n}网格", kind=RegionKind.GRID)
    assert queries() == before
    html = client.get(url("people_household_create")).content.decode()
    assert len(groups(html)[0][1]) == 31
