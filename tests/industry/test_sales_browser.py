"""The sales entry at the expo in a real browser at tablet size (820×1180): the township admin picks the
exhibitor and product by typing, toggles the channel (the platform shows only for online), enters two
sales, reverses one from the list under the form, and reads the event's totals on the page. Then the
industry pages on a phone (390×844) and a desktop (1366×900), for people to look at."""

from __future__ import annotations

import pytest

from industry.models import SalesRecord
from tests.browser_fixtures import DESKTOP, PHONE, _context, login
from tests.industry.factories import IndustryWorld, industry_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {**PHONE, "viewport": {"width": 820, "height": 1180}}


@pytest.fixture
def world(demo_county) -> IndustryWorld:
    return industry_world(demo_county)


@pytest.fixture
def tablet(browser, live_server):
    context = _context(browser, live_server, TABLET)
    page = context.new_page()
    yield page
    context.close()


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_tablet_enter_two_sales_reverse_one_totals(world, tablet, screenshot):
    event = world.chengguan_event
    login(tablet, "township_admin")
    tablet.goto(f"/industry/events/{event.pk}/sales/new/")
    fits(tablet, 820)
    assert tablet.get_by_test_id("total").inner_text() == "¥800.00"
    # Offline: the platform is hidden.
    assert tablet.locator("#platform-field").is_hidden()
    tablet.get_by_test_id("exhibitor-search").fill("新华食品")
    assert tablet.locator("#id_exhibitor").input_value() == str(world.exhibitors["A02"].pk)
    tablet.get_by_test_id("product-search").fill("玉皇剑")
    assert tablet.locator("#id_product").input_value() == str(world.products["GC-TEA-0002"].pk)
    tablet.locator("#id_amount_yuan").fill("300")
    tablet.locator("#id_quantity").fill("2")
    screenshot(tablet, "entry-filled")
    tablet.get_by_test_id("save").click()
    tablet.wait_for_load_state("load")
    assert "已录入：谷城新华食品有限公司 · 玉皇剑 ¥300.00。" in tablet.locator(".messages").inner_text()
    assert tablet.get_by_test_id("total").inner_text() == "¥1,100.00"
    # The exhibitor and day stay for the next entry; the amount is empty.
    assert tablet.locator("#id_exhibitor").input_value() == str(world.exhibitors["A02"].pk)
    assert tablet.locator("#id_amount_yuan").input_value() == ""

    # Online: the platform appears; forgetting it is refused next to the field, the amount kept.
    tablet.get_by_test_id("channel-online").click()
    assert tablet.locator("#platform-field").is_visible()
    tablet.get_by_test_id("product-search").fill("毛尖")
    tablet.locator("#id_amount_yuan").fill("1,250.50")
    tablet.get_by_test_id("save").click()
    tablet.wait_for_load_state("load")
    assert tablet.get_by_test_id("error-platform").inner_text() == "线上销售请填写销售平台，例如抖音、淘宝。"
    assert tablet.locator("#id_amount_yuan").input_value() == "1,250.50"
    screenshot(tablet, "entry-error")
    tablet.locator("button[data-platform='抖音']").click()
    tablet.get_by_test_id("save").click()
    tablet.wait_for_load_state("load")
    assert tablet.get_by_test_id("total").inner_text() == "¥2,350.50"
    assert tablet.get_by_test_id("online").inner_text() == "¥1,250.50"
    assert tablet.get_by_test_id("offline").inner_text() == "¥1,100.00"
    screenshot(tablet, "entry-two-saved")

    # Reverse the first one from the list under the form, with a reason; back on the entry page.
    first = SalesRecord.objects.get(event=event, amount_fen=30_000)
    tablet.get_by_test_id(f"reverse-{first.pk}").click()
    tablet.get_by_test_id("reason").fill("录错产品")
    screenshot(tablet, "reverse")
    tablet.get_by_test_id("confirm-reverse").click()
    tablet.wait_for_url(f"**/industry/events/{event.pk}/sales/new/**")
    assert tablet.get_by_test_id("total").inner_text() == "¥2,050.50"
    assert tablet.get_by_test_id("offline").inner_text() == "¥800.00"
    assert "已冲正" in tablet.get_by_test_id(f"recent-{first.pk}").inner_text()
    screenshot(tablet, "entry-after-reverse")

    # The sales list shows the reversed row struck through with its reversal under it.
    tablet.get_by_test_id("go-sales").click()
    tablet.wait_for_load_state("load")
    assert tablet.get_by_test_id("sum-total").inner_text() == "¥2,050.50"
    decoration = tablet.locator(f"[data-testid='sale-{first.pk}'] .ie-strike").first.evaluate(
        "(n) => getComputedStyle(n).textDecorationLine"
    )
    assert decoration == "line-through"
    fits(tablet, 820)
    screenshot(tablet, "sales-list")
    assert sum(SalesRecord.objects.filter(event=event).values_list("amount_fen", flat=True)) == 205_050


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_pages_look_right(world, browser, live_server, screenshot, size):
    options = PHONE if size == "phone" else DESKTOP
    width = options["viewport"]["width"]
    context = _context(browser, live_server, options)
    page = context.new_page()
    try:
        login(page, "county_admin")
        event = world.shihua_event
        for name, url in [
            ("hub", "/industry/"),
            ("events", "/industry/events/"),
            ("event", f"/industry/events/{event.pk}/"),
            ("event-form", "/industry/events/new/"),
            ("exhibitors", f"/industry/events/{event.pk}/exhibitors/?q=合作社"),
            ("sales", f"/industry/events/{event.pk}/sales/"),
            ("sales-index", "/industry/sales/"),
            ("entry", f"/industry/events/{world.chengguan_event.pk}/sales/new/"),
            ("products", "/industry/products/"),
            ("product", f"/industry/products/{world.products['GC-FUN-0001'].pk}/"),
            ("product-form", "/industry/products/new/?category=tea"),
            ("correct", f"/industry/sales/{world.sales['S2'].pk}/correct/"),
        ]:
            response = page.goto(url)
            assert response is not None
            assert response.status == 200, url
            screenshot(page, f"{size}-{name}")
            fits(page, width)
        context.clear_cookies()
        login(page, "grid_leader")
        page.goto("/industry/")
        assert "您的账号没有产业发展方面的角色" in page.inner_text("main")
        screenshot(page, f"{size}-hub-empty")
    finally:
        context.close()
