"""Pages of households and residents: lists, masking, the reveal button, forms and Excel exports."""

# ruff: noqa: F811  (the people_world fixture is imported, then named as a test argument)

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance import pii
from governance.models import AuditAction, AuditEvent, ExportJob, ExportStatus, Household, Resident
from tests.governance.export_factories import export_via_pages, response_rows
from tests.governance.people_factories import born_aged, id_number_for, people_world  # noqa: F401 (a fixture)
from tests.governance.roster_factories import media_root  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def page(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


def cards(html: str, cls: str = "hh-card__number") -> list[str]:
    return re.findall(rf'class="{cls}">([^<]+)<', html)


# ---------------------------------------------------------------------------------------------------------
# Lists


@pytest.mark.parametrize(
    ("username", "numbers"),
    [
        ("county_admin", {"XH-001", "XH-002", "MY-001", "HP-001"}),
        ("township_admin", {"XH-001", "XH-002"}),
        ("village_secretary", {"XH-001", "XH-002"}),
        ("grid_leader", {"XH-001", "XH-002"}),
        ("canteen_manager", {"MY-001"}),
    ],
)
def test_household_list_shows_the_users_subtree(people_world, username, numbers):
    response = people_world.client(username).get(page("people_household_list"))
    assert response.status_code == 200
    html = text(response)
    assert set(cards(html)) == numbers
    assert f"共 {len(numbers)} 户" in html


def test_household_list_search_filter_and_pagination_keep_the_query(people_world):
    client = people_world.client("county_admin")
    html = text(client.get(page("people_household_list"), {"q": "刘芳"}))
    assert cards(html) == ["XH-002"]
    assert 'value="刘芳"' in html
    html = text(client.get(page("people_household_list"), {"member_tag": "left_behind_elderly"}))
    assert cards(html) == ["XH-001"]
    assert "已筛选" in html
    admin = people_world.users["county_admin"]
    from governance.services import people as people_services

    for index in range(25):
        people_services.household_create(
            actor=admin, grid=people_world.regions["第一网格"], number=f"XP-{index:03d}"
        )
    first = text(client.get(page("people_household_list"), {"q": "XP-"}))
    assert "共 25 户" in first
    assert cards(first) == [f"XP-{i:03d}" for i in range(20)]
    assert "第 1 / 2 页" in first
    assert 'href="?q=XP-&amp;page=2"' in first
    second = text(client.get(page("people_household_list"), {"q": "XP-", "page": 2}))
    assert cards(second) == [f"XP-{i:03d}" for i in range(20, 25)]


def test_resident_list_is_masked_with_ages(people_world):
    html = text(people_world.client("grid_leader").get(page("people_resident_list"), {"age_band": "80-89"}))
    assert cards(html) == ["张德明"]
    assert "82岁" in html
    assert pii.mask_id_number(people_world.id_numbers["张德明"]) in html
    assert "138****1111" in html
    for secret in (people_world.id_numbers["张德明"], "13800001111"):
        assert secret not in html


def test_list_queries_do_not_grow_with_the_page(people_world, django_assert_max_num_queries):
    client = people_world.client("county_admin")
    client.get(page("people_resident_list"))  # warm the session and template caches
    # Session, user, scope, COUNT, rows, tags, the page's options (3) and the header's role: 10, whatever
    # the number of rows.
    with django_assert_max_num_queries(10):
        client.get(page("people_resident_list"))


# ---------------------------------------------------------------------------------------------------------
# A household and the reveal button


def test_household_detail_is_masked_and_offers_reveal_to_the_secretary(people_world):
    household = people_world.households["XH-001"]
    html = text(people_world.client("village_secretary").get(page("people_household_detail", household.pk)))
    assert pii.mask_id_number(people_world.id_numbers["张德明"]) in html
    assert "138****1111" in html
    assert "谷城县城关镇新华村****" in html
    assert people_world.id_numbers["张德明"] not in html
    assert "13800001111" not in html
    assert "一组12号" not in html
    assert html.count('data-testid="reveal"') == 2
    assert html.count(">设为户主<") == 1


def test_canteen_manager_sees_its_community_masked_without_reveal_or_edit(people_world):
    client = people_world.client("canteen_manager")
    household = people_world.households["MY-001"]
    html = text(client.get(page("people_household_detail", household.pk)))
    assert "136****4444" in html
    assert 'data-testid="reveal"' not in html
    assert "编辑户信息" not in html
    assert (
        client.get(page("people_household_detail", people_world.households["XH-001"].pk)).status_code == 404
    )
    assert client.get(page("people_household_edit", household.pk)).status_code == 403


def test_reveal_button_returns_the_card_in_clear_and_is_audited(people_world):
    resident = people_world.residents["李桂兰"]
    client = people_world.client("grid_leader")
    response = client.post(page("people_resident_reveal", resident.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = text(response)
    assert html.startswith(f'<article class="person person--revealed" id="person-{resident.pk}"')
    assert people_world.id_numbers["李桂兰"] in html
    assert 'href="tel:13900002222"' in html
    assert "谷城县城关镇新华村一组12号" in html
    assert "完整信息仅在本次显示，已记入审计日志。" in html
    assert response["Cache-Control"].startswith("max-age=0")
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert (event.actor_id, event.object_id, event.detail) == (
        people_world.users["grid_leader"].pk,
        str(resident.pk),
        "查看完整个人信息：身份证号、手机号、住址",
    )
    # Without htmx the household page comes back with that one card opened.
    full = text(client.post(page("people_resident_reveal", resident.pk)))
    assert people_world.id_numbers["李桂兰"] in full
    assert people_world.id_numbers["张德明"] not in full
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA).count() == 2


@pytest.mark.parametrize(
    ("username", "name", "status"),
    [
        ("canteen_manager", "张德明", 404),
        ("huapu_secretary", "张德明", 404),
        ("canteen_manager", "赵淑珍", 403),
    ],
)
def test_reveal_button_refusals(people_world, username, name, status):
    resident = people_world.residents[name]
    response = people_world.client(username).post(page("people_resident_reveal", resident.pk))
    assert response.status_code == status
    assert people_world.id_numbers[name] not in text(response)
    assert (
        AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA, object_id=str(resident.pk)).count()
        == 1
    )


def test_reveal_needs_post(people_world):
    resident = people_world.residents["李桂兰"]
    assert (
        people_world.client("grid_leader").get(page("people_resident_reveal", resident.pk)).status_code == 405
    )


# ---------------------------------------------------------------------------------------------------------
# Forms


def _field_block(html: str, name: str) -> str:
    """The markup of the form field `name` (its wrapper div)."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, re.S)
    assert match, name
    return match.group(0)


def test_resident_form_shows_the_checksum_error_next_to_the_field_and_keeps_the_input(people_world):
    household = people_world.households["XH-002"]
    client = people_world.client("grid_leader")
    data = {
        "name": "王二妹",
        "id_number": "110105194912310021",
        "phone": "13512345678",
        "relation_to_head": "child",
        "status": "resident",
        "tags": ["left_behind_child"],
    }
    response = client.post(page("people_resident_create", household.pk), data)
    assert response.status_code == 200
    html = text(response)
    block = _field_block(html, "id_number")
    assert "field--invalid" in block
    assert "身份证号校验码不正确，请核对后重新输入。" in block
    assert 'value="110105194912310021"' in block
    assert 'value="王二妹"' in _field_block(html, "name")
    assert 'value="13512345678"' in _field_block(html, "phone")
    assert re.search(r'value="left_behind_child"[^>]*checked', html)
    assert Resident.objects.filter(name="王二妹").count() == 0


def test_resident_form_birth_date_mismatch_and_duplicate_messages(people_world):
    household = people_world.households["XH-002"]
    client = people_world.client("grid_leader")
    base = {"name": "王二妹", "relation_to_head": "child", "status": "resident"}
    html = text(
        client.post(
            page("people_resident_create", household.pk),
            {**base, "id_number": "11010519491231002X", "birth_date": "1949-12-30"},
        )
    )
    assert "出生日期与身份证号不一致：身份证号中的出生日期是1949年12月31日。" in _field_block(
        html, "birth_date"
    )
    html = text(
        client.post(
            page("people_resident_create", household.pk),
            {**base, "id_number": people_world.id_numbers["李桂兰"]},
        )
    )
    assert "该身份证号已登记：李桂兰，新华村第一网格XH-001户。" in _field_block(html, "id_number")


def test_resident_form_registers_and_redirects(people_world):
    household = people_world.households["XH-002"]
    id_number = id_number_for(born_aged(8), "F")
    response = people_world.client("grid_leader").post(
        page("people_resident_create", household.pk),
        {"name": "王二妹", "id_number": id_number, "relation_to_head": "child", "status": "resident"},
    )
    assert response.status_code == 302
    assert response["Location"] == page("people_household_detail", household.pk)
    resident = Resident.objects.get(name="王二妹")
    assert (resident.gender, resident.birth_date) == ("F", pii.id_number_parse(id_number).birth_date)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(resident.pk)).count() == 1


def test_resident_edit_keeps_id_and_phone_unless_retyped(people_world):
    resident = people_world.residents["李桂兰"]
    client = people_world.client("village_secretary")
    form = text(client.get(page("people_resident_edit", resident.pk)))
    assert people_world.id_numbers["李桂兰"] not in form
    assert "13900002222" not in form
    assert f"留空则不修改（现为 {pii.mask_id_number(people_world.id_numbers['李桂兰'])}）" in form
    response = client.post(
        page("people_resident_edit", resident.pk),
        {
            "name": "李桂兰",
            "id_number": "",
            "phone": "",
            "gender": "F",
            "birth_date": resident.birth_date.isoformat(),
            "relation_to_head": "spouse",
            "status": "away",
            "tags": ["left_behind_elderly"],
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.status, pii.decrypt(resident.phone_encrypted)) == ("away", "13900002222")
    event = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_id=str(resident.pk), object_type="governance.resident"
    )
    assert event.changes == {"status": ["resident", "away"]}


def test_household_form_duplicate_number_error_keeps_input(people_world):
    client = people_world.client("village_secretary")
    grid = people_world.regions["第一网格"]
    response = client.post(
        page("people_household_create"),
        {"grid": grid.pk, "number": "XH-001", "address": "新华村六组", "tags": ["civilised"]},
    )
    html = text(response)
    assert "“第一网格”已有户号为“XH-001”的户，请换一个户号。" in _field_block(html, "number")
    assert 'value="新华村六组"' in html
    selected = rf'<optgroup label="城关镇 · 新华村">\s*<option value="{grid.pk}" selected>第一网格</option>'
    assert re.search(selected, html)
    created = client.post(page("people_household_create"), {"grid": grid.pk, "number": "XH-009"})
    household = Household.objects.get(number="XH-009")
    assert created["Location"] == page("people_household_detail", household.pk)


def test_household_form_offers_only_grids_the_user_may_edit(people_world):
    html = text(people_world.client("grid_leader").get(page("people_household_create")))
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', html) == ["第一网格"]
    assert re.findall(r'<optgroup label="([^"]+)">', html) == ["城关镇 · 新华村"]
    assert (
        people_world.client("canteen_manager")
        .get(page("people_household_list"))
        .content.decode()
        .count('data-testid="household-create"')
        == 0
    )


# ---------------------------------------------------------------------------------------------------------
# Excel exports


# The list's export link leads to the export page; “开始导出” makes the job (a small one at once, in
# the request) and the file is downloaded from the job. tests/governance/test_exports.py has the rest.


def _export(client, link: str, params: dict, capture) -> tuple[list[list], AuditEvent]:
    """Export through the pages; the rows of the downloaded file and the export's audit entry."""
    job = export_via_pages(client, link, params, capture)
    assert job.status == ExportStatus.DONE
    rows = response_rows(client.get(page("export_job_download", job.pk)))
    event = AuditEvent.objects.exclude(object_type="governance.exportjob").get(action=AuditAction.EXPORT)
    return rows, event


def test_household_export_is_masked_and_audited(people_world, django_capture_on_commit_callbacks):
    rows, event = _export(
        people_world.client("grid_leader"),
        page("people_household_export"),
        {"member_tag": "left_behind_elderly"},
        django_capture_on_commit_callbacks,
    )
    assert rows == [
        [
            "户号",
            "乡镇",
            "村（社区）",
            "网格",
            "户主",
            "户主身份证号",
            "户主手机号",
            "住址",
            "人口",
            "标签",
            "状态",
        ],
        [
            "XH-001",
            "城关镇",
            "新华村",
            "第一网格",
            "张德明",
            pii.mask_id_number(people_world.id_numbers["张德明"]),
            "138****1111",
            "谷城县城关镇新华村****",
            2,
            "低保户",
            "在册",
        ],
    ]
    assert (event.actor_id, event.object_type, event.detail) == (
        people_world.users["grid_leader"].pk,
        "governance.household",
        "导出户名单1行（个人信息已遮挡）",
    )
    assert event.changes == {
        "filters": {"member_tag": "left_behind_elderly"},
        "row_count": 1,
        "unmasked": False,
    }
    assert event.region_path == people_world.regions["第一网格"].path


def test_resident_export_in_clear_for_the_secretary_is_audited(
    people_world, django_capture_on_commit_callbacks
):
    rows, event = _export(
        people_world.client("village_secretary"),
        page("people_resident_export"),
        {"age_band": "70-79", "full": "1"},
        django_capture_on_commit_callbacks,
    )
    resident = people_world.residents["李桂兰"]
    assert rows[0] == [
        "姓名",
        "性别",
        "出生日期",
        "年龄",
        "身份证号",
        "手机号",
        "与户主关系",
        "状态",
        "标签",
        "户号",
        "乡镇",
        "村（社区）",
        "网格",
    ]
    assert rows[1:] == [
        [
            "李桂兰",
            "女",
            rows[1][2],
            79,
            people_world.id_numbers["李桂兰"],
            "13900002222",
            "配偶",
            "在籍",
            "留守老人",
            "XH-001",
            "城关镇",
            "新华村",
            "第一网格",
        ]
    ]
    assert rows[1][2].date() == resident.birth_date
    assert event.detail == "导出居民名单1行（含完整身份证号、手机号、住址）"
    assert event.changes == {"filters": {"age_band": "70-79"}, "row_count": 1, "unmasked": True}
    assert event.region_path == people_world.regions["新华村"].path


def test_full_export_is_refused_to_the_canteen_manager(people_world, django_capture_on_commit_callbacks):
    client = people_world.client("canteen_manager")
    assert client.get(page("people_resident_export"), {"full": "1"}, follow=True).status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 0
    assert not ExportJob.objects.exists()
    rows, event = _export(client, page("people_resident_export"), {}, django_capture_on_commit_callbacks)
    assert [row[0] for row in rows[1:]] == ["赵淑珍"]
    assert rows[1][4] == pii.mask_id_number(people_world.id_numbers["赵淑珍"])
    assert event.changes == {
        "filters": {},
        "row_count": 1,
        "unmasked": False,
    }
    assert 'data-testid="export-full"' not in text(client.get(page("people_resident_list")))
