"""The public timeline of a case: no login, only public cases (anonymous, confidential and missing ones
answer 404 alike), and no personal value anywhere in the HTML — not the resident's name, phone or ID
number, their household's names or address, the reporter's name, the description, the exact address or
any photo — even when staff typed a name or a number into the result or a public note."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from governance import pii
from grids.models import Case, CaseStatus, Privacy
from grids.selectors.public import MASK, scrub
from grids.services.cases import case_note_add
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def public_url(case: Case) -> str:
    return reverse("grids:public_case", args=[case.number])


def main(response) -> str:
    """The page's <main> (the shell around it carries the path and a CSRF token)."""
    found = re.search(r"<main.*</main>", response.content.decode(), re.S)
    assert found is not None
    return found.group(0)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_public_timeline_shows_the_case_without_any_personal_data(world):
    resident = world.people.residents["王建国"]
    case = case_make(
        world,
        resident=resident,
        description="王建国家门口的村道塌陷，电话13800001111，住新华村一组8号。",
        address="新华村一组8号门前",
        latitude="32.2651",
        longitude="111.6402",
    )
    case_bring_to(world, case, CaseStatus.SIGNED)
    clerk = world.users["xinhua_clerk"]
    from grids.services.cases import case_transition

    case_note_add(
        actor=world.users["village_secretary"],
        case=case,
        note="已与王建国（13800001111）及网格长王秀英现场核实。",
        is_public=True,
    )
    case_note_add(actor=world.users["village_secretary"], case=case, note="内部：王建国情绪激动。")
    case_transition(
        actor=clerk,
        case=case,
        name="resolve",
        note="已修复",
        result="已组织人员修复塌陷路段，修复前已告知王建国（身份证 420625197005010011）。",
    )
    case_transition(actor=world.users["grid_leader"], case=case, name="follow_up", satisfaction="satisfied")
    case_transition(actor=world.users["village_secretary"], case=case, name="archive")

    response = Client().get(public_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    body = text(response)

    # What it shows.
    assert "道路损坏" in body
    assert "新华村" in body
    assert "城关镇" in body
    assert case.number in body
    assert "已归档" in body
    assert re.search(r'data-testid="public-satisfaction">满意<', html)
    assert f"已组织人员修复塌陷路段，修复前已告知{MASK}（身份证 {MASK}）。" in body
    for label in ("上报诉求", "受理", "派单", "签收", "办理说明", "办结", "回访", "归档"):
        assert f"<b>{label}</b>" in body, label
    assert f"已与{MASK}（{MASK}）及网格长{MASK}现场核实。" in body
    assert "内部：" not in body

    # What it never shows: any personal value of the resident, their household, or the reporter.
    id_number = pii.decrypt(resident.id_number_encrypted)
    household = resident.household
    forbidden = {
        "resident name": resident.name,
        "resident phone": "13800001111",
        "resident phone masked": resident.phone_masked,
        "resident ID number": id_number,
        "resident ID masked": resident.id_number_masked,
        "ID number in the result": "420625197005010011",
        "household member": "王秀英",
        "household member 2": "王小明",
        "household address": household.address,
        "reporter name": world.users["grid_leader"].full_name,
        "reporter username": "grid_leader",
        "handler name": "新华村文书",
        "description": "王建国家门口",
        "exact address": "新华村一组8号",
        "latitude": "32.2651",
        "longitude": "111.6402",
    }
    for what, value in forbidden.items():
        assert value, what
        assert value not in html, f"{what} ({value}) appears on the public page"
    assert "<img" not in html.split("<main", 1)[1], "the public page shows no photo"


def test_only_public_cases_have_a_public_timeline(world):
    client = Client()
    public = case_make(world)
    anonymous = case_make(world, privacy=Privacy.ANONYMOUS)
    confidential = case_make(world, privacy=Privacy.CONFIDENTIAL)
    assert client.get(public_url(public)).status_code == 200
    missing = client.get("/grids/public/NOSUCHNUMBER/")
    assert missing.status_code == 404
    for case in (anonymous, confidential):
        response = client.get(public_url(case))
        assert response.status_code == 404
        assert main(response) == main(missing)
    # A signed-in user gets the same public page (it is not their working view).
    signed_in = Client()
    assert signed_in.login(username="county_admin", password="xiangzhi-demo")
    assert signed_in.get(public_url(confidential)).status_code == 404


def test_scrub_masks_names_and_numbers():
    assert scrub("王建国电话13800001111，座机 0710-7221234", ["王建国"]) == f"{MASK}电话{MASK}，座机 {MASK}"
    assert scrub("身份证42062519700501001X", []) == f"身份证{MASK}"
    assert scrub("修复3处，共2米", ["王"]) == "修复3处，共2米"  # one-character names are not masked
    assert scrub("", ["王建国"]) == ""
