"""The subsidy claim (补贴申报表) and its settlement page in a browser: on a phone (390×844) the line table
(餐次 × 档次 with five money columns) reads as one card per line, nothing scrolls sideways; on a desktop
(1366×900) and on paper (print media) it stays the table it was. Screenshots of each."""

from __future__ import annotations

import datetime as dt

import pytest

from canteens.models import Meal
from canteens.services.settlements import settlement_compute
from tests.browser_fixtures import login
from tests.canteens.factories import SPLIT_70, SPLIT_80, SPLIT_GUEST, SPLIT_LOW, canteen_world
from tests.canteens.settlement_meals import last_month, meal_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How the page's line table is laid out: whether anything sticks out sideways, how its header and rows
# display, and the text of its first row's cells with the label each carries on a phone.
LAYOUT = """() => {
  const table = document.querySelector('[data-testid="lines"]');
  const row = table.querySelector('tbody tr');
  const before = (cell) => getComputedStyle(cell, '::before').content;
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewWidth: document.documentElement.clientWidth,
    tableWidth: Math.ceil(table.getBoundingClientRect().right),
    head: getComputedStyle(table.querySelector('thead')).display,
    row: getComputedStyle(row).display,
    labels: [...row.children].map(before),
    cells: [...row.children].map((c) => c.textContent.trim()),
  };
}"""


@pytest.fixture
def settlement(demo_county):
    world = canteen_world(demo_county)
    year, month = last_month()
    day = dt.date(year, month, 3)
    rows = []
    for slot in ("breakfast", "lunch", "dinner"):
        for elder, split in (("吴桂兰", SPLIT_70), ("吴德厚", SPLIT_80), ("吴秀芝", SPLIT_LOW)):
            rows.append(meal_row(world, served_on=day, slot=slot, parts=split, elder=elder))
    rows.append(meal_row(world, served_on=day, slot="lunch", parts=SPLIT_GUEST))
    Meal.objects.bulk_create(rows)
    return settlement_compute(site=world.site, year=year, month=month)


def test_the_claim_lines_read_as_cards_on_a_phone_and_stay_a_table_on_a_desktop_and_paper(
    settlement, phone, desktop, screenshot
):
    login(phone, "canteen_manager")
    phone.goto(f"/canteens/settlements/{settlement.pk}/claim/")
    screenshot(phone, "claim-phone")
    on_phone = phone.evaluate(LAYOUT)
    assert on_phone["pageWidth"] <= on_phone["viewWidth"] == 390
    assert on_phone["tableWidth"] <= 390
    assert (on_phone["head"], on_phone["row"]) == ("none", "grid")
    assert on_phone["labels"] == [
        "none",
        "none",
        '"人次"',
        '"餐费（元）"',
        '"个人缴费（元）"',
        '"政府补贴（元）"',
        '"社区补贴（元）"',
        '"捐赠列支（元）"',
    ]
    # 10 lines: breakfast, lunch, dinner × 70–79 / 80–89 / 低保, and the guest's lunch; first 早餐 · 70–79 岁.
    assert phone.locator('[data-testid="lines"] tbody tr').count() == 10
    assert on_phone["cells"] == ["早餐", "70–79 岁", "1", "4.00", "1.50", "1.50", "0.75", "0.25"]

    phone.goto(f"/canteens/settlements/{settlement.pk}/")
    screenshot(phone, "settlement-phone")
    detail = phone.evaluate(LAYOUT)
    assert detail["pageWidth"] <= detail["viewWidth"]
    assert detail["row"] == "grid"

    # On paper the claim is the table it always was, even printed from the phone.
    phone.emulate_media(media="print")
    phone.goto(f"/canteens/settlements/{settlement.pk}/claim/")
    printed = phone.evaluate(LAYOUT)
    assert (printed["head"], printed["row"], printed["labels"][2]) == (
        "table-header-group",
        "table-row",
        "none",
    )
    screenshot(phone, "claim-print")

    login(desktop, "canteen_manager")
    desktop.goto(f"/canteens/settlements/{settlement.pk}/claim/")
    screenshot(desktop, "claim-desktop")
    wide = desktop.evaluate(LAYOUT)
    assert (wide["head"], wide["row"], wide["labels"][2]) == ("table-header-group", "table-row", "none")
    assert wide["pageWidth"] <= wide["viewWidth"]
    assert wide["cells"] == on_phone["cells"]
    desktop.goto(f"/canteens/settlements/{settlement.pk}/")
    screenshot(desktop, "settlement-desktop")
