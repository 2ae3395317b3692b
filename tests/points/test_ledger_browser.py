"""The ledger pages in a browser: the account page on a phone, a card and a grid's card sheet on screen
and in print (each card credit-card sized: 85.6 × 54 mm); screenshots at phone and desktop size."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import login
from tests.points.factories import points_give, points_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MM = 96 / 25.4  # CSS pixels per millimetre


@pytest.fixture
def ledger_data(points_world):  # noqa: F811
    for points in (30, 8, 12):
        points_give(points_world, "王家", points, memo=f"庭院整洁 奖励{points}分")
    return points_world


def test_account_and_cards_on_phone_desktop_and_paper(ledger_data, phone, desktop, screenshot):
    household = ledger_data.households["王家"].pk
    grid = ledger_data.regions["第一网格"].pk
    login(phone, "grid_leader")
    phone.goto(f"/points/households/{household}/")
    assert phone.get_by_test_id("balance").inner_text() == "50"
    assert phone.locator("[data-testid^=posting-]").count() == 3
    # Nothing overflows a 390px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-account")
    phone.get_by_test_id("card-link").click()
    phone.wait_for_url(f"**/points/households/{household}/card/")
    assert phone.locator(".pl-card svg").count() == 1
    screenshot(phone, "phone-card")

    login(desktop, "village_secretary")
    desktop.goto(f"/points/grids/{grid}/cards/")
    assert desktop.locator(".pl-card").count() == 2
    screenshot(desktop, "desktop-grid-cards")
    desktop.emulate_media(media="print")
    box = desktop.locator(".pl-card").first.bounding_box()
    assert box is not None
    assert abs(box["width"] - 85.6 * MM) < 1.5
    assert abs(box["height"] - 54 * MM) < 1.5
    assert not desktop.locator(".topbar").is_visible()
    screenshot(desktop, "print-grid-cards")
