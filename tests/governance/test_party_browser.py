"""The Party management pages in a real browser: the county admin on a desktop creates a joint Party
committee and appoints its secretary; a village secretary on a phone registers an applicant and then
transfers them. The database is checked exactly afterwards. Screenshots land in
test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from governance.models import (
    AuditAction,
    AuditEvent,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
)
from governance.services import party as party_services
from tests.browser_fixtures import login
from tests.governance.party_factories import party_world_make, resident_make, village_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = dt.date


@pytest.fixture
def world(transactional_db):
    from governance.demo import seed_demo_county

    return party_world_make(seed_demo_county(password="xiangzhi-demo"))


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def option_texts(select) -> list[str]:
    return select.evaluate("s => Array.from(s.options).map(o => o.textContent.trim())")


def test_county_admin_creates_a_joint_committee_and_appoints_its_secretary(world, desktop, screenshot):
    village_make(world.tree.regions["五山镇"], "茨河村")
    login(desktop, "county_admin")
    desktop.goto("/governance/party/")
    desktop.get_by_test_id("org-create-link").click()
    desktop.wait_for_url("**/governance/party/organisations/new/")
    form = desktop.get_by_test_id("org-create-form")
    villages = form.locator("[data-org-villages]")
    assert not villages.is_visible()  # only a joint committee lists villages

    form.get_by_label("类型").select_option("joint_committee")
    # The kind narrows the parents to township committees and the regions to villages.
    assert option_texts(form.locator("[data-org-parent]")) == [
        "（无：县委是党组织树的根）",
        "中共城关镇委员会",
        "中共五山镇委员会",
    ]
    form.locator("[data-org-parent]").select_option(label="中共五山镇委员会")
    assert option_texts(form.locator("[data-org-region]")) == ["请选择区域", "堰河村", "茨河村"]
    form.locator("[data-org-region]").select_option(label="堰河村")
    form.get_by_label("名称").fill("中共堰河联合委员会")
    form.get_by_label("成立日期").fill("2019-06-01")
    assert villages.is_visible()
    assert villages.locator("[data-township-path]:visible").count() == 1  # 五山镇's villages only
    villages.get_by_label("茨河村").check()
    fits(desktop, 1366)
    screenshot(desktop, "org-form")
    form.get_by_test_id("submit").click()

    org = PartyOrganisation.objects.get(name="中共堰河联合委员会")
    desktop.wait_for_url(f"**/governance/party/organisations/{org.pk}/")
    assert desktop.locator(".message--success").inner_text() == "已新建党组织“中共堰河联合委员会”。"
    assert desktop.get_by_test_id("joint-villages").locator("li").all_inner_texts() == [
        "堰河村（牵头村）",
        "茨河村",
    ]

    # Appoint the secretary: search by name, the one match is chosen, the form posts.
    desktop.get_by_test_id("appoint").locator("summary").click()
    appoint = desktop.get_by_test_id("appoint-form")
    appoint.get_by_role("searchbox").fill("王军")
    option = appoint.get_by_test_id("pick-options").locator("label.pick")
    option.wait_for()
    assert option.inner_text().split("\n")[0] == "王军"
    assert appoint.locator("input[type=radio]:checked").count() == 1
    appoint.get_by_label("职务").select_option("secretary")
    appoint.get_by_label("任期开始").fill("2024-01-05")
    appoint.get_by_label("任期结束").fill("2029-01-05")
    screenshot(desktop, "appoint-form")
    appoint.get_by_test_id("appoint-submit").click()
    desktop.wait_for_url(f"**/governance/party/organisations/{org.pk}/#leaders")
    assert (
        desktop.locator(".message--success").inner_text()
        == "已任命王军为中共堰河联合委员会书记（2024-01-05起）。"
    )
    leaders = desktop.get_by_test_id("current-leaders")
    assert leaders.locator(".leader__position").all_inner_texts() == ["书记"]
    assert leaders.locator(".leader__name").all_inner_texts() == ["王军"]
    fits(desktop, 1366)
    screenshot(desktop, "org-detail")

    # Exactly what was written.
    org.refresh_from_db()
    assert (org.kind, org.parent_id, org.region.name, org.established_on, org.path) == (
        "joint_committee",
        world.tree.wushan.pk,
        "堰河村",
        D(2019, 6, 1),
        f"{world.tree.wushan.path}{org.pk}/",
    )
    assert sorted(org.villages.values_list("name", flat=True)) == ["堰河村", "茨河村"]
    assert list(
        PartyLeadership.objects.filter(organisation=org).values_list(
            "member_id", "position", "term_start", "term_end"
        )
    ) == [(world.members["王军"].pk, "secretary", D(2024, 1, 5), D(2029, 1, 5))]
    assert list(
        AuditEvent.objects.filter(actor__username="county_admin", action=AuditAction.CREATE)
        .order_by("pk")
        .values_list("object_type", "object_repr")
    ) == [
        ("governance.partyorganisation", "中共堰河联合委员会"),
        ("governance.partyleadership", "中共堰河联合委员会 · 书记 · 王军"),
    ]


def test_village_secretary_registers_and_transfers_a_member_on_a_phone(world, phone, screenshot):
    # A second organisation in 新华村 for the transfer: the tea co-operative's branch.
    coop = party_services.party_org_create(
        actor=None,
        kind="enterprise_branch",
        name="新华茶叶合作社党支部",
        region=world.tree.regions["新华村"],
        parent=world.tree.chengguan,
    )
    resident = resident_make(world.tree.regions["第一网格"], "罗小梅", birth=D(2000, 6, 6), gender="F")
    login(phone, "village_secretary")
    phone.goto("/governance/party/members/")
    phone.get_by_test_id("member-create-link").click()
    phone.wait_for_url("**/governance/party/members/new/")
    form = phone.get_by_test_id("member-create-form")
    form.get_by_role("searchbox").fill("罗小梅")
    option = form.get_by_test_id("pick-options").locator("label.pick")
    option.wait_for()
    assert option.inner_text().split("\n")[0] == "罗小梅"
    assert form.locator("input[type=radio]:checked").get_attribute("value") == str(resident.pk)
    form.get_by_label("所在党组织").select_option(label="新华村党支部")
    form.get_by_label("党员类别").select_option("young_farmer")
    # Submitted without the date: the refusal sits under the field, the choices are kept.
    form.get_by_test_id("submit").click()
    phone.wait_for_load_state()
    field = phone.locator("[data-field=applied_on]")
    assert field.locator(".field__error").inner_text() == "请填写递交入党申请的日期。"
    assert phone.locator("input[name=resident]:checked").get_attribute("value") == str(resident.pk)
    assert phone.get_by_label("党员类别").input_value() == "young_farmer"
    fits(phone, 390)
    screenshot(phone, "register-refused")
    phone.get_by_label("递交入党申请日期").fill("2025-10-08")
    phone.get_by_test_id("submit").click()

    member = PartyMember.objects.get(resident=resident)
    phone.wait_for_url(f"**/governance/party/members/{member.pk}/")
    assert phone.locator(".message--success").inner_text() == "已将罗小梅登记为新华村党支部的入党申请人。"
    assert phone.get_by_test_id("member-stage").inner_text() == "入党申请人"
    fits(phone, 390)
    screenshot(phone, "registered")

    transfers = phone.get_by_test_id("transfers")
    transfers.get_by_test_id("transfer").locator("summary").click()
    transfer = phone.get_by_test_id("transfer-form")
    assert option_texts(transfer.get_by_label("转入党组织")) == ["请选择转入的党组织", "新华茶叶合作社党支部"]
    transfer.get_by_label("转入党组织").select_option(label="新华茶叶合作社党支部")
    transfer.get_by_label("转接日期").fill("2025-11-02")
    transfer.get_by_label("转接原因").fill("到合作社务工")
    screenshot(phone, "transfer-form")
    transfer.get_by_test_id("transfer-submit").click()
    phone.wait_for_url(f"**/governance/party/members/{member.pk}/#transfers")
    assert (
        phone.locator(".message--success").inner_text()
        == "已将罗小梅的组织关系由新华村党支部转入新华茶叶合作社党支部（2025-11-02）。"
    )
    history = phone.get_by_test_id("transfers").locator("li.transfer")
    assert history.count() == 1
    assert (
        re.sub(r"\s+", " ", history.inner_text())
        == "2025-11-02 新华村党支部 → 转入 新华茶叶合作社党支部 到合作社务工"
    )
    fits(phone, 390)
    screenshot(phone, "transferred")

    # Exactly what was written.
    member.refresh_from_db()
    assert (
        member.organisation_id,
        member.category,
        member.stage,
        member.sponsor_1_id,
        member.sponsor_2_id,
    ) == (
        coop.pk,
        "young_farmer",
        "applicant",
        None,
        None,
    )
    assert list(MembershipStep.objects.filter(member=member).values_list("stage", "occurred_on", "note")) == [
        ("applicant", D(2025, 10, 8), "")
    ]
    assert list(
        MemberTransfer.objects.filter(member=member).values_list(
            "from_organisation_id", "to_organisation_id", "transferred_on", "reason"
        )
    ) == [(world.tree.xinhua.pk, coop.pk, D(2025, 11, 2), "到合作社务工")]
    assert list(
        AuditEvent.objects.filter(actor__username="village_secretary")
        .exclude(action=AuditAction.LOGIN)
        .order_by("pk")
        .values_list("action", "object_type", "object_id")
    ) == [
        ("create", "governance.partymember", str(member.pk)),
        ("update", "governance.partymember", str(member.pk)),
    ]
