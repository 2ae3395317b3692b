"""The counter in a real browser at tablet size (820×1180) and on a phone (390×844): the canteen manager
logs in and lands on today's check-in, finds an elder by name and by the meal card's code typed as a
scanner gun types it, records the meal with one tap and sees the split; a second tap from a stale page is
refused with the Chinese message; the who-already-ate list and today's count follow. Screenshots of the
check-in, the daily sheet, the fund page and the public thank-you list."""

from __future__ import annotations

import pytest

from canteens.models import Meal
from tests.browser_fixtures import PHONE, _context, login
from tests.canteens.factories import CanteenWorld, canteen_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {**PHONE, "viewport": {"width": 820, "height": 1180}}


@pytest.fixture
def world(demo_county) -> CanteenWorld:
    return canteen_world(demo_county)


@pytest.fixture
def tablet(browser, live_server):
    context = _context(browser, live_server, TABLET)
    page = context.new_page()
    yield page
    context.close()


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def small_targets(page) -> list[str]:
    return page.evaluate(
        # Radio buttons count by their label (the whole label is the tap target).
        """() => [...document.querySelectorAll(
            'main button, main .btn, main input:not([type=hidden]):not([type=radio]), main summary, '
            + 'main label:has(input[type=radio])')]
          .filter((n) => n.offsetParent !== null)
          .filter((n) => { const r = n.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
          .map((n) => (n.getAttribute('data-testid') || n.getAttribute('aria-label') || n.textContent
                       || n.name).trim())"""
    )


def test_tablet_find_record_and_second_tap_refused(world, tablet, screenshot):
    checkin = f"/canteens/{world.site.pk}/checkin/"
    login(tablet, "canteen_manager")
    tablet.wait_for_url(f"**{checkin}")
    fits(tablet, 820)
    assert small_targets(tablet) == []
    tablet.get_by_test_id("slot-lunch").click()
    tablet.wait_for_url("**slot=lunch")
    screenshot(tablet, "checkin-empty")

    tablet.get_by_test_id("search").fill("桂兰")
    tablet.get_by_role("button", name="查找", exact=True).click()
    row = tablet.get_by_test_id("result-吴桂兰")
    assert "70–79" in row.inner_text() or "70-79" in row.inner_text()
    screenshot(tablet, "checkin-found")
    row.get_by_test_id("record").click()
    tablet.wait_for_url("**meal=*")
    last = tablet.get_by_test_id("last-meal")
    assert "吴桂兰 已登记" in last.inner_text()
    assert tablet.get_by_test_id("split-price").inner_text() == "¥4.00"
    assert tablet.get_by_test_id("split-resident").inner_text() == "¥1.50"
    assert tablet.get_by_test_id("split-government").inner_text() == "¥1.50"
    assert tablet.get_by_test_id("split-community").inner_text() == "¥0.75"
    assert tablet.get_by_test_id("split-donation").inner_text() == "¥0.25"
    assert "吴桂兰" in tablet.get_by_test_id("served").inner_text()
    assert tablet.get_by_test_id("day-count").locator("strong").inner_text() == "1"
    fits(tablet, 820)
    screenshot(tablet, "checkin-recorded")

    # The card code, typed key by key and ended with Enter (a scanner gun): the elder shows as done.
    tablet.get_by_test_id("search").click()
    tablet.keyboard.type(world.enrolments["吴桂兰"].card_code, delay=5)
    tablet.keyboard.press("Enter")
    tablet.wait_for_url("**q=*")
    row = tablet.get_by_test_id("result-吴桂兰")
    assert row.get_by_test_id("done").inner_text() == "午餐已登记"
    assert row.get_by_test_id("record").is_disabled()

    # A stale page (found before the meal was recorded, e.g. on a second tablet) taps again: refused.
    tablet.go_back()
    tablet.go_back()
    tablet.wait_for_url("**q=*")
    stale = tablet.get_by_test_id("result-吴桂兰").get_by_test_id("record")
    if stale.is_disabled():  # the browser re-fetched the page: reproduce the stale form by hand
        tablet.evaluate("document.querySelector('[data-testid=record]').disabled = false")
    stale.click()
    tablet.wait_for_load_state("load")
    assert tablet.get_by_test_id("checkin-error").inner_text() == "吴桂兰今天的午餐已登记，不能重复登记。"
    assert Meal.objects.filter(resident=world.elders["吴桂兰"]).count() == 1
    screenshot(tablet, "checkin-refused")


def test_phone_checkin_sheet_fund_and_thanks(world, phone, screenshot):
    checkin = f"/canteens/{world.site.pk}/checkin/"
    login(phone, "canteen_manager")
    phone.wait_for_url(f"**{checkin}")
    phone.goto(f"{checkin}?slot=dinner&q=吴")
    assert phone.get_by_test_id("results").locator("li").count() == 3
    fits(phone, 390)
    assert small_targets(phone) == []
    screenshot(phone, "checkin-results")
    row = phone.get_by_test_id("result-吴德厚")
    row.locator("summary").click()
    row.get_by_label("送餐上门").check()
    row.get_by_label("送餐人").fill("志愿者小李")
    row.get_by_test_id("record").click()
    phone.wait_for_url("**meal=*")
    assert "送餐上门" in phone.get_by_test_id("last-meal").inner_text()
    fits(phone, 390)
    screenshot(phone, "checkin-delivery")
    phone.get_by_test_id("sheet-link").click()
    phone.wait_for_load_state("load")
    assert "共 1 人次" in phone.content()
    fits(phone, 390)
    screenshot(phone, "sheet")
    phone.goto(f"/canteens/funds/{world.fund.pk}/")
    assert phone.get_by_test_id("balance").inner_text() == "¥99.70"
    screenshot(phone, "fund")
    phone.goto(f"/canteens/{world.site.pk}/thanks/")
    assert "爱心企业" in phone.get_by_test_id("thanks").inner_text()
    fits(phone, 390)
    screenshot(phone, "thanks")
