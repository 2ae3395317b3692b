"""Changing the tree and picking a grid in a real browser at phone size: a township admin moves a grid to
another village, and registers a household through the township → village → grid picker. Screenshots
land in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from governance.models import AuditAction, AuditEvent, Household, RegionMove, User
from tests.browser_fixtures import login
from tests.governance.regions_fixture import build_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    from governance.demo import seed_demo_county

    return build_people(seed_demo_county(password="xiangzhi-demo"))


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def option_texts(select) -> list[str]:
    return select.evaluate("s => Array.from(s.options).map(o => o.textContent)")


def test_township_admin_moves_a_grid_on_a_phone(people, phone, screenshot):
    grid = people.regions["第二网格"]
    old_path = grid.path
    login(phone, "township_admin")
    phone.goto(f"/governance/regions/{grid.pk}/")
    fits(phone, 390)
    screenshot(phone, "grid")
    phone.get_by_test_id("region-move").click()
    phone.wait_for_url(f"**/governance/regions/{grid.pk}/move/")
    assert phone.get_by_test_id("current-village").inner_text() == "新华村"

    # The cascade: one township in reach, chosen already; its villages without the grid's own.
    township = phone.get_by_test_id("picker-township")
    village = phone.get_by_label("调整到")
    assert township.is_visible()
    phone.wait_for_function("document.querySelector('#id_to_village').options.length > 1")
    assert township.evaluate("s => s.options[s.selectedIndex].textContent") == "城关镇"
    assert option_texts(village) == ["请选择村（社区）", "东街社区"]
    fits(phone, 390)
    screenshot(phone, "picker")

    village.select_option(label="东街社区")
    phone.get_by_label("调整原因").fill("按镇区划调整方案并入东街社区")
    phone.get_by_role("button", name="确认调整").click()
    phone.wait_for_url(f"**/governance/regions/{grid.pk}/move/")
    assert "已将“第二网格”从“新华村”调整到“东街社区”。" in phone.locator(".messages").inner_text()
    assert phone.get_by_test_id("current-village").inner_text() == "东街社区"
    history = phone.get_by_test_id("move-history").locator("li")
    assert history.count() == 1
    assert "从“新华村”调整到“东街社区”" in history.first.inner_text()
    assert "按镇区划调整方案并入东街社区" in history.first.inner_text()
    fits(phone, 390)
    screenshot(phone, "moved")

    grid.refresh_from_db()
    target = people.regions["东街社区"]
    assert (grid.parent_id, grid.path) == (target.pk, f"{target.path}{grid.pk}/")
    move = RegionMove.objects.get(region=grid)
    assert (move.from_parent_id, move.to_parent_id, move.old_path, move.new_path, move.reason) == (
        people.regions["新华村"].pk,
        target.pk,
        old_path,
        grid.path,
        "按镇区划调整方案并入东街社区",
    )
    assert move.moved_by_id == User.objects.get(username="township_admin").pk
    assert AuditEvent.objects.filter(action=AuditAction.MOVE, object_id=str(grid.pk)).count() == 1


def test_township_admin_registers_a_household_through_the_cascade_on_a_phone(people, phone, screenshot):
    login(phone, "township_admin")
    phone.goto("/governance/households/new/")
    township = phone.get_by_test_id("picker-township")
    village = phone.get_by_test_id("picker-village")
    grid = phone.get_by_label("网格", exact=True)
    phone.wait_for_function("!document.querySelector('[data-testid=picker-village]').disabled")
    # One township in reach: chosen already. The grid waits for a village.
    assert township.evaluate("s => s.options[s.selectedIndex].textContent") == "城关镇"
    assert option_texts(village) == ["请选择村（社区）", "东街社区", "新华村"]
    assert grid.is_disabled()
    assert option_texts(grid) == ["请先选择村（社区）"]
    fits(phone, 390)
    screenshot(phone, "empty")

    village.select_option(label="新华村")
    phone.wait_for_function("document.querySelector('#id_grid').options.length === 3")
    assert option_texts(grid) == ["请选择网格", "第一网格", "第二网格"]
    # Changing the village again offers its grids; its only grid is chosen at once.
    village.select_option(label="东街社区")
    phone.wait_for_function("document.querySelector('#id_grid').options.length === 2")
    assert option_texts(grid) == ["请选择网格", "东街第一网格"]
    assert grid.input_value() == str(people.regions["东街第一网格"].pk)
    phone.get_by_label("户号").fill("DJ-002")
    phone.get_by_label("住址").fill("东街12号")
    fits(phone, 390)
    screenshot(phone, "chosen")
    phone.get_by_role("button", name="保存").click()
    phone.wait_for_url("**/governance/households/*/")
    assert "已登记户DJ-002。" in phone.locator(".messages").inner_text()
    screenshot(phone, "saved")

    household = Household.objects.get(number="DJ-002")
    assert (household.grid_id, household.address, household.is_active) == (
        people.regions["东街第一网格"].pk,
        "东街12号",
        True,
    )
    assert phone.url.endswith(f"/governance/households/{household.pk}/")
