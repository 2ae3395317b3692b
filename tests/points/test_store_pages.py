"""The store management pages (/points/stores/…) and the stores API (/api/v1/points/stores/, items/…):
what a township admin sees and does, errors next to their field, double-submits writing once, the API's
replay and 409, and scope: a village secretary or another township's admin gets 404 everywhere.

World (tests/points/till_factories.py): 城关镇积分超市 大米 30 分/袋 × 5 (in at ¥12.50 each), 食用油 × 2,
洗衣粉 × 1, 香皂 (下架) × 3, an open day today; 石花镇积分超市 毛巾 × 4.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from points.models import DayStatus, Item, RedemptionDay, StockMovement, Store
from tests.points.till_factories import PASSWORD, TillWorld, key, till_world_build

pytestmark = pytest.mark.django_db


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


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("rice.png", buffer.getvalue(), content_type="image/png")


def on_hand(item: Item) -> int:
    return Item.objects.get(pk=item.pk).on_hand


def test_the_store_list_shows_counts_value_and_days(world):
    html = client_for("township_admin").get(reverse("points:store_list")).content.decode()
    store = world.stores["城关"]
    assert f'data-testid="store-{store.pk}"' in html
    assert 'data-testid="item-count">4<' in html
    # 11 units at ¥12.50.
    assert 'data-testid="stock-value">¥137.50<' in html
    assert "测试兑换日" in html
    assert reverse("points:till", args=[world.day.pk]) in html
    assert "石花镇积分超市" not in html
    assert reverse("points:store_create") in html


def test_the_hub_links_the_stores_page_for_managers_only(world):
    url = reverse("points:store_list")
    assert url in client_for("township_admin").get(reverse("points:home")).content.decode()
    assert url in client_for("county_admin").get(reverse("points:home")).content.decode()
    assert url not in client_for("village_secretary").get(reverse("points:home")).content.decode()
    assert url not in client_for("grid_leader").get(reverse("points:home")).content.decode()


def test_create_a_store_at_a_village_once(world):
    client = client_for("township_admin")
    assert client.get(reverse("points:store_create")).status_code == 200
    village = world.regions["新华村"]
    body = {"idempotency_key": key(), "region": village.pk, "name": "新华村积分超市", "address": "村委会"}
    first = client.post(reverse("points:store_create"), body)
    store = Store.objects.get(name="新华村积分超市")
    assert first.status_code == 302
    assert first["Location"] == reverse("points:store_detail", args=[store.pk])
    # The same form sent twice (a double tap) makes one store.
    assert client.post(reverse("points:store_create"), body).status_code == 302
    assert Store.objects.filter(name="新华村积分超市").count() == 1
    assert (store.region_id, store.township_id) == (village.pk, world.regions["城关镇"].pk)
    # A duplicate name shows next to the field.
    again = client.post(reverse("points:store_create"), {**body, "idempotency_key": key()})
    assert again.status_code == 200
    assert 'data-testid="error-name">该区域已有同名积分超市。<' in again.content.decode()
    blank = client.post(reverse("points:store_create"), {**body, "idempotency_key": key(), "name": " "})
    assert 'data-testid="error-name">请填写此项。<' in blank.content.decode()
    # Another township's region is not even offered.
    other = client.post(
        reverse("points:store_create"),
        {**body, "idempotency_key": key(), "region": world.regions["石花镇"].pk},
    )
    assert other.status_code == 200
    assert 'data-testid="error-region"' in other.content.decode()


def test_store_page_lists_items_days_and_clerks(world):
    store = world.stores["城关"]
    html = client_for("township_admin").get(reverse("points:store_detail", args=[store.pk])).content.decode()
    for name in ("大米", "食用油", "洗衣粉", "香皂"):
        assert f'data-testid="item-{name}"' in html
    assert "已下架" in html
    assert "毛巾" not in html
    assert reverse("points:till", args=[world.day.pk]) in html
    assert reverse("points:till_summary", args=[world.day.pk]) in html
    assert 'data-testid="close-day"' in html
    assert "收银员小周" in html


def test_add_and_edit_an_item_with_a_picture(world):
    client = client_for("township_admin")
    store = world.stores["城关"]
    url = reverse("points:item_create", args=[store.pk])
    body = {"idempotency_key": key(), "name": "酱油", "unit": "瓶", "points_price": "12", "sort_order": "5"}
    answer = client.post(url, {**body, "picture": png()})
    item = Item.objects.get(store=store, name="酱油")
    assert answer["Location"] == reverse("points:item_stock_in", args=[item.pk])
    assert (item.unit, item.points_price, item.sort_order, item.on_hand, item.is_active) == (
        "瓶",
        12,
        5,
        0,
        True,
    )
    assert item.picture.name.startswith("store-items/")
    assert item.picture.name.endswith(".jpg")
    assert client.post(url, body).status_code == 302  # a resend: still one
    assert Item.objects.filter(store=store, name="酱油").count() == 1
    bad = client.post(url, {**body, "idempotency_key": key(), "points_price": "0"})
    assert 'data-testid="error-points_price">兑换积分须是 1 到 100000 的整数。<' in bad.content.decode()
    not_image = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    bad = client.post(url, {**body, "idempotency_key": key(), "name": "醋", "picture": not_image})
    assert 'data-testid="error-picture"' in bad.content.decode()
    assert not Item.objects.filter(name="醋").exists()
    edit = reverse("points:item_edit", args=[item.pk])
    page = client.post(edit, {"name": "酱油", "unit": "瓶", "points_price": "15", "sort_order": "1"})
    assert page["Location"] == reverse("points:store_detail", args=[store.pk])
    item.refresh_from_db()
    assert (item.points_price, item.is_active, item.sort_order) == (15, False, 1)
    assert item.picture.name.endswith(".jpg")  # kept


def test_stock_in_page_takes_yuan_and_writes_once(world):
    client = client_for("township_admin")
    rice = world.items["大米"]
    url = reverse("points:item_stock_in", args=[rice.pk])
    assert 'name="idempotency_key"' in client.get(url).content.decode()
    body = {
        "idempotency_key": key(),
        "kind": "purchase",
        "quantity": "10",
        "source": "供销社",
        "value_yuan": "¥125.50",
    }
    assert client.post(url, body)["Location"] == reverse(
        "points:store_detail", args=[world.stores["城关"].pk]
    )
    assert client.post(url, body).status_code == 302
    assert on_hand(rice) == 15
    movement = StockMovement.objects.filter(item=rice).latest("id")
    assert (movement.kind, movement.quantity, movement.source, movement.value_fen) == (
        "purchase",
        10,
        "供销社",
        12550,
    )
    bad = client.post(url, {**body, "idempotency_key": key(), "value_yuan": "12.345"})
    assert 'data-testid="error-value_yuan">金额格式不对，例如 12.50。<' in bad.content.decode()
    bad = client.post(url, {**body, "idempotency_key": key(), "source": ""})
    assert 'data-testid="error-source">请填写来源（供货商或捐赠人）。<' in bad.content.decode()
    assert on_hand(rice) == 15


def test_adjust_page_refuses_below_zero_and_shows_the_ledger(world):
    client = client_for("township_admin")
    powder = world.items["洗衣粉"]
    url = reverse("points:item_adjust", args=[powder.pk])
    too_many = client.post(
        url, {"idempotency_key": key(), "direction": "-1", "quantity": "2", "reason": "破损"}
    )
    assert too_many.status_code == 409
    assert "库存不足：洗衣粉只剩 1 袋，不能减少 2 袋。" in too_many.content.decode()
    no_reason = client.post(url, {"idempotency_key": key(), "direction": "-1", "quantity": "1", "reason": ""})
    assert 'data-testid="error-reason">请填写调整原因。<' in no_reason.content.decode()
    ok = client.post(url, {"idempotency_key": key(), "direction": "1", "quantity": "3", "reason": "盘盈"})
    assert ok["Location"] == reverse("points:item_ledger", args=[powder.pk])
    assert on_hand(powder) == 4
    html = client.get(reverse("points:item_ledger", args=[powder.pk])).content.decode()
    rows = html.split('data-testid="movement-')[1:]
    assert len(rows) == 2
    assert "盘点调整" in rows[0]
    assert 'data-testid="after"><b>4</b>' in rows[0]
    assert "采购入库" in rows[1]
    assert 'data-testid="after"><b>1</b>' in rows[1]
    assert "¥12.50" in rows[1]


def test_grant_and_revoke_a_clerk(world):
    from governance.services import roles as role_services

    client = client_for("township_admin")
    store = world.stores["城关"]
    helper = role_services.user_create(
        username="13900001111", password="x-long-password-1", full_name="王收银"
    )
    url = reverse("points:store_clerk_grant", args=[store.pk])
    assert client.post(url, {"user": "13900001111"}).status_code == 302
    page = client.get(reverse("points:store_detail", args=[store.pk])).content.decode()
    assert "王收银" in page.split('data-testid="clerks"')[1].split("</ul>")[0]
    page = client.post(url, {"user": "shihua_admin"})
    assert page.status_code == 400
    assert 'data-testid="error-user">该账号属于其他乡镇，不能在本超市收银。<' in page.content.decode()
    page = client.post(url, {"user": ""})
    assert 'data-testid="error-user">请填写收银员的用户名或手机号。<' in page.content.decode()
    from points.access import can_run_till

    assert can_run_till(helper, store)
    client.post(reverse("points:store_clerk_revoke", args=[store.pk, helper.pk]))
    assert not can_run_till(helper, store)


def test_schedule_open_and_close_a_day(world):
    client = client_for("township_admin")
    store = world.stores["城关"]
    url = reverse("points:store_day_create", args=[store.pk])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    body = {
        "idempotency_key": key(),
        "date": tomorrow.isoformat(),
        "starts": "09:00",
        "ends": "11:30",
        "note": "月末兑换",
    }
    assert client.post(url, body).status_code == 302
    assert client.post(url, body).status_code == 302
    day = RedemptionDay.objects.get(store=store, date=tomorrow)
    assert day.title == "09:00–11:30 月末兑换"
    bad = client.post(url, {**body, "idempotency_key": key(), "date": "2020-01-01"})
    assert 'data-testid="error-date">兑换日期不能早于今天。<' in bad.content.decode()
    bad = client.post(url, {**body, "idempotency_key": key(), "starts": "11:00", "ends": "10:00"})
    assert 'data-testid="error-ends">结束时间须晚于开始时间。<' in bad.content.decode()
    # Opening tomorrow's day now is refused with a message; closing today's goes to its summary.
    state = reverse("points:store_day_state", args=[day.pk])
    client.post(state, {"action": "open"})
    day.refresh_from_db()
    assert day.status == DayStatus.SCHEDULED
    closed = client.post(reverse("points:store_day_state", args=[world.day.pk]), {"action": "close"})
    assert closed["Location"] == reverse("points:till_summary", args=[world.day.pk])
    today_store = Store.objects.create(
        name="临时超市", region=world.regions["新华村"], township=world.regions["城关镇"]
    )
    today = RedemptionDay.objects.create(store=today_store, date=timezone.localdate())
    opened = client.post(reverse("points:store_day_state", args=[today.pk]), {"action": "open"})
    assert opened["Location"] == reverse("points:till", args=[today.pk])


@pytest.mark.parametrize("username", ["village_secretary", "shihua_admin", "grid_leader", "clerk", "nobody"])
def test_out_of_scope_users_get_404(world, username, django_user_model):
    if username == "nobody":
        django_user_model.objects.create_user(username="nobody", password=PASSWORD)
    client = client_for(username)
    store, rice = world.stores["城关"], world.items["大米"]
    gets = [
        reverse("points:store_detail", args=[store.pk]),
        reverse("points:store_edit", args=[store.pk]),
        reverse("points:item_create", args=[store.pk]),
        reverse("points:store_day_create", args=[store.pk]),
        reverse("points:item_ledger", args=[rice.pk]),
        reverse("points:item_edit", args=[rice.pk]),
        reverse("points:item_stock_in", args=[rice.pk]),
        reverse("points:item_adjust", args=[rice.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (
            reverse("points:item_stock_in", args=[rice.pk]),
            {"idempotency_key": key(), "kind": "purchase", "quantity": "1", "source": "x"},
        ),
        (
            reverse("points:item_adjust", args=[rice.pk]),
            {"idempotency_key": key(), "direction": "1", "quantity": "1", "reason": "x"},
        ),
        (reverse("points:store_clerk_grant", args=[store.pk]), {"user": username}),
        (reverse("points:store_day_state", args=[world.day.pk]), {"action": "close"}),
    ]
    for url, body in posts:
        assert client.post(url, body).status_code == 404, url
    assert on_hand(rice) == 5
    assert RedemptionDay.objects.get(pk=world.day.pk).status == DayStatus.OPEN
    # The list shows the township's store to its village and grid staff (they redeem there), without a
    # way in; someone with no role gets 404.
    listing = client.get(reverse("points:store_list"))
    if username == "nobody":
        assert listing.status_code == 404
    elif username in ("village_secretary", "grid_leader", "clerk"):
        assert reverse("points:store_detail", args=[store.pk]) not in listing.content.decode()
        assert reverse("points:store_create") not in listing.content.decode()


# --- the API ----------------------------------------------------------------------------------------


def test_api_store_list(world):
    rows = api_for(world, "township_admin").get("/api/v1/points/stores/").json()
    assert [
        (r["name"], r["item_count"], r["on_hand"], r["stock_value_fen"], r["stock_value_display"])
        for r in rows
    ] == [("城关镇积分超市", 4, 11, 13750, "¥137.50")]
    assert rows[0]["can_manage"] is True
    assert [d["id"] for d in rows[0]["days"]] == [world.day.pk]
    assert [r["name"] for r in api_for(world, "county_admin").get("/api/v1/points/stores/").json()] == [
        "城关镇积分超市",
        "石花镇积分超市",
    ]
    clerk = api_for(world, "clerk").get("/api/v1/points/stores/").json()
    assert [(r["name"], r["can_manage"]) for r in clerk] == [("城关镇积分超市", False)]
    assert api_for(world, "village_secretary").get("/api/v1/points/stores/").json() == []


def test_api_stock_in_replay_and_409(world):
    client = api_for(world, "township_admin")
    rice = world.items["大米"]
    url = f"/api/v1/points/items/{rice.pk}/stock-in/"
    body = {
        "kind": "donation",
        "quantity": 4,
        "source": "爱心人士",
        "value_yuan": "30",
        "idempotency_key": key(),
    }
    first = client.post(url, body, format="json")
    assert first.status_code == 201
    data = first.json()
    assert (data["kind"], data["quantity"], data["value_fen"], data["on_hand_after"]) == (
        "donation",
        4,
        3000,
        9,
    )
    again = client.post(url, body, format="json")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, data, "true")
    assert on_hand(rice) == 9
    other = client.post(url, {**body, "quantity": 5}, format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    # The same key for the other operation on the same item is another request too.
    adjust = client.post(
        f"/api/v1/points/items/{rice.pk}/adjustments/",
        {"quantity": -1, "reason": "x", "idempotency_key": body["idempotency_key"]},
        format="json",
    )
    assert adjust.status_code == 409
    # The header works as the key.
    header = client.post(
        url,
        {k: v for k, v in body.items() if k != "idempotency_key"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert header.status_code == 201
    assert on_hand(rice) == 13
    missing = client.post(url, {**body, "idempotency_key": ""}, format="json")
    assert missing.status_code == 400
    bad = client.post(url, {**body, "idempotency_key": key(), "source": ""}, format="json")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "请填写来源（供货商或捐赠人）。"
    assert on_hand(rice) == 13


def test_api_adjustment_below_zero_is_409_and_ledger_reads(world):
    client = api_for(world, "township_admin")
    powder = world.items["洗衣粉"]
    url = f"/api/v1/points/items/{powder.pk}/adjustments/"
    refused = client.post(url, {"quantity": -2, "reason": "破损", "idempotency_key": key()}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "库存不足：洗衣粉只剩 1 袋，不能减少 2 袋。"
    # The key of a refused request stays free for a corrected retry.
    the_key = key()
    assert (
        client.post(
            url, {"quantity": -5, "reason": "x", "idempotency_key": the_key}, format="json"
        ).status_code
        == 409
    )
    ok = client.post(url, {"quantity": -1, "reason": "破损", "idempotency_key": the_key}, format="json")
    assert ok.status_code == 201
    assert ok.json()["on_hand_after"] == 0
    ledger = client.get(f"/api/v1/points/items/{powder.pk}/movements/").json()
    assert [(r["kind"], r["quantity"], r["on_hand_after"]) for r in ledger] == [
        ("adjustment", -1, 0),
        ("purchase", 1, 1),
    ]
    detail = client.get(f"/api/v1/points/items/{powder.pk}/").json()
    assert (detail["on_hand"], detail["stock_value_fen"], detail["stock_value_display"]) == (0, 0, "¥0.00")


@pytest.mark.parametrize("username", ["village_secretary", "shihua_admin", "grid_leader"])
def test_api_out_of_scope_answers_like_missing(world, username):
    client = api_for(world, username)
    rice = world.items["大米"]
    for path in (f"/api/v1/points/items/{rice.pk}/", f"/api/v1/points/items/{rice.pk}/movements/"):
        assert client.get(path).status_code == 404
    for suffix, body in (
        ("stock-in/", {"kind": "purchase", "quantity": 1, "source": "x", "idempotency_key": key()}),
        ("adjustments/", {"quantity": 1, "reason": "x", "idempotency_key": key()}),
    ):
        response = client.post(f"/api/v1/points/items/{rice.pk}/{suffix}", body, format="json")
        missing = client.post(f"/api/v1/points/items/999999/{suffix}", body, format="json")
        assert (response.status_code, response.json()) == (404, missing.json())
    assert on_hand(rice) == 5
    # The clerk may read the items of their store, but not write stock.
    clerk = api_for(world, "clerk")
    assert clerk.get(f"/api/v1/points/items/{rice.pk}/").json()["on_hand"] == 5
    assert (
        clerk.post(
            f"/api/v1/points/items/{rice.pk}/stock-in/",
            {"kind": "purchase", "quantity": 1, "source": "x", "idempotency_key": key()},
            format="json",
        ).status_code
        == 404
    )
