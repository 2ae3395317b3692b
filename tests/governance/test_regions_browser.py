"""The region browser and role management in a real browser: a township admin on a phone, the county
admin on a desktop. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.browser_fixtures import login
from tests.governance.regions_fixture import build_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    from governance.demo import seed_demo_county

    return build_people(seed_demo_county(password="xiangzhi-demo"))


def counts(page) -> list[str]:
    return page.locator("[data-testid=region-counts] dd").all_inner_texts()


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_township_admin_drills_down_and_searches_on_a_phone(people, phone, screenshot):
    login(phone, "township_admin")
    phone.goto("/governance/")
    hub = phone.get_by_test_id("governance-hub")
    assert hub.locator("h2").first.inner_text() == "区域浏览"
    screenshot(phone, "hub")
    hub.get_by_role("link", name=re.compile("区域浏览")).click()

    # Starts at the top of the township admin's scope.
    phone.wait_for_url(f"**/governance/regions/{people.regions['城关镇'].pk}/")
    assert phone.locator("h1").inner_text() == "城关镇"
    assert counts(phone) == ["4", "8", "3", "2"]
    assert phone.get_by_test_id("region-child").evaluate_all("rows => rows.map(r => r.dataset.name)") == [
        "东街社区",
        "新华村",
    ]
    fits(phone, 390)
    screenshot(phone, "township")

    phone.locator("[data-testid=region-child][data-name=新华村]").click()
    phone.wait_for_url(f"**/governance/regions/{people.regions['新华村'].pk}/")
    assert phone.locator("h1").inner_text() == "新华村"
    assert counts(phone) == ["3", "7", "2", "1"]
    row = phone.locator("[data-testid=region-child][data-name=第一网格]")
    assert row.locator("[data-metric] b").all_inner_texts() == ["2", "5", "2", "1"]
    # Each row is a comfortable tap target.
    assert row.bounding_box()["height"] >= 44
    assert phone.get_by_test_id("region-crumbs").inner_text().split() == [
        "组织治理",
        "区域浏览",
        "城关镇",
        "新华村",
    ]
    fits(phone, 390)
    screenshot(phone, "village")

    row.click()
    phone.wait_for_url(f"**/governance/regions/{people.regions['第一网格'].pk}/")
    assert phone.locator("h1").inner_text() == "第一网格"
    assert phone.get_by_test_id("region-code").inner_text() == "420625100201001"
    assert counts(phone) == ["2", "5", "2", "1"]
    assert phone.get_by_text("网格是最小的区域单元，没有下级区域。").is_visible()
    fits(phone, 390)
    screenshot(phone, "grid")

    # Back up one level through the breadcrumb, then search by statistical code.
    phone.get_by_test_id("region-crumbs").get_by_role("link", name="新华村").click()
    phone.wait_for_url(f"**/governance/regions/{people.regions['新华村'].pk}/")
    search = phone.get_by_test_id("region-search")
    search.get_by_role("searchbox").fill("420625100201002")
    search.get_by_role("button", name="查找").click()
    phone.wait_for_url("**/governance/regions/search/?q=420625100201002")
    assert phone.get_by_test_id("search-summary").inner_text() == "“420625100201002”：找到 1 个区域"
    results = phone.get_by_test_id("search-result")
    assert results.count() == 1
    assert "城关镇 › 新华村 · 420625100201002" in results.first.inner_text()
    fits(phone, 390)
    screenshot(phone, "search")
    results.first.click()
    phone.wait_for_url(f"**/governance/regions/{people.regions['第二网格'].pk}/")
    assert phone.locator("h1").inner_text() == "第二网格"
    assert counts(phone) == ["1", "2", "0", "0"]

    # Another township's code finds nothing: the search stays inside the scope.
    search = phone.get_by_test_id("region-search")
    search.get_by_role("searchbox").fill("420625101002")
    search.get_by_role("button", name="查找").click()
    phone.wait_for_url("**/governance/regions/search/?q=420625101002")
    assert phone.get_by_test_id("search-summary").inner_text() == "“420625101002”：找到 0 个区域"


def test_county_admin_on_a_desktop(people, desktop, screenshot):
    login(desktop, "county_admin")
    desktop.get_by_role("link", name=re.compile("组织治理")).first.click()
    desktop.wait_for_url("**/governance/")
    screenshot(desktop, "hub")
    desktop.goto("/governance/regions/")
    desktop.wait_for_url(f"**/governance/regions/{people.regions['谷城县'].pk}/")
    assert counts(desktop) == ["6", "11", "4", "3"]
    assert desktop.get_by_test_id("region-child").count() == 10
    # On a desktop the children read as a table with a header row.
    assert desktop.locator(".region-row--head").is_visible()
    fits(desktop, 1366)
    screenshot(desktop, "county")

    desktop.goto("/governance/roles/")
    assert desktop.locator("h1").inner_text() == "角色管理"
    assert desktop.get_by_test_id("role-users").locator("li.person").count() == 5
    screenshot(desktop, "roles")
    desktop.get_by_test_id("role-grant").click()
    desktop.get_by_label("用户名").fill("grid_leader")
    desktop.get_by_label("角色").select_option("grid_leader")
    desktop.get_by_label("管辖区域").select_option(label="　　新华村（村）")
    desktop.get_by_role("button", name="授予", exact=True).click()
    assert desktop.locator(".field__error").inner_text() == "“百户网格长”只能在网格一级授予。"
    assert desktop.get_by_label("用户名").input_value() == "grid_leader"
    screenshot(desktop, "grant-error")


def test_role_pages_on_a_phone(people, phone, screenshot):
    login(phone, "township_admin")
    phone.goto("/governance/roles/")
    assert phone.get_by_test_id("role-users").locator("li.person").count() == 3
    fits(phone, 390)
    screenshot(phone, "roles")
    phone.goto("/governance/roles/users/new/")
    phone.get_by_role("button", name="开设账号").click()
    # all_inner_texts() does not wait: wait for the answer page's first message.
    phone.locator(".field__error").first.wait_for()
    assert phone.locator(".field__error").all_inner_texts()[:2] == ["请填写姓名。", "请填写用户名。"]
    fits(phone, 390)
    screenshot(phone, "user-create-errors")
