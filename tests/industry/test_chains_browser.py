"""The chains area in a browser. On a phone, the village secretary gives a household a project and a
resident work; on a desktop, the county admin reads the chains, a chain's participants, the businesses and
the coverage. Screenshots at 390×844 and 1366×900 land in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from industry.models import Employment, HouseholdProject
from tests.browser_fixtures import login
from tests.industry.factories_chains import chains_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(demo_county):
    return chains_world(demo_county)


def test_a_secretary_records_a_project_and_work_on_a_phone(world, phone, screenshot):
    login(phone, "village_secretary")
    phone.goto("/industry/projects/")
    household = phone.locator('[data-testid="household"][data-number="X-002"]')
    assert "暂无项目" in household.inner_text()
    screenshot(phone, "projects")
    household.get_by_test_id("project-add").click()
    phone.get_by_label("项目名称").fill("直播卖茶")
    phone.get_by_label("项目类型").select_option("ecommerce")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url("**/industry/projects/?village=*")
    assert "有项目" in phone.locator('[data-testid="household"][data-number="X-002"]').inner_text()
    assert HouseholdProject.objects.filter(household=world.households["X-002"], title="直播卖茶").count() == 1
    phone.goto("/industry/employment/")
    screenshot(phone, "employment")
    person = phone.locator('[data-testid="resident"][data-name="王小明"]')
    assert "待就业" in person.inner_text()
    person.get_by_test_id("employment-add").click()
    phone.get_by_label("就业方式").select_option("local_business")
    phone.get_by_label("用工主体").select_option(label="新华村 · 新华茶叶合作社")
    screenshot(phone, "employment-form")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url("**/industry/employment/?village=*")
    assert "有事干" in phone.locator('[data-testid="resident"][data-name="王小明"]').inner_text()
    assert (
        Employment.objects.get(resident=world.residents["王小明"]).business_id
        == world.businesses["新华茶叶合作社"].pk
    )
    phone.goto("/industry/chains/")
    screenshot(phone, "chains")
    phone.goto(f"/industry/businesses/{world.businesses['新华茶叶合作社'].pk}/")
    screenshot(phone, "business")
    phone.goto("/industry/coverage/")
    screenshot(phone, "coverage")


def test_the_county_admin_reads_chains_businesses_and_coverage_on_a_desktop(world, desktop, screenshot):
    login(desktop, "county_admin")
    desktop.goto("/industry/chains/")
    assert desktop.locator('[data-testid="chain-row"]').count() == 2
    screenshot(desktop, "chains")
    desktop.get_by_role("link", name="茶叶").first.click()
    desktop.wait_for_url(f"**/industry/chains/{world.tea.pk}/")
    assert desktop.locator('[data-testid="participant-row"]').count() == 3
    desktop.get_by_label("主体类型").select_option("household")
    desktop.get_by_role("button", name="查询").click()
    desktop.wait_for_url("**kind=household**")
    assert desktop.locator('[data-testid="participant-row"]').count() == 1
    screenshot(desktop, "chain")
    desktop.goto(f"/industry/chains/{world.tea.pk}/links/")
    screenshot(desktop, "links")
    desktop.goto("/industry/businesses/")
    screenshot(desktop, "businesses")
    desktop.goto("/industry/businesses/new/")
    desktop.get_by_label("名称").fill("谷城测试公司")
    desktop.get_by_label("所在村（社区）").select_option(label="石花镇 · 民营社区")
    desktop.get_by_label("统一社会信用代码").fill("91350100M000100Y44")
    desktop.get_by_test_id("submit").click()
    assert "统一社会信用代码校验位不对，请核对。" in desktop.get_by_test_id("error-credit_code").inner_text()
    assert desktop.get_by_label("名称").input_value() == "谷城测试公司"
    screenshot(desktop, "business-error")
    desktop.goto("/industry/coverage/")
    screenshot(desktop, "coverage")
    desktop.goto("/industry/projects/")
    screenshot(desktop, "projects")
