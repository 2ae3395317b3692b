"""The collective economy, joint building and places pages in a real browser: a village secretary fills
in the year's income on a phone (a bad amount is refused next to its field and what was typed stays), then
reads the village's years; the county admin reads the villages, the township summary, a joint community
and the places overview on a desktop. Screenshots at 390×844 and 1366×900."""

from __future__ import annotations

import datetime as dt

import pytest

from industry.models import CollectiveIncome, DesignationKind, JointKind, TourismRecord
from industry.services import joint as joint_services
from industry.services import places as place_services
from tests.browser_fixtures import login
from tests.industry.factories_places import key, places_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(demo_county):
    made = places_world(demo_county)
    r, admin = made.r, made.admin
    for region, kind, theme in (
        ("城关镇", DesignationKind.FEATURED_TOWN, "电商小镇"),
        ("石花镇", DesignationKind.FEATURED_TOWN, "茶旅小镇"),
        ("新华村", DesignationKind.DEVELOPMENT_TYPE, "red_beautiful"),
        ("东风村", DesignationKind.DEVELOPMENT_TYPE, "liveable"),
        ("新华村", DesignationKind.FEATURED_VILLAGE, "茶叶特色村"),
    ):
        place_services.designation_add(
            actor=admin, idempotency_key=key(), region=r[region], kind=kind, theme=theme
        )
    community = joint_services.joint_community_create(
        actor=admin,
        idempotency_key=key(),
        kind=JointKind.VILLAGE_ENTERPRISE,
        name="新华茶旅联建",
        brand="新华茶旅",
        lead_region=r["新华村"],
        party_organisation=made.joint_committee,
        established_on=dt.date(2021, 5, 1),
        description="新华村联合东风村和新华茶业，共建茶旅文化品牌。",
    )
    joint_services.joint_member_add(
        actor=admin, idempotency_key=key(), community=community, region=r["东风村"]
    )
    joint_services.joint_member_add(
        actor=admin, idempotency_key=key(), community=community, business=made.business
    )
    for year in (2024, 2025):
        joint_services.joint_result_set(
            actor=admin,
            idempotency_key=key(),
            community=community,
            year=year,
            jobs=100 + year % 10,
            income_yuan="1200000",
            households_benefited=60,
        )
        for month in range(1, 13):
            TourismRecord.objects.create(
                community=community, month=dt.date(year, month, 1), visits=42_000, income_fen=1_670_000_000
            )
    made.community = community
    return made


def test_secretary_fills_the_year_on_a_phone_and_the_county_reads_on_a_desktop(
    world, phone, desktop, screenshot
):
    village = world.r["新华村"]
    login(phone, "village_secretary")
    phone.goto(f"/industry/economy/villages/{village.pk}/")
    screenshot(phone, "phone-village")
    phone.get_by_test_id("income-edit").click()
    phone.get_by_label("填报年度").select_option("2025")
    phone.get_by_role("button", name="切换年度").click()
    phone.wait_for_url("**year=2025")
    phone.get_by_label("乡村旅游").fill("12.345")
    phone.get_by_test_id("income-save").click()
    error = phone.get_by_test_id("error-amount_tourism")
    assert error.inner_text() == "金额应为不小于 0 的数字（元），最多两位小数。"
    assert phone.get_by_label("乡村旅游").input_value() == "12.345"
    screenshot(phone, "phone-form-error")
    phone.get_by_label("乡村旅游").fill("20000")
    phone.get_by_test_id("income-save").click()
    phone.wait_for_url(f"**/industry/economy/villages/{village.pk}/")
    assert CollectiveIncome.objects.get(village=village, year=2025, source="tourism").amount_fen == 2_000_000
    assert "¥110,000.50" in phone.get_by_test_id("village-years").inner_text()
    phone.goto("/industry/economy/?year=2025")
    screenshot(phone, "phone-economy")
    phone.goto(f"/industry/joint/{world.community.pk}/")
    screenshot(phone, "phone-joint")
    phone.goto("/industry/places/")
    screenshot(phone, "phone-places")

    login(desktop, "county_admin")
    desktop.goto("/industry/economy/?year=2025")
    desktop.get_by_role("link", name="合计").click()
    desktop.wait_for_url("**sort=-total**")
    first = desktop.get_by_test_id("economy-row").first.inner_text()
    assert first.startswith("东风村")
    screenshot(desktop, "desktop-economy")
    desktop.goto("/industry/economy/townships/?year=2025")
    screenshot(desktop, "desktop-townships")
    desktop.goto(f"/industry/economy/villages/{village.pk}/")
    screenshot(desktop, "desktop-village")
    desktop.goto("/industry/joint/?year=2025")
    screenshot(desktop, "desktop-joint-list")
    desktop.goto(f"/industry/joint/{world.community.pk}/")
    assert "504,000" in desktop.get_by_test_id("joint-years").inner_text()
    screenshot(desktop, "desktop-joint")
    desktop.goto("/industry/places/")
    screenshot(desktop, "desktop-places")
    desktop.goto("/industry/places/development_type/")
    screenshot(desktop, "desktop-places-types")
    desktop.goto("/industry/places/new/")
    screenshot(desktop, "desktop-designation-form")
    desktop.goto("/industry/economy/thresholds/")
    screenshot(desktop, "desktop-thresholds")
