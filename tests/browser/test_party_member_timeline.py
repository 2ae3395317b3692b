"""A village Party secretary on a phone: finds an applicant, reads the pipeline timeline, and moves them
to the next stage, first with a date the rules refuse (the Chinese message appears next to the field and
the input is kept), then with a good one."""

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    from governance.demo import seed_demo_county
    from tests.governance.party_factories import party_world_make

    return party_world_make(seed_demo_county(password="xiangzhi-demo"))


def test_secretary_advances_an_applicant_on_a_phone(world, phone, screenshot):
    login(phone, "village_secretary")
    phone.goto("/governance/party/members/?q=孙浩宇")
    assert phone.get_by_test_id("member-count").inner_text() == "共 1 人"
    phone.get_by_role("link", name="孙浩宇").click()
    phone.wait_for_url(f"**/governance/party/members/{world.members['孙浩宇'].pk}/")

    assert phone.locator("h1").inner_text() == "孙浩宇"
    assert phone.get_by_test_id("member-stage").inner_text() == "入党申请人"
    steps = phone.locator("[data-testid=timeline] > li")
    assert steps.count() == 5
    assert phone.locator("[data-testid=timeline] > li.is-reached .timeline__label").all_inner_texts() == [
        "入党申请人\n当前"
    ]
    assert phone.locator("[data-testid=timeline] .timeline__date").first.inner_text() == "2025-03-01"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "timeline")

    form = phone.get_by_test_id("advance-form")
    form.get_by_label("日期").fill("2025-02-01")
    form.get_by_label("备注").fill("支委会确定")
    form.get_by_role("button", name="确认推进为入党积极分子").click()
    error = phone.locator("[data-field=occurred_on] .field__error")
    assert (
        error.inner_text()
        == "“入党积极分子”的日期（2025-02-01）不能早于上一步“入党申请人”的日期（2025-03-01）。"
    )
    assert phone.get_by_test_id("advance-form").get_by_label("备注").input_value() == "支委会确定"
    assert phone.get_by_test_id("advance-form").get_by_label("日期").input_value() == "2025-02-01"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "advance-error")

    form = phone.get_by_test_id("advance-form")
    form.get_by_label("日期").fill("2025-09-01")
    form.get_by_role("button", name="确认推进为入党积极分子").click()
    phone.wait_for_selector(".message")
    assert phone.locator(".message").inner_text() == "已将孙浩宇推进为入党积极分子（2025-09-01）。"
    assert phone.get_by_test_id("member-stage").inner_text() == "入党积极分子"
    reached = phone.locator("[data-testid=timeline] > li.is-reached")
    assert reached.count() == 2
    assert reached.nth(1).locator(".timeline__note").inner_text() == "支委会确定"
    # The next step is a candidate: the form now asks for the two sponsors.
    assert phone.get_by_test_id("advance-form").locator("legend").inner_text() == "入党介绍人"
    heights = phone.eval_on_selector_all(
        "[data-testid=advance-form] input:not([type=hidden]), [data-testid=advance-form] select, "
        "[data-testid=advance-form] button",
        "els => els.map(e => e.getBoundingClientRect().height)",
    )
    assert min(heights) >= 44
    screenshot(phone, "advanced")
