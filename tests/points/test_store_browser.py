"""The store management pages in a browser, phone first: a township admin opens the stores list, the store,
adds an item with a picture, stocks it in and sees the on-hand; the item's stock ledger; screenshots at
phone (390×844) and desktop size."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from points.models import Item, StockMovement
from tests.browser_fixtures import login
from tests.points.till_factories import till_world_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(demo_county):
    return till_world_build(demo_county)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_add_an_item_stock_it_in_and_see_on_hand_on_a_phone(world, phone, desktop, screenshot):
    store = world.stores["城关"]
    login(phone, "township_admin")
    phone.goto("/points/stores/")
    assert phone.get_by_test_id(f"store-{store.pk}").get_by_test_id("stock-value").inner_text() == "¥137.50"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-list")
    phone.get_by_role("link", name="城关镇积分超市").click()
    phone.wait_for_url(f"**/points/stores/{store.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-store")

    phone.get_by_test_id("item-create").click()
    phone.get_by_label("商品名称").fill("酱油")
    phone.get_by_label("单位").fill("瓶")
    phone.get_by_label("兑换积分").fill("15")
    phone.get_by_label("图片").set_input_files(
        files=[{"name": "soy.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    screenshot(phone, "phone-item-form")
    phone.get_by_test_id("submit").click()
    item = Item.objects.get(store=store, name="酱油")
    phone.wait_for_url(f"**/points/stores/items/{item.pk}/stock-in/")
    assert phone.get_by_test_id("on-hand").inner_text() == "0"

    phone.get_by_label("采购入库").check()
    phone.get_by_label("数量").fill("12")
    phone.get_by_label("来源").fill("谷城县供销社")
    phone.get_by_label("金额（元）").fill("96.00")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-stock-in")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url(f"**/points/stores/{store.pk}/")
    row = phone.get_by_test_id("item-酱油")
    assert row.get_by_test_id("on-hand").inner_text() == "12"
    assert "已入库 12 瓶酱油，现有库存 12 瓶。" in phone.locator(".messages").inner_text()
    assert row.locator("img.ps-thumb").count() == 1
    screenshot(phone, "phone-store-after")

    item.refresh_from_db()
    assert item.on_hand == 12
    assert list(StockMovement.objects.filter(item=item).values_list("kind", "quantity", "value_fen")) == [
        ("purchase", 12, 9600)
    ]

    row.get_by_role("link", name="酱油").click()
    phone.wait_for_url(f"**/points/stores/items/{item.pk}/")
    assert phone.get_by_test_id("after").all_inner_texts() == ["12"]
    screenshot(phone, "phone-ledger")
    for step, url in (
        ("phone-adjust", f"/points/stores/items/{item.pk}/adjust/"),
        ("phone-item-edit", f"/points/stores/items/{item.pk}/edit/"),
        ("phone-day-form", f"/points/stores/{store.pk}/days/new/"),
    ):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, step
        screenshot(phone, step)

    login(desktop, "township_admin")
    desktop.goto(f"/points/stores/{store.pk}/")
    assert desktop.get_by_test_id("item-酱油").get_by_test_id("on-hand").inner_text() == "12"
    screenshot(desktop, "desktop-store")
    desktop.goto(f"/points/stores/items/{item.pk}/")
    screenshot(desktop, "desktop-ledger")
