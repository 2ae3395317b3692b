"""The Party area's pages: scope (404 outside), the forms with Chinese errors next to the field and the
input kept, 403 for roles that may only look, the Excel export and its audit row."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import AuditAction, AuditEvent, MembershipStep, SagesMember, User
from governance.roles import Role
from governance.services import roles as role_services
from tests.governance.export_factories import export_via_pages, response_rows
from tests.governance.party_factories import party_world_make, resident_make
from tests.governance.roster_factories import media_root  # noqa: F401 (a fixture)


@pytest.fixture
def world(demo_county):
    return party_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_every_page_answers_the_county_admin(world):
    client = client_for("county_admin")
    urls = [
        reverse("governance:party_organisation_list"),
        reverse("governance:party_organisation_detail", args=[world.tree.xinhua.pk]),
        reverse("governance:party_member_list"),
        reverse("governance:party_member_detail", args=[world.members["青年甲"].pk]),
        reverse("governance:party_young_farmers"),
        reverse("governance:party_sages_list"),
        reverse("governance:party_sages_detail", args=[world.sages["新华村"].pk]),
        reverse("governance:party_talent_list"),
        reverse("governance:party_gathering_list"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'href="/static/css/party.css"' in response.content.decode()


def test_pages_need_a_login(world):
    response = Client().get(reverse("governance:party_member_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_township_admin_sees_only_chengguan(world):
    client = client_for("township_admin")
    tree = text(client.get(reverse("governance:party_organisation_list")))
    assert "中共城关镇委员会" in tree
    assert "新华村党支部" in tree
    assert "五山镇" not in tree
    assert "中共谷城县委员会" not in tree
    for url in (
        reverse("governance:party_organisation_detail", args=[world.tree.wushan.pk]),
        reverse("governance:party_organisation_detail", args=[world.tree.county.pk]),
        reverse("governance:party_member_detail", args=[world.members["王军"].pk]),
        reverse("governance:party_sages_detail", args=[world.sages["堰河村"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    members = text(client.get(reverse("governance:party_member_list")))
    assert "共 8 人" in members
    assert "王军" not in members
    assert "彭勇" not in members


def test_org_detail_shows_leadership_counts_and_joint_villages(world):
    page = text(
        client_for("county_admin").get(
            reverse("governance:party_organisation_detail", args=[world.tree.xinhua.pk])
        )
    )
    assert '<span class="leader__position leader__position--secretary">书记</span>' in page
    assert "刘强" in page
    assert "2021-01-10 起任" in page
    assert 'data-stage="probationary">3</a>' in page
    assert 'data-category="young_farmer">5</a>' in page
    assert "查看党员名单（8）" in page


def test_member_list_filters_paginate_and_sort(world):
    client = client_for("county_admin")
    page = text(
        client.get(
            reverse("governance:party_member_list"),
            {"category": "young_farmer", "year": "2024", "sort": "name"},
        )
    )
    assert "共 3 人" in page
    assert re.findall(r'class="party-table__name"><a href="[^"]+">([^<]+)</a>', page) == [
        "青年己",
        "青年庚",
        "青年辛",
    ]
    assert '<option value="2024" selected>2024</option>' in page  # the choice is kept
    bad = client.get(reverse("governance:party_member_list"), {"year": "1800"})
    assert bad.status_code == 200  # an unknown filter value is ignored, not an error
    by_name = text(
        client.get(reverse("governance:party_member_list"), {"org": world.tree.xinhua.pk, "sort": "name"})
    )
    names = re.findall(r'class="party-table__name"><a href="[^"]+">([^<]+)</a>', by_name)
    assert names == sorted(names)
    assert len(names) == 8


@pytest.mark.usefixtures("media_root")
def test_member_list_exports_to_excel_with_an_audit_row(world, django_capture_on_commit_callbacks):
    """The export link leads to the export page; the job is made there and the file downloaded from it
    (tests/governance/test_exports.py has the rest)."""
    client = client_for("township_admin")
    job = export_via_pages(
        client,
        reverse("governance:party_member_list"),
        {"stage": "full", "export": "xlsx"},
        django_capture_on_commit_callbacks,
    )
    assert (job.kind, job.filters) == ("party_members", {"stage": "full"})
    rows = response_rows(client.get(reverse("governance:export_job_download", args=[job.pk])))
    assert rows[0] == ["姓名", "性别", "所在党组织", "党员类别", "发展阶段", "申请日期", "入党日期"]
    assert sorted(r[0] for r in rows[1:]) == sorted(["刘强", "赵国建", "青年乙"])
    audit = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governance.partymember")
    assert audit.actor_name == "陈静"
    assert audit.changes == {"filters": [None, {"stage": "full"}], "rows": [None, 3]}
    assert audit.region_path == world.tree.regions["城关镇"].path


def test_advance_form_keeps_input_and_shows_errors_next_to_the_field(world):
    member = world.members["孙浩宇"]  # an applicant: the next step is activist
    client = client_for("village_secretary")
    url = reverse("governance:party_member_detail", args=[member.pk])
    page = text(client.get(url))
    assert "推进为入党积极分子" in page
    assert 'name="to_stage" value="activist"' in page

    response = client.post(url, {"to_stage": "activist", "occurred_on": "2025-02-28", "note": "支委会确定"})
    assert response.status_code == 400
    page = text(response)
    assert re.search(
        r'data-field="occurred_on">.*?<p class="field__error" id="id_occurred_on-error" role="alert">'
        r"“入党积极分子”的日期（2025-02-28）不能早于上一步“入党申请人”的日期（2025-03-01）。</p>",
        page,
    )
    assert 'value="2025-02-28"' in page
    assert 'value="支委会确定"' in page
    assert member.steps.count() == 1

    response = client.post(url, {"to_stage": "activist", "occurred_on": "2025-09-01", "note": "支委会确定"})
    assert response.status_code == 302
    assert response["Location"] == url
    page = text(client.get(url))
    assert "已将孙浩宇推进为入党积极分子（2025-09-01）。" in page
    assert list(member.steps.order_by("occurred_on").values_list("stage", "note")) == [
        ("applicant", ""),
        ("activist", "支委会确定"),
    ]
    assert (
        AuditEvent.objects.filter(object_id=str(member.pk), action=AuditAction.UPDATE).get().actor_name
        == "刘强"
    )


def test_candidate_step_needs_two_sponsors_from_the_form(world):
    member = world.members["孙浩宇"]
    client = client_for("county_admin")
    url = reverse("governance:party_member_detail", args=[member.pk])
    client.post(url, {"to_stage": "activist", "occurred_on": "2025-06-01"})
    page = text(client.get(url))
    assert "推进为发展对象" in page
    sponsor_1 = re.search(r'<select name="sponsor_1".*?</select>', page).group(0)
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', sponsor_1)
    assert sorted(name for _pk, name in options) == ["刘强", "赵国建", "青年乙"]  # full members of 新华村
    response = client.post(
        url,
        {"to_stage": "candidate", "occurred_on": "2025-12-01", "sponsor_1": str(world.members["刘强"].pk)},
    )
    assert response.status_code == 400
    assert re.search(
        r'data-field="sponsor_2">.*?<p class="field__error"[^>]*>'
        r"确定为发展对象须有两名正式党员作入党介绍人。</p>",
        text(response),
    )
    response = client.post(
        url,
        {
            "to_stage": "candidate",
            "occurred_on": "2025-12-01",
            "sponsor_1": str(world.members["刘强"].pk),
            "sponsor_2": str(world.members["赵国建"].pk),
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.stage, member.sponsor_1.resident.name, member.sponsor_2.resident.name) == (
        "candidate",
        "刘强",
        "赵国建",
    )
    assert MembershipStep.objects.get(member=member, stage="candidate").occurred_on == dt.date(2025, 12, 1)


def test_lookers_cannot_advance(world):
    viewer = role_services.user_create(username="viewer", password="x-long-password-1")
    role_services.role_assign(user=viewer, role=Role.VIEWER, region=world.tree.regions["城关镇"])
    client = Client()
    client.force_login(viewer)
    url = reverse("governance:party_member_detail", args=[world.members["孙浩宇"].pk])
    page = text(client.get(url))
    assert "孙浩宇" in page
    assert "advance-form" not in page
    assert client.post(url, {"to_stage": "activist", "occurred_on": "2025-09-01"}).status_code == 403
    assert world.members["孙浩宇"].steps.count() == 1


def test_young_farmer_page_shows_the_table(world):
    page = text(client_for("county_admin").get(reverse("governance:party_young_farmers")))
    assert re.findall(r'<th scope="col" class="num">(\d+)</th>', page) == ["2022", "2023", "2024"]
    assert re.search(
        r'<tr data-township="城关镇"> <th scope="row" class="is-sticky">城关镇</th> '
        r'<td class="num">2</td><td class="num">1</td><td class="num is-zero">0</td> '
        r'<td class="num is-total">3</td>',
        page,
    )
    assert re.search(r'<tr data-township="县直党组织">.*?<td class="num is-total">1</td>', page)
    assert 'data-testid="young-farmer-total">7</td>' in page


def test_sages_form_finds_the_villager_and_explains_what_is_wrong(world):
    group = world.sages["新华村"]
    grid = world.tree.regions["第一网格"]
    resident_make(grid, "罗德明", birth=dt.date(1955, 3, 3))
    twin_1 = resident_make(grid, "张伟", birth=dt.date(1960, 1, 1))
    resident_make(grid, "张伟", birth=dt.date(1962, 2, 2))
    client = client_for("village_secretary")
    url = reverse("governance:party_sages_detail", args=[group.pk])

    response = client.post(
        url, {"resident_name": "不存在", "kind": "respected_villager", "joined_on": "2024-01-01"}
    )
    assert response.status_code == 400
    assert "新华村没有符合条件的居民“不存在”。" in text(response)

    response = client.post(
        url, {"resident_name": "张伟", "kind": "respected_villager", "joined_on": "2024-01-01"}
    )
    page = text(response)
    assert re.search(
        r'data-field="id_last4">.*?本村有2位名为“张伟”的居民，请填写身份证号后四位以区分。', page
    )
    assert 'value="张伟"' in page

    response = client.post(
        url, {"resident_name": "罗德明", "kind": "veteran_member", "joined_on": "2024-01-01"}
    )
    assert re.search(r'data-field="kind">.*?“罗德明”不是正式党员，不能以“老党员”身份加入。', text(response))

    last4 = twin_1.id_number_masked[-4:]
    response = client.post(
        url,
        {"resident_name": "张伟", "id_last4": last4, "kind": "respected_villager", "joined_on": "2024-01-01"},
    )
    assert response.status_code == 302
    assert list(
        SagesMember.objects.filter(group=group).order_by("pk").values_list("resident__name", "resident_id")
    ) == [
        ("赵国建", world.members["赵国建"].resident_id),
        ("张伟", twin_1.pk),
    ]
    assert "张伟已以“德高望重村民”身份加入新华村乡贤说事评理团。" in text(client.get(url))


def test_talents_and_gatherings_pages(world):
    client = client_for("township_admin")
    page = text(client.get(reverse("governance:party_talent_list")))
    assert re.search(r'data-category="production"><span>生产能手</span><b>1</b></a>', page)
    assert "田茶农" in page
    assert "堰河茶艺" not in page
    assert "培训 2 次 / 56 学时" in page
    page = text(client.get(reverse("governance:party_gathering_list")))
    assert "已举办 1 届，选树先进典型 2 名，其中您辖区内 1 名" in page
    assert "田茶农" in page
    assert "王军" not in page
    assert "崇尚劳动 致富光荣" in page


def test_grid_leader_sees_an_empty_tree(world):
    page = text(client_for("grid_leader").get(reverse("governance:party_organisation_list")))
    assert "您的管辖范围内还没有党组织。" in page
    assert User.objects.get(username="grid_leader").role_assignments.count() == 1


def test_a_stale_form_shows_the_order_rule_at_the_top(world):
    member = world.members["孙浩宇"]
    client = client_for("township_admin")
    url = reverse("governance:party_member_detail", args=[member.pk])
    response = client.post(url, {"to_stage": "candidate", "occurred_on": "2025-09-01"})
    assert response.status_code == 400
    assert re.search(
        r'<div class="form-error" role="alert">.*?<p>发展程序须按顺序进行：“孙浩宇”目前是入党申请人，'
        r"下一步只能是入党积极分子，不能直接到发展对象。</p>",
        text(response),
    )
    finished = world.members["青年乙"]  # already a full member: a late submit just returns to the page
    url = reverse("governance:party_member_detail", args=[finished.pk])
    response = client.post(url, {"to_stage": "full", "occurred_on": "2025-09-01"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "青年乙已是正式党员，发展程序已经完成。" in text(response)
