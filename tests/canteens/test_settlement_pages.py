"""Settlement, claim, budget and report pages: what each role sees and can do, exact figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from canteens.models import ClaimStatus, Meal, Settlement
from tests.canteens.factories import PASSWORD, SPLIT_70, SPLIT_80, canteen_world
from tests.canteens.settlement_meals import last_month, meal_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return canteen_world(demo_county)


def _client(username):
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_compute_submit_approve_through_the_pages(world):
    year, month = last_month()
    Meal.objects.bulk_create(
        [
            meal_row(world, served_on=dt.date(year, month, 2), slot="lunch", parts=SPLIT_70, elder="吴桂兰"),
            meal_row(
                world,
                served_on=dt.date(year, month, 2),
                slot="lunch",
                parts=SPLIT_80,
                elder="吴德厚",
                level="township",
            ),
        ]
    )
    manager = _client("canteen_manager")
    url = f"/canteens/{world.site.pk}/settlements/"
    page = manager.get(url)
    assert page.status_code == 200
    response = manager.post(url, {"year": year, "month": month, "idempotency_key": "k1"})
    settlement = Settlement.objects.get(site=world.site)
    assert response.status_code == 302
    assert response["Location"] == f"/canteens/settlements/{settlement.pk}/"
    detail = manager.get(f"/canteens/settlements/{settlement.pk}/").content.decode()
    assert "¥8.00" in detail
    assert "¥1.50" in detail
    assert "¥1.80" in detail
    claim = manager.get(f"/canteens/settlements/{settlement.pk}/claim/").content.decode()
    assert "补贴申报表" in claim
    assert "¥1.50" in claim
    assert "¥1.80" in claim
    assert "¥3.30" in claim
    xlsx = manager.get(f"/canteens/settlements/{settlement.pk}/claim/?format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxml")
    response = manager.post(
        f"/canteens/settlements/{settlement.pk}/", {"action": "submit", "idempotency_key": "k2"}
    )
    assert response.status_code == 302
    refused = manager.post(
        f"/canteens/settlements/{settlement.pk}/", {"action": "approve", "idempotency_key": "k3"}
    )
    assert refused.status_code == 403
    assert "只有乡镇或县级管理员" in refused.content.decode()
    admin = _client("shihua_admin")
    claims = admin.get("/canteens/claims/").content.decode()
    assert settlement.claim_number in claims
    assert "3.30" in claims
    empty = admin.post(
        f"/canteens/settlements/{settlement.pk}/", {"action": "return", "reason": "", "idempotency_key": "k4"}
    )
    assert empty.status_code == 400
    assert "请填写退回原因" in empty.content.decode()
    admin.post(f"/canteens/settlements/{settlement.pk}/", {"action": "approve", "idempotency_key": "k5"})
    settlement.refresh_from_db()
    assert settlement.status == ClaimStatus.APPROVED
    # Another township: 404 everywhere.
    other = _client("township_admin")
    assert other.get(f"/canteens/settlements/{settlement.pk}/").status_code == 404
    assert other.get(url).status_code == 404
    assert settlement.claim_number not in other.get("/canteens/claims/").content.decode()


def test_budget_and_report_pages(world):
    admin = _client("shihua_admin")
    year = dt.date.today().year
    response = admin.post(
        f"/canteens/{world.site.pk}/budgets/",
        {"year": year, "amount_government": "abc", "idempotency_key": "b1"},
    )
    assert response.status_code == 400
    assert "金额格式不对" in response.content.decode()
    response = admin.post(
        f"/canteens/{world.site.pk}/budgets/",
        {"year": year, "amount_government": "1200.50", "idempotency_key": "b2"},
    )
    assert response.status_code == 302
    page = admin.get(f"/canteens/{world.site.pk}/budgets/?year={year}").content.decode()
    assert 'value="1200.50"' in page
    assert admin.get(f"/canteens/{world.site.pk}/report/").status_code == 200
    report = admin.get("/canteens/reports/").content.decode()
    assert world.site.name in report
    assert world.other_site.name not in report
    assert admin.get("/canteens/reports/?format=xlsx&table=funders").status_code == 200
    assert (
        _client("canteen_manager")
        .post(f"/canteens/{world.site.pk}/budgets/", {"year": year, "amount_government": "1"})
        .status_code
        == 404
    )
