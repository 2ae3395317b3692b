"""The collective economy API: a village's year (GET with change and flag, PUT exactly once), a township's
sums, the income rows filtered by year and region, thresholds (county admin sets them), and scope (a
village secretary reads and writes only their village; a township admin not another township's)."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import User
from industry.models import CollectiveIncome, CollectiveThreshold
from tests.industry.factories_places import places_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return places_world(demo_county)


def api_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_village_year_and_township_sums(world):
    api = api_for("county_admin")
    body = api.get(f"/api/v1/industry/villages/{world.r['新华村'].pk}/collective-income/?year=2025").json()
    assert body == {
        "region": world.r["新华村"].pk,
        "region_name": "新华村",
        "level": "village",
        "year": 2025,
        "amounts_fen": {"land_rent": 6_000_000, "services": 3_000_050},
        "total_fen": 9_000_050,
        "last_total_fen": 8_000_000,
        "change_fen": 1_000_050,
        "change_pct": 12.5006,
        "status": "weak",
        "threshold": {"year": 2025, "weak_below_fen": 10_000_000, "strong_from_fen": None, "from_year": None},
    }
    township = api.get(
        f"/api/v1/industry/villages/{world.r['城关镇'].pk}/collective-income/?year=2025"
    ).json()
    assert (township["total_fen"], township["last_total_fen"], township["status"]) == (
        29_000_050,
        18_000_000,
        "",
    )
    assert township["amounts_fen"] == {
        "land_rent": 21_000_000,
        "services": 3_000_050,
        "tourism": 5_000_000,
        "shares": 0,
    }


def test_put_a_year_exactly_once_and_in_scope(world):
    api = api_for("village_secretary")
    url = f"/api/v1/industry/villages/{world.r['新华村'].pk}/collective-income/"
    payload = {
        "year": 2025,
        "amounts_fen": {"land_rent": 7_000_000, "other": None},
        "idempotency_key": "put-1",
    }
    first = api.put(url, payload, format="json")
    assert first.status_code == 200
    assert (first.json()["total_fen"], first.json()["change_fen"]) == (7_000_000, -1_000_000)
    again = api.put(url, payload, format="json")
    assert again.json() == first.json()
    assert dict(
        CollectiveIncome.objects.filter(village=world.r["新华村"], year=2025).values_list(
            "source", "amount_fen"
        )
    ) == {"land_rent": 7_000_000}
    other = api.put(
        f"/api/v1/industry/villages/{world.r['东风村'].pk}/collective-income/",
        {**payload, "idempotency_key": "put-2"},
        format="json",
    )
    missing = api.put("/api/v1/industry/villages/2147483000/collective-income/", payload, format="json")
    assert other.status_code == 404
    assert other.json() == missing.json()
    bad = api.put(url, {"year": 2025, "amounts_fen": {"rent": 1}, "idempotency_key": "put-3"}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_source")
    township = api_for("township_admin").put(
        f"/api/v1/industry/villages/{world.r['石花村'].pk}/collective-income/",
        {**payload, "idempotency_key": "put-4"},
        format="json",
    )
    assert township.status_code == 404
    town_level = api_for("township_admin").put(
        f"/api/v1/industry/villages/{world.r['城关镇'].pk}/collective-income/",
        {**payload, "idempotency_key": "put-5"},
        format="json",
    )
    assert (town_level.status_code, town_level.json()["code"]) == (400, "not_a_village")


def test_income_rows_and_thresholds(world):
    api = api_for("township_admin")
    rows = api.get(f"/api/v1/industry/collective-incomes/?year=2025&region={world.r['东风村'].pk}").json()[
        "results"
    ]
    assert [(r["village_name"], r["source"], r["amount_fen"]) for r in rows] == [
        ("东风村", "land_rent", 15_000_000),
        ("东风村", "tourism", 5_000_000),
    ]
    everything = api.get("/api/v1/industry/collective-incomes/").json()
    assert everything["count"] == 7  # 城关镇 only: 2024 ×2, 2025 ×(2 + 2 + 1)
    assert api.get(f"/api/v1/industry/collective-incomes/?region={world.r['石花村'].pk}").status_code == 404
    refused = api.post(
        "/api/v1/industry/thresholds/",
        {"year": 2025, "weak_below_fen": 1, "idempotency_key": "t-1"},
        format="json",
    )
    assert refused.status_code == 404
    county = api_for("county_admin")
    made = county.post(
        "/api/v1/industry/thresholds/",
        {"year": 2025, "weak_below_fen": 9_000_000, "strong_from_fen": 15_000_000, "idempotency_key": "t-2"},
        format="json",
    )
    assert made.json() == {
        "year": 2025,
        "weak_below_fen": 9_000_000,
        "strong_from_fen": 15_000_000,
        "from_year": 2025,
    }
    assert CollectiveThreshold.objects.get(year=2025).weak_below_fen == 9_000_000
    listed = api.get("/api/v1/industry/thresholds/").json()
    assert listed["thresholds"] == [made.json()]
    assert listed["default_weak_below_fen"] == 10_000_000
    assert listed["sources"]["land_rent"] == "土地流转租金"
    assert api_for("grid_leader").get("/api/v1/industry/thresholds/").status_code == 404
