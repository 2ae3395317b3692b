"""The community API (/api/v1/canteens/community/): writes with idempotency keys, errors as JSON with the
field, scoped lists and summaries with exact values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from canteens.models import ClassSession, VolunteerHours, WagePayment
from tests.canteens.test_community_world import CommunityWorld, community_world, key

pytestmark = pytest.mark.django_db
BASE = "/api/v1/canteens/community/"


@pytest.fixture
def world(demo_county) -> CommunityWorld:
    return community_world(demo_county)


def client_for(world: CommunityWorld, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def _volunteer(client: APIClient, world: CommunityWorld) -> dict:
    response = client.post(
        f"{BASE}volunteers/",
        {
            "site": world.sites["民营社区爱心讲堂"].pk,
            "name": "李老师",
            "phone": "13912345678",
            "speciality": "书法",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_session_post_replay_and_list(world):
    manager = client_for(world, "canteen_manager")
    teacher = _volunteer(manager, world)
    assert teacher["phone_masked"] == "139****5678"
    assert "phone" not in teacher
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    body = {
        "site": world.sites["民营社区爱心讲堂"].pk,
        "held_on": yesterday.isoformat(),
        "starts": "15:00",
        "ends": "16:30",
        "subject": "作业辅导",
        "teacher": teacher["id"],
        "children_count": 12,
        "attendees": [world.residents["周小妹"].pk, world.residents["周小宝"].pk],
        "idempotency_key": "session-1",
    }
    first = manager.post(f"{BASE}sessions/", body, format="json")
    again = manager.post(f"{BASE}sessions/", body, format="json")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["attendees"] == sorted([world.residents["周小妹"].pk, world.residents["周小宝"].pk])
    assert (first.json()["starts"], first.json()["ends"]) == ("15:00", "16:30")
    assert ClassSession.objects.count() == 1
    assert VolunteerHours.objects.get().hours == 1.5
    other_body = dict(body, children_count=13)
    reused = manager.post(f"{BASE}sessions/", other_body, format="json")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"

    listed = manager.get(f"{BASE}sessions/", {"site": world.sites["民营社区爱心讲堂"].pk})
    assert listed.status_code == 200
    assert [row["subject"] for row in listed.json()["results"]] == ["作业辅导"]
    assert client_for(world, "township_admin").get(f"{BASE}sessions/").json()["results"] == []
    totals = manager.get(f"{BASE}classrooms/{world.sites['民营社区爱心讲堂'].pk}/totals/").json()
    assert totals == {
        "site": world.sites["民营社区爱心讲堂"].pk,
        "sessions": 1,
        "child_visits": 12,
        "named_children": 2,
        "hours": "1.5",
        "teachers": 1,
    }
    volunteers = manager.get(f"{BASE}volunteers/").json()["results"]
    assert [(v["name"], v["session_count"], v["hours_total"]) for v in volunteers] == [("李老师", 1, "1.5")]


def test_refusal_is_json_with_the_field_and_writes_nothing(world):
    manager = client_for(world, "canteen_manager")
    teacher = _volunteer(manager, world)
    response = manager.post(
        f"{BASE}sessions/",
        {
            "site": world.sites["民营社区爱心讲堂"].pk,
            "held_on": timezone.localdate().isoformat(),
            "subject": "书法",
            "teacher": teacher["id"],
            "children_count": 1,
            "attendees": [world.residents["周小妹"].pk, world.residents["周小宝"].pk],
            "idempotency_key": key(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "attendees_exceed_count",
        "detail": "登记姓名的儿童（2 人）不能多于到课人数（1 人）。",
        "fields": {"attendees": ["登记姓名的儿童（2 人）不能多于到课人数（1 人）。"]},
    }
    assert ClassSession.objects.count() == 0


def test_out_of_scope_site_answers_like_a_missing_one(world):
    other = client_for(world, "township_admin")
    body = {"site": world.sites["民营社区爱心作坊"].pk, "name": "布鞋", "unit": "双", "piece_rate_fen": 100}
    outside = other.post(f"{BASE}products/", body, format="json", HTTP_IDEMPOTENCY_KEY=key())
    missing = other.post(
        f"{BASE}products/", dict(body, site=2_147_483_000), format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()


def test_worker_warning_wage_conflict_and_workshop_summary(world):
    manager = client_for(world, "canteen_manager")
    site = world.sites["民营社区爱心作坊"].pk
    product = manager.post(
        f"{BASE}products/",
        {"site": site, "name": "手工布鞋", "unit": "双", "piece_rate_fen": 250},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    ).json()
    worker = manager.post(
        f"{BASE}workers/",
        {"site": site, "resident": world.residents["周明"].pk, "joined_on": "2024-03-01"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert worker.status_code == 201
    assert (
        worker.json()["warning"] == "周明未标记为留守妇女，已照常登记；如情况属实，请在居民档案中补充标签。"
    )
    assert worker.json()["is_left_behind"] is False
    first = timezone.localdate().replace(day=1)
    last_month = first - dt.timedelta(days=1)
    wage_body = {
        "site": site,
        "worker": worker.json()["id"],
        "year": last_month.year,
        "month": last_month.month,
        "pieces": 80,
        "product": product["id"],
        "paid_on": timezone.localdate().isoformat(),
    }
    wage = manager.post(f"{BASE}wages/", wage_body, format="json", HTTP_IDEMPOTENCY_KEY=key())
    assert wage.status_code == 201
    assert wage.json()["amount_fen"] == 20000
    twice = manager.post(f"{BASE}wages/", wage_body, format="json", HTTP_IDEMPOTENCY_KEY=key())
    assert twice.status_code == 409
    assert twice.json()["code"] == "wage_duplicate"
    assert twice.json()["fields"] == {
        "month": [f"周明 {last_month.year}年{last_month.month}月的工资已登记，不能重复发放。"]
    }
    assert WagePayment.objects.count() == 1
    order = manager.post(
        f"{BASE}orders/",
        {
            "site": site,
            "product": product["id"],
            "customer": "谷城县供销社",
            "quantity": 40,
            "amount_fen": 120000,
            "ordered_on": last_month.replace(day=1).isoformat(),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    ).json()
    delivered = manager.post(
        f"{BASE}orders/{order['id']}/deliver/", {"delivered_on": last_month.isoformat()}, format="json"
    )
    assert delivered.json()["status"] == "delivered"
    again = manager.post(f"{BASE}orders/{order['id']}/cancel/", {"reason": "x"}, format="json")
    assert again.status_code == 409
    summary = manager.get(
        f"{BASE}summaries/workshops/", {"year": last_month.year, "month": last_month.month}
    ).json()
    assert summary == [
        {
            "site": site,
            "site_name": "民营社区爱心作坊",
            "orders_placed": 1,
            "orders_placed_fen": 120000,
            "orders_delivered": 1,
            "orders_delivered_fen": 120000,
            "orders_open": 0,
            "wages_paid": 1,
            "wages_fen": 20000,
            "workers": 1,
        }
    ]


def test_station_log_and_summary(world):
    keeper = client_for(world, "keeper")
    site = world.sites["民营社区红色驿站"].pk
    service = keeper.post(
        f"{BASE}station-services/", {"site": site, "name": "理发"}, format="json", HTTP_IDEMPOTENCY_KEY=key()
    ).json()
    today = timezone.localdate()
    log = keeper.post(
        f"{BASE}service-logs/",
        {"site": site, "service": service["id"], "served_on": today.isoformat(), "people_served": 12},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert log.status_code == 201
    bad = keeper.post(
        f"{BASE}service-logs/",
        {"site": site, "service": service["id"], "served_on": today.isoformat(), "people_served": 10001},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"people_served": ["服务人数须是 1 到 10000 的整数。"]}
    summary = keeper.get(f"{BASE}summaries/stations/").json()
    assert summary == [
        {
            "site": site,
            "site_name": "民营社区红色驿站",
            "entries": 1,
            "people_served": 12,
            "by_service": [{"service": "理发", "entries": 1, "people_served": 12}],
        }
    ]
    stopped = keeper.put(f"{BASE}station-services/{service['id']}/", {"is_active": False}, format="json")
    assert stopped.json()["is_active"] is False
