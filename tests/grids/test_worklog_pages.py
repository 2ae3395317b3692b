"""The work-log pages (list with this month's counts, the phone-first form, one entry, its photos, the
export) and the work-log API, with a browser pass at phone and desktop size."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import expect
from rest_framework.test import APIClient

from grids.models import WorkKind, WorkLogEntry, WorkLogPhoto
from grids.services.worklog import work_log_record
from tests.browser_fixtures import login
from tests.grids.factories import PASSWORD, GridsWorld, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county, settings, tmp_path) -> GridsWorld:
    settings.MEDIA_ROOT = tmp_path / "media"
    return grids_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def jpeg_upload(name: str = "IMG_2001.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 140, 90)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def entry_make(world: GridsWorld, *, actor: str = "grid_leader", grid: str = "第一网格", **overrides):
    data: dict[str, Any] = {
        "actor": world.users[actor],
        "idempotency_key": uuid.uuid4().hex,
        "grid": world.regions[grid],
        "kind": WorkKind.OUTREACH,
        "occurred_on": timezone.localdate(),
        "topic": "医保缴费政策宣讲",
        "summary": "在村委会广场宣讲，发放资料60份。",
        "attendees_count": 42,
    }
    data.update(overrides)
    return work_log_record(**data)


def create_url(world: GridsWorld | None = None, grid: str | None = None) -> str:
    url = reverse("grids:work_log_create")
    return f"{url}?grid={world.regions[grid].pk}" if world is not None and grid else url


def form_key(page: str) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert found is not None
    return found.group(1)


# ---------------------------------------------------------------------------------------------------------
# The list


def test_the_list_shows_this_months_counts_and_the_entries_in_scope(world):
    entry_make(world)
    entry_make(
        world,
        kind=WorkKind.VISIT,
        topic="走访独居老人",
        attendees_count=None,
        household=world.people.households["王家"],
    )
    entry_make(
        world, occurred_on=timezone.localdate().replace(day=1) - dt.timedelta(days=1), topic="上月宣讲"
    )
    entry_make(world, actor="grid_leader_2", grid="第二网格", topic="第二网格宣讲")
    entry_make(world, actor="minying_leader", grid="民营第一网格", topic="民营宣讲")
    page = text(client_for("grid_leader").get(reverse("grids:work_log_list")))
    assert "医保缴费政策宣讲" in page
    assert "走访独居老人" in page
    assert "上月宣讲" in page
    assert "第二网格宣讲" not in page
    assert "民营宣讲" not in page
    counts = dict(re.findall(r'data-kind="(\w+)"><span class="wl-tile__n">(\d+)</span>', page))
    assert counts == {"outreach": "1", "visit": "1", "mediation": "0", "meeting": "0"}
    assert "共 3 条" in page
    secretary = text(client_for("village_secretary").get(reverse("grids:work_log_list")))
    assert "第二网格宣讲" in secretary
    assert "民营宣讲" not in secretary
    assert "共 4 条" in secretary


def test_the_list_filters_by_kind_grid_and_date(world):
    entry_make(world)
    entry_make(world, kind=WorkKind.MEDIATION, topic="调解宅基地纠纷", attendees_count=None)
    entry_make(world, actor="grid_leader_2", grid="第二网格", topic="第二网格宣讲")
    client = client_for("village_secretary")
    url = reverse("grids:work_log_list")
    page = text(client.get(url, {"kind": "mediation"}))
    assert "调解宅基地纠纷" in page
    assert "医保缴费政策宣讲" not in page
    page = text(client.get(url, {"grid": world.regions["第二网格"].pk}))
    assert "第二网格宣讲" in page
    assert "医保缴费政策宣讲" not in page
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert "共 0 条" in text(client.get(url, {"date_from": tomorrow}))
    assert "筛选条件有误" in text(client.get(url, {"date_from": "2026-13-40"}))


def test_the_list_narrowed_to_a_grid_out_of_scope_is_not_found(world):
    response = client_for("grid_leader").get(
        reverse("grids:work_log_list"), {"grid": world.regions["第二网格"].pk}
    )
    assert response.status_code == 404


def test_the_export_is_the_filtered_list(world):
    entry_make(world, household=world.people.households["王家"])
    entry_make(world, actor="grid_leader_2", grid="第二网格", topic="第二网格宣讲")
    response = client_for("grid_leader").get(reverse("grids:work_log_export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("日期", "工作类型", "主题", "乡镇", "村（社区）", "网格")
    assert len(rows) == 2
    assert rows[1][1:9] == ("政策宣传", "医保缴费政策宣讲", "城关镇", "新华村", "第一网格", 42, "XH-001", 0)


# ---------------------------------------------------------------------------------------------------------
# The form


def test_a_grid_leader_gets_the_form_for_their_grid_at_once(world):
    response = client_for("grid_leader").get(create_url())
    assert response.status_code == 200
    page = text(response)
    assert 'data-testid="grid">新华村 · 第一网格<' in page
    assert 'type="date" name="occurred_on"' in page
    assert f'max="{timezone.localdate().isoformat()}"' in page
    assert "XH-001 · 王建国" in page
    assert "XH-101" not in page


def test_a_secretary_picks_one_of_the_villages_grids_first(world):
    page = text(client_for("village_secretary").get(create_url()))
    assert 'data-testid="grids"' in page
    assert f"?grid={world.regions['第一网格'].pk}" in page
    assert f"?grid={world.regions['第二网格'].pk}" in page
    assert f"?grid={world.regions['东街第一网格'].pk}" not in page


def test_the_county_admin_picks_a_village_first_when_there_are_very_many_grids(world, monkeypatch):
    monkeypatch.setattr("grids.views.worklog.GRID_LIST_MAX", 2)
    page = text(client_for("county_admin").get(create_url()))
    assert 'data-testid="villages"' in page
    page = text(client_for("county_admin").get(create_url(), {"village": world.regions["新华村"].pk}))
    assert 'data-testid="grids"' in page
    assert "第二网格" in page


def test_recording_with_a_photo_lands_on_the_entry(world):
    client = client_for("grid_leader")
    page = text(client.get(create_url()))
    case = case_make(world)
    response = client.post(
        create_url(world, "第一网格"),
        {
            "kind": "meeting",
            "occurred_on": timezone.localdate().isoformat(),
            "topic": "党小组会：村道修复",
            "attendees_count": "9",
            "summary": "议定下周组织修复。",
            "cases": [case.pk],
            "photos": [jpeg_upload(), jpeg_upload("IMG_2002.jpg")],
            "idempotency_key": form_key(page),
        },
    )
    entry = WorkLogEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:work_log_detail", args=[entry.pk])
    assert (entry.kind, entry.attendees_count, entry.topic) == ("meeting", 9, "党小组会：村道修复")
    assert list(entry.cases.values_list("pk", flat=True)) == [case.pk]
    detail = text(client.get(response["Location"]))
    assert "已记录：党小组会：村道修复" in detail
    assert case.number in detail
    photos = list(WorkLogPhoto.objects.filter(entry=entry).order_by("pk"))
    assert len(photos) == 2
    for photo in photos:
        assert reverse("grids:work_log_photo", args=[photo.pk]) in detail
    image = client.get(reverse("grids:work_log_photo", args=[photos[0].pk]))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:3] == b"\xff\xd8\xff"
    # The photo is as private as its entry.
    assert (
        client_for("grid_leader_2").get(reverse("grids:work_log_photo", args=[photos[0].pk])).status_code
        == 404
    )
    assert (
        client_for("village_secretary").get(reverse("grids:work_log_photo", args=[photos[0].pk])).status_code
        == 200
    )


def test_a_double_submit_records_once(world):
    client = client_for("grid_leader")
    key = form_key(text(client.get(create_url())))
    form = {
        "kind": "outreach",
        "occurred_on": timezone.localdate().isoformat(),
        "topic": "防汛知识宣传",
        "attendees_count": "20",
        "idempotency_key": key,
    }
    first = client.post(create_url(world, "第一网格"), form)
    second = client.post(create_url(world, "第一网格"), form)
    assert first["Location"] == second["Location"]
    assert WorkLogEntry.objects.count() == 1


def test_errors_show_next_to_the_field_and_keep_what_was_typed(world):
    client = client_for("grid_leader")
    response = client.post(
        create_url(world, "第一网格"),
        {
            "kind": "visit",
            "occurred_on": timezone.localdate().isoformat(),
            "topic": "走访独居老人张奶奶",
            "summary": "老人说冬天取暖有困难。",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert 'id="id_household-error">入户走访请选择走访的户。<' in page
    assert 'value="走访独居老人张奶奶"' in page
    assert "老人说冬天取暖有困难。</textarea>" in page
    assert 'value="visit" class="" id="id_kind_1" checked' in page or re.search(
        r'value="visit"[^>]*checked', page
    )
    assert WorkLogEntry.objects.count() == 0


def test_a_bad_photo_is_named_next_to_the_photos(world):
    response = client_for("grid_leader").post(
        create_url(world, "第一网格"),
        {
            "kind": "outreach",
            "occurred_on": timezone.localdate().isoformat(),
            "topic": "防汛知识宣传",
            "attendees_count": "20",
            "photos": [
                jpeg_upload(),
                SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"),
            ],
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert 'id="id_photos-error">第2张照片：这不是可识别的照片' in page
    assert "出于安全原因，照片需要重新选择。" in page
    assert WorkLogEntry.objects.count() == 0


def test_a_future_date_is_refused_on_the_page(world):
    response = client_for("grid_leader").post(
        create_url(world, "第一网格"),
        {
            "kind": "outreach",
            "occurred_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
            "topic": "防汛知识宣传",
            "attendees_count": "20",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert 'id="id_occurred_on-error">日期不能晚于今天' in text(response)


def test_someone_elses_grid_answers_404_and_a_reader_403(world):
    assert client_for("grid_leader").get(create_url(world, "第二网格")).status_code == 404
    assert client_for("grid_leader").post(create_url(world, "民营第一网格"), {}).status_code == 404
    assert client_for("viewer").get(create_url(world, "第一网格")).status_code == 403
    assert client_for("viewer").get(create_url()).status_code == 403
    assert client_for("nobody").get(create_url()).status_code == 403
    assert WorkLogEntry.objects.count() == 0


def test_an_entry_out_of_scope_answers_404(world):
    entry = entry_make(world)
    url = reverse("grids:work_log_detail", args=[entry.pk])
    assert client_for("grid_leader").get(url).status_code == 200
    assert client_for("township_admin").get(url).status_code == 200
    assert client_for("grid_leader_2").get(url).status_code == 404
    assert client_for("minying_secretary").get(url).status_code == 404


def test_a_linked_case_the_reader_cannot_see_is_only_counted(world):
    own = case_make(world)
    other = case_make(world, reporter="grid_leader_2", grid="第二网格")
    entry = entry_make(
        world, actor="village_secretary", kind=WorkKind.MEETING, attendees_count=8, cases=[own, other]
    )
    page = text(client_for("grid_leader").get(reverse("grids:work_log_detail", args=[entry.pk])))
    assert own.number in page
    assert other.number not in page
    assert "另有 1 件诉求不在您的查看范围内。" in page


# ---------------------------------------------------------------------------------------------------------
# The API


def api_for(username: str) -> APIClient:
    client = APIClient()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_the_api_records_and_replays(world):
    client = api_for("grid_leader")
    body = {
        "idempotency_key": "api-1",
        "grid": world.regions["第一网格"].pk,
        "kind": "visit",
        "occurred_on": "2026-03-08",
        "topic": "走访低保户",
        "household": world.people.households["李家"].pk,
    }
    response = client.post(reverse("v1:grids:work_log_list"), body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["kind_label"], created["household"]["number"], created["photos"]) == (
        "入户走访",
        "XH-002",
        [],
    )
    assert created["grid"] == {"id": world.regions["第一网格"].pk, "name": "第一网格"}
    assert client.post(reverse("v1:grids:work_log_list"), body, format="json").json()["id"] == created["id"]
    assert WorkLogEntry.objects.count() == 1


def test_the_api_takes_photos_as_multipart(world):
    response = api_for("grid_leader").post(
        reverse("v1:grids:work_log_list"),
        {
            "idempotency_key": "api-2",
            "grid": world.regions["第一网格"].pk,
            "kind": "outreach",
            "occurred_on": "2026-03-08",
            "topic": "反诈宣传",
            "attendees_count": 30,
            "photos": [jpeg_upload(), jpeg_upload("b.jpg")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["photos"]) == 2


def test_the_api_refuses_bad_input_with_the_field(world):
    response = api_for("grid_leader").post(
        reverse("v1:grids:work_log_list"),
        {
            "idempotency_key": "api-3",
            "grid": world.regions["第一网格"].pk,
            "kind": "visit",
            "occurred_on": "2026-03-08",
            "topic": "走访",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "household_required",
        "detail": "入户走访请选择走访的户。",
        "fields": {"household": ["入户走访请选择走访的户。"]},
    }


def test_the_api_lists_and_reads_only_in_scope(world):
    mine = entry_make(world)
    theirs = entry_make(world, actor="minying_leader", grid="民营第一网格", topic="民营宣讲")
    client = api_for("grid_leader")
    listed = client.get(reverse("v1:grids:work_log_list")).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert client.get(reverse("v1:grids:work_log_detail", args=[theirs.pk])).status_code == 404
    detail = client.get(reverse("v1:grids:work_log_detail", args=[mine.pk])).json()
    assert (detail["topic"], detail["attendees_count"], detail["hidden_cases_count"]) == (
        "医保缴费政策宣讲",
        42,
        0,
    )
    out = client.post(
        reverse("v1:grids:work_log_list"),
        {
            "idempotency_key": "api-4",
            "grid": world.regions["民营第一网格"].pk,
            "kind": "mediation",
            "occurred_on": "2026-03-08",
            "topic": "调解",
        },
        format="json",
    )
    assert out.status_code == 404


# ---------------------------------------------------------------------------------------------------------
# In a browser, at phone and desktop size


@pytest.mark.browser
def test_a_grid_leader_records_a_visit_on_a_phone(world, phone, screenshot):
    entry_make(world)
    entry_make(world, kind=WorkKind.MEDIATION, topic="调解邻里排水纠纷", attendees_count=None)
    login(phone, "grid_leader")
    phone.goto("/grids/worklog/")
    phone.get_by_test_id("month-counts").wait_for()
    screenshot(phone, "list")
    phone.get_by_test_id("worklog-create").click()
    phone.get_by_label("入户走访", exact=True).check()
    # The kind decides which fields show: a visit asks for the household, not for attendees. The form's
    # script is deferred and may attach after the click, so wait for its verdict (it also runs on load).
    expect(phone.locator("#id_household")).to_be_visible()
    expect(phone.locator("#id_attendees_count")).to_be_hidden()
    phone.get_by_label("主题").fill("走访独居老人王奶奶")
    phone.get_by_label("走访户").select_option(label="XH-002 · 李德明")
    phone.get_by_label("内容").fill("老人身体良好，冬季取暖无困难。")
    phone.set_input_files(
        "input[name=photos]",
        files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg_upload().read()}],
    )
    screenshot(phone, "form")
    phone.get_by_test_id("save").click()
    phone.get_by_test_id("entry-detail").wait_for()
    assert "走访独居老人王奶奶" in phone.content()
    assert phone.locator(".wl-gallery img").count() == 1
    screenshot(phone, "detail")
    entry = WorkLogEntry.objects.get(topic="走访独居老人王奶奶")
    assert entry.household_id == world.people.households["李家"].pk
    phone.goto(f"/grids/grid/{world.regions['第一网格'].pk}/leaders/")
    phone.get_by_test_id("terms").wait_for()
    screenshot(phone, "leaders")


@pytest.mark.browser
def test_the_work_log_and_leaders_on_a_desktop(world, desktop, screenshot):
    for day in range(1, 6):
        entry_make(
            world, topic=f"第{day}次政策宣讲", occurred_on=timezone.localdate() - dt.timedelta(days=day)
        )
    login(desktop, "village_secretary")
    desktop.goto("/grids/worklog/")
    desktop.get_by_test_id("entries").wait_for()
    screenshot(desktop, "list")
    desktop.goto(f"/grids/worklog/new/?grid={world.regions['第一网格'].pk}")
    desktop.get_by_label("支部会议", exact=True).check()
    expect(desktop.locator("#id_attendees_count")).to_be_visible()
    screenshot(desktop, "form")
    desktop.goto(f"/grids/grid/{world.regions['第一网格'].pk}/leaders/")
    desktop.get_by_test_id("terms").wait_for()
    screenshot(desktop, "leaders")
