"""The awards API: propose exactly once (replay → same result, other body → 409), review, list, detail,
objection decision, scope (out of scope answers 404 like a missing id)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from points.models import Award, AwardStatus
from points.services.objections import objection_file
from tests.points.award_factories import award_bring_to, award_make, awards_world_make

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def world(demo_county):
    return awards_world_make(demo_county)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(world, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def body(world, **changes):
    data = {
        "idempotency_key": "api-key-1",
        "household": world.households["王家"].pk,
        "rule": world.rule("XL-01").pk,
        "occurred_on": "2026-11-15",
        "note": "照料老人",
    }
    data.update(changes)
    return data


def test_propose_replay_and_conflict(world):
    client = client_for(world, "grid_leader")
    first = client.post("/api/v1/points/awards/", body(world), format="json")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "proposed"
    assert first.json()["points"] == 3
    assert first.json()["period"] == "2026-11"
    again = client.post("/api/v1/points/awards/", body(world), format="json")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/points/awards/", body(world, note="另一份"), format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Award.objects.count() == 1


def test_propose_refusal_carries_code_field_and_chinese_message(world):
    client = client_for(world, "grid_leader")
    assert client.post("/api/v1/points/awards/", body(world), format="json").status_code == 201
    response = client.post("/api/v1/points/awards/", body(world, idempotency_key="api-key-2"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "award_cap_reached"
    assert response.json()["fields"] == {"rule": [response.json()["detail"]]}
    assert response.json()["detail"] == "本户本月已申报过该条目（赡养老人、照料生活起居到位），不能重复申报。"
    future = client.post(
        "/api/v1/points/awards/",
        body(world, idempotency_key="api-key-3", occurred_on="2026-11-19"),
        format="json",
    )
    assert (future.status_code, future.json()["code"]) == (400, "occurred_in_future")


def test_propose_out_of_grid_is_404(world):
    client = client_for(world, "grid_leader")
    response = client.post(
        "/api/v1/points/awards/", body(world, household=world.households["张家"].pk), format="json"
    )
    assert response.status_code == 404
    missing = client.post("/api/v1/points/awards/", body(world, household=2_147_483_000), format="json")
    assert response.json() == missing.json()


def test_review_list_detail_and_scope(world):
    award = award_make(world, "王家", "XL-01")
    other = award_make(world, "孙家", "XL-01", actor="minying_leader")
    secretary = client_for(world, "village_secretary")
    listed = secretary.get("/api/v1/points/awards/?status=proposed").json()
    ids = [row["id"] for row in listed.get("results", listed)]
    assert ids == [award.pk]
    assert secretary.get(f"/api/v1/points/awards/{other.pk}/").status_code == 404
    assert (
        client_for(world, "minying_secretary")
        .post(f"/api/v1/points/awards/{award.pk}/review/", {"approve": True}, format="json")
        .status_code
        == 404
    )
    reject = secretary.post(f"/api/v1/points/awards/{award.pk}/review/", {"approve": False}, format="json")
    assert (reject.status_code, list(reject.json()["fields"])) == (400, ["reason"])
    approve = secretary.post(f"/api/v1/points/awards/{award.pk}/review/", {"approve": True}, format="json")
    assert approve.status_code == 200
    assert approve.json()["status"] == "notice"
    assert approve.json()["notice_ends_at"].startswith("2026-11-25T10:00:00")
    # A grid leader sees the award but may not review it.
    leader = client_for(world, "grid_leader")
    assert leader.get(f"/api/v1/points/awards/{award.pk}/").status_code == 200
    again = secretary.post(f"/api/v1/points/awards/{award.pk}/review/", {"approve": True}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "award_not_proposed")


def test_objection_decide_api_voids(world):
    award = award_bring_to(world, award_make(world, "王家", "XL-01"), AwardStatus.NOTICE)
    objection = objection_file(award=award, reason="该户并未照料老人", contact_phone="13900001111")
    secretary = client_for(world, "village_secretary")
    shown = secretary.get(f"/api/v1/points/objections/{objection.pk}/").json()
    assert shown["contact_phone"] == "139****1111"
    assert (
        client_for(world, "grid_leader").get(f"/api/v1/points/objections/{objection.pk}/").status_code == 404
    )
    response = secretary.post(
        f"/api/v1/points/objections/{objection.pk}/decide/",
        {"upheld": True, "note": "核实属实"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "upheld"
    award.refresh_from_db()
    assert award.status == AwardStatus.VOIDED


def test_rules_api_lists_catalog_and_local_additions_in_scope(world):
    from points.models import Rule

    Rule.objects.create(
        region=world.regions["民营社区"],
        code="MY-01",
        name="民营社区楼道清洁",
        category="environment",
        points=1,
    )
    rows = client_for(world, "grid_leader").get("/api/v1/points/rules/?category=environment").json()
    codes = [row["code"] for row in rows.get("results", rows)]
    assert codes == ["HJ-01", "HJ-02", "HJ-03", "HJ-04", "HJ-05"]
    rows = client_for(world, "minying_leader").get("/api/v1/points/rules/?category=environment&q=MY").json()
    assert [row["code"] for row in rows.get("results", rows)] == ["MY-01"]
    local = Rule.objects.get(code="MY-01")
    assert client_for(world, "grid_leader").get(f"/api/v1/points/rules/{local.pk}/").status_code == 404
    nobody = client_for(world, "nobody").get("/api/v1/points/rules/").json()
    assert nobody.get("results", nobody) == []
