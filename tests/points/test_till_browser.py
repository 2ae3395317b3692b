"""The till (兑换收银) in a real browser, on a phone (390×844) and a tablet (820×1180): the township admin
logs in and lands on the open day's till, finds a household by name, by household number and by its
points-card code (typed key by key and ended with Enter, as a QR scanner gun does), adds items with the
+/− buttons, confirms and sees the receipt with the balance after. A double-click on confirm spends once;
a basket over the balance shows the Chinese 409 message; a return from the receipt page gives the points
and the stock back. Screenshots of the till, receipt, summary, account and card pages at each size."""

from __future__ import annotations

import pytest

from points.models import Account, Item, Redemption, RedemptionLine, RedemptionReturn
from points.services import redemptions
from tests.browser_fixtures import PHONE, _context, login
from tests.points.till_factories import TillWorld, key, till_world_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {**PHONE, "viewport": {"width": 820, "height": 1180}}


@pytest.fixture
def world(demo_county) -> TillWorld:
    return till_world_build(demo_county)


@pytest.fixture
def tablet(browser, live_server):
    context = _context(browser, live_server, TABLET)
    page = context.new_page()
    yield page
    context.close()


def balance(world: TillWorld, name: str) -> int:
    return Account.objects.get(household=world.households[name]).balance


def on_hand(world: TillWorld, name: str) -> int:
    return Item.objects.get(pk=world.items[name].pk).on_hand


def till_path(world: TillWorld) -> str:
    assert world.day is not None
    return f"/points/till/{world.day.pk}/"


def fits(page, width: int) -> None:
    """Nothing is wider than the screen (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def small_targets(page) -> list[str]:
    """The visible buttons, links styled as buttons and inputs of the till smaller than 44 × 44 px."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
            'main button, main .btn, main input:not([type=hidden]), main summary, .till-bar button')]
          .filter((n) => n.offsetParent !== null)
          .filter((n) => { const r = n.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
          .map((n) => (n.getAttribute('data-testid') || n.getAttribute('aria-label') || n.textContent
                       || n.name).trim())"""
    )


def add(page, item: str, times: int) -> None:
    row = page.get_by_test_id(f"item-{item}")
    for _ in range(times):
        row.get_by_role("button", name=f"增加{item}").click()


def test_phone_find_by_name_number_and_card_then_redeem_and_receipt(world, phone, screenshot):
    wang = world.households["王家"]
    login(phone, "township_admin")
    # The township admin lands on today's open day's till, the search box ready.
    phone.wait_for_url(f"**{till_path(world)}")
    assert phone.get_by_test_id("day-status").inner_text() == "兑换中"
    fits(phone, 390)
    assert small_targets(phone) == []
    screenshot(phone, "till-search")

    # By a resident's name: 秀英 lives in 王家 — one match goes straight to the household.
    phone.get_by_label("查找兑换户").fill("秀英")
    phone.get_by_role("button", name="查找", exact=True).click()
    phone.wait_for_url(f"**?household={wang.pk}")
    assert phone.get_by_test_id("balance").inner_text() == "100"
    phone.get_by_role("link", name="换一户").click()

    # By a household number prefix: two households to choose from.
    phone.get_by_label("查找兑换户").fill("XH-00")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**?q=XH-00")
    results = phone.get_by_test_id("results").get_by_role("link")
    assert results.count() == 2
    assert "XH-001" in results.nth(0).inner_text()
    assert "100 分" in results.nth(0).inner_text()
    assert "XH-002" in results.nth(1).inner_text()
    assert "40 分" in results.nth(1).inner_text()
    fits(phone, 390)
    screenshot(phone, "till-results")
    phone.go_back()

    # By the card code, typed as a scanner gun types it (key by key, then Enter).
    code = Account.objects.get(household=wang).card_code
    phone.get_by_label("查找兑换户").click()
    phone.keyboard.type(code, delay=5)
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**?household={wang.pk}")
    household = phone.get_by_test_id("household")
    assert "XH-001" in household.inner_text()
    assert phone.get_by_test_id("balance").inner_text() == "100"
    assert phone.get_by_test_id("item-香皂").count() == 0  # off sale

    add(phone, "大米", 2)
    add(phone, "洗衣粉", 1)
    add(phone, "洗衣粉", 1)  # only 1 in stock: stays at 1
    assert phone.get_by_label("洗衣粉数量").input_value() == "1"
    add(phone, "食用油", 1)
    phone.get_by_test_id("item-食用油").get_by_role("button", name="减少食用油").click()
    assert phone.get_by_test_id("total").inner_text() == "70"
    assert phone.locator("[data-left]").inner_text() == "兑换后剩余 30 分"
    fits(phone, 390)
    assert small_targets(phone) == []
    # Scrolled to the bottom, the fixed total bar covers neither the last item nor the footer's text.
    phone.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    bar_top = phone.locator(".till-bar").bounding_box()["y"]
    last = phone.get_by_test_id("item-食用油").bounding_box()
    assert last["y"] + last["height"] <= bar_top
    footer = phone.locator(".footer p").bounding_box()
    assert footer["y"] + footer["height"] <= bar_top
    screenshot(phone, "till-basket")

    phone.get_by_test_id("confirm").click()
    phone.wait_for_url("**/points/till/receipts/*/")
    receipt = Redemption.objects.get()
    assert receipt.total_points == 70
    assert phone.get_by_test_id("receipt-number").inner_text() == receipt.receipt_number
    assert phone.get_by_test_id("receipt-total").inner_text() == "70 分"
    assert phone.get_by_test_id("balance-after").inner_text() == "30 分"
    assert phone.get_by_test_id("balance-now").count() == 0
    assert "2 袋" in phone.get_by_test_id("line-大米").inner_text()
    assert balance(world, "王家") == 30
    assert (on_hand(world, "大米"), on_hand(world, "洗衣粉"), on_hand(world, "食用油")) == (3, 0, 2)
    fits(phone, 390)
    screenshot(phone, "receipt")

    # 下一户: back to the search, with the receipt under 刚才的小票.
    phone.get_by_test_id("next-household").click()
    phone.wait_for_url(f"**{till_path(world)}")
    assert receipt.receipt_number in phone.locator(".till-recent").inner_text()

    phone.goto(f"{till_path(world)}summary/")
    assert phone.get_by_test_id("households").inner_text() == "1"
    assert phone.get_by_test_id("points").inner_text() == "70"
    assert phone.get_by_test_id("items").inner_text() == "3"
    fits(phone, 390)
    screenshot(phone, "summary")

    phone.goto(f"/points/households/{wang.pk}/")
    assert phone.get_by_test_id("balance").inner_text() == "30"
    fits(phone, 390)
    screenshot(phone, "account")
    phone.goto(f"/points/households/{wang.pk}/card/")
    fits(phone, 390)
    screenshot(phone, "card")


def test_tablet_double_click_spends_once_over_balance_409_and_return(world, tablet, screenshot):
    wang, li = world.households["王家"], world.households["李家"]
    login(tablet, "township_admin")
    tablet.wait_for_url(f"**{till_path(world)}")
    fits(tablet, 820)
    screenshot(tablet, "till-search")

    # A double-click on confirm: one receipt, one debit.
    tablet.goto(f"{till_path(world)}?household={li.pk}")
    add(tablet, "洗衣粉", 1)
    assert tablet.get_by_test_id("total").inner_text() == "10"
    fits(tablet, 820)
    assert small_targets(tablet) == []
    screenshot(tablet, "till-basket")
    tablet.get_by_test_id("confirm").dblclick()
    tablet.wait_for_url("**/points/till/receipts/*/")
    assert Redemption.objects.count() == 1
    assert RedemptionLine.objects.get().quantity == 1
    assert balance(world, "李家") == 30
    assert on_hand(world, "洗衣粉") == 0
    assert tablet.get_by_test_id("balance-after").inner_text() == "30 分"

    # Over the balance in the browser: the button stays off and says how much is missing.
    tablet.goto(f"{till_path(world)}?household={li.pk}")
    add(tablet, "大米", 2)
    assert tablet.locator("[data-left]").inner_text() == "积分不足，还差 30 分"
    assert tablet.get_by_test_id("confirm").is_disabled()
    # Sold out: 洗衣粉 is greyed, says so, and its + is off; the chosen row is marked.
    sold_out = tablet.get_by_test_id("item-洗衣粉")
    assert sold_out.get_attribute("class").split() == ["till-item", "is-empty"]
    assert "已兑完" in sold_out.inner_text()
    assert sold_out.get_by_role("button", name="增加洗衣粉").is_disabled()
    assert "is-chosen" in tablet.get_by_test_id("item-大米").get_attribute("class").split()

    # Over the balance at the server: another till spends 王家's points between the page and the confirm.
    tablet.goto(f"{till_path(world)}?household={wang.pk}")
    add(tablet, "大米", 2)
    assert tablet.get_by_test_id("total").inner_text() == "60"
    assert tablet.get_by_test_id("confirm").is_enabled()
    redemptions.redemption_create(
        actor=world.users["clerk"],
        idempotency_key=key(),
        store=world.stores["城关"],
        household=wang,
        lines=[(world.items["食用油"], 1)],
        day=world.day,
    )
    assert balance(world, "王家") == 50
    tablet.get_by_test_id("confirm").click()
    error = tablet.get_by_test_id("till-error")
    error.wait_for()
    assert error.inner_text() == "积分不足：可用 50 分，需要 60 分。"
    # The basket is kept, the balance shown is today's, and nothing was written.
    assert tablet.get_by_label("大米数量").input_value() == "2"
    assert tablet.get_by_test_id("balance").inner_text() == "50"
    assert tablet.locator("[data-left]").inner_text() == "积分不足，还差 10 分"
    assert Redemption.objects.count() == 2
    assert balance(world, "王家") == 50
    assert on_hand(world, "大米") == 5
    fits(tablet, 820)
    screenshot(tablet, "till-409")

    # A basket that fits: 1 bag of rice; then return it from the receipt page.
    tablet.get_by_test_id("item-大米").get_by_role("button", name="减少大米").click()
    tablet.get_by_test_id("confirm").click()
    tablet.wait_for_url("**/points/till/receipts/*/")
    assert balance(world, "王家") == 20
    assert on_hand(world, "大米") == 4
    assert tablet.get_by_test_id("balance-after").inner_text() == "20 分"
    screenshot(tablet, "receipt")
    tablet.locator(".till-return summary").click()
    form = tablet.get_by_test_id("return-大米")
    form.get_by_label("数量").fill("1")
    form.get_by_label("原因").fill("拿错了")
    screenshot(tablet, "receipt-return-form")
    form.get_by_role("button", name="退回大米").click()
    tablet.get_by_text("已退货，积分已退回该户。").wait_for()
    assert balance(world, "王家") == 50
    assert on_hand(world, "大米") == 5
    back = RedemptionReturn.objects.get()
    assert (back.quantity, back.reason) == (1, "拿错了")
    assert tablet.get_by_test_id("balance-after").inner_text() == "20 分"
    assert tablet.get_by_test_id("balance-now").inner_text() == "50 分"
    assert "已退 1 袋" in tablet.get_by_test_id("line-大米").inner_text()
    assert tablet.locator(".till-return").count() == 0  # nothing left to return
    fits(tablet, 820)
    screenshot(tablet, "receipt-returned")

    tablet.goto(f"{till_path(world)}summary/")
    assert tablet.get_by_test_id("households").inner_text() == "2"
    assert tablet.get_by_test_id("points").inner_text() == "60"
    screenshot(tablet, "summary")
    tablet.goto(f"/points/households/{wang.pk}/")
    assert tablet.get_by_test_id("balance").inner_text() == "50"
    screenshot(tablet, "account")
    tablet.goto(f"/points/households/{wang.pk}/card/")
    screenshot(tablet, "card")


def test_desktop_pages(world, desktop, screenshot):
    """The same pages on a desktop (1366 wide): for the screenshots and that nothing overflows."""
    wang = world.households["王家"]
    login(desktop, "township_admin")
    desktop.wait_for_url(f"**{till_path(world)}")
    desktop.goto(f"{till_path(world)}?household={wang.pk}")
    add(desktop, "大米", 1)
    screenshot(desktop, "till-basket")
    desktop.get_by_test_id("confirm").click()
    desktop.wait_for_url("**/points/till/receipts/*/")
    screenshot(desktop, "receipt")
    desktop.goto(f"{till_path(world)}summary/")
    screenshot(desktop, "summary")
    fits(desktop, 1366)
    desktop.goto("/points/till/")
    day = desktop.get_by_test_id(f"day-{world.day.pk}")
    assert day.inner_text().split("\n") == [
        "城关镇积分超市",
        f"{world.day.date:%Y年%-m月%-d日} · 测试兑换日",
        "兑换中",
    ]
    screenshot(desktop, "days")

    # Ending the day asks first: "cancel" keeps it open, "OK" closes it.
    desktop.goto(f"{till_path(world)}summary/")
    desktop.once("dialog", lambda dialog: dialog.dismiss())
    desktop.get_by_test_id("close-day").click()
    desktop.wait_for_timeout(500)  # had the form gone, the page would have been replaced by now
    assert desktop.get_by_test_id("day-status").inner_text() == "兑换中"
    assert desktop.locator(".messages").count() == 0
    world.day.refresh_from_db()
    assert world.day.status == "open"
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.get_by_test_id("close-day").click()
    desktop.get_by_text("兑换日已结束。").wait_for()
    assert desktop.get_by_test_id("day-status").inner_text() == "已结束"
    world.day.refresh_from_db()
    assert world.day.status == "closed"
