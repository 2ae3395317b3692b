"""The phone filing page /grids/file/: a plain POST files one case with its photos; every refusal is shown
next to its field with what was typed kept and nothing written; a replay of the same key files once; the
script's JSON answers; the "我也遇到" button and the similar-cases fragment."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from grids.models import Case, CaseEvent, CasePhoto, CaseStatus, CaseSupporter, HandlingLevel
from tests.grids.filing_factories import NEAR_TOWN, case_make, filing_world, jpeg_upload

pytestmark = pytest.mark.django_db

URL = "/grids/file/"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(demo_county):
    return filing_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


@pytest.fixture
def leader(world) -> Client:
    return client_for("grid_leader")


def body(world, **changes):
    data = {
        "category": str(world.categories["road"].pk),
        "description": "村口小桥栏杆断了，老人孩子过桥很危险",
        "grid": str(world.regions["第一网格"].pk),
        "latitude": "",
        "longitude": "",
        "address": "村委会东侧小桥",
        "urgency": "urgent",
        "resident": str(world.people.residents["王建国"].pk),
        "privacy": "anonymous",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def field_block(html: str, name: str) -> str:
    """The markup of the form block whose data-field is `name` (up to the next block)."""
    match = re.search(rf'data-field="{name}"(.*?)(?=data-field="|<div class="submit-bar")', html, re.S)
    assert match, f"no block for {name}"
    return match.group(1)


# --- GET -----------------------------------------------------------------------------------------------


def test_page_offers_categories_grid_residents_and_a_fresh_key(world, leader):
    response = leader.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "道路桥梁" in html
    assert "饮水用水" in html
    assert "邻里纠纷" in html
    # A duty without sub-categories is chosen itself; an inactive sub-category is not offered.
    assert f'value="{world.categories["outreach"].pk}"' in html
    assert "旧类别" not in html
    # The grid is filled in automatically: the leader has exactly one.
    assert 'data-testid="grid-fixed"' in html
    assert f'name="grid" value="{world.regions["第一网格"].pk}"' in html
    # Residents of the grid on the register only (not the one away, deceased, or in another grid).
    assert "王建国 · XH-001" in html
    assert "李芳 · XH-002" in html
    assert "王老汉" not in html
    assert "张伟" not in html
    assert "钱旧人" not in html
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert len(keys) == 1
    assert keys[0] not in leader.get(URL).content.decode()
    for text in ("公开", "匿名", "保密", "本人发现", "获取当前位置", "拍照或选照片"):
        assert text in html
    assert "js/grids-filing.js" in html


def test_user_without_a_filing_grid_is_told_so(world):
    response = client_for("canteen_manager").get(URL)
    assert response.status_code == 403
    assert "您没有负责的网格" in response.content.decode()
    assert 'data-testid="filing-form"' not in response.content.decode()


def test_anonymous_is_sent_to_log_in_and_a_script_gets_401(world):
    response = Client().get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    response = Client().post(URL, {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- POST success --------------------------------------------------------------------------------------


def test_post_files_one_case_with_its_photo_and_redirects(world, leader):
    data = body(world, latitude=f"{NEAR_TOWN[0]:.9f}", longitude=f"{NEAR_TOWN[1]:.9f}")
    data["photos"] = [jpeg_upload(width=3200, height=2400)]
    data["handle_in_grid"] = "on"
    response = leader.post(URL, data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert response.url == f"/grids/cases/{case.number}/"
    assert case.category == world.categories["road"]
    assert case.description == "村口小桥栏杆断了，老人孩子过桥很危险"
    assert case.urgency == "urgent"
    assert case.privacy == "anonymous"
    assert case.resident == world.people.residents["王建国"]
    assert case.reporter == world.users["grid_leader"]
    assert case.grid == world.regions["第一网格"]
    assert str(case.latitude) == "32.262000"
    assert str(case.longitude) == "111.640000"
    assert case.location_source == "gps"
    assert case.address == "村委会东侧小桥"
    assert case.status == CaseStatus.SUBMITTED
    assert case.level == HandlingLevel.GRID
    assert case.idempotency_key == data["idempotency_key"]
    photo = CasePhoto.objects.get()
    assert photo.case == case
    assert photo.stage == "filing"
    assert photo.event == CaseEvent.objects.get(case=case, kind="file")
    assert (photo.width, photo.height) == (1600, 1200)
    with default_storage.open(photo.image.name) as stored:
        content = stored.read()
    assert photo.size_bytes == len(content)
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert b"PhoneMaker" not in content
    assert "IMG_0001" not in photo.image.name


def test_post_without_resident_location_or_photos_is_the_leaders_own_observation(world, leader):
    response = leader.post(URL, body(world, resident="", address="", privacy="public", urgency="normal"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.resident is None
    assert case.latitude is None
    assert case.location_source == "grid"
    assert case.level == HandlingLevel.VILLAGE
    assert case.handling_region == world.regions["新华村"]
    assert CasePhoto.objects.count() == 0


# --- refusals: next to the field, input kept, nothing written ------------------------------------------


REFUSALS = [
    ("category", {"category": ""}, "请选择问题类别。"),
    ("category", {"category": "inactive"}, "所选类别已停用，请重新选择。"),
    ("description", {"description": ""}, "请描述群众反映的情况。"),
    ("description", {"description": "桥断"}, "描述太短了，请至少写 5 个字。"),
    ("description", {"description": "长" * 2001}, "描述不能超过 2000 字。"),
    ("location", {"latitude": "39.904200", "longitude": "116.407400"}, "该位置不在谷城县范围内"),
    ("location", {"latitude": "32.262000", "longitude": ""}, "定位不完整，请重新定位或清除位置。"),
    ("location", {"latitude": "0", "longitude": "0"}, "该位置不在谷城县范围内"),
    ("resident", {"resident": "other-grid"}, "只能选择您网格内的在册居民。"),
    ("urgency", {"urgency": "whenever"}, "选择一个有效的选项"),
    ("privacy", {"privacy": ""}, "请选择公开方式。"),
    ("address", {"address": "地" * 201}, "地点说明不能超过 200 字。"),
]


@pytest.mark.parametrize(
    ("name", "changes", "message"), REFUSALS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)]
)
def test_refusal_is_next_to_its_field_with_input_kept(world, leader, name, changes, message):
    if changes.get("category") == "inactive":
        changes = {**changes, "category": str(world.categories["old"].pk)}
    if changes.get("resident") == "other-grid":
        changes = {**changes, "resident": str(world.people.residents["张伟"].pk)}
    data = body(world, **changes)
    response = leader.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    block = field_block(html, name)
    assert "field__error" in block
    assert message in block or message in html.replace("&quot;", '"')
    if name != "description":
        assert "村口小桥栏杆断了，老人孩子过桥很危险" in field_block(html, "description")
    assert data["idempotency_key"] in html
    assert Case.objects.count() == 0
    assert CasePhoto.objects.count() == 0


def test_grid_outside_the_leaders_scope_is_refused(world, leader):
    response = leader.post(URL, body(world, grid=str(world.regions["第二网格"].pk), resident=""))
    assert response.status_code == 400
    assert "只能在您负责的网格上报。" in field_block(response.content.decode(), "location")
    assert Case.objects.count() == 0


def test_non_image_file_is_refused_next_to_photos(world, leader):
    data = body(world)
    data["photos"] = [
        SimpleUploadedFile("photo.jpg", b"%PDF-1.4 this is not a picture", content_type="image/jpeg")
    ]
    response = leader.post(URL, data)
    assert response.status_code == 400
    block = field_block(response.content.decode(), "photos")
    assert "第 1 张照片（photo.jpg）" in block
    assert "不是可识别的照片" in block
    assert "村口小桥栏杆断了" in response.content.decode()
    assert Case.objects.count() == 0
    assert CasePhoto.objects.count() == 0
    assert not default_storage.exists("cases") or not any(default_storage.listdir("cases")[1])


def test_seven_photos_are_refused_before_anything_is_written(world, leader):
    data = body(world)
    data["photos"] = [jpeg_upload(f"p{i}.jpg", width=40, height=30) for i in range(7)]
    response = leader.post(URL, data)
    assert response.status_code == 400
    assert "照片最多 6 张" in field_block(response.content.decode(), "photos")
    assert Case.objects.count() == 0
    assert CasePhoto.objects.count() == 0


def test_photos_are_asked_for_again_when_another_field_failed(world, leader):
    data = body(world, description="")
    data["photos"] = [jpeg_upload()]
    response = leader.post(URL, data)
    assert response.status_code == 400
    assert "照片未保存，请重新选择照片后提交。" in field_block(response.content.decode(), "photos")


def test_broken_idempotency_key_is_refused_above_the_form(world, leader):
    response = leader.post(URL, body(world, idempotency_key="x"))
    assert response.status_code == 400
    assert "页面已过期，请刷新后重新提交。" in response.content.decode()
    assert Case.objects.count() == 0


# --- replays -------------------------------------------------------------------------------------------


def test_replay_with_the_same_key_files_one_case(world, leader):
    data = body(world)
    first = leader.post(URL, {**data, "photos": [jpeg_upload()]})
    second = leader.post(URL, {**data, "photos": [jpeg_upload()]})
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Case.objects.count() == 1
    assert CasePhoto.objects.count() == 1
    third = leader.post(URL, {**data, "photos": [jpeg_upload()]}, HTTP_ACCEPT="application/json")
    assert third.status_code == 201
    assert third.json()["number"] == Case.objects.get().number
    assert Case.objects.count() == 1
    assert CasePhoto.objects.count() == 1


def test_same_key_with_a_different_body_is_refused(world, leader):
    data = body(world)
    leader.post(URL, data)
    response = leader.post(URL, {**data, "description": "另外一件事：路灯坏了三盏"})
    assert response.status_code == 400
    assert "该提交标识已用于另一条不同的诉求" in response.content.decode()
    assert Case.objects.count() == 1


# --- the script's JSON answers -------------------------------------------------------------------------


def test_json_success_and_errors(world, leader):
    ok = leader.post(URL, {**body(world), "photos": [jpeg_upload()]}, HTTP_ACCEPT="application/json")
    assert ok.status_code == 201
    payload = ok.json()
    case = Case.objects.get()
    assert payload["ok"] is True
    assert payload["number"] == case.number
    assert payload["url"]
    bad = leader.post(
        URL, body(world, description="", latitude="10", longitude="10"), HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors["description"] == ["请描述群众反映的情况。"]
    assert errors["location"] == ["该位置不在谷城县范围内，请到现场重新定位，或清除位置后只填网格。"]
    assert bad.json()["ok"] is False
    assert Case.objects.count() == 1


# --- residents, similar cases, me too ------------------------------------------------------------------


def test_resident_search_is_limited_to_the_leaders_grid(world, leader):
    response = leader.get("/grids/file/residents/", {"q": "王"})
    labels = [row["label"] for row in response.json()["results"]]
    assert labels == ["王建国 · XH-001", "王秀英 · XH-001"]
    assert leader.get("/grids/file/residents/", {"q": "张"}).json()["results"] == []
    assert [r["label"] for r in leader.get("/grids/file/residents/", {"q": "XH-002"}).json()["results"]] == [
        "李德明 · XH-002",
        "李芳 · XH-002",
    ]


def test_similar_fragment_lists_open_cases_of_the_category_with_me_too(world, leader):
    case = case_make(world, actor=world.users["village_secretary"])
    case_make(world, category="water", description="自来水停了三天，全组吃水困难")
    params = {"category": world.categories["road"].pk, "grid": world.regions["第一网格"].pk}
    html = leader.get("/grids/file/similar/", params).content.decode()
    assert case.number in html
    assert "我也遇到" in html
    assert "自来水停了三天" not in html
    assert f"/grids/file/me-too/{case.pk}/" in html
    # A grid the user may not file in gives nothing.
    params["grid"] = world.regions["第二网格"].pk
    assert leader.get("/grids/file/similar/", params).content.decode().strip() == ""


def test_me_too_counts_once_and_answers_json_or_redirects(world, leader):
    case = case_make(world, actor=world.users["village_secretary"])
    first = leader.post(f"/grids/file/me-too/{case.pk}/", {}, HTTP_ACCEPT="application/json")
    assert first.status_code == 200
    assert first.json() == {
        "ok": True,
        "created": True,
        "me_too_count": 1,
        "detail": "已附议，共 1 人反映同一问题。",
    }
    again = leader.post(f"/grids/file/me-too/{case.pk}/", {"next": "/grids/file/"})
    assert again.status_code == 302
    assert again.url == "/grids/file/"
    for_resident = leader.post(
        f"/grids/file/me-too/{case.pk}/",
        {"resident": world.people.residents["李德明"].pk},
        HTTP_ACCEPT="application/json",
    )
    assert for_resident.json()["me_too_count"] == 2
    case.refresh_from_db()
    assert case.me_too_count == 2
    assert CaseSupporter.objects.filter(case=case).count() == 2
    # Off-site "next" is ignored.
    response = leader.post(f"/grids/file/me-too/{case.pk}/", {"next": "https://example.com/"})
    assert response.url == "/grids/file/"


def test_me_too_on_an_unseen_case_is_404(world):
    other = case_make(
        world, actor=world.users["county_admin"], grid="民营第一网格", description="民营社区路灯坏了三盏"
    )
    response = client_for("grid_leader").post(f"/grids/file/me-too/{other.pk}/")
    assert response.status_code == 404
    response = client_for("grid_leader").post(
        f"/grids/file/me-too/{other.pk}/", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=other.pk).me_too_count == 0


def test_hotspots_page_lists_recurring_problems(world):
    for text in ("村口小桥栏杆断了，过桥危险", "小桥桥面塌了一块", "桥头路面坑洼积水"):
        case_make(world, description=text)
    case_make(world, category="water", description="自来水停了三天，全组吃水困难")
    response = client_for("village_secretary").get("/grids/hotspots/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="hotspot"') == 1
    assert "道路桥梁" in html
    assert "新华村 · 第一网格" in html
    assert "3<small>件</small>" in html
    assert "饮水用水" not in html


def test_refused_post_shows_similar_cases_with_a_working_me_too_without_script(world, leader):
    existing = case_make(world, actor=world.users["village_secretary"])
    response = leader.post(URL, body(world, description=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert existing.number in field_block(html, "category") or existing.number in html
    assert f'formaction="/grids/file/me-too/{existing.pk}/"' in html
    # The button submits the whole form to the me-too address: the chosen resident is counted.
    me_too = leader.post(f"/grids/file/me-too/{existing.pk}/", body(world, next="/grids/file/"))
    assert me_too.status_code == 302
    assert me_too.url == "/grids/file/"
    supporter = CaseSupporter.objects.get(case=existing)
    assert supporter.resident == world.people.residents["王建国"]
    assert Case.objects.count() == 1
