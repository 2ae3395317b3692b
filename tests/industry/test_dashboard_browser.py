"""The dashboards and the tourism pages in a real browser, on a phone (390×844) and a desktop (1366×900):
the charts render (a canvas with pixels drawn), nothing overflows the phone's width, and the tourism grid
saves from the phone. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest

from industry.models import TourismRecord
from tests.browser_fixtures import login
from tests.industry.factories_dashboard import DashboardWorld, dashboard_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels with any colour on every chart canvas of the page (0 for a blank canvas).
DRAWN = """() => [...document.querySelectorAll('[data-chart] canvas')].map((canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
  return drawn;
})"""


@pytest.fixture
def made(demo_county) -> DashboardWorld:
    made = dashboard_world(demo_county)
    r = demo_county
    for month, visits in ((1, 3_200), (2, 5_400), (3, 4_100), (4, 6_000)):
        TourismRecord.objects.create(
            region=r["新华村"], month=dt.date(2024, month, 1), visits=visits, income_fen=visits * 12_000
        )
        TourismRecord.objects.create(
            region=r["民营社区"], month=dt.date(2024, month, 1), visits=visits // 2, income_fen=visits * 5_000
        )
    return made


def charts_drawn(page, expected: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('[data-chart] canvas').length >= {expected}", timeout=15_000
    )
    drawn = page.evaluate(DRAWN)
    assert len(drawn) >= expected
    assert all(pixels > 500 for pixels in drawn), drawn


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_event_and_year_dashboards_render_charts(made, phone, desktop, screenshot):
    for page, width, size in ((phone, 390, "phone"), (desktop, 1366, "desktop")):
        login(page, "county_admin")
        page.goto(f"/industry/events/{made.e1.pk}/dashboard/")
        assert page.get_by_test_id("total-amount").inner_text() == "¥2,000.50"
        charts_drawn(page, 5)
        fits(page, width)
        screenshot(page, f"event-{size}")
        page.goto("/industry/dashboard/?year=2022")
        assert (
            page.get_by_test_id("headline").inner_text()
            == "2022年：展会节会 2 场，销售额 ¥5,900.50，产品 4 种"
        )
        charts_drawn(page, 6)
        fits(page, width)
        screenshot(page, f"year-{size}")
        # A chart follows its box when the window changes size.
        if size == "desktop":
            before = page.evaluate("document.querySelector('[data-chart=chart-days] canvas').clientWidth")
            page.set_viewport_size({"width": 900, "height": 900})
            page.wait_for_function(
                f"document.querySelector('[data-chart=chart-days] canvas').clientWidth < {before}"
            )


def test_tourism_pages_on_a_phone(made, phone, desktop, screenshot):
    village = made.world.regions["新华村"]
    login(phone, "village_secretary")
    phone.goto("/industry/tourism/?year=2024")
    charts_drawn(phone, 1)
    fits(phone, 390)
    screenshot(phone, "list")
    phone.goto(f"/industry/tourism/region/{village.pk}/edit/?year=2024")
    fits(phone, 390)
    phone.locator("#visits_5").fill("7000")
    phone.locator("#income_5").fill("abc")
    phone.get_by_test_id("tourism-save").click()
    phone.get_by_test_id("error-income_5").wait_for()
    assert phone.locator("#income_5").input_value() == "abc"
    screenshot(phone, "grid-error")
    phone.locator("#income_5").fill("84000")
    phone.get_by_test_id("tourism-save").click()
    phone.wait_for_url(f"**/industry/tourism/region/{village.pk}/?year=2024")
    assert phone.get_by_test_id("year-visits").inner_text().startswith("25,700")
    charts_drawn(phone, 1)
    screenshot(phone, "subject")
    login(desktop, "county_admin")
    desktop.goto("/industry/tourism/?year=2024")
    charts_drawn(desktop, 1)
    screenshot(desktop, "list-desktop")
    desktop.goto(f"/industry/tourism/region/{village.pk}/?year=2024")
    charts_drawn(desktop, 1)
    screenshot(desktop, "subject-desktop")
