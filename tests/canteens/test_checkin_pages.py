"""The counter's pages and the meals/donations API through the test client: the manager's landing, the
check-in (find by name, card code, ID tail; record; a second tap refused; guest; delivery), the daily
sheet and its Excel, corrections, the fund pages and the donation form, and scope (404)."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from canteens.models import CorrectionStatus, DonationFund, Meal, MealCorrection
from tests.canteens.factories import FUND_BALANCE, PASSWORD, SPLIT_70, CanteenWorld, canteen_world, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def api_for(username: str, world: CanteenWorld) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=world.users[username])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def checkin_url(world: CanteenWorld) -> str:
    return f"/canteens/{world.site.pk}/checkin/"


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def test_canteen_manager_lands_on_todays_checkin(world):
    client = client_for("canteen_manager")
    response = client.get("/start/")
    assert response.status_code == 302
    assert response["Location"] == "/canteens/start/"
    response = client.get("/canteens/start/")
    assert response["Location"] == checkin_url(world)
    # A county admin runs every canteen: the hub.
    assert client_for("county_admin").get("/canteens/start/")["Location"] == "/canteens/"


def test_find_by_name_card_and_id_tail_then_record_and_refuse_a_second_tap(world):
    client = client_for("canteen_manager")
    page = client.get(checkin_url(world), {"slot": "lunch", "q": "桂兰"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="result-吴桂兰"' in html
    assert 'name="verified_by" value="name"' in html
    card = world.enrolments["吴桂兰"].card_code
    by_card = client.get(checkin_url(world), {"slot": "lunch", "q": card}).content.decode()
    assert 'data-testid="result-吴桂兰"' in by_card
    assert 'name="verified_by" value="card_qr"' in by_card
    tail = world.elders["吴德厚"].id_number_masked[-4:]
    by_tail = client.get(checkin_url(world), {"slot": "lunch", "q": tail}).content.decode()
    assert 'data-testid="result-吴德厚"' in by_tail
    assert 'name="verified_by" value="id_tail"' in by_tail
    # The masked ID only: the full number never reaches the page.
    assert world.elders["吴德厚"].id_number_masked in by_tail
    # Not enrolled: not found at the counter.
    assert (
        "没有找到在本食堂登记就餐的老人" in client.get(checkin_url(world), {"q": "吴建军"}).content.decode()
    )

    form_key = hidden(by_card, "idempotency_key")
    post = {
        "idempotency_key": form_key,
        "resident": world.elders["吴桂兰"].pk,
        "slot": "lunch",
        "served_on": timezone.localdate().isoformat(),
        "verified_by": "card_qr",
        "mode": "dine_in",
    }
    response = client.post(checkin_url(world), post)
    assert response.status_code == 302
    meal = Meal.objects.get(resident=world.elders["吴桂兰"])
    assert response["Location"] == f"{checkin_url(world)}?slot=lunch&meal={meal.pk}"
    shown = client.get(response["Location"]).content.decode()
    assert "吴桂兰 已登记" in shown
    assert 'data-testid="split-resident">¥1.50<' in shown
    assert 'data-testid="split-government">¥1.50<' in shown
    assert 'data-testid="split-community">¥0.75<' in shown
    assert 'data-testid="split-donation">¥0.25<' in shown
    assert 'data-testid="day-count"><span>今日就餐</span> <strong>1</strong>' in shown
    # A double tap (same key) is the same meal.
    assert client.post(checkin_url(world), post).status_code == 302
    assert Meal.objects.count() == 1
    # A second tap from a fresh search (new key) is refused with the message, nothing written.
    again = client.post(checkin_url(world), {**post, "idempotency_key": key()})
    assert again.status_code == 409
    assert "吴桂兰今天的午餐已登记，不能重复登记。" in again.content.decode()
    assert Meal.objects.count() == 1
    # The search now shows the elder as done.
    done = client.get(checkin_url(world), {"slot": "lunch", "q": "吴桂兰"}).content.decode()
    assert 'data-testid="done"' in done


def test_guest_and_delivery_and_refusals_on_the_page(world):
    client = client_for("cook")
    day = timezone.localdate().isoformat()
    guest = client.post(
        checkin_url(world),
        {
            "idempotency_key": key(),
            "is_guest": "1",
            "slot": "dinner",
            "served_on": day,
            "guest_name": "过路客",
        },
    )
    assert guest.status_code == 302
    meal = Meal.objects.get(is_guest=True)
    assert (meal.price_fen, meal.resident_fen, meal.guest_name) == (600, 600, "过路客")
    missing = client.post(
        checkin_url(world),
        {
            "idempotency_key": key(),
            "resident": world.elders["吴德厚"].pk,
            "slot": "dinner",
            "served_on": day,
            "verified_by": "name",
            "mode": "delivery",
        },
    )
    assert missing.status_code == 400
    assert "送餐上门请填写送餐人。" in missing.content.decode()
    delivered = client.post(
        checkin_url(world),
        {
            "idempotency_key": key(),
            "resident": world.elders["吴德厚"].pk,
            "slot": "dinner",
            "served_on": day,
            "verified_by": "name",
            "mode": "delivery",
            "deliverer_name": "志愿者小李",
        },
    )
    assert delivered.status_code == 302
    assert Meal.objects.get(resident=world.elders["吴德厚"]).deliverer_name == "志愿者小李"
    refused = client.post(
        checkin_url(world),
        {
            "idempotency_key": key(),
            "resident": world.elders["吴建军"].pk,
            "slot": "dinner",
            "served_on": day,
            "verified_by": "name",
        },
    )
    assert refused.status_code == 409
    assert "没有本食堂的有效就餐登记，不能按补贴价就餐" in refused.content.decode()


def test_scope_other_township_and_readers_get_404(world):
    assert client_for("township_admin").get(checkin_url(world)).status_code == 404
    assert client_for("minying_secretary").get(checkin_url(world)).status_code == 404
    # The secretary reads the sheet; the other township does not.
    day = timezone.localdate().isoformat()
    assert client_for("minying_secretary").get(f"/canteens/{world.site.pk}/meals/{day}/").status_code == 200
    assert client_for("township_admin").get(f"/canteens/{world.site.pk}/meals/{day}/").status_code == 404
    assert client_for("township_admin").get(f"/canteens/funds/{world.fund.pk}/").status_code == 404
    assert Client().get(checkin_url(world)).status_code == 302  # to the log-in


def test_sheet_excel_and_corrections(world):
    client = client_for("canteen_manager")
    day = timezone.localdate().isoformat()
    for slot in ("breakfast", "lunch"):
        client.post(
            checkin_url(world),
            {
                "idempotency_key": key(),
                "resident": world.elders["吴桂兰"].pk,
                "slot": slot,
                "served_on": day,
                "verified_by": "name",
            },
        )
    sheet = client.get(f"/canteens/{world.site.pk}/meals/{day}/")
    html = sheet.content.decode()
    assert "共 2 人次" in html
    assert html.count("吴桂兰") >= 2
    xlsx = client.get(f"/canteens/{world.site.pk}/meals/{day}/", {"format": "xlsx"})
    assert xlsx.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("餐次", "就餐人", "补贴档次")
    assert [row[:2] for row in rows[1:3]] == [("早餐", "吴桂兰"), ("午餐", "吴桂兰")]
    assert rows[1][6:11] == ("4.00", "1.50", "1.50", "0.75", "0.25")
    assert rows[-1][:2] == ("合计", "2 人次")
    assert rows[-1][6] == "8.00"

    lunch = Meal.objects.get(slot="lunch")
    response = client.post(
        f"/canteens/meals/{lunch.pk}/correction/", {"reason": "老人未到", "idempotency_key": key()}
    )
    assert response.status_code == 302
    correction = MealCorrection.objects.get(meal=lunch)
    page = client.get(f"/canteens/{world.site.pk}/corrections/").content.decode()
    assert "老人未到" in page
    client_for("shihua_admin").post(f"/canteens/corrections/{correction.pk}/decide/", {"decision": "apply"})
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.APPLIED
    after = client.get(f"/canteens/{world.site.pk}/meals/{day}/").content.decode()
    assert "共 1 人次" in after
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == FUND_BALANCE - 25


def test_fund_pages_and_donation_form(world):
    client = client_for("canteen_manager")
    assert client.get(f"/canteens/{world.site.pk}/fund/")["Location"] == f"/canteens/funds/{world.fund.pk}/"
    page = client.get(f"/canteens/funds/{world.fund.pk}/").content.decode()
    assert 'data-testid="balance">¥100.00<' in page
    form = client.get(f"/canteens/funds/{world.fund.pk}/donate/").content.decode()
    form_key = hidden(form, "idempotency_key")
    data = {
        "idempotency_key": form_key,
        "donor_kind": "enterprise",
        "donor_name": "石花酒业",
        "kind": "money",
        "amount": "-5",
        "received_on": timezone.localdate().isoformat(),
        "receipt_number": "SH-001",
        "purpose": "老人助餐",
        "is_public": "on",
    }
    bad = client.post(f"/canteens/funds/{world.fund.pk}/donate/", data)
    assert bad.status_code == 400
    assert "金额格式不对" in bad.content.decode()
    assert 'value="石花酒业"' in bad.content.decode()  # nothing typed is lost
    good = client.post(f"/canteens/funds/{world.fund.pk}/donate/", {**data, "amount": "1,200.50"})
    assert good.status_code == 302
    assert DonationFund.objects.get(pk=world.fund.pk).balance_fen == FUND_BALANCE + 120_050
    page = client.get(f"/canteens/funds/{world.fund.pk}/").content.decode()
    assert "¥1,300.50" in page
    assert "石花酒业" in page
    assert client_for("minying_secretary").get(f"/canteens/funds/{world.fund.pk}/donate/").status_code == 404


def test_api_checkin_replay_conflict_and_list(world):
    api = api_for("canteen_manager", world)
    body = {
        "site": world.site.pk,
        "slot": "lunch",
        "served_on": timezone.localdate().isoformat(),
        "resident": world.elders["吴桂兰"].pk,
        "verified_by": "card_qr",
    }
    same = key()
    first = api.post("/api/v1/canteens/meals/", body, format="json", HTTP_IDEMPOTENCY_KEY=same)
    assert first.status_code == 201
    data = first.json()
    assert {k: data[f"{k}_fen"] for k in SPLIT_70} == SPLIT_70
    assert (data["price_fen"], data["resident_name"], data["warning"]) == (400, "吴桂兰", "")
    again = api.post("/api/v1/canteens/meals/", {**body, "idempotency_key": same}, format="json")
    assert again.status_code == 201
    assert again.json()["id"] == data["id"]
    conflict = api.post("/api/v1/canteens/meals/", {**body, "idempotency_key": key()}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "meal_exists"
    assert conflict.json()["detail"] == "吴桂兰今天的午餐已登记，不能重复登记。"
    listed = api.get("/api/v1/canteens/meals/", {"site": world.site.pk}).json()
    assert [row["id"] for row in listed] == [data["id"]]
    assert api_for("township_admin", world).get("/api/v1/canteens/meals/").json() == []
    assert api_for("township_admin", world).get(f"/api/v1/canteens/meals/{data['id']}/").status_code == 404
    other = api_for("township_admin", world).post(
        "/api/v1/canteens/meals/", {**body, "idempotency_key": key()}
    )
    assert other.status_code == 404
    correction = api.post(
        f"/api/v1/canteens/meals/{data['id']}/corrections/", {"reason": "错登"}, format="json"
    )
    assert correction.status_code == 201
    applied = api_for("shihua_admin", world).post(f"/api/v1/canteens/meals/{data['id']}/correction-apply/")
    assert applied.status_code == 200
    assert applied.json()["price_fen"] == -400
    assert applied.json()["reverses"] == data["id"]


def test_api_checkin_bad_bodies_answer_400_by_field_and_write_nothing(world):
    """The check-in parses with one MealIn built at import (canteens.api.meals._meal_in): the answers are
    the serializer's own, field by field, whatever came before."""
    from canteens.api.meals import MealIn

    api = api_for("canteen_manager", world)
    good = {
        "site": world.site.pk,
        "slot": "lunch",
        "served_on": timezone.localdate().isoformat(),
        "resident": world.elders["吴桂兰"].pk,
        "verified_by": "card_qr",
    }
    bad_bodies = [
        {**good, "slot": "supper", "served_on": "2026-13-01"},
        {k: v for k, v in good.items() if k != "site"},
        {**good, "resident": 0, "mode": "drone", "deliverer_name": "长" * 51},
        {**good, "idempotency_key": "k" * 65},
    ]
    for body in [*bad_bodies, *reversed(bad_bodies)]:
        answer = api.post("/api/v1/canteens/meals/", body, format="json", HTTP_IDEMPOTENCY_KEY=key())
        assert answer.status_code == 400, answer.content
        serializer = MealIn(data=body)
        assert not serializer.is_valid()
        expected = {
            name: [str(message) for message in messages] for name, messages in serializer.errors.items()
        }
        assert answer.json() == {
            "code": "invalid",
            "detail": "提交的数据有误，请按字段说明修改后重试。",
            "fields": expected,
        }
    not_an_object = api.post("/api/v1/canteens/meals/", [good], format="json", HTTP_IDEMPOTENCY_KEY=key())
    assert not_an_object.status_code == 400
    assert list(not_an_object.json()["fields"]) == ["non_field_errors"]
    assert Meal.objects.count() == 0
    ok = api.post("/api/v1/canteens/meals/", good, format="json", HTTP_IDEMPOTENCY_KEY=key())
    assert ok.status_code == 201


def test_api_funds_and_donation(world):
    api = api_for("canteen_manager", world)
    funds = api.get("/api/v1/canteens/donation-funds/").json()
    assert [(f["id"], f["balance_fen"]) for f in funds] == [(world.fund.pk, FUND_BALANCE)]
    created = api.post(
        f"/api/v1/canteens/donation-funds/{world.fund.pk}/donations/",
        {
            "donor_kind": "person",
            "donor_name": "李女士",
            "kind": "money",
            "amount_fen": 8_800,
            "received_on": timezone.localdate().isoformat(),
            "receipt_number": "API-1",
            "idempotency_key": key(),
        },
        format="json",
    )
    assert created.status_code == 201
    movements = api.get(f"/api/v1/canteens/donation-funds/{world.fund.pk}/movements/").json()
    assert [(m["kind"], m["amount_fen"], m["balance_fen"]) for m in movements] == [
        ("donation", 8_800, FUND_BALANCE + 8_800),
        ("donation", FUND_BALANCE, FUND_BALANCE),
    ]
    refused = api.post(
        f"/api/v1/canteens/donation-funds/{world.fund.pk}/donations/",
        {
            "donor_kind": "person",
            "donor_name": "李女士",
            "kind": "money",
            "amount_fen": 0,
            "received_on": timezone.localdate().isoformat(),
            "receipt_number": "API-2",
            "idempotency_key": key(),
        },
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == "捐赠金额至少 0.01 元。"
    assert (
        api_for("township_admin", world).get(f"/api/v1/canteens/donation-funds/{world.fund.pk}/").status_code
        == 404
    )
