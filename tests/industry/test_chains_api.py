"""The chains API: chains with scoped figures, businesses, participations, projects and employments —
exact bodies, exactly-once creates with the Idempotency-Key header, and 404 outside the caller's scope."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import User
from industry.models import Business, ChainParticipation
from tests.industry.factories_chains import chains_world, credit_code_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return chains_world(demo_county)


def _api(username: str) -> APIClient:
    client = APIClient()
    user = User.objects.get(username=username)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_chain_list_counts_the_callers_scope(world):
    county = _api("county_admin").get("/api/v1/industry/chains/").json()
    assert [(row["chain"]["name"], row["figures"]["participants"]) for row in county] == [
        ("茶叶", 3),
        ("食用菌", 1),
    ]
    assert county[0]["figures"] == {
        "participants": 3,
        "by_kind": {"cooperative": 1, "household": 1, "enterprise": 1},
        "area_mu": "125.00",
        "output_value_fen": 458000000,
        "jobs": 39,
        "households_driven": 70,
    }
    township = _api("township_admin").get("/api/v1/industry/chains/").json()
    assert township[0]["figures"]["output_value_fen"] == 158000000
    assert township[1]["figures"]["participants"] == 0
    detail = _api("village_secretary").get(f"/api/v1/industry/chains/{world.tea.pk}/").json()
    assert [(row["link"]["name"], row["participants"]) for row in detail["links"]] == [
        ("种植", 1),
        ("加工", 1),
        ("销售", 0),
    ]
    assert [p["code"] for p in detail["products"]] == ["GC-CHAINS-01"]
    assert detail["chain"]["party_branch_name"] == "中共谷城县茶叶产业链支部委员会"
    assert _api("grid_leader").get("/api/v1/industry/chains/").json() == []
    assert _api("grid_leader").get(f"/api/v1/industry/chains/{world.tea.pk}/").status_code == 404


def test_business_create_with_the_idempotency_header(world):
    client = _api("village_secretary")
    body = {
        "kind": "enterprise",
        "name": "新华茶叶有限公司",
        "region": world.regions["新华村"].pk,
        "credit_code": credit_code_make("91420625MA4XY0001"),
    }
    first = client.post("/api/v1/industry/businesses/", body, format="json", HTTP_IDEMPOTENCY_KEY="api-b-1")
    assert first.status_code == 201
    again = client.post("/api/v1/industry/businesses/", body, format="json", HTTP_IDEMPOTENCY_KEY="api-b-1")
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Business.objects.filter(name="新华茶叶有限公司").count() == 1
    other = client.post(
        "/api/v1/industry/businesses/",
        {**body, "name": "别的"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-b-1",
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    bad = client.post(
        "/api/v1/industry/businesses/",
        {**body, "name": "坏代码公司", "credit_code": "91350100M000100Y44"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-b-2",
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_credit_code"
    outside = client.post(
        "/api/v1/industry/businesses/",
        {**body, "name": "越界公司", "region": world.regions["民营社区"].pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-b-3",
    )
    assert outside.status_code == 404
    listed = client.get("/api/v1/industry/businesses/", {"sort": "name"}).json()
    assert listed["count"] == 3
    assert "石花菌业公司" not in [row["name"] for row in listed["results"]]
    detail = client.get(f"/api/v1/industry/businesses/{world.businesses['王家茶园'].pk}/").json()
    assert (detail["kind"], detail["household_number"], detail["credit_code"]) == ("household", "X-001", "")


def test_participations_patch_and_end(world):
    client = _api("township_admin")
    rows = client.get("/api/v1/industry/participations/", {"chain": world.tea.pk}).json()
    assert [row["business_name"] for row in rows["results"]] == ["新华茶叶合作社", "王家茶园"]
    participation = ChainParticipation.objects.get(chain=world.tea, business=world.businesses["王家茶园"])
    patched = client.patch(
        f"/api/v1/industry/participations/{participation.pk}/",
        {"area_mu": "6.5", "output_value_yuan": "90000"},
        format="json",
    ).json()
    assert (patched["area_mu"], patched["output_value_fen"], patched["jobs"], patched["link_name"]) == (
        "6.50",
        9000000,
        2,
        "加工",
    )
    ended = client.post(
        f"/api/v1/industry/participations/{participation.pk}/end/", {"on": "2026-05-01"}, format="json"
    )
    assert ended.json()["left_on"] == "2026-05-01"
    active = client.get(
        "/api/v1/industry/participations/", {"chain": world.tea.pk, "status": "active", "on": "2026-06-01"}
    )
    assert [row["business_name"] for row in active.json()["results"]] == ["新华茶叶合作社"]
    outside = ChainParticipation.objects.get(chain=world.fungi)
    missing = client.patch("/api/v1/industry/participations/2147483000/", {}, format="json")
    hidden = client.patch(f"/api/v1/industry/participations/{outside.pk}/", {}, format="json")
    assert (
        (hidden.status_code, hidden.json())
        == (missing.status_code, missing.json())
        == (
            404,
            {"code": "not_found", "detail": "未找到该参与记录，或者它不在您的管辖范围内。"},
        )
    )
    created = client.post(
        "/api/v1/industry/participations/",
        {"chain": world.fungi.pk, "business": world.businesses["新华茶叶合作社"].pk, "jobs": "2"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-p-1",
    )
    assert created.status_code == 201
    assert (created.json()["chain_name"], created.json()["jobs"], created.json()["link"]) == (
        "食用菌",
        2,
        None,
    )


def test_projects_and_employments(world):
    client = _api("village_secretary")
    household = world.households["X-002"]
    made = client.post(
        "/api/v1/industry/projects/",
        {"household": household.pk, "kind": "handicraft", "title": "竹编", "started_on": "2026-02-01"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-pr-1",
    )
    assert made.status_code == 201
    body = made.json()
    assert (body["household_number"], body["kind_display"], body["ended_on"]) == ("X-002", "手工", None)
    ended = client.post(
        f"/api/v1/industry/projects/{body['id']}/end/", {"on": "2026-03-01"}, format="json"
    ).json()
    assert ended["ended_on"] == "2026-03-01"
    projects = client.get("/api/v1/industry/projects/", {"status": "active", "on": "2026-06-01"}).json()
    assert [row["title"] for row in projects["results"]] == ["种茶 3 亩"]
    resident = world.residents["王小明"]
    work = client.post(
        "/api/v1/industry/employments/",
        {"resident": resident.pk, "kind": "flexible", "started_on": "2026-01-01"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-e-1",
    ).json()
    assert (work["resident_name"], work["id_number_masked"], work["business"]) == (
        "王小明",
        resident.id_number_masked,
        None,
    )
    assert "*" in work["id_number_masked"]
    listed = client.get("/api/v1/industry/employments/", {"village": world.regions["新华村"].pk}).json()
    assert sorted(row["resident_name"] for row in listed["results"]) == ["王大山", "王小明"]
    assert _api("grid_leader").get("/api/v1/industry/employments/").json()["count"] == 0
