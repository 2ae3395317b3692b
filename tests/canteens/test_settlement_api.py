"""The settlements REST API (/api/v1/canteens/...): compute, submit, approve, return, budgets, reports,
with exact figures, idempotency keys on every POST, the gates and scope (out of scope answers like a
missing id)."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from canteens.models import Budget, ClaimStatus, Meal, MealCorrection, Settlement
from governance.models import AuditEvent
from tests.canteens.factories import SPLIT_70, SPLIT_80, SPLIT_GUEST, SPLIT_LOW, canteen_world, key
from tests.canteens.settlement_meals import last_month, meal_row

pytestmark = pytest.mark.django_db
API = "/api/v1/canteens"
MISSING = 2_147_483_000


@pytest.fixture
def world(demo_county):
    return canteen_world(demo_county)


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _month_meals(world) -> tuple[int, int]:
    """Last month: 吴桂兰 (70–79) lunch twice, 吴德厚 (80–89, township-level subsidy) lunch, 吴秀芝 (低保)
    dinner, one guest dinner."""
    year, month = last_month()
    d1, d2 = dt.date(year, month, 1), dt.date(year, month, 2)
    Meal.objects.bulk_create(
        [
            meal_row(world, served_on=d1, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d2, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d1, slot="lunch", parts=SPLIT_80, elder="吴德厚", level="township"),
            meal_row(world, served_on=d1, slot="dinner", parts=SPLIT_LOW, elder="吴秀芝"),
            meal_row(world, served_on=d1, slot="dinner", parts=SPLIT_GUEST),
        ]
    )
    return year, month


def _compute(world, client=None, **extra):
    year, month = last_month()
    body = {"year": year, "month": month, "idempotency_key": key(), **extra}
    return (client or _as(world.manager)).post(
        f"{API}/sites/{world.site.pk}/settlements/", body, format="json"
    )


def test_compute_answers_the_exact_figures_lines_and_funders(world):
    year, month = _month_meals(world)
    response = _compute(world)
    assert response.status_code == 200, response.content
    body = response.json()
    settlement = Settlement.objects.get()
    assert body["id"] == settlement.pk
    assert body["site"] == world.site.pk
    assert body["site_name"] == "民营社区爱心食堂"
    assert (body["year"], body["month"]) == (year, month)
    assert body["status"] == "draft"
    assert body["status_label"] == "草稿"
    assert body["claim_number"] == f"BT{world.site.pk}{year}{month:02d}"
    assert (body["meals"], body["guest_meals"], body["elders"]) == (5, 1, 3)
    assert body["price_fen"] == 2200
    assert body["resident_fen"] == 150 + 150 + 100 + 50 + 600
    assert body["government_county_fen"] == 150 + 150 + 200
    assert body["government_township_fen"] == 180
    assert body["government_fen"] == 680
    assert body["community_fen"] == 75 + 75 + 90 + 115
    assert body["donation_fen"] == 25 + 25 + 30 + 35
    assert body["open_corrections"] == 0
    assert body["submitted_by"] is None
    tiers = world.tiers
    assert [
        (
            line["slot"],
            line["tier"],
            line["meals"],
            line["price_fen"],
            line["resident_fen"],
            line["government_fen"],
            line["community_fen"],
            line["donation_fen"],
        )
        for line in body["lines"]
    ] == [
        ("lunch", tiers["age-70-79"].pk, 2, 800, 300, 300, 150, 50),
        ("lunch", tiers["age-80-89"].pk, 1, 400, 100, 180, 90, 30),
        ("dinner", tiers["low-income"].pk, 1, 400, 50, 200, 115, 35),
        ("dinner", None, 1, 600, 600, 0, 0, 0),
    ]
    assert [line["slot_label"] for line in body["lines"]] == ["午餐", "午餐", "晚餐", "晚餐"]
    assert body["lines"][0]["tier_label"] == tiers["age-70-79"].name
    assert body["lines"][3]["tier_label"] == "非登记就餐"
    assert [(f["funder"], f["fen"]) for f in body["funders"]] == [
        ("government_county", 500),
        ("government_township", 180),
        ("community", 355),
        ("donation", 115),
        ("resident", 1050),
    ]
    assert body["funders"][0]["funder_label"] == "政府补贴（县级）"
    # The detail reads the same.
    detail = _as(world.admin).get(f"{API}/settlements/{settlement.pk}/")
    assert detail.status_code == 200
    assert detail.json() == body


def test_every_post_needs_a_key_and_a_replay_answers_the_first_result(world):
    _month_meals(world)
    manager = _as(world.manager)
    year, month = last_month()
    url = f"{API}/sites/{world.site.pk}/settlements/"
    missing = manager.post(url, {"year": year, "month": month}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert missing.json()["fields"] == {"idempotency_key": ["缺少防重复提交标识，请刷新页面后重新提交。"]}
    assert not Settlement.objects.exists()

    k = key()
    first = manager.post(url, {"year": year, "month": month}, format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == 200
    audits = AuditEvent.objects.filter(object_type="canteens.settlement").count()
    # A meal arrives in between: the replay still answers the first result and recomputes nothing.
    Meal.objects.bulk_create(
        [meal_row(world, served_on=dt.date(year, month, 9), slot="lunch", parts=SPLIT_GUEST)]
    )
    again = manager.post(url, {"year": year, "month": month, "idempotency_key": k}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["price_fen"] == 2200
    assert AuditEvent.objects.filter(object_type="canteens.settlement").count() == audits
    reused = manager.post(url, {"year": year - 1, "month": month, "idempotency_key": k}, format="json")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    # A new key recomputes: the guest meal counts now.
    assert _compute(world).json()["price_fen"] == 2800

    settlement_id = first.json()["id"]
    for action in ("submit", "approve", "return"):
        response = _as(world.admin).post(f"{API}/settlements/{settlement_id}/{action}/", {}, format="json")
        assert response.status_code == 400, action
        assert response.json()["code"] == "idempotency_key_missing"
    budget = _as(world.admin).post(
        f"{API}/sites/{world.site.pk}/budgets/",
        {"year": 2025, "funder": "government", "amount_fen": 1000},
        format="json",
    )
    assert budget.status_code == 400
    assert budget.json()["code"] == "idempotency_key_missing"
    assert not Budget.objects.exists()


def test_compute_refusals(world):
    year, month = last_month()
    today = dt.date.today()
    future = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    response = _compute(world, year=future.year, month=future.month)
    assert response.status_code == 400
    assert response.json()["code"] in {"period_future", "bad_year"}
    response = _compute(world, month=13)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_month"
    assert response.json()["fields"] == {"month": ["月份须在 1 到 12 之间。"]}
    response = _compute(world, year="abc")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["year"]
    # The village secretary sees the canteen but does not run it; another township does not see it.
    assert _compute(world, _as(world.users["minying_secretary"])).status_code == 404
    outside = _compute(world, _as(world.users["township_admin"]))
    missing = _as(world.users["township_admin"]).post(
        f"{API}/sites/{MISSING}/settlements/",
        {"year": year, "month": month, "idempotency_key": key()},
        format="json",
    )
    assert (outside.status_code, outside.json()) == (404, missing.json())
    # A classroom has no meals to settle.
    classroom = _as(world.admin).post(
        f"{API}/sites/{world.classroom.pk}/settlements/",
        {"year": year, "month": month, "idempotency_key": key()},
        format="json",
    )
    assert classroom.status_code == 400
    assert classroom.json()["code"] == "not_a_canteen"
    assert not Settlement.objects.exists()


def test_submit_approve_return_flow_and_gates(world):
    year, month = _month_meals(world)
    settlement_id = _compute(world).json()["id"]
    meal = Meal.objects.filter(resident=world.elders["吴桂兰"]).order_by("served_on").first()
    correction = MealCorrection.objects.create(meal=meal, reason="误登记", requested_by=world.manager)
    manager, admin = _as(world.manager), _as(world.admin)

    def act(client, action, **body):
        return client.post(
            f"{API}/settlements/{settlement_id}/{action}/", {"idempotency_key": key(), **body}, format="json"
        )

    refused = act(manager, "submit")
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "open_corrections",
        "detail": "该月还有 1 条就餐更正未处理，处理完后才能申报。",
        "open_corrections": 1,
    }
    assert _as(world.admin).get(f"{API}/settlements/{settlement_id}/").json()["open_corrections"] == 1
    MealCorrection.objects.filter(pk=correction.pk).update(status="rejected")
    # Approving a draft is refused.
    assert act(admin, "approve").json()["code"] == "settlement_not_submitted"

    submitted = act(manager, "submit")
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["status"] == "submitted"
    assert body["submitted_by"] == world.manager.pk
    assert body["price_fen"] == 2200
    assert act(manager, "submit").json()["code"] == "settlement_submitted"
    assert _compute(world).json()["code"] == "settlement_submitted"

    # Who may decide: the township (石花镇) and the county. Those who see it but may not: 403; another
    # township: 404 exactly like a missing id.
    for username in ("canteen_manager", "minying_secretary", "cook"):
        response = act(_as(world.users[username]), "approve")
        assert response.status_code == 403, username
        assert response.json()["code"] == "approve_forbidden"
    other = _as(world.users["township_admin"])
    outside = act(other, "approve")
    missing = other.post(f"{API}/settlements/{MISSING}/approve/", {"idempotency_key": key()}, format="json")
    assert (outside.status_code, outside.json()) == (404, missing.json())
    assert outside.json()["detail"] == "未找到该结算，或者它不在您的管辖范围内。"

    no_reason = act(admin, "return", reason="  ")
    assert no_reason.status_code == 400
    assert no_reason.json()["fields"] == {"reason": ["请填写退回原因。"]}
    returned = act(admin, "return", reason="缺少签字")
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned"
    assert returned.json()["return_reason"] == "缺少签字"
    assert returned.json()["decided_by"] == world.admin.pk

    # Returned: recomputed with a late meal and submitted again, then approved by the county.
    Meal.objects.bulk_create(
        [meal_row(world, served_on=dt.date(year, month, 5), slot="lunch", parts=SPLIT_GUEST)]
    )
    recomputed = _compute(world).json()
    assert (recomputed["status"], recomputed["price_fen"], recomputed["meals"]) == ("returned", 2800, 6)
    assert act(manager, "submit").json()["status"] == "submitted"
    approved = act(_as(world.users["county_admin"]), "approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["return_reason"] == ""
    assert approved.json()["price_fen"] == 2800
    locked = _compute(world)
    assert locked.status_code == 409
    assert locked.json()["code"] == "settlement_locked"
    assert act(admin, "return", reason="再看看").json()["code"] == "settlement_locked"
    assert Settlement.objects.get().status == ClaimStatus.APPROVED


def test_lists_are_scoped_and_filtered(world):
    _month_meals(world)
    mine = _compute(world).json()["id"]
    year, month = last_month()
    theirs = _compute(world, _as(world.users["township_admin"]))  # 城关镇 runs 新华村's canteen only
    assert theirs.status_code == 404
    other = _as(world.users["township_admin"]).post(
        f"{API}/sites/{world.other_site.pk}/settlements/",
        {"year": year, "month": month, "idempotency_key": key()},
        format="json",
    )
    assert other.status_code == 200
    other_id = other.json()["id"]

    def ids(client, url):
        response = client.get(url)
        assert response.status_code == 200
        assert set(response.json()) == {"count", "next", "previous", "results"}
        return [row["id"] for row in response.json()["results"]]

    assert ids(_as(world.manager), f"{API}/settlements/") == [mine]
    assert ids(_as(world.users["township_admin"]), f"{API}/settlements/") == [other_id]
    county = _as(world.users["county_admin"])
    assert sorted(ids(county, f"{API}/settlements/")) == sorted([mine, other_id])
    assert ids(county, f"{API}/settlements/?site={world.site.pk}") == [mine]
    assert ids(county, f"{API}/settlements/?status=submitted") == []
    assert ids(county, f"{API}/settlements/?year={year}&month={month}&status=draft") != []
    assert ids(county, f"{API}/settlements/?year={year - 3}") == []
    assert ids(_as(world.manager), f"{API}/sites/{world.site.pk}/settlements/") == [mine]
    assert ids(_as(world.users["cook"]), f"{API}/sites/{world.site.pk}/settlements/") == [mine]
    bad = county.get(f"{API}/settlements/?status=nope")
    assert bad.status_code == 400
    assert list(bad.json()["fields"]) == ["status"]
    # Out of scope reads answer exactly like a missing id.
    manager = _as(world.manager)
    for url, missing in (
        (f"{API}/settlements/{other_id}/", f"{API}/settlements/{MISSING}/"),
        (f"{API}/sites/{world.other_site.pk}/settlements/", f"{API}/sites/{MISSING}/settlements/"),
        (f"{API}/sites/{world.other_site.pk}/budgets/", f"{API}/sites/{MISSING}/budgets/"),
        (f"{API}/sites/{world.other_site.pk}/report/", f"{API}/sites/{MISSING}/report/"),
    ):
        outside, absent = manager.get(url), manager.get(missing)
        assert (outside.status_code, outside.json()) == (404, absent.json()), url


def test_budgets_set_and_list(world):
    url = f"{API}/sites/{world.site.pk}/budgets/"
    admin = _as(world.admin)
    k = key()
    first = admin.post(url, {"year": 2025, "funder": "government", "amount_fen": 1000, "idempotency_key": k})
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["site"], body["year"], body["funder"], body["amount_fen"]) == (
        world.site.pk,
        2025,
        "government",
        1000,
    )
    assert body["funder_label"] == "政府补贴"
    assert body["updated_by"] == world.admin.pk
    again = admin.post(url, {"year": 2025, "funder": "government", "amount_fen": 1000, "idempotency_key": k})
    assert again.json()["id"] == body["id"]
    reused = admin.post(url, {"year": 2025, "funder": "government", "amount_fen": 9, "idempotency_key": k})
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    changed = admin.post(
        url, {"year": 2025, "funder": "government", "amount_fen": 1500}, HTTP_IDEMPOTENCY_KEY=key()
    )
    assert (changed.json()["id"], changed.json()["amount_fen"]) == (body["id"], 1500)
    for funder, amount, year in (("community", 100, 2025), ("resident", 7, 2025), ("donation", 3, 2024)):
        response = admin.post(
            url, {"year": year, "funder": funder, "amount_fen": amount, "idempotency_key": key()}
        )
        assert response.status_code == 200
    bad_funder = admin.post(url, {"year": 2025, "funder": "bank", "amount_fen": 1, "idempotency_key": key()})
    assert bad_funder.status_code == 400
    assert list(bad_funder.json()["fields"]) == ["funder"]
    negative = admin.post(
        url, {"year": 2025, "funder": "community", "amount_fen": -1, "idempotency_key": key()}
    )
    assert negative.status_code == 400
    assert negative.json()["fields"] == {"amount_yuan": ["预算金额不能为负数。"]}
    bad_year = admin.post(
        url, {"year": 1999, "funder": "community", "amount_fen": 1, "idempotency_key": key()}
    )
    assert bad_year.json()["code"] == "bad_year"

    listed = admin.get(url).json()
    assert [(b["year"], b["funder"], b["amount_fen"]) for b in listed] == [
        (2025, "government", 1500),
        (2025, "community", 100),
        (2025, "resident", 7),
        (2024, "donation", 3),
    ]
    assert [b["funder"] for b in admin.get(f"{url}?year=2024").json()] == ["donation"]
    # The canteen's manager reads the budgets but may not set them (404, nothing written).
    assert len(_as(world.manager).get(url).json()) == 4
    refused = _as(world.manager).post(
        url, {"year": 2025, "funder": "government", "amount_fen": 1, "idempotency_key": key()}
    )
    assert refused.status_code == 404
    assert Budget.objects.get(funder="government", year=2025).amount_fen == 1500


def test_reports_exact_for_a_past_year(world):
    d = dt.date(2025, 2, 10)
    Meal.objects.bulk_create(
        [
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_80, elder="吴德厚", level="township"),
            meal_row(world, served_on=d, slot="lunch", parts=SPLIT_GUEST),
            meal_row(world, served_on=dt.date(2025, 4, 1), slot="dinner", parts=SPLIT_70, elder="吴桂兰"),
        ]
    )
    admin = _as(world.admin)
    for funder, amount in (("government", 100_000), ("community", 100)):
        response = admin.post(
            f"{API}/sites/{world.site.pk}/budgets/",
            {"year": 2025, "funder": funder, "amount_fen": amount, "idempotency_key": key()},
        )
        assert response.status_code == 200
    figures = {
        "meals": 4,
        "elders": 2,
        "price_fen": 1800,
        "resident_fen": 150 + 100 + 600 + 150,
        "government_fen": 150 + 180 + 150,
        "government_township_fen": 180,
        "community_fen": 75 + 90 + 75,
        "donation_fen": 25 + 30 + 25,
        "shortfall_fen": 0,
        "cost_per_meal_fen": 450,
        "income_fen": 1800,
        "balance_fen": 0,
    }
    response = admin.get(f"{API}/canteen-reports/?year=2025")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["year"], body["start"], body["end"]) == (2025, "2025-01-01", "2025-12-31")
    assert (body["elapsed_days"], body["year_days"]) == (365, 365)
    assert [row["site"]["id"] for row in body["results"]] == [world.site.pk]
    row = body["results"][0]
    assert row["site"]["name"] == "民营社区爱心食堂"
    assert row["site"]["region"] == world.regions["民营社区"].pk
    assert row["figures"] == figures
    assert body["total"] == figures
    # A past year: the projection is what was spent. Community spent 240 of a 100 budget: 140 short,
    # and at 240 a year the 100 lasted 100 × 365 // 240 = 152 days (to 2 June).
    assert [
        (
            f["funder"],
            f["budget_fen"],
            f["spent_fen"],
            f["remaining_fen"],
            f["projected_fen"],
            f["gap_fen"],
            f["runs_out_on"],
        )
        for f in row["funders"]
    ] == [
        ("government", 100_000, 480, 99_520, 480, 0, None),
        ("community", 100, 240, -140, 240, 140, "2025-06-02"),
        ("donation", None, 80, None, 80, 0, None),
        ("resident", None, 1000, None, 1000, 0, None),
    ]
    assert row["funders"][0]["used_percent"] == 0
    assert row["funders"][1]["used_percent"] == 240
    assert row["gap_fen"] == 140
    assert body["funders"] == row["funders"]
    assert body["gap_fen"] == 140
    assert body["beneficiaries"] == 2  # 吴桂兰, 吴德厚; not the guest

    # The county sees both canteens; a region narrows it; a region out of scope is 404.
    county = _as(world.users["county_admin"])
    all_sites = county.get(f"{API}/canteen-reports/?year=2025").json()
    assert [r["site"]["id"] for r in all_sites["results"]] == [world.other_site.pk, world.site.pk]
    assert all_sites["total"]["price_fen"] == 1800
    shihua = world.regions["石花镇"].pk
    narrowed = county.get(f"{API}/canteen-reports/?year=2025&region={shihua}").json()
    assert [r["site"]["id"] for r in narrowed["results"]] == [world.site.pk]
    outside = admin.get(f"{API}/canteen-reports/?region={world.regions['城关镇'].pk}")
    assert outside.status_code == 404
    assert outside.json()["code"] == "not_found"
    assert admin.get(f"{API}/canteen-reports/?year=1999").status_code == 400
    assert admin.get(f"{API}/canteen-reports/?year={dt.date.today().year + 2}").status_code == 400
    # Another township sees its own canteen with nothing in it.
    theirs = _as(world.users["township_admin"]).get(f"{API}/canteen-reports/?year=2025").json()
    assert [r["site"]["id"] for r in theirs["results"]] == [world.other_site.pk]
    assert (theirs["total"]["meals"], theirs["beneficiaries"]) == (0, 0)

    site = _as(world.manager).get(f"{API}/sites/{world.site.pk}/report/?year=2025")
    assert site.status_code == 200
    one = site.json()
    assert one["site"]["id"] == world.site.pk
    assert one["figures"] == figures
    assert one["funders"] == row["funders"]
    assert one["gap_fen"] == 140
    assert one["beneficiaries"] == 2
    assert [(m["month"], m["figures"]["meals"], m["figures"]["price_fen"]) for m in one["months"]] == [
        ("2025-02", 3, 1400),
        ("2025-04", 1, 400),
    ]
    assert one["months"][0]["figures"]["elders"] == 2
    # A classroom has no meals: zero figures, no funders.
    classroom = admin.get(f"{API}/sites/{world.classroom.pk}/report/?year=2025").json()
    assert (classroom["figures"]["meals"], classroom["funders"], classroom["months"]) == (0, [], [])
