"""The county dashboard in a real browser (tests/dashboard/test_pages.py's small county, a county admin):
log in, open the dashboard, change the period with the picker, drill down to a village and a grid, the
charts drawn with their data, the export link answering the .xlsx; the same page on a phone fits its
width. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from governance.models import RoleAssignment, User
from governance.roles import Role
from tests.browser_fixtures import login
from tests.dashboard.test_pages import CODES, dashboard_world
from tests.rollups import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The data each chart of the page holds, read from its ECharts instance.
CHART_DATA = """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map((box) => {
  const chart = window.echarts.getInstanceByDom(box);
  return [box.dataset.chart, chart ? chart.getOption().series.map((s) => s.data) : null];
}))"""
# Pixels drawn on every chart canvas (0 for a blank one).
DRAWN = """() => [...document.querySelectorAll('[data-chart] canvas')].map((canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
  return drawn;
})"""


@pytest.fixture
def world() -> f.World:
    made = dashboard_world()
    user = User.objects.create(username="dash_admin", full_name="看板管理员")
    user.set_password("xiangzhi-demo")
    user.save()
    RoleAssignment.objects.create(user=user, role=Role.COUNTY_ADMIN, region=made.county)
    return made


def charts_drawn(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('[data-chart] canvas').length >= {count}")
    drawn = page.evaluate(DRAWN)
    assert len(drawn) == count
    assert all(pixels > 500 for pixels in drawn), drawn


def test_county_admin_changes_the_period_drills_down_and_exports(world, desktop, screenshot):
    page = desktop
    login(page, "dash_admin")
    page.goto("/dashboard/")
    assert page.get_by_test_id("title").inner_text() == "测试县数据看板"

    # The picker: a year, then the month fields appear again for a month.
    page.get_by_label("统计时段").select_option("year")
    assert page.get_by_label("月份").is_hidden()
    page.get_by_label("年度").fill("2026")
    page.get_by_role("button", name="查看", exact=True).click()
    page.wait_for_url("**/dashboard/?period=year&year=2026")
    assert page.get_by_test_id("period-label").inner_text() == "2026年"
    assert page.get_by_test_id("card-cases_filed").inner_text() == "4件"
    # Four trend charts and the ranking: every one holds the figures of the page.
    charts_drawn(page, 5)
    data = page.evaluate(CHART_DATA)
    assert data["chart-cases"][0][:4] == [3, 0, 0, 1]  # filed per month: January 3, April 1
    assert data["chart-cases"][1][:4] == [1, 0, 0, 0]  # resolved on time
    assert data["chart-points"][0][:3] == [50, 30, 0]
    assert data["chart-points"][1][:3] == [0, 20, 0]
    assert data["chart-meals"][0][:3] == [1, 0, 1]
    assert data["chart-sales"][0][:2] == [1234.5, 0]
    assert data["chart-ranking"] == [[3, 1]]
    screenshot(page, "year")

    page.get_by_label("统计时段").select_option("month")
    page.get_by_label("月份").fill("2026-01")
    page.get_by_role("button", name="查看", exact=True).click()
    page.wait_for_url("**/dashboard/?period=month&month=2026-01")
    assert page.get_by_test_id("period-label").inner_text() == "2026年1月"
    charts_drawn(page, 5)
    data = page.evaluate(CHART_DATA)
    assert len(data["chart-cases"][0]) == 31
    assert data["chart-cases"][0][10:12] == [2, 1]  # 11 and 12 January
    page.get_by_test_id("period-next").click()
    expect(page.get_by_test_id("period-label")).to_have_text("2026年2月")
    page.get_by_test_id("period-previous").click()
    expect(page.get_by_test_id("period-label")).to_have_text("2026年1月")

    # Drill down: the township, then the village, then a grid.
    page.get_by_test_id("table-drill").get_by_role("link", name="一镇").click()
    expect(page.get_by_test_id("crumbs")).to_have_text("测试县 › 一镇")
    assert page.get_by_test_id("period-label").inner_text() == "2026年1月"
    page.get_by_test_id("table-drill").get_by_role("link", name="甲村").click()
    expect(page.get_by_test_id("crumbs")).to_have_text("测试县 › 一镇 › 甲村")
    assert f"region={CODES['V1']}" in page.url
    rows = page.get_by_test_id("table-drill").locator("tbody tr")
    assert rows.nth(0).inner_text().split("\t")[:2] == ["第一网格", "1"]
    assert rows.nth(1).inner_text().split("\t")[:2] == ["第二网格", "1"]
    screenshot(page, "village")

    # The export link answers the table as .xlsx.
    with page.expect_download() as started:
        page.get_by_test_id("export-drill").click()
    download = started.value
    assert download.suggested_filename == "甲村数据看板2026年1月-各网格情况.xlsx"
    with open(download.path(), "rb") as saved:
        sheet = load_workbook(saved).active
    assert [list(r)[:2] for r in sheet.iter_rows(values_only=True)] == [
        ["网格", "受理诉求（件）"],
        ["第一网格", 1],
        ["第二网格", 1],
        ["村（社区）本级", 0],  # the village's canteen meal and its cooperative's sale
        ["合计", 2],
    ]

    page.get_by_test_id("table-drill").get_by_role("link", name="第一网格").click()
    expect(page.get_by_test_id("crumbs")).to_have_text("测试县 › 一镇 › 甲村 › 第一网格")
    assert page.get_by_test_id("no-children").is_visible()

    # A module page from the tabs keeps the region and the period.
    page.get_by_test_id("tab-grids").click()
    expect(page.get_by_test_id("title")).to_have_text("第一网格网格民情考核")
    assert page.get_by_test_id("card-on_time_rate").inner_text() == "100.0%"


def test_the_dashboard_fits_a_phone(world, phone, screenshot):
    login(phone, "dash_admin")
    phone.goto("/dashboard/?period=year&year=2026")
    charts_drawn(phone, 5)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # Only the year field of the picker shows for a year.
    assert phone.get_by_label("年度").is_visible()
    assert phone.get_by_label("月份").is_hidden()
    screenshot(phone, "overview")
    phone.goto("/dashboard/grids/?period=year&year=2026&rank=on_time_rate")
    charts_drawn(phone, 2)  # the cases and the ranking: no overdue supervision, an empty chart
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # Choosing another ranking figure sends the form at once.
    phone.get_by_label("排名指标").select_option("cases_filed")
    phone.wait_for_url("**rank=cases_filed**")
    assert phone.get_by_test_id("table-ranking").locator("tbody tr").nth(0).inner_text().split("\t")[:3] == [
        "1",
        "一镇",
        "3",
    ]
    screenshot(phone, "grids")
