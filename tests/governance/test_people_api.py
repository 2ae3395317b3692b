"""/api/v1/governance/households/ and residents/: scope, masking, reveal, writes and their errors."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance import pii
from governance.models import AuditAction, AuditEvent, Household, Resident
from tests.governance.people_factories import born_aged, id_number_for, people_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

MASKED_ID = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$")
MASKED_PHONE = re.compile(r"^(1\d{2}\*{4}\d{4})?$")
NOT_FOUND = {"code": "not_found", "detail": "未找到该记录，或者它不在您的管辖范围内。"}


def api(world, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def url(name: str, *args) -> str:
    return reverse(f"v1:governance:{name}", args=args)


ROLES = {
    "county_admin": {"张德明", "李桂兰", "王建国", "刘芳", "王小明", "王秀兰", "赵淑珍", "孙立平"},
    "township_admin": {"张德明", "李桂兰", "王建国", "刘芳", "王小明", "王秀兰"},
    "village_secretary": {"张德明", "李桂兰", "王建国", "刘芳", "王小明", "王秀兰"},
    "grid_leader": {"张德明", "李桂兰", "王建国", "刘芳", "王小明", "王秀兰"},
    "canteen_manager": {"赵淑珍"},
}


@pytest.mark.parametrize("username", list(ROLES))
def test_lists_are_scoped_and_masked_for_every_demo_role(people_world, username):
    client = api(people_world, username)
    body = client.get(url("people_resident_list")).json()
    assert body["count"] == len(ROLES[username])
    assert {row["name"] for row in body["results"]} == ROLES[username]
    clear = set(people_world.id_numbers.values()) | {p for p in people_world.phones.values() if p}
    for row in body["results"]:
        assert MASKED_ID.match(row["id_number"]), row
        assert MASKED_PHONE.match(row["phone"]), row
        assert row["id_number"] == pii.mask_id_number(people_world.id_numbers[row["name"]])
        assert not {row["id_number"], row["phone"]} & clear
    households = client.get(url("people_household_list")).json()
    for row in households["results"]:
        assert row["address"].endswith("****")
    # The detail of one of the user's residents is masked too.
    name = sorted(ROLES[username])[0]
    detail = client.get(url("people_resident_detail", people_world.residents[name].pk)).json()
    assert detail["id_number"] == pii.mask_id_number(people_world.id_numbers[name])
    assert detail["phone"] == pii.mask_phone(people_world.phones[name])


def test_household_detail_with_members(people_world):
    household = people_world.households["XH-001"]
    body = api(people_world, "grid_leader").get(url("people_household_detail", household.pk)).json()
    assert {k: body[k] for k in ("number", "address", "is_active", "tags", "members_count")} == {
        "number": "XH-001",
        "address": "谷城县城关镇新华村****",
        "is_active": True,
        "tags": ["low_income"],
        "members_count": 2,
    }
    assert body["grid"] == {"id": people_world.regions["第一网格"].pk, "name": "第一网格"}
    assert body["village"]["name"] == "新华村"
    assert body["township"]["name"] == "城关镇"
    assert body["head"] == {"id": people_world.residents["张德明"].pk, "name": "张德明"}
    assert [(m["name"], m["phone"], m["relation_to_head"]) for m in body["members"]] == [
        ("张德明", "138****1111", "self"),
        ("李桂兰", "139****2222", "spouse"),
    ]


def test_out_of_scope_ids_answer_404(people_world):
    client = api(people_world, "canteen_manager")
    for response in (
        client.get(url("people_household_detail", people_world.households["XH-001"].pk)),
        client.get(url("people_resident_detail", people_world.residents["张德明"].pk)),
        client.patch(url("people_resident_detail", people_world.residents["张德明"].pk), {"name": "x"}),
        client.get(url("people_resident_detail", 987654321)),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_unauthenticated_calls_are_refused(people_world):
    assert APIClient().get(url("people_household_list")).status_code == 401


def test_filters_and_sort_through_the_api(people_world):
    client = api(people_world, "grid_leader")
    names = lambda **q: [r["name"] for r in client.get(url("people_resident_list"), q).json()["results"]]  # noqa: E731
    assert names(age_band="90+") == ["王秀兰"]
    assert names(tag="left_behind_child") == ["王小明"]
    assert names(sort="-age")[:2] == ["王秀兰", "张德明"]
    assert names(q="刘") == ["刘芳"]
    numbers = [
        h["number"]
        for h in client.get(url("people_household_list"), {"member_tag": "left_behind_elderly"}).json()[
            "results"
        ]
    ]
    assert numbers == ["XH-001"]
    bad = client.get(url("people_resident_list"), {"age_band": "100+"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


# ---------------------------------------------------------------------------------------------------------
# Reveal


def test_reveal_through_the_api_for_the_village_secretary(people_world):
    resident = people_world.residents["王建国"]
    response = api(people_world, "village_secretary").post(url("people_resident_personal_data", resident.pk))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "resident_id": resident.pk,
        "id_number": people_world.id_numbers["王建国"],
        "phone": "13700003333",
        "address": "谷城县城关镇新华村二组3号",
    }
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.actor_id, event.object_id, event.detail, event.ip_address) == (
        people_world.users["village_secretary"].pk,
        str(resident.pk),
        "查看完整个人信息：身份证号、手机号、住址",
        "127.0.0.1",
    )


@pytest.mark.parametrize(
    ("username", "name", "status", "body"),
    [
        ("canteen_manager", "王建国", 404, NOT_FOUND),
        ("huapu_secretary", "王建国", 404, NOT_FOUND),
        (
            "canteen_manager",
            "赵淑珍",
            403,
            {"code": "personal_data_forbidden", "detail": "您的角色不能查看居民的完整个人信息。"},
        ),
    ],
)
def test_reveal_through_the_api_is_refused_and_audited(people_world, username, name, status, body):
    resident = people_world.residents[name]
    response = api(people_world, username).post(url("people_resident_personal_data", resident.pk))
    assert (response.status_code, response.json()) == (status, body)
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.VIEW_PERSONAL_DATA,
            actor=people_world.users[username],
            object_id=str(resident.pk),
        ).count()
        == 1
    )


def test_reveal_of_a_missing_resident_is_404(people_world):
    response = api(people_world, "county_admin").post(url("people_resident_personal_data", 987654321))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.object_type, event.object_id, event.detail) == (
        "governance.resident",
        "987654321",
        "拒绝：记录不存在",
    )


# ---------------------------------------------------------------------------------------------------------
# Writes


def test_grid_leader_registers_a_household_and_a_resident(people_world):
    client = api(people_world, "grid_leader")
    grid = people_world.regions["第一网格"]
    created = client.post(
        url("people_household_list"),
        {"grid": grid.pk, "number": "XH-010", "address": "谷城县城关镇新华村四组1号", "tags": ["civilised"]},
        format="json",
    )
    assert created.status_code == 201
    household_id = created.json()["id"]
    assert {k: created.json()[k] for k in ("number", "address", "tags", "members_count", "head")} == {
        "number": "XH-010",
        "address": "谷城县城关镇新华村****",
        "tags": ["civilised"],
        "members_count": 0,
        "head": None,
    }
    id_number = id_number_for(born_aged(66), "F")
    resident = client.post(
        url("people_resident_list"),
        {
            "household": household_id,
            "name": "黄玉梅",
            "id_number": id_number,
            "relation_to_head": "self",
            "phone": "13012345678",
            "tags": ["left_behind_woman"],
        },
        format="json",
    )
    assert resident.status_code == 201
    body = resident.json()
    assert (body["name"], body["gender"], body["age"], body["id_number"], body["phone"], body["tags"]) == (
        "黄玉梅",
        "F",
        66,
        pii.mask_id_number(id_number),
        "130****5678",
        ["left_behind_woman"],
    )
    assert Household.objects.get(pk=household_id).head.name == "黄玉梅"
    duplicate = client.post(
        url("people_resident_list"),
        {"household": household_id, "name": "黄玉梅", "id_number": id_number, "relation_to_head": "other"},
        format="json",
    )
    message = (
        "该身份证号已登记：黄玉梅，新华村第一网格XH-010户。"
        "同一个人只能登记一次；如果此人已迁入本户，请在原户办理迁移。"
    )
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {
            "code": "resident_duplicate",
            "detail": message,
            "fields": {"id_number": [message]},
            "existing_resident_id": body["id"],
        },
    )
    assert Resident.objects.filter(name="黄玉梅").count() == 1


def test_a_bad_id_number_through_the_api(people_world):
    response = api(people_world, "grid_leader").post(
        url("people_resident_list"),
        {
            "household": people_world.households["XH-002"].pk,
            "name": "王二",
            "id_number": "110105194912310021",
            "relation_to_head": "child",
        },
        format="json",
    )
    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "id_number_checksum",
            "detail": "身份证号校验码不正确，请核对后重新输入。",
            "fields": {"id_number": ["身份证号校验码不正确，请核对后重新输入。"]},
        },
    )


def test_canteen_manager_cannot_write_in_its_own_community(people_world):
    client = api(people_world, "canteen_manager")
    response = client.post(
        url("people_household_list"),
        {"grid": people_world.regions["民营一网格"].pk, "number": "MY-002"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (403, "people_edit_forbidden")
    response = client.patch(
        url("people_resident_detail", people_world.residents["赵淑珍"].pk), {"status": "away"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "people_edit_forbidden")
    response = client.post(
        url("people_household_list"),
        {"grid": people_world.regions["第一网格"].pk, "number": "XH-100"},
        format="json",
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_patch_a_resident_is_audited_with_exact_changes(people_world):
    resident = people_world.residents["刘芳"]
    response = api(people_world, "village_secretary").patch(
        url("people_resident_detail", resident.pk),
        {"phone": "15899990000", "tags": ["left_behind_woman"]},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["tags"]) == ("158****0000", ["left_behind_woman"])
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_id=str(resident.pk), object_type="governance.resident"
    )
    assert event.changes == {"phone": ["", "158****0000"], "tags": ["", "left_behind_woman"]}
    assert event.actor_id == people_world.users["village_secretary"].pk


def test_patch_with_another_household_moves_the_resident(people_world):
    resident = people_world.residents["王小明"]
    target = people_world.households["XH-001"]
    client = api(people_world, "grid_leader")
    refused = client.patch(
        url("people_resident_detail", resident.pk), {"household": target.pk}, format="json"
    )
    assert (refused.status_code, refused.json()["fields"]) == (
        400,
        {"relation_to_head": ["迁入另一户时请同时填写与新户主的关系。"]},
    )
    moved = client.patch(
        url("people_resident_detail", resident.pk),
        {"household": target.pk, "relation_to_head": "grandchild"},
        format="json",
    )
    assert moved.status_code == 200
    assert (moved.json()["household_number"], moved.json()["relation_to_head"]) == ("XH-001", "grandchild")
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_id=str(resident.pk), object_type="governance.resident"
    )
    assert event.changes == {
        "household": [people_world.households["XH-002"].pk, target.pk],
        "relation_to_head": ["child", "grandchild"],
    }


def test_patch_a_household_and_set_its_head(people_world):
    household = people_world.households["XH-002"]
    client = api(people_world, "township_admin")
    response = client.patch(
        url("people_household_detail", household.pk), {"address": "谷城县城关镇新华村五组9号"}, format="json"
    )
    assert (response.status_code, response.json()["address"]) == (200, "谷城县城关镇新华村****")
    head = client.post(
        url("people_household_head", household.pk),
        {"resident": people_world.residents["刘芳"].pk},
        format="json",
    )
    assert (head.status_code, head.json()["head"]["name"]) == (200, "刘芳")
    taken = client.patch(url("people_household_detail", household.pk), {"number": "XH-001"}, format="json")
    assert (taken.status_code, taken.json()["fields"]) == (
        400,
        {"number": ["“第一网格”已有户号为“XH-001”的户，请换一个户号。"]},
    )
