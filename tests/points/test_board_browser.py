"""The public points board in a phone-size browser: no log-in, an objection filed from it; screenshots of
the board, the poster, the hub, an evaluation and the reports at phone and desktop size."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from points.services.awards import award_propose, award_review
from tests.browser_fixtures import login
from tests.points.factories import points_give, points_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CODE = "420625100201"


@pytest.fixture
def board_data(points_world):  # noqa: F811
    w = points_world
    points_give(w, "王家", 120)
    points_give(w, "李家", 40)
    award = award_propose(
        actor=w.users["grid_leader"],
        idempotency_key=uuid.uuid4().hex,
        household=w.households["李家"],
        rule=w.rules["庭院整洁"],
        occurred_on=timezone.localdate() - dt.timedelta(days=1),
        resident=w.people.residents["李芳"],
    )
    w.extra["award"] = award_review(actor=w.users["village_secretary"], award=award, approve=True)
    return w


def test_phone_board_objection(board_data, phone, desktop, screenshot):
    award = board_data.extra["award"]
    phone.goto(f"/points/board/{CODE}/")
    assert phone.get_by_test_id("rank-row").count() == 3
    assert "李*明" in phone.get_by_test_id("pending-award").inner_text()
    screenshot(phone, "phone-board")
    card = phone.locator(f"#award-{award.pk}")
    card.get_by_text("提出异议", exact=True).click()
    card.get_by_role("button", name="提交异议").click()
    assert "请填写异议理由。" in phone.locator(f"#award-{award.pk}").inner_text()
    screenshot(phone, "phone-objection-error")
    card = phone.locator(f"#award-{award.pk}")
    card.get_by_label("异议理由").fill("他家院子其实并不整洁，请核实")
    card.get_by_label("联系电话（选填）").fill("13900002222")
    card.get_by_role("button", name="提交异议").click()
    phone.get_by_test_id("objection-filed").wait_for()
    assert "1 条异议待处理" in phone.locator(f"#award-{award.pk}").inner_text()
    screenshot(phone, "phone-objection-filed")
    assert award.objections.count() == 1
    phone.goto(f"/points/board/{CODE}/poster/")
    screenshot(phone, "phone-poster")
    desktop.goto(f"/points/board/{CODE}/")
    screenshot(desktop, "desktop-board")
    desktop.goto(f"/points/board/{CODE}/poster/")
    screenshot(desktop, "desktop-poster")


def test_staff_pages_screens(board_data, phone, desktop, screenshot):
    login(phone, "village_secretary")
    phone.goto("/points/")
    screenshot(phone, "phone-hub")
    phone.goto("/points/evaluations/")
    screenshot(phone, "phone-evaluations")
    login(desktop, "county_admin")
    desktop.goto("/points/")
    screenshot(desktop, "desktop-hub")
    for name, url in (
        ("flow", "/points/reports/"),
        ("stock", "/points/reports/stock/"),
        ("days", "/points/reports/days/"),
    ):
        desktop.goto(url)
        screenshot(desktop, f"desktop-{name}")
    phone.goto("/points/reports/")
    screenshot(phone, "phone-reports")
