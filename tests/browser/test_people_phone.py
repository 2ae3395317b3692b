"""A grid leader on a phone: the household list, one household, and revealing a phone number."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

import pytest
from playwright.sync_api import expect

from governance.models import AuditAction, AuditEvent
from tests.browser.conftest import login
from tests.governance.people_factories import people_world  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_leader_opens_a_household_and_reveals_a_phone(people_world, phone, screenshot):
    household = people_world.households["XH-001"]
    head = people_world.residents["张德明"]
    login(phone, "grid_leader")

    phone.goto("/governance/households/")
    expect(phone.locator("h1")).to_have_text("户籍与居民")
    expect(phone.get_by_test_id("count")).to_have_text("共 2 户")
    assert phone.locator(".hh-card__number").all_inner_texts() == ["XH-001", "XH-002"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "list")

    phone.locator(".hh-card", has_text="XH-001").click()
    phone.wait_for_url(f"**/governance/households/{household.pk}/")
    card = phone.locator(f"#person-{head.pk}")
    expect(card.get_by_test_id("phone")).to_have_text("138****1111")
    expect(card.get_by_test_id("id-number")).to_have_text(head.id_number_masked)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    reveal = card.get_by_test_id("reveal")
    assert reveal.bounding_box()["height"] >= 40
    screenshot(phone, "household")

    reveal.click()
    revealed = phone.locator(f"#person-{head.pk}")
    expect(revealed.get_by_test_id("phone")).to_have_text("13800001111")
    expect(revealed.get_by_test_id("id-number")).to_have_text(people_world.id_numbers["张德明"])
    expect(revealed.get_by_role("link", name="13800001111")).to_have_attribute("href", "tel:13800001111")
    # htmx swapped the card in place: still the household page, the other member still masked.
    assert phone.url.endswith(f"/governance/households/{household.pk}/")
    expect(
        phone.locator(f"#person-{people_world.residents['李桂兰'].pk}").get_by_test_id("phone")
    ).to_have_text("139****2222")
    screenshot(phone, "revealed")

    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.actor_id, event.object_id, event.detail) == (
        people_world.users["grid_leader"].pk,
        str(head.pk),
        "查看完整个人信息：身份证号、手机号、住址",
    )


def test_grid_leader_adds_a_member_and_sees_the_checksum_error_in_place(people_world, phone, screenshot):
    household = people_world.households["XH-002"]
    login(phone, "grid_leader")
    phone.goto(f"/governance/households/{household.pk}/")
    phone.get_by_role("link", name="＋ 新增成员").click()
    phone.get_by_label("姓名").fill("王二妹")
    phone.get_by_label("身份证号").fill("110105194912310021")
    phone.get_by_label("手机号").fill("13512345678")
    phone.get_by_text("留守儿童").click()
    phone.get_by_role("button", name="保存").click()
    error = phone.locator(".field--invalid .field__error")
    expect(error).to_have_text("身份证号校验码不正确，请核对后重新输入。")
    expect(phone.get_by_label("身份证号")).to_have_value("110105194912310021")
    expect(phone.get_by_label("姓名")).to_have_value("王二妹")
    expect(phone.get_by_label("留守儿童")).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "form-error")

    phone.goto("/governance/residents/?age_band=90%2B")
    expect(phone.get_by_test_id("count")).to_have_text("共 1 人")
    assert phone.locator(".people-more").get_attribute("open") is not None
    screenshot(phone, "residents-filtered")
