"""The till pages and the till API: search, confirm, receipt, return, summary, day open/close; replay and
409 through the API; scope (township admin only in their township, clerk only their store, 404 outside)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from points.models import Account, DayStatus, Item, Redemption, RedemptionDay
from tests.points.till_factories import PASSWORD, TillWorld, key, till_world_build


@pytest.fixture
def world(demo_county) -> TillWorld:
    return till_world_build(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def api_for(world: TillWorld, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def till_url(world: TillWorld) -> str:
    assert world.day is not None
    return reverse("points:till", args=[world.day.pk])


def test_the_till_finds_a_household_by_name_number_and_card_code(world):
    client = client_for("township_admin")
    page = client.get(till_url(world), {"q": "XH-00"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "XH-001" in html
    assert "XH-002" in html
    assert "XH-003" not in html  # no longer on the register
    # A resident's name (not only the head's) finds the household.
    assert client.get(till_url(world), {"q": "秀英"})["Location"].endswith(
        f"?household={world.households['王家'].pk}"
    )
    # One match (a household number, a scanned card) goes straight to the household.
    page = client.get(till_url(world), {"q": "XH-002"})
    assert page.status_code == 302
    assert page["Location"].endswith(f"?household={world.households['李家'].pk}")
    code = Account.objects.get(household=world.households["王家"]).card_code
    page = client.get(till_url(world), {"q": code.lower()})
    assert page["Location"].endswith(f"?household={world.households['王家'].pk}")
    # 孙家 is in 石花镇: not this store's.
    assert "MY-001" not in client.get(till_url(world), {"q": "孙"}).content.decode()


def test_the_household_view_shows_balance_pending_and_items(world):
    Account.objects.filter(household=world.households["王家"]).update(pending=20)
    page = client_for("township_admin").get(till_url(world), {"household": world.households["王家"].pk})
    html = page.content.decode()
    assert 'data-testid="balance" data-balance="100">100<' in html
    assert 'data-testid="pending">20<' in html
    assert "大米" in html
    assert "香皂" not in html
    assert 'name="idempotency_key"' in html


def test_confirm_redeems_and_shows_the_receipt_and_a_resend_spends_nothing(world):
    client = client_for("township_admin")
    household = world.households["王家"]
    body = {
        "household": household.pk,
        "idempotency_key": key(),
        f"qty_{world.items['大米'].pk}": "2",
        f"qty_{world.items['食用油'].pk}": "",
    }
    answer = client.post(till_url(world), body)
    receipt = Redemption.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("points:till_receipt", args=[receipt.pk])
    again = client.post(till_url(world), body)
    assert again["Location"] == answer["Location"]
    assert Redemption.objects.count() == 1
    assert Account.objects.get(household=household).balance == 40
    html = client.get(answer["Location"]).content.decode()
    assert receipt.receipt_number in html
    assert "60 分" in html


def test_a_refusal_shows_the_message_and_keeps_the_quantities(world):
    client = client_for("township_admin")
    page = client.post(
        till_url(world),
        {
            "household": world.households["李家"].pk,
            "idempotency_key": key(),
            f"qty_{world.items['大米'].pk}": "2",
        },
    )
    assert page.status_code == 409
    html = page.content.decode()
    assert "积分不足：可用 40 分，需要 60 分。" in html
    assert f'name="qty_{world.items["大米"].pk}" value="2"' in html


def test_a_return_from_the_receipt_page(world):
    client = client_for("township_admin")
    client.post(
        till_url(world),
        {
            "household": world.households["王家"].pk,
            "idempotency_key": key(),
            f"qty_{world.items['大米'].pk}": "2",
        },
    )
    receipt = Redemption.objects.get()
    line = receipt.lines.get()
    url = reverse("points:till_return", args=[receipt.pk, line.pk])
    answer = client.post(url, {"idempotency_key": key(), "quantity": "1", "reason": "破损"})
    assert answer.status_code == 302
    assert Account.objects.get(household=world.households["王家"]).balance == 70
    assert Item.objects.get(pk=world.items["大米"].pk).on_hand == 4
    assert "已退 1 袋" in client.get(answer["Location"]).content.decode()


def test_the_day_summary_counts_households_points_items_and_stock(world):
    client = client_for("township_admin")
    for name, qty in (("王家", 2), ("李家", 1)):
        client.post(
            till_url(world),
            {
                "household": world.households[name].pk,
                "idempotency_key": key(),
                f"qty_{world.items['大米'].pk}": qty,
            },
        )
    page = client.get(reverse("points:till_summary", args=[world.day.pk]))
    html = page.content.decode()
    assert 'data-testid="households">2<' in html
    assert 'data-testid="points">90<' in html
    assert 'data-testid="items">3<' in html
    assert "2 袋" in html  # 大米 left on hand


def test_open_and_close_the_day(world):
    client = client_for("township_admin")
    RedemptionDay.objects.filter(pk=world.day.pk).update(status=DayStatus.SCHEDULED)
    url = reverse("points:till_day_state", args=[world.day.pk])
    client.post(url, {"action": "open"})
    assert RedemptionDay.objects.get(pk=world.day.pk).status == DayStatus.OPEN
    client.post(url, {"action": "close"})
    assert RedemptionDay.objects.get(pk=world.day.pk).status == DayStatus.CLOSED
    page = client.get(till_url(world), {"household": world.households["王家"].pk})
    assert "兑换日已结束，不能再兑换。" in page.content.decode()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("township_admin", 200),
        ("clerk", 200),
        ("shihua_admin", 404),
        ("village_secretary", 404),
        ("grid_leader", 404),
    ],
)
def test_who_may_open_the_till(world, username, status):
    assert client_for(username).get(till_url(world)).status_code == status


def test_the_clerk_cannot_open_the_other_stores_till(world):
    other = RedemptionDay.objects.create(
        store=world.stores["石花"], date=world.day.date, status=DayStatus.OPEN
    )
    assert client_for("clerk").get(reverse("points:till", args=[other.pk])).status_code == 404
    assert client_for("shihua_admin").get(reverse("points:till", args=[other.pk])).status_code == 200


# --- API ------------------------------------------------------------------------------------------------


def _body(world: TillWorld, k: str, quantity: int = 1, household: str = "王家") -> dict:
    assert world.day is not None
    return {
        "store": world.stores["城关"].pk,
        "day": world.day.pk,
        "household": world.households[household].pk,
        "lines": [{"item": world.items["大米"].pk, "quantity": quantity}],
        "idempotency_key": k,
    }


def test_api_redeem_replay_and_conflict(world):
    api = api_for(world, "township_admin")
    k = key()
    first = api.post("/api/v1/points/redemptions/", _body(world, k), format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["total_points"] == 30
    assert body["balance_after"] == 70
    assert body["lines"][0]["item_name"] == "大米"
    assert body["lines"][0]["quantity"] == 1
    again = api.post("/api/v1/points/redemptions/", _body(world, k), format="json")
    assert again.json()["receipt_number"] == body["receipt_number"]
    other = api.post("/api/v1/points/redemptions/", _body(world, k, quantity=2), format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Account.objects.get(household=world.households["王家"]).balance == 70


def test_api_key_in_the_header(world):
    api = api_for(world, "township_admin")
    data = _body(world, "")
    del data["idempotency_key"]
    k = key()
    first = api.post("/api/v1/points/redemptions/", data, format="json", HTTP_IDEMPOTENCY_KEY=k)
    again = api.post("/api/v1/points/redemptions/", data, format="json", HTTP_IDEMPOTENCY_KEY=k)
    assert first.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    missing = api.post("/api/v1/points/redemptions/", data, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"


def test_api_refusals_are_409_with_chinese_messages(world):
    api = api_for(world, "township_admin")
    answer = api.post(
        "/api/v1/points/redemptions/", _body(world, key(), quantity=2, household="李家"), format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_points"
    assert answer.json()["detail"] == "积分不足：可用 40 分，需要 60 分。"


def test_api_receipt_returns_and_items(world):
    api = api_for(world, "township_admin")
    receipt = api.post("/api/v1/points/redemptions/", _body(world, key(), quantity=2), format="json").json()
    assert (
        api.get(f"/api/v1/points/redemptions/{receipt['id']}/").json()["receipt_number"]
        == receipt["receipt_number"]
    )
    line = receipt["lines"][0]["id"]
    back = api.post(
        f"/api/v1/points/redemptions/{receipt['id']}/returns/",
        {"line": line, "quantity": 1, "reason": "破损", "idempotency_key": key()},
        format="json",
    )
    assert back.status_code == 201
    assert back.json()["points"] == 30
    assert [
        r["quantity"] for r in api.get(f"/api/v1/points/redemptions/{receipt['id']}/returns/").json()
    ] == [1]
    items = api.get(f"/api/v1/points/stores/{world.stores['城关'].pk}/items/").json()
    assert {i["name"]: i["on_hand"] for i in items}["大米"] == 4


def test_api_out_of_scope_answers_404(world):
    receipt = (
        api_for(world, "township_admin")
        .post("/api/v1/points/redemptions/", _body(world, key()), format="json")
        .json()
    )
    outsider = api_for(world, "shihua_admin")
    assert outsider.get(f"/api/v1/points/redemptions/{receipt['id']}/").status_code == 404
    assert outsider.get(f"/api/v1/points/stores/{world.stores['城关'].pk}/items/").status_code == 404
    assert outsider.post("/api/v1/points/redemptions/", _body(world, key()), format="json").status_code == 404
    assert Redemption.objects.count() == 1
