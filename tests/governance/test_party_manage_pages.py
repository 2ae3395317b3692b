"""The Party area's management pages: a new organisation, appointing a leader and ending a term,
registering an applicant, transferring a member, the talent registry with training records, role models
and the Shennong heroes gatherings, and the person picker.

Each page: success with the exact rows written, every refusal in Chinese next to its field with what was
typed kept, a replay of the same idempotency key writing nothing more, out of scope 404, and 403 for
those who may only look (as the member-advance and sages pages do)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import (
    AuditAction,
    AuditEvent,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    Region,
    RoleModel,
    RoleModelSelection,
    ShennongGathering,
    Talent,
    TalentTraining,
    User,
)
from governance.roles import Role
from governance.services import roles as role_services
from tests.governance.party_factories import party_world_make, resident_make, village_make

D = dt.date
KEY = "0f6b8a2c9d3e4f5a6b7c8d9e0f1a2b3c"


@pytest.fixture
def world(demo_county):
    return party_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def viewer_client(region: Region) -> Client:
    viewer = role_services.user_create(username="viewer", password="x-long-password-1", full_name="观察员")
    role_services.role_assign(user=viewer, role=Role.VIEWER, region=region)
    client = Client()
    client.force_login(viewer)
    return client


def text(response) -> str:
    # ASCII whitespace only: the full-width spaces that indent the organisation tree are kept.
    return re.sub(r"[ \t\r\n]+", " ", response.content.decode())


def part(page: str, testid: str) -> str:
    """The form (or block) with data-testid=`testid`, up to its end."""
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</form>", start)]


def errors_of(page: str, field: str) -> list[str]:
    """The error messages shown right under the field named `field` (its first occurrence)."""
    match = re.search(rf'data-field="{field}"(.*?)(?=data-field="|</form>|$)', page)
    assert match is not None, field
    return re.findall(r'<p class="field__error"[^>]*>(.*?)</p>', match.group(1))


def top_errors(page: str) -> list[str]:
    match = re.search(
        r'<div class="form-error" role="alert" data-testid="form-error">(.*?)</div></div>', page
    )
    return re.findall(r"<p>(.*?)</p>", match.group(1)) if match else []


def audit_rows(object_type: str, action: str = AuditAction.CREATE) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=object_type, action=action).order_by("pk"))


# --- a new organisation -------------------------------------------------------------------------


@pytest.fixture
def neighbour(world):
    """A second village of 五山镇 for joint committees: 茨河村."""
    village, _grid = village_make(world.tree.regions["五山镇"], "茨河村")
    return village


def test_county_admin_creates_a_joint_committee(world, neighbour):
    client = client_for("county_admin")
    url = reverse("governance:party_organisation_create")
    page = text(client.get(url))
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', page)
    yanhe = world.tree.regions["堰河村"]
    data = {
        "kind": "joint_committee",
        "parent": str(world.tree.wushan.pk),
        "region": str(yanhe.pk),
        "name": "中共堰河联合委员会",
        "villages": [str(neighbour.pk)],
        "established_on": "2019-06-01",
        "idempotency_key": KEY,
    }
    response = client.post(url, data)
    org = PartyOrganisation.objects.get(name="中共堰河联合委员会")
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:party_organisation_detail", args=[org.pk])
    assert (org.kind, org.parent_id, org.region_id, org.established_on, org.path) == (
        "joint_committee",
        world.tree.wushan.pk,
        yanhe.pk,
        D(2019, 6, 1),
        f"{world.tree.wushan.path}{org.pk}/",
    )
    assert sorted(org.villages.values_list("name", flat=True)) == ["堰河村", "茨河村"]
    (audit,) = audit_rows("governance.partyorganisation")[-1:]
    assert (audit.actor_name, audit.changes["idempotency_key"], audit.changes["villages"]) == (
        "李华",
        [None, KEY],
        [None, ["堰河村", "茨河村"]],
    )
    page = text(client.get(response["Location"]))
    assert "已新建党组织“中共堰河联合委员会”。" in page
    assert "堰河村（牵头村）" in page

    # The same form sent again (a double tap) writes nothing more and lands on the same page.
    again = client.post(url, data)
    assert again["Location"] == response["Location"]
    assert PartyOrganisation.objects.filter(name="中共堰河联合委员会").count() == 1
    assert len(audit_rows("governance.partyorganisation")) == 7  # 6 by the factories + this one


def test_organisation_form_refusals_are_next_to_their_fields(world, neighbour):
    client = client_for("county_admin")
    url = reverse("governance:party_organisation_create")
    before = PartyOrganisation.objects.count()

    response = client.post(url, {"idempotency_key": KEY})
    assert response.status_code == 400
    page = text(response)
    assert errors_of(page, "kind") == ["请选择党组织类型。"]
    assert errors_of(page, "region") == ["请选择所在区域。"]
    assert errors_of(page, "name") == ["请填写党组织名称。"]
    assert top_errors(page) == ["请按提示修改标红的内容。"]

    chengguan = world.tree.regions["城关镇"]
    response = client.post(
        url,
        {
            "kind": "village_branch",
            "parent": str(world.tree.chengguan.pk),
            "region": str(chengguan.pk),
            "name": "城关新支部",
            "established_on": "2020-01-01",
            "idempotency_key": KEY,
        },
    )
    page = text(response)
    assert errors_of(page, "region") == ["村（社区）党支部应设在村（社区）一级，“城关镇”是乡镇。"]
    # What was typed is kept: the kind, the parent, the region, the name, the date.
    assert '<option value="village_branch" selected>' in page
    assert f'<option value="{world.tree.chengguan.pk}" data-kind="township_committee"' in page
    assert re.search(rf'<option value="{world.tree.chengguan.pk}"[^>]*selected>', page)
    assert re.search(rf'<option value="{chengguan.pk}"[^>]*selected>城关镇</option>', page)
    assert 'value="城关新支部"' in page
    assert 'value="2020-01-01"' in page

    xinhua = world.tree.regions["新华村"]
    cases = [
        (
            {"kind": "village_branch", "parent": str(world.tree.county.pk), "region": str(xinhua.pk)},
            "parent",
            "村（社区）党支部的上级党组织应为乡镇党委，“中共谷城县委员会”是县委。",
        ),
        (
            {
                "kind": "village_branch",
                "parent": str(world.tree.chengguan.pk),
                "region": str(xinhua.pk),
                "name": "新华村党支部",
            },
            "name",
            "“中共城关镇委员会”下已有名为“新华村党支部”的党组织。",
        ),
        (
            {
                "kind": "joint_committee",
                "parent": str(world.tree.wushan.pk),
                "region": str(world.tree.regions["堰河村"].pk),
            },
            "villages",
            "联合党委至少应覆盖两个村（社区）。",
        ),
        (
            {
                "kind": "village_branch",
                "parent": str(world.tree.chengguan.pk),
                "region": str(xinhua.pk),
                "villages": [str(neighbour.pk)],
            },
            "villages",
            "只有联合党委才能设置覆盖的村（社区）。",
        ),
        (
            {"kind": "village_branch", "parent": str(world.tree.wushan.pk), "region": str(xinhua.pk)},
            "region",
            "“新华村”不在上级党组织“中共五山镇委员会”所辖的“五山镇”范围内。",
        ),
        (
            {
                "kind": "village_branch",
                "parent": str(world.tree.chengguan.pk),
                "region": str(xinhua.pk),
                "established_on": "2099-01-01",
            },
            "established_on",
            "日期不能晚于今天。",
        ),
        (
            {"kind": "county_committee", "region": str(world.tree.regions["谷城县"].pk)},
            "kind",
            "“谷城县”已有县委。",
        ),
        (
            {
                "kind": "village_branch",
                "parent": str(world.tree.chengguan.pk),
                "region": str(xinhua.pk),
                "established_on": "2020-02-30",
            },
            "established_on",
            "请输入有效的日期，如 2024-01-01。",
        ),
    ]
    for extra, field, message in cases:
        data = {"name": "某党组织", "idempotency_key": KEY, **extra}
        response = client.post(url, data)
        assert response.status_code == 400, message
        assert errors_of(text(response), field) == [message], message
    assert PartyOrganisation.objects.count() == before

    response = client.post(
        url,
        {
            "kind": "village_branch",
            "parent": str(world.tree.chengguan.pk),
            "region": str(xinhua.pk),
            "name": "某党组织",
        },
    )
    assert top_errors(text(response)) == ["缺少防重复提交标识，请刷新页面后重新提交。"]


def test_organisation_form_offers_only_the_managers_area(world):
    client = client_for("township_admin")
    url = reverse("governance:party_organisation_create")
    page = text(client.get(url, {"parent": world.tree.chengguan.pk}))
    parents = re.findall(
        r'<option value="(\d+)" data-kind="[a-z_]+" data-region-path="[^"]*"[^>]*>([^<]+)</option>', page
    )
    assert [name for _pk, name in parents] == ["　中共城关镇委员会", "　　新华村党支部"]
    assert re.search(rf'<option value="{world.tree.chengguan.pk}"[^>]*selected>', page)  # from ?parent=
    regions = re.findall(r'data-path="[^"]*" data-level="([a-z]+)"[^>]*>([^<]+)</option>', page)
    assert regions == [("township", "城关镇"), ("village", "新华村")]
    # A region outside the township answers like a stale choice, next to the field; nothing is written.
    response = client.post(
        url,
        {
            "kind": "village_branch",
            "parent": str(world.tree.wushan.pk),
            "region": str(world.tree.regions["堰河村"].pk),
            "name": "越界支部",
            "idempotency_key": KEY,
        },
    )
    page = text(response)
    assert errors_of(page, "parent") == ["所选上级党组织不在您的管理范围内，请重新选择。"]
    assert errors_of(page, "region") == ["所选区域不在您的管理范围内，请重新选择。"]
    assert not PartyOrganisation.objects.filter(name="越界支部").exists()
    # The township admin's new branch lands in the tree.
    response = client.post(
        url,
        {
            "kind": "enterprise_branch",
            "parent": str(world.tree.chengguan.pk),
            "region": str(world.tree.regions["新华村"].pk),
            "name": "新华茶叶合作社党支部",
            "idempotency_key": KEY,
        },
    )
    assert response.status_code == 302
    org = PartyOrganisation.objects.get(name="新华茶叶合作社党支部")
    assert (org.kind, org.parent_id, org.region.name) == (
        "enterprise_branch",
        world.tree.chengguan.pk,
        "新华村",
    )


def test_lookers_may_not_create(world):
    url = reverse("governance:party_organisation_create")
    # A village secretary manages 新华村党支部 only: nothing may be founded under a village branch.
    for client in (
        client_for("grid_leader"),
        client_for("canteen_manager"),
        client_for("village_secretary"),
        viewer_client(world.tree.regions["谷城县"]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"kind": "county_committee"}).status_code == 403
        assert "org-create-link" not in text(client.get(reverse("governance:party_organisation_list")))
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert 'data-testid="org-create-link"' in text(
        client_for("township_admin").get(reverse("governance:party_organisation_list"))
    )
    assert PartyOrganisation.objects.count() == 6


# --- leadership ---------------------------------------------------------------------------------


def test_appoint_a_secretary_from_the_organisation_page(world):
    client = client_for("county_admin")
    yanhe = world.tree.yanhe
    url = reverse("governance:party_organisation_detail", args=[yanhe.pk])
    page = text(client.get(url))
    form = part(page, "appoint-form")
    assert f'action="/governance/party/organisations/{yanhe.pk}/leaders/#appoint"' in page
    assert re.search(r'name="appoint-idempotency_key" value="[0-9a-f]{32}"', form)
    assert 'value="2026-11-29"' in form or re.search(
        r'name="appoint-term_start" value="\d{4}-\d{2}-\d{2}"', form
    )

    appoint = reverse("governance:party_leadership_appoint", args=[yanhe.pk])
    # Without JavaScript the 查找 button posts back: the matches come back, nothing is judged yet.
    response = client.post(
        appoint,
        {
            "_pick": "1",
            "appoint-member_q": "王军",
            "appoint-position": "secretary",
            "appoint-term_start": "2024-01-05",
            "appoint-idempotency_key": KEY,
        },
    )
    assert response.status_code == 200
    page = text(response)
    wang = world.members["王军"]
    assert re.search(rf'<input type="radio" name="appoint-member" value="{wang.pk}" checked>', page)
    assert "正式党员 · 堰河村党总支" in page
    assert "field__error" not in part(page, "appoint-form")
    assert 'value="2024-01-05"' in page
    assert f'name="appoint-idempotency_key" value="{KEY}"' in page

    data = {
        "appoint-member_q": "王军",
        "appoint-member": str(wang.pk),
        "appoint-position": "secretary",
        "appoint-term_start": "2024-01-05",
        "appoint-term_end": "",
        "appoint-idempotency_key": KEY,
    }
    response = client.post(appoint, data)
    assert response.status_code == 302
    assert response["Location"] == url + "#leaders"
    lead = PartyLeadership.objects.get(organisation=yanhe)
    assert (lead.member_id, lead.position, lead.term_start, lead.term_end) == (
        wang.pk,
        "secretary",
        D(2024, 1, 5),
        None,
    )
    page = text(client.get(url))
    assert "已任命王军为堰河村党总支书记（2024-01-05起）。" in page
    assert re.search(
        r'data-testid="current-leaders">.*?leader__position--secretary">书记</span>.*?王军.*?2024-01-05 起任',
        page,
    )
    # A replay of the same key: the first appointment, no second row, no refusal.
    assert client.post(appoint, data).status_code == 302
    assert PartyLeadership.objects.filter(organisation=yanhe).count() == 1
    assert audit_rows("governance.partyleadership")[-1].changes["idempotency_key"] == [None, KEY]


def test_appoint_refusals_are_next_to_their_fields(world):
    client = client_for("township_admin")
    xinhua = world.tree.xinhua
    appoint = reverse("governance:party_leadership_appoint", args=[xinhua.pk])
    before = PartyLeadership.objects.count()

    page = text(client.post(appoint, {"appoint-idempotency_key": KEY}))
    assert errors_of(page, "member") == ["请查找并选择一名正式党员。"]
    assert errors_of(page, "position") == ["请选择职务。"]
    assert errors_of(page, "term_start") == ["请填写任期开始日期。"]
    assert 'class="party-fold" open' in page  # the form stays open to show what is wrong

    zhao = world.members["赵国建"]
    base = {"appoint-member_q": "赵国建", "appoint-member": str(zhao.pk), "appoint-idempotency_key": KEY}
    response = client.post(
        appoint, {**base, "appoint-position": "secretary", "appoint-term_start": "2024-03-01"}
    )
    assert response.status_code == 400
    page = text(response)
    assert errors_of(page, "position") == [
        "“新华村党支部”已有书记刘强（任期自2021-01-10起），同一时间只能有一名书记，请先结束其任期。"
    ]
    assert re.search(rf'name="appoint-member" value="{zhao.pk}" checked>', page)  # the choice is kept
    assert '<option value="secretary" selected>' in page
    assert 'value="2024-03-01"' in page

    page = text(
        client.post(
            appoint,
            {
                **base,
                "appoint-position": "committee_member",
                "appoint-term_start": "2024-03-01",
                "appoint-term_end": "2024-03-01",
            },
        )
    )
    assert errors_of(part(page, "appoint-form"), "term_end") == ["任期结束日期应晚于任期开始日期。"]
    # An applicant is no choice at all (only full members are), nor is a member outside the township.
    for member in (world.members["孙浩宇"], world.members["王军"]):
        page = text(
            client.post(
                appoint,
                {
                    **base,
                    "appoint-member": str(member.pk),
                    "appoint-position": "committee_member",
                    "appoint-term_start": "2024-03-01",
                },
            )
        )
        assert errors_of(page, "member") == ["所选党员不在您可任命的范围内，请重新查找选择。"]
    assert PartyLeadership.objects.count() == before


def test_end_a_term_then_appoint_the_successor(world):
    client = client_for("village_secretary")
    xinhua = world.tree.xinhua
    url = reverse("governance:party_organisation_detail", args=[xinhua.pk])
    lead = PartyLeadership.objects.get(organisation=xinhua, position="secretary")
    end = reverse("governance:party_leadership_end", args=[xinhua.pk, lead.pk])
    prefix = f"end-{lead.pk}"
    assert f'data-testid="end-form-{lead.pk}"' in text(client.get(url))

    response = client.post(end, {f"{prefix}-term_end": "2021-01-10"})
    assert response.status_code == 400
    page = text(response)
    assert errors_of(part(page, f"end-form-{lead.pk}"), "term_end") == ["任期结束日期应晚于任期开始日期。"]
    assert '<details class="leader__end" open> <summary>结束任期</summary>' in page
    assert 'value="2021-01-10"' in page
    page = text(client.post(end, {f"{prefix}-term_end": ""}))
    assert errors_of(part(page, f"end-form-{lead.pk}"), "term_end") == ["请填写任期结束日期。"]

    response = client.post(end, {f"{prefix}-term_end": "2026-06-30"})
    assert response.status_code == 302
    assert response["Location"] == url + "#leaders"
    lead.refresh_from_db()
    assert lead.term_end == D(2026, 6, 30)
    page = text(client.get(url))
    assert "刘强的书记任期已于2026-06-30结束。" in page
    assert "暂无现任班子成员。" in page
    assert re.search(r'data-testid="past-leaders">.*?刘强.*?2021-01-10 – 2026-06-30', page)
    # A second submit of the old page: the term has ended, said at the top of the fresh page.
    response = client.post(end, {f"{prefix}-term_end": "2026-07-01"}, follow=True)
    assert "该任期已于2026-06-30结束。" in text(response)
    lead.refresh_from_db()
    assert lead.term_end == D(2026, 6, 30)

    appoint = reverse("governance:party_leadership_appoint", args=[xinhua.pk])
    response = client.post(
        appoint,
        {
            "appoint-member": str(world.members["赵国建"].pk),
            "appoint-position": "secretary",
            "appoint-term_start": "2026-07-01",
            "appoint-idempotency_key": KEY,
        },
    )
    assert response.status_code == 302
    assert list(
        PartyLeadership.objects.filter(organisation=xinhua)
        .order_by("term_start")
        .values_list("member__resident__name", "position", "term_start", "term_end")
    ) == [("刘强", "secretary", D(2021, 1, 10), D(2026, 6, 30)), ("赵国建", "secretary", D(2026, 7, 1), None)]


def test_leadership_scope_and_permission(world):
    wushan = world.tree.wushan
    lead = PartyLeadership.objects.get(organisation=world.tree.xinhua)
    township = client_for("township_admin")
    appoint = reverse("governance:party_leadership_appoint", args=[wushan.pk])
    assert township.post(appoint, {"appoint-position": "secretary"}).status_code == 404
    assert (
        township.post(reverse("governance:party_leadership_end", args=[wushan.pk, lead.pk]), {}).status_code
        == 404
    )
    # The term belongs to another organisation than the address says: 404 as well.
    county = client_for("county_admin")
    assert (
        county.post(
            reverse("governance:party_leadership_end", args=[world.tree.yanhe.pk, lead.pk]),
            {f"end-{lead.pk}-term_end": "2025-01-01"},
        ).status_code
        == 404
    )
    viewer = viewer_client(world.tree.regions["城关镇"])
    xinhua_url = reverse("governance:party_organisation_detail", args=[world.tree.xinhua.pk])
    page = text(viewer.get(xinhua_url))
    assert "刘强" in page
    assert "appoint-form" not in page
    assert "end-form-" not in page
    assert (
        viewer.post(
            reverse("governance:party_leadership_appoint", args=[world.tree.xinhua.pk]), {}
        ).status_code
        == 403
    )
    assert (
        viewer.post(
            reverse("governance:party_leadership_end", args=[world.tree.xinhua.pk, lead.pk]),
            {f"end-{lead.pk}-term_end": "2025-01-01"},
        ).status_code
        == 403
    )
    assert county.get(reverse("governance:party_leadership_appoint", args=[wushan.pk])).status_code == 405
    lead.refresh_from_db()
    assert lead.term_end is None


# --- registering an applicant -------------------------------------------------------------------


def test_village_secretary_registers_an_applicant(world):
    grid = world.tree.regions["第一网格"]
    resident = resident_make(grid, "罗小梅", birth=D(2001, 6, 6), gender="F")
    client = client_for("village_secretary")
    url = reverse("governance:party_member_create")
    page = text(client.get(url))
    # One organisation to choose from: already chosen.
    assert re.findall(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>',
        part(page, "member-create-form").split('data-field="organisation"')[1].split("</select>")[0],
    ) == [(str(world.tree.xinhua.pk), "　　新华村党支部")]
    assert f'<option value="{world.tree.xinhua.pk}" selected>' in page

    data = {
        "resident_q": "罗小梅",
        "resident": str(resident.pk),
        "organisation": str(world.tree.xinhua.pk),
        "category": "young_farmer",
        "applied_on": "2025-10-08",
        "idempotency_key": KEY,
    }
    response = client.post(url, data)
    member = PartyMember.objects.get(resident=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:party_member_detail", args=[member.pk])
    assert (member.organisation_id, member.category, member.stage, member.sponsor_1_id) == (
        world.tree.xinhua.pk,
        "young_farmer",
        "applicant",
        None,
    )
    assert list(MembershipStep.objects.filter(member=member).values_list("stage", "occurred_on")) == [
        ("applicant", D(2025, 10, 8))
    ]
    audit = audit_rows("governance.partymember")[-1]
    assert (audit.actor_name, audit.object_id, audit.changes["idempotency_key"]) == (
        "刘强",
        str(member.pk),
        [None, KEY],
    )
    assert "已将罗小梅登记为新华村党支部的入党申请人。" in text(client.get(response["Location"]))
    again = client.post(url, data)
    assert again["Location"] == response["Location"]
    assert PartyMember.objects.filter(resident=resident).count() == 1


def test_register_refusals_are_next_to_their_fields(world):
    grid = world.tree.regions["第一网格"]
    young = resident_make(grid, "王小虎", birth=D(2010, 1, 1))
    adult = resident_make(grid, "陈思远", birth=D(1999, 9, 9))
    outside = resident_make(world.tree.regions["堰河村第一网格"], "堰河新人", birth=D(1999, 9, 9))
    client = client_for("village_secretary")
    url = reverse("governance:party_member_create")
    before = PartyMember.objects.count()

    page = text(client.post(url, {"idempotency_key": KEY}))
    assert errors_of(page, "resident") == ["请查找并选择要登记的居民。"]
    assert errors_of(page, "organisation") == ["请选择所在党组织。"]
    assert errors_of(page, "applied_on") == ["请填写递交入党申请的日期。"]

    base = {"organisation": str(world.tree.xinhua.pk), "category": "regular", "idempotency_key": KEY}
    cases = [
        (
            {"resident": str(young.pk), "applied_on": "2025-06-01"},
            "applied_on",
            "申请入党须年满十八周岁：“王小虎”在2025-06-01还不满十八周岁。",
        ),
        (
            {"resident": str(world.members["刘强"].resident_id), "applied_on": "2025-06-01"},
            "resident",
            "“刘强”已有党员（发展）档案，请在原档案中推进。",
        ),
        (
            {"resident": str(outside.pk), "applied_on": "2025-06-01"},
            "resident",
            "所选居民不在您可登记的范围内，请重新查找选择。",
        ),
        ({"resident": str(adult.pk), "applied_on": "2099-06-01"}, "applied_on", "日期不能晚于今天。"),
        (
            {"resident": str(adult.pk), "applied_on": "2025-06-01", "organisation": str(world.tree.yanhe.pk)},
            "organisation",
            "所选党组织不在您的管理范围内，请重新选择。",
        ),
        (
            {"resident": str(adult.pk), "applied_on": "2025-06-01", "category": "hero"},
            "category",
            "请选择列表中的类别。",
        ),
    ]
    for extra, field, message in cases:
        response = client.post(url, {**base, "resident_q": "陈思远", **extra})
        assert response.status_code == 400, message
        page = text(response)
        assert errors_of(page, field) == [message], message
        assert 'value="陈思远"' in page  # the search text is kept
    page = text(
        client.post(
            url, {**base, "resident_q": "王小虎", "resident": str(young.pk), "applied_on": "2025-06-01"}
        )
    )
    assert re.search(rf'name="resident" value="{young.pk}" checked>', page)  # the chosen one is kept
    assert 'value="2025-06-01"' in page
    assert PartyMember.objects.count() == before


def test_the_picker_finds_only_people_in_scope(world):
    grid = world.tree.regions["第一网格"]
    twin_1 = resident_make(grid, "张伟", birth=D(1990, 1, 1))
    twin_2 = resident_make(grid, "张伟", birth=D(1992, 2, 2))
    far = resident_make(world.tree.regions["堰河村第一网格"], "张伟", birth=D(1993, 3, 3))
    url = reverse("governance:party_member_create")
    client = client_for("village_secretary")
    page = text(
        client.post(url, {"_pick": "1", "resident_q": "张伟", "category": "veteran", "idempotency_key": KEY})
    )
    assert re.findall(r'name="resident" value="(\d+)"', page) == [str(twin_1.pk), str(twin_2.pk)]
    assert "field__error" not in page
    assert '<option value="veteran" selected>' in page  # what was typed stays
    last4 = twin_2.id_number_masked[-4:]
    page = text(client.post(url, {"_pick": "1", "resident_q": f"张伟 {last4}", "idempotency_key": KEY}))
    assert re.findall(r'name="resident" value="(\d+)"( checked)?', page) == [(str(twin_2.pk), " checked")]

    pick = reverse("governance:party_pick")
    fragment = text(client.get(pick, {"purpose": "member", "name": "resident", "q": "张伟"}))
    assert re.findall(r'value="(\d+)"', fragment) == [str(twin_1.pk), str(twin_2.pk)]
    county = client_for("county_admin")
    fragment = text(county.get(pick, {"purpose": "talent", "name": "resident", "q": "张伟"}))
    assert sorted(re.findall(r'value="(\d+)"', fragment)) == sorted(str(r.pk) for r in (twin_1, twin_2, far))
    # A registered member cannot be chosen again; a talent may be registered whoever they are.
    fragment = text(county.get(pick, {"purpose": "member", "name": "resident", "q": "刘强"}))
    assert 'disabled><span class="pick__body"><strong class="pick__name">刘强</strong>' in fragment
    assert "已有党员（发展）档案：正式党员" in fragment
    fragment = text(county.get(pick, {"purpose": "talent", "name": "resident", "q": "刘强"}))
    assert "disabled" not in fragment
    assert "没有找到符合条件的人员" in text(
        client.get(pick, {"purpose": "member", "name": "resident", "q": "王军"})
    )
    leaders = text(client.get(pick, {"purpose": "leader", "name": "appoint-member", "q": "赵国建"}))
    assert re.findall(r'name="appoint-member" value="(\d+)"', leaders) == [str(world.members["赵国建"].pk)]
    assert client.get(pick, {"purpose": "everyone", "name": "resident", "q": "张伟"}).status_code == 404
    assert client.get(pick, {"purpose": "member", "name": "<x>", "q": "张伟"}).status_code == 404
    assert (
        client_for("grid_leader")
        .get(pick, {"purpose": "member", "name": "resident", "q": "张伟"})
        .status_code
        == 403
    )


def test_lookers_may_not_register(world):
    url = reverse("governance:party_member_create")
    for client in (client_for("grid_leader"), viewer_client(world.tree.regions["城关镇"])):
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
        assert "member-create-link" not in text(client.get(reverse("governance:party_member_list")))
    assert 'data-testid="member-create-link"' in text(
        client_for("township_admin").get(reverse("governance:party_member_list"))
    )


# --- transfers ----------------------------------------------------------------------------------


def test_township_admin_transfers_a_member_and_sees_the_history(world):
    zhou = world.members["周平"]
    client = client_for("township_admin")
    url = reverse("governance:party_member_detail", args=[zhou.pk])
    page = text(client.get(url))
    form = part(page, "transfer-form")
    # The targets: organisations the admin manages, except the one the member is in.
    assert re.findall(r'<option value="(\d+)">([^<]+)</option>', form) == [
        (str(world.tree.chengguan.pk), "　中共城关镇委员会")
    ]
    transfer = reverse("governance:party_member_transfer", args=[zhou.pk])
    data = {
        "transfer-to_organisation": str(world.tree.chengguan.pk),
        "transfer-transferred_on": "2025-04-01",
        "transfer-reason": "调镇机关党支部",
        "transfer-idempotency_key": KEY,
    }
    response = client.post(transfer, data)
    assert response.status_code == 302
    assert response["Location"] == url + "#transfers"
    zhou.refresh_from_db()
    assert zhou.organisation_id == world.tree.chengguan.pk
    assert list(
        MemberTransfer.objects.filter(member=zhou).values_list(
            "from_organisation__name", "to_organisation__name", "transferred_on", "reason"
        )
    ) == [("新华村党支部", "中共城关镇委员会", D(2025, 4, 1), "调镇机关党支部")]
    page = text(client.get(url))
    assert "已将周平的组织关系由新华村党支部转入中共城关镇委员会（2025-04-01）。" in page
    assert re.search(
        r'<li class="transfer"><time class="transfer__date" datetime="2025-04-01">2025-04-01</time>'
        r'<span class="transfer__route">新华村党支部 <span aria-hidden="true">→</span>',
        page,
    )
    assert client.post(transfer, data).status_code == 302  # the same key again: nothing more
    assert MemberTransfer.objects.filter(member=zhou).count() == 1


def test_transfer_refusals_are_next_to_their_fields(world):
    client = client_for("county_admin")
    peng = world.members["彭勇"]  # moved 新华村 → 堰河村 on 2023-05-01
    transfer = reverse("governance:party_member_transfer", args=[peng.pk])
    page = text(client.post(transfer, {"transfer-idempotency_key": KEY}))
    form = part(page, "transfer-form")
    assert errors_of(form, "to_organisation") == ["请选择转入党组织。"]
    assert errors_of(form, "transferred_on") == ["请填写转接日期。"]
    assert errors_of(form, "reason") == ["请填写转接原因。"]
    assert '<details class="party-fold party-fold--inline" open data-testid="transfer">' in page

    base = {
        "transfer-to_organisation": str(world.tree.xinhua.pk),
        "transfer-reason": "返乡",
        "transfer-idempotency_key": KEY,
    }
    response = client.post(transfer, {**base, "transfer-transferred_on": "2023-04-01"})
    assert response.status_code == 400
    form = part(text(response), "transfer-form")
    assert errors_of(form, "transferred_on") == ["转接日期不能早于上一次转接日期（2023-05-01）。"]
    assert f'<option value="{world.tree.xinhua.pk}" selected>' in form
    assert 'value="返乡"' in form
    form = part(
        text(client.post(transfer, {**base, "transfer-transferred_on": "2099-01-01"})), "transfer-form"
    )
    assert errors_of(form, "transferred_on") == ["日期不能晚于今天。"]
    form = part(
        text(
            client.post(
                transfer,
                {
                    **base,
                    "transfer-to_organisation": str(world.tree.yanhe.pk),
                    "transfer-transferred_on": "2025-01-01",
                },
            )
        ),
        "transfer-form",
    )
    assert errors_of(form, "to_organisation") == ["转入党组织与当前所在党组织相同。"]

    liu = world.members["刘强"]  # the sitting secretary of 新华村
    response = client.post(
        reverse("governance:party_member_transfer", args=[liu.pk]),
        {
            **base,
            "transfer-to_organisation": str(world.tree.yanhe.pk),
            "transfer-transferred_on": "2025-01-01",
        },
    )
    form = part(text(response), "transfer-form")
    assert errors_of(form, "to_organisation") == [
        "“刘强”仍在“新华村党支部”担任书记，请先结束其任期再转接组织关系。"
    ]
    assert MemberTransfer.objects.count() == 1


def test_transfer_scope_and_permission(world):
    township = client_for("township_admin")
    wang = world.members["王军"]
    assert township.post(reverse("governance:party_member_transfer", args=[wang.pk]), {}).status_code == 404
    # A target outside the township is no choice.
    zhou = world.members["周平"]
    response = township.post(
        reverse("governance:party_member_transfer", args=[zhou.pk]),
        {
            "transfer-to_organisation": str(world.tree.yanhe.pk),
            "transfer-transferred_on": "2025-01-01",
            "transfer-reason": "婚迁",
            "transfer-idempotency_key": KEY,
        },
    )
    assert errors_of(part(text(response), "transfer-form"), "to_organisation") == [
        "所选党组织不在您的管理范围内，请重新选择。"
    ]
    viewer = viewer_client(world.tree.regions["城关镇"])
    page = text(viewer.get(reverse("governance:party_member_detail", args=[zhou.pk])))
    assert "transfer-form" not in page
    assert viewer.post(reverse("governance:party_member_transfer", args=[zhou.pk]), {}).status_code == 403
    # The village secretary manages one organisation only: nowhere to move to, so no form.
    page = text(
        client_for("village_secretary").get(reverse("governance:party_member_detail", args=[zhou.pk]))
    )
    assert "transfer-form" not in page
    zhou.refresh_from_db()
    assert zhou.organisation_id == world.tree.xinhua.pk


# --- the talent registry ------------------------------------------------------------------------


def test_register_a_talent_and_add_training(world):
    grid = world.tree.regions["第一网格"]
    resident = resident_make(grid, "冯巧手", birth=D(1975, 5, 5), gender="F")
    client = client_for("village_secretary")
    url = reverse("governance:party_talent_create")
    data = {
        "resident": str(resident.pk),
        "category": "craftsman",
        "speciality": "竹编",
        "registered_on": "2024-03-01",
        "idempotency_key": KEY,
    }
    response = client.post(url, data)
    talent = Talent.objects.get(resident=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:party_talent_detail", args=[talent.pk])
    assert (talent.category, talent.speciality, talent.registered_on) == ("craftsman", "竹编", D(2024, 3, 1))
    assert client.post(url, data)["Location"] == response["Location"]
    assert Talent.objects.filter(resident=resident).count() == 1
    page = text(client.get(response["Location"]))
    assert "已将冯巧手登记为能工巧匠。" in page
    assert "还没有培训记录。" in page

    detail = response["Location"]
    training = {
        "title": "竹编技艺提升班",
        "held_on": "2024-05-10",
        "hours": "24",
        "organiser": "县人社局",
        "idempotency_key": KEY,
    }
    response = client.post(detail, training)
    assert response.status_code == 302
    assert list(
        TalentTraining.objects.filter(talent=talent).values_list("title", "held_on", "hours", "organiser")
    ) == [("竹编技艺提升班", D(2024, 5, 10), 24, "县人社局")]
    page = text(client.get(detail))
    assert "已添加培训记录“竹编技艺提升班”（24 学时）。" in page
    assert 'data-testid="training-totals">1 次 / 24 学时' in page
    assert client.post(detail, training).status_code == 302
    assert TalentTraining.objects.filter(talent=talent).count() == 1


def test_talent_refusals_are_next_to_their_fields(world):
    tea = Talent.objects.get(speciality="茶叶种植")
    client = client_for("township_admin")
    url = reverse("governance:party_talent_create")
    page = text(client.post(url, {"idempotency_key": KEY}))
    assert errors_of(page, "resident") == ["请查找并选择要登记的居民。"]
    assert errors_of(page, "category") == ["请选择人才类别。"]
    assert errors_of(page, "speciality") == ["请填写专长。"]
    assert errors_of(page, "registered_on") == ["请填写入库日期。"]
    base = {"resident": str(tea.resident_id), "speciality": "茶叶种植", "idempotency_key": KEY}
    page = text(client.post(url, {**base, "category": "production", "registered_on": "2024-01-01"}))
    assert errors_of(page, "category") == ["“田茶农”已登记为生产能手。"]
    assert 'value="茶叶种植"' in page
    page = text(client.post(url, {**base, "category": "culture", "registered_on": "2099-01-01"}))
    assert errors_of(page, "registered_on") == ["日期不能晚于今天。"]
    far = Talent.objects.get(speciality="茶叶加工")
    page = text(
        client.post(
            url,
            {**base, "resident": str(far.resident_id), "category": "culture", "registered_on": "2024-01-01"},
        )
    )
    assert errors_of(page, "resident") == ["所选居民不在您可登记的范围内，请重新查找选择。"]
    page = text(
        client.post(
            url, {**base, "category": "culture", "registered_on": "2024-01-01", "speciality": "长" * 101}
        )
    )
    assert errors_of(page, "speciality") == ["最多 100 个字（现有 101 个）。"]
    assert Talent.objects.count() == 3

    detail = reverse("governance:party_talent_detail", args=[tea.pk])
    page = text(client.post(detail, {"idempotency_key": KEY}))
    assert errors_of(page, "title") == ["请填写培训名称。"]
    assert errors_of(page, "held_on") == ["请填写培训日期。"]
    assert errors_of(page, "hours") == ["请填写学时。"]
    training = {"title": "茶艺培训", "held_on": "2022-01-01", "hours": "8", "idempotency_key": KEY}
    for extra, field, message in [
        ({"hours": "0"}, "hours", "学时应在1到1000之间。"),
        ({"hours": "八"}, "hours", "学时应为整数。"),
        ({"held_on": "2021-03-31"}, "held_on", "培训日期不能早于入库日期（2021-04-01）。"),
        ({"held_on": "2099-01-01"}, "held_on", "日期不能晚于今天。"),
    ]:
        response = client.post(detail, {**training, **extra})
        assert response.status_code == 400
        page = text(response)
        assert errors_of(page, field) == [message], message
        assert 'value="茶艺培训"' in page
    assert TalentTraining.objects.filter(talent=tea).count() == 2


def test_talent_pages_scope_and_permission(world):
    near = Talent.objects.get(speciality="茶叶种植")
    far = Talent.objects.get(speciality="茶叶加工")
    township = client_for("township_admin")
    assert township.get(reverse("governance:party_talent_detail", args=[far.pk])).status_code == 404
    assert township.post(reverse("governance:party_talent_detail", args=[far.pk]), {}).status_code == 404
    page = text(township.get(reverse("governance:party_talent_list")))
    assert f'href="/governance/party/talents/{near.pk}/"' in page
    assert 'data-testid="talent-create-link"' in page
    viewer = viewer_client(world.tree.regions["城关镇"])
    page = text(viewer.get(reverse("governance:party_talent_detail", args=[near.pk])))
    assert "茶园绿色防控技术培训" in page
    assert "training-form" not in page
    assert (
        viewer.post(reverse("governance:party_talent_detail", args=[near.pk]), {"title": "x"}).status_code
        == 403
    )
    assert viewer.get(reverse("governance:party_talent_create")).status_code == 403
    assert TalentTraining.objects.filter(talent=near).count() == 2


# --- role models and gatherings -----------------------------------------------------------------


def test_role_models_are_created_and_selected_at_a_gathering(world):
    grid = world.tree.regions["第一网格"]
    resident = resident_make(grid, "孝老模范人")
    township = client_for("township_admin")
    url = reverse("governance:party_role_model_create")
    data = {
        "resident": str(resident.pk),
        "title": "孝老爱亲模范",
        "deeds": "照顾瘫痪婆婆二十年",
        "idempotency_key": KEY,
    }
    response = township.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:party_role_model_list")
    model = RoleModel.objects.get(resident=resident)
    assert (model.title, model.deeds) == ("孝老爱亲模范", "照顾瘫痪婆婆二十年")
    assert township.post(url, data).status_code == 302
    assert RoleModel.objects.filter(resident=resident).count() == 1
    page = text(township.get(response["Location"]))
    assert "已将孝老模范人列为先进典型“孝老爱亲模范”。" in page
    assert "尚未在神农英雄会选树" in page
    assert "王军" not in page  # 堰河村 is outside 城关镇

    page = text(township.post(url, {**data, "idempotency_key": "another-key"}))
    assert errors_of(page, "title") == ["“孝老模范人”已是“孝老爱亲模范”先进典型。"]
    page = text(township.post(url, {"idempotency_key": KEY, "resident_q": "孝老模范人"}))
    assert errors_of(page, "resident") == ["请查找并选择一位居民。"]
    assert errors_of(page, "title") == ["请填写典型称号。"]

    gathering = world.gathering
    detail = reverse("governance:party_gathering_detail", args=[gathering.pk])
    assert "selection-form" not in text(township.get(detail))  # the county selects
    assert township.post(detail, {"role_model": str(model.pk)}).status_code == 403

    county = client_for("county_admin")
    page = text(county.get(detail))
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', part(page, "selection-form"))
    assert options == [
        (str(model.pk), "孝老模范人 · 孝老爱亲模范 · 新华村")
    ]  # the two selected are not offered
    response = county.post(
        detail, {"role_model": str(model.pk), "citation": "孝老爱亲", "idempotency_key": KEY}
    )
    assert response.status_code == 302
    assert list(
        RoleModelSelection.objects.filter(gathering=gathering)
        .order_by("pk")
        .values_list("role_model__resident__name", "citation")
    ) == [("田茶农", ""), ("王军", ""), ("孝老模范人", "孝老爱亲")]
    page = text(county.get(detail))
    assert "已在第1届神农英雄会选树孝老模范人（孝老爱亲模范）。" in page
    assert 'data-testid="gathering-total">选树 3 名' in page
    assert "没有可选树的先进典型" in page
    response = county.post(detail, {"role_model": str(model.pk), "idempotency_key": "another-key"})
    assert errors_of(text(response), "role_model") == ["“孝老模范人”已在第1届神农英雄会选树。"]
    response = county.post(detail, {"role_model": "999999", "idempotency_key": "another-key"})
    assert errors_of(text(response), "role_model") == ["所选先进典型不在您的管辖范围内，请重新选择。"]
    assert (
        county.post(detail, {"role_model": str(model.pk), "idempotency_key": KEY}).status_code == 302
    )  # replay
    assert RoleModelSelection.objects.filter(gathering=gathering).count() == 3


def test_county_admin_records_a_gathering(world):
    client = client_for("county_admin")
    url = reverse("governance:party_gathering_create")
    page = text(client.get(url))
    assert 'name="session" value="2"' in page  # the next session
    page = text(client.post(url, {"idempotency_key": KEY}))
    assert errors_of(page, "session") == ["请填写届次。"]
    assert errors_of(page, "held_on") == ["请填写举办日期。"]
    cases = [
        ({"session": "1", "held_on": "2019-12-28"}, "session", "第1届神农英雄会已登记。"),
        ({"session": "0", "held_on": "2019-12-28"}, "session", "届次应为正整数。"),
        ({"session": "二", "held_on": "2019-12-28"}, "session", "届次应为正整数。"),
        ({"session": "2", "held_on": "2018-01-01"}, "held_on", "届次与日期顺序不符：第1届于2018-12-28举办。"),
        ({"session": "2", "held_on": "2099-01-01"}, "held_on", "日期不能晚于今天。"),
    ]
    for extra, field, message in cases:
        response = client.post(url, {"venue": "谷城县文体中心", "idempotency_key": KEY, **extra})
        assert response.status_code == 400
        page = text(response)
        assert errors_of(page, field) == [message], message
        assert 'value="谷城县文体中心"' in page
    data = {
        "session": "2",
        "held_on": "2019-12-27",
        "venue": "石花镇",
        "theme": "奋斗新时代",
        "idempotency_key": KEY,
    }
    response = client.post(url, data)
    gathering = ShennongGathering.objects.get(session=2)
    assert response["Location"] == reverse("governance:party_gathering_detail", args=[gathering.pk])
    assert (gathering.held_on, gathering.venue, gathering.theme) == (D(2019, 12, 27), "石花镇", "奋斗新时代")
    assert client.post(url, data)["Location"] == response["Location"]
    assert ShennongGathering.objects.count() == 2
    page = text(client.get(response["Location"]))
    assert "已登记第2届神农英雄会。" in page
    assert "本届还没有选树先进典型。" in page
    assert f'href="/governance/party/gatherings/{gathering.pk}/"' in text(
        client.get(reverse("governance:party_gathering_list"))
    )


def test_gathering_pages_permission(world):
    url = reverse("governance:party_gathering_create")
    for username in ("township_admin", "village_secretary", "grid_leader"):
        client = client_for(username)
        assert client.get(url).status_code == 403
        assert client.post(url, {"session": "9"}).status_code == 403
        assert "gathering-create-link" not in text(client.get(reverse("governance:party_gathering_list")))
    assert 'data-testid="gathering-create-link"' in text(
        client_for("county_admin").get(reverse("governance:party_gathering_list"))
    )
    detail = reverse("governance:party_gathering_detail", args=[world.gathering.pk])
    page = text(client_for("township_admin").get(detail))
    assert "田茶农" in page
    assert "王军" not in page
    nobody = User.objects.create_user(username="nobody", password="x-long-password-1")
    client = Client()
    client.force_login(nobody)
    assert client.get(detail).status_code == 404
    assert (
        client_for("county_admin")
        .get(reverse("governance:party_gathering_detail", args=[999999]))
        .status_code
        == 404
    )
    assert client_for("grid_leader").get(reverse("governance:party_role_model_create")).status_code == 403
    assert ShennongGathering.objects.count() == 1
