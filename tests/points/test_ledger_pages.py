"""The ledger pages and API: a household's points account (exact balance, pending, statement rows,
pagination), its printable points card (masked head name, village, the card code's QR as inline SVG, no
ID number or phone), a grid's cards sheet, and 404 out of scope for each."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from governance import pii
from governance.models import Household
from points.ledger import ledger_post, pending_add, store_sink
from points.models import Account, TransactionKind
from points.views.ledger import card_qr_svg
from tests.points.factories import PASSWORD, PointsWorld, points_give, points_world, township_of  # noqa: F401

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def account_url(world: PointsWorld, household: str) -> str:
    return reverse("points:household_account", args=[world.households[household].pk])


def card_url(world: PointsWorld, household: str) -> str:
    return reverse("points:household_card", args=[world.households[household].pk])


@pytest.fixture
def wang(points_world: PointsWorld) -> PointsWorld:  # noqa: F811
    """王家: +30 (2025-03-01 09:30), +8 (2025-04-02 14:05), −20 redeemed (2025-05-06 08:00), 15 pending."""
    w = points_world
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI), tick=False):
        points_give(w, "王家", 30, memo="庭院整洁 2025年2月")
    with time_machine.travel(dt.datetime(2025, 4, 2, 14, 5, tzinfo=SHANGHAI), tick=False):
        points_give(w, "王家", 8, memo="城关助学")
    with time_machine.travel(dt.datetime(2025, 5, 6, 8, 0, tzinfo=SHANGHAI), tick=False):
        ledger_post(
            township=township_of(w, "王家"),
            kind=TransactionKind.REDEMPTION,
            memo="兑换 洗衣粉×1",
            legs=[(w.accounts["王家"], -20), (store_sink(w.stores["城关镇"]), 20)],
            actor=w.users["township_admin"],
        )
    pending_add(w.accounts["王家"], 15)
    return w


def rows(html: str) -> int:
    return html.count('data-testid="posting-')


def test_account_page_shows_exact_balance_pending_and_statement(wang):
    page = client_for("grid_leader").get(account_url(wang, "王家"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="balance">18</b>' in html
    assert 'data-testid="pending">15</b>' in html
    assert rows(html) == 3
    # Newest first: each row's kind, memo, signed amount and local date.
    redemption = html.index("兑换 洗衣粉×1")
    study = html.index("城关助学")
    yard = html.index("庭院整洁 2025年2月")
    assert redemption < study < yard
    assert "2025年5月6日 08:00" in html
    assert "2025年4月2日 14:05" in html
    assert "2025年3月1日 09:30" in html
    assert ">-20</b>" in html
    assert ">+8</b>" in html
    assert ">+30</b>" in html
    assert ">兑换</td>" in html
    assert html.count(">奖励</td>") == 2
    assert reverse("points:household_card", args=[wang.households["王家"].pk]) in html


def test_account_page_paginates_the_statement(points_world):  # noqa: F811
    for points in range(1, 26):
        points_give(points_world, "李家", points, memo=f"第{points}笔")
    client = client_for("village_secretary")
    first = client.get(account_url(points_world, "李家")).content.decode()
    assert rows(first) == 20
    assert "第25笔" in first
    assert "第6笔" in first
    assert "第5笔<" not in first
    assert 'data-testid="balance">325</b>' in first
    assert "第 1 / 2 页" in first
    assert "?page=2" in first
    second = client.get(account_url(points_world, "李家"), {"page": 2}).content.decode()
    assert rows(second) == 5
    assert "第5笔" in second
    assert "第1笔" in second
    assert "第6笔" not in second


def test_account_page_of_a_household_without_an_account(points_world):  # noqa: F811
    household = Household.objects.create(grid=points_world.regions["第一网格"], number="XH-009")
    html = client_for("grid_leader").get(reverse("points:household_account", args=[household.pk])).content
    assert b'data-testid="balance">0</b>' in html
    assert b'data-testid="statement-empty"' in html
    assert not Account.objects.filter(household=household).exists()  # reading opens nothing


@pytest.mark.parametrize("username", ["grid_leader_2", "dongjie_secretary", "shihua_admin", "nobody"])
def test_account_and_card_are_404_out_of_scope(wang, username):
    client = client_for(username)
    assert client.get(account_url(wang, "王家")).status_code == 404
    assert client.get(card_url(wang, "王家")).status_code == 404
    missing = reverse("points:household_account", args=[2_147_483_000])
    assert client.get(missing).status_code == 404


def test_pages_need_a_login(wang):
    response = Client().get(account_url(wang, "王家"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_card_shows_number_masked_head_village_and_qr_but_no_id_or_phone(wang):
    page = client_for("grid_leader").get(card_url(wang, "王家"))
    assert page.status_code == 200
    html = page.content.decode()
    code = wang.account("王家").card_code
    assert code
    assert code in html
    assert card_qr_svg(code) in html  # the code's QR, inline SVG (no image request)
    assert "<svg" in html
    assert "<img" not in html.split('data-testid="card-qr"')[1].split("</figure>")[0]
    assert 'data-testid="card-number">XH-001</dd>' in html
    assert 'data-testid="card-head">王*国</dd>' in html
    assert "新华村" in html
    assert "城关镇" in html
    assert "王建国" not in html
    head = wang.people.residents["王建国"]
    id_number = pii.decrypt(head.id_number_encrypted)
    assert len(id_number) == 18
    for secret in (id_number, head.id_number_masked, id_number[-4:] + "<", "13800001111", "138****1111"):
        assert secret not in html
    assert "points-ledger.css" in html


def test_card_opens_the_account_of_a_household_that_has_none(points_world):  # noqa: F811
    household = Household.objects.create(grid=points_world.regions["第一网格"], number="XH-010")
    client = client_for("grid_leader")
    page = client.get(reverse("points:household_card", args=[household.pk]))
    assert page.status_code == 200
    account = Account.objects.get(household=household)
    assert account.card_code
    assert account.card_code in page.content.decode()
    # A reprint shows the same code and opens nothing new.
    again = client.get(reverse("points:household_card", args=[household.pk])).content.decode()
    assert account.card_code in again
    assert Account.objects.filter(household=household).count() == 1


def test_grid_cards_page_prints_every_registered_household(wang):
    grid = wang.regions["第一网格"]
    page = client_for("village_secretary").get(reverse("points:grid_cards", args=[grid.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="pl-card"') == 2
    assert 'data-testid="card-XH-001"' in html
    assert 'data-testid="card-XH-002"' in html
    assert "XH-003" not in html  # no longer on the register
    for name in ("王家", "李家"):
        code = wang.account(name).card_code
        assert code
        assert card_qr_svg(code) in html
    assert "王*国" in html
    assert "李*明" in html
    assert "王建国" not in html
    assert "李德明" not in html
    assert "13800001111" not in html


@pytest.mark.parametrize(
    ("username", "grid", "status"),
    [
        ("grid_leader", "第一网格", 200),
        ("grid_leader", "第二网格", 404),
        ("shihua_admin", "第一网格", 404),
        ("nobody", "第一网格", 404),
        ("township_admin", "民营第一网格", 404),
        ("county_admin", "民营第一网格", 200),
        ("village_secretary", "新华村", 404),  # a village is not a grid
    ],
)
def test_grid_cards_page_is_scoped(points_world, username, grid, status):  # noqa: F811
    url = reverse("points:grid_cards", args=[points_world.regions[grid].pk])
    assert client_for(username).get(url).status_code == status


# ---------- the API ----------


def api_for(world: PointsWorld, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def test_api_balance_is_exact_and_scoped(wang):
    household = wang.households["王家"].pk
    url = f"/api/v1/points/households/{household}/balance/"
    body = api_for(wang, "grid_leader").get(url).json()
    assert body == {"household": household, "balance": 18, "pending": 15}
    assert api_for(wang, "till_clerk").get(url).json()["balance"] == 18  # serves the township's till
    outside = api_for(wang, "shihua_admin").get(url)
    missing = api_for(wang, "shihua_admin").get("/api/v1/points/households/2147483000/balance/")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()


def test_api_statement_pages_postings_newest_first(wang):
    household = wang.households["王家"].pk
    url = f"/api/v1/points/households/{household}/statement/"
    client = api_for(wang, "village_secretary")
    body = client.get(url, {"page_size": 2}).json()
    assert (body["count"], body["page"], body["pages"], body["balance"], body["pending"]) == (3, 1, 2, 18, 15)
    assert [(row["amount"], row["kind"], row["memo"]) for row in body["results"]] == [
        (-20, "redemption", "兑换 洗衣粉×1"),
        (8, "award", "城关助学"),
    ]
    assert body["results"][0]["kind_label"] == "兑换"
    assert body["results"][0]["created_at"].startswith("2025-05-06T08:00:00")
    assert body["previous"] is None
    assert "page=2" in body["next"]
    second = client.get(body["next"]).json()
    assert [(row["amount"], row["memo"]) for row in second["results"]] == [(30, "庭院整洁 2025年2月")]
    assert second["next"] is None
    assert api_for(wang, "grid_leader_2").get(url).status_code == 404
    assert client.get(url, {"page_size": 101}).status_code == 400
