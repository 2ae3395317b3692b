"""The Party area's REST API: scoped lists, 404 out of scope, the advance action with its Chinese errors,
403 for roles that may only look, and a schema that validates."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from governance.models import AuditAction, AuditEvent, User
from governance.roles import Role
from governance.services import roles as role_services
from tests.governance.party_factories import party_world_make

API = "/api/v1/governance"


@pytest.fixture
def world(demo_county):
    return party_world_make(demo_county)


def api_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def test_organisations_are_scoped(world):
    county = api_for("county_admin").get(f"{API}/party-organisations/").json()
    assert county["count"] == 6
    assert [o["name"] for o in county["results"]][:2] == ["中共谷城县委员会", "中共城关镇委员会"]
    township = api_for("township_admin").get(f"{API}/party-organisations/").json()
    assert [(o["name"], o["kind"], o["kind_label"], o["member_count"]) for o in township["results"]] == [
        ("中共城关镇委员会", "township_committee", "乡镇党委", 0),
        ("新华村党支部", "village_branch", "村（社区）党支部", 8),
    ]
    only_branches = api_for("county_admin").get(
        f"{API}/party-organisations/", {"kind": "village_general_branch"}
    )
    assert [o["name"] for o in only_branches.json()["results"]] == ["堰河村党总支"]

    response = api_for("township_admin").get(f"{API}/party-organisations/{world.tree.wushan.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该记录，或者它不在您的管辖范围内。"}


def test_organisation_detail(world):
    body = api_for("county_admin").get(f"{API}/party-organisations/{world.tree.xinhua.pk}/").json()
    assert body["organisation"]["name"] == "新华村党支部"
    assert body["organisation"]["member_count"] == 8
    assert body["total_members"] == 8
    assert [(c["value"], c["count"]) for c in body["stage_counts"]] == [
        ("applicant", 1),
        ("activist", 0),
        ("candidate", 1),
        ("probationary", 3),
        ("full", 3),
    ]
    assert body["current_leaders"] == [
        {
            "member_id": world.members["刘强"].pk,
            "name": "刘强",
            "position": "secretary",
            "position_label": "书记",
            "term_start": "2021-01-10",
            "term_end": None,
        }
    ]
    assert body["villages"] == []


def test_members_list_filters_and_scope(world):
    client = api_for("county_admin")
    body = client.get(
        f"{API}/party-members/", {"category": "young_farmer", "year_joined": 2024, "ordering": "name"}
    )
    assert [(m["name"], m["joined_on"], m["organisation"]["name"]) for m in body.json()["results"]] == [
        ("青年己", "2024-02-01", "堰河村党总支"),
        ("青年庚", "2024-08-01", "堰河村党总支"),
        ("青年辛", "2024-04-01", "食用菌产业链党支部"),
    ]
    in_chengguan = client.get(f"{API}/party-members/", {"organisation": world.tree.chengguan.pk}).json()
    assert in_chengguan["count"] == 8
    township = api_for("township_admin")
    assert township.get(f"{API}/party-members/").json()["count"] == 8
    assert township.get(f"{API}/party-members/", {"organisation": world.tree.wushan.pk}).status_code == 404
    assert township.get(f"{API}/party-members/{world.members['王军'].pk}/").status_code == 404
    assert api_for("grid_leader").get(f"{API}/party-members/").json()["count"] == 0


def test_member_detail_has_the_timeline(world):
    body = api_for("village_secretary").get(f"{API}/party-members/{world.members['青年甲'].pk}/").json()
    assert body["stage"] == "probationary"
    assert body["next_stage"] == "full"
    assert [(t["stage"], t["occurred_on"], t["is_current"]) for t in body["timeline"]] == [
        ("applicant", "2020-07-01", False),
        ("activist", "2021-07-01", False),
        ("candidate", "2022-01-02", False),
        ("probationary", "2022-07-01", True),
        ("full", None, False),
    ]
    assert (body["sponsor_1"]["name"], body["sponsor_2"]["name"]) == ("刘强", "赵国建")
    moved = api_for("county_admin").get(f"{API}/party-members/{world.members['彭勇'].pk}/").json()
    assert moved["transfers"] == [
        {
            "from_organisation": {"id": world.tree.xinhua.pk, "name": "新华村党支部"},
            "to_organisation": {"id": world.tree.yanhe.pk, "name": "堰河村党总支"},
            "transferred_on": "2023-05-01",
            "reason": "婚迁",
        }
    ]


def test_advance_through_the_api(world):
    member = world.members["青年丁"]  # a candidate: next is probationary
    url = f"{API}/party-members/{member.pk}/advance/"
    client = api_for("township_admin")
    response = client.post(url, {"to_stage": "full", "occurred_on": "2025-01-01"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "membership_out_of_order",
        "detail": "发展程序须按顺序进行：“青年丁”目前是发展对象，下一步只能是预备党员，不能直接到正式党员。",
        "fields": {
            "to_stage": [
                "发展程序须按顺序进行：“青年丁”目前是发展对象，下一步只能是预备党员，不能直接到正式党员。"
            ]
        },
    }
    response = client.post(url, {"to_stage": "probationary"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"occurred_on": ["该字段是必填项。"]}

    response = client.post(
        url, {"to_stage": "probationary", "occurred_on": "2025-01-01", "note": "支部大会通过"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "probationary"
    assert body["timeline"][3] == {
        "stage": "probationary",
        "label": "预备党员",
        "occurred_on": "2025-01-01",
        "note": "支部大会通过",
        "is_reached": True,
        "is_current": True,
    }
    audit = AuditEvent.objects.filter(object_id=str(member.pk), action=AuditAction.UPDATE).get()
    assert (audit.actor_name, audit.changes["stage"]) == ("陈静", ["candidate", "probationary"])
    assert audit.ip_address == "127.0.0.1"


def test_advance_to_candidate_with_sponsor_ids(world):
    member = world.members["孙浩宇"]
    client = api_for("county_admin")
    url = f"{API}/party-members/{member.pk}/advance/"
    assert (
        client.post(url, {"to_stage": "activist", "occurred_on": "2025-04-01"}, format="json").status_code
        == 200
    )
    response = client.post(
        url,
        {"to_stage": "candidate", "occurred_on": "2025-10-01", "sponsor_ids": [world.members["刘强"].pk] * 2},
        format="json",
    )
    assert response.json()["detail"] == "两名入党介绍人不能是同一人。"
    ok = client.post(
        url,
        {
            "to_stage": "candidate",
            "occurred_on": "2025-10-01",
            "sponsor_ids": [world.members["刘强"].pk, world.members["赵国建"].pk],
        },
        format="json",
    )
    assert ok.status_code == 200
    assert (ok.json()["sponsor_1"]["name"], ok.json()["sponsor_2"]["name"]) == ("刘强", "赵国建")


def test_sponsor_out_of_scope_and_lookers(world):
    member = world.members["青年丁"]
    url = f"{API}/party-members/{member.pk}/advance/"
    township = api_for("township_admin")
    other = world.members["王军"]  # in 五山镇, outside 城关镇
    mover = world.members["孙浩宇"]
    township.post(
        f"{API}/party-members/{mover.pk}/advance/", {"to_stage": "activist", "occurred_on": "2025-04-01"}
    )
    response = township.post(
        f"{API}/party-members/{mover.pk}/advance/",
        {
            "to_stage": "candidate",
            "occurred_on": "2025-10-01",
            "sponsor_ids": [world.members["刘强"].pk, other.pk],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "sponsor_ids": [f"编号为{other.pk}的入党介绍人不存在，或者不在您的管辖范围内。"]
    }
    viewer = role_services.user_create(username="viewer", password="x-long-password-1")
    role_services.role_assign(user=viewer, role=Role.VIEWER, region=world.tree.regions["城关镇"])
    client = APIClient()
    client.force_authenticate(viewer)
    assert client.get(f"{API}/party-members/{member.pk}/").status_code == 200
    response = client.post(url, {"to_stage": "probationary", "occurred_on": "2025-01-01"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "您没有执行此操作的权限。"}
    assert APIClient().get(f"{API}/party-members/").status_code == 401


def test_sages_talents_and_gatherings_lists(world):
    township = api_for("township_admin")
    sages = township.get(f"{API}/sages-groups/").json()
    assert sages["count"] == 1
    group = sages["results"][0]
    assert (group["name"], group["township"]["name"], group["veteran_count"]) == (
        "新华村乡贤说事评理团",
        "城关镇",
        1,
    )
    assert [(m["name"], m["kind"]) for m in group["members"]] == [("赵国建", "veteran_member")]

    talents = township.get(f"{API}/talents/", {"category": "production"}).json()
    assert [
        (t["name"], t["training_hours"], [x["title"] for x in t["trainings"]]) for t in talents["results"]
    ] == [("田茶农", 56, ["高素质农民培育班", "茶园绿色防控技术培训"])]
    gatherings = api_for("county_admin").get(f"{API}/shennong-gatherings/").json()
    assert gatherings["count"] == 1
    first = gatherings["results"][0]
    assert (first["session"], first["held_on"], first["total_selected"]) == (1, "2018-12-28", 2)
    assert [(r["name"], r["title"], r["village"]["name"]) for r in first["role_models"]] == [
        ("田茶农", "致富带头人", "新华村"),
        ("王军", "乡村振兴带头人", "堰河村"),
    ]
    mine = township.get(f"{API}/shennong-gatherings/").json()["results"][0]
    assert (mine["total_selected"], [r["name"] for r in mine["role_models"]]) == (2, ["田茶农"])


@pytest.mark.django_db
def test_schema_has_the_party_paths_and_validates(tmp_path):
    target = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target)
    )
    paths = json.loads(target.read_text())["paths"]
    assert {
        p for p in paths if "party" in p or p.endswith(("sages-groups/", "talents/", "shennong-gatherings/"))
    } == {
        "/api/v1/governance/party-organisations/",
        "/api/v1/governance/party-organisations/{org_id}/",
        "/api/v1/governance/party-members/",
        "/api/v1/governance/party-members/{member_id}/",
        "/api/v1/governance/party-members/{member_id}/advance/",
        "/api/v1/governance/sages-groups/",
        "/api/v1/governance/talents/",
        "/api/v1/governance/shennong-gatherings/",
    }
