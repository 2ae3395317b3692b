"""The cases API (grids/api/cases.py): list with filters and counts in a constant number of queries,
detail with the staff and public timelines, filing with an idempotency key (JSON and multipart with a
photo), transitions and notes, and every refusal in the {"code", "detail", "fields"} shape."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from grids.models import Case, CaseEvent, CasePhoto, CaseStatus, Privacy
from grids.selectors.cases import CaseFilters, case_list
from tests.grids.factories import GridsWorld, case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db

LIST = "/api/v1/grids/cases/"
GUCHENG = ZoneInfo("Asia/Shanghai")


def detail_url(case: Case | int) -> str:
    return f"{LIST}{case.pk if isinstance(case, Case) else case}/"


@pytest.fixture
def world(demo_county, settings, tmp_path) -> GridsWorld:
    settings.MEDIA_ROOT = tmp_path
    return grids_world_make(demo_county)


def client_for(world: GridsWorld, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def filing_body(world: GridsWorld, **overrides: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": uuid.uuid4().hex,
        "category": world.categories["road"].pk,
        "description": "村道塌陷一处，雨天车辆难以通行。",
        "urgency": "urgent",
        "privacy": "public",
        "grid": world.regions["第一网格"].pk,
        "latitude": 32.2646123456,
        "longitude": 111.6412987654,
        "address": "村委会东侧",
    }
    body.update(overrides)
    return body


def jpeg(width: int = 64, height: int = 48) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 80, 40)).save(out, format="JPEG")
    return SimpleUploadedFile("现场.jpg", out.getvalue(), content_type="image/jpeg")


# ---------------------------------------------------------------------------------------------------------
# Filing


def test_file_json_then_replay_then_conflict(world):
    client = client_for(world, "grid_leader")
    body = filing_body(world)
    created = client.post(LIST, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    case = Case.objects.get(pk=data["id"])
    assert (data["number"], data["status"], data["level"], data["urgency"]) == (
        case.number,
        "submitted",
        "village",
        "urgent",
    )
    assert (data["latitude"], data["longitude"]) == ("32.264612", "111.641299")
    assert data["handling_region"] == {"id": world.regions["新华村"].pk, "name": "新华村"}
    assert [a["name"] for a in data["actions"]] == ["withdraw"]

    replay = client.post(LIST, body, format="json")
    assert replay.status_code == 200
    assert replay.json()["id"] == data["id"]
    assert Case.objects.count() == 1

    conflict = client.post(LIST, {**body, "description": "另一件事。"}, format="json")
    assert conflict.status_code == 409
    assert conflict.json() == {
        "code": "idempotency_key_reused",
        "detail": "该提交标识已用于另一条不同的诉求，请刷新页面后重新填写。",
        "number": case.number,
    }
    assert Case.objects.count() == 1


def test_file_with_the_key_in_the_header(world):
    client = client_for(world, "grid_leader")
    body = filing_body(world)
    key = body.pop("idempotency_key")
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.get().idempotency_key == key


def test_file_without_a_key_is_refused(world):
    body = filing_body(world)
    del body["idempotency_key"]
    response = client_for(world, "grid_leader").post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert response.json()["fields"] == {"idempotency_key": ["请提供防重复提交标识（idempotency_key）。"]}
    assert not Case.objects.exists()


def test_file_multipart_with_a_photo(world):
    body = filing_body(world, photos=[jpeg(), jpeg(80, 60)])
    response = client_for(world, "grid_leader").post(LIST, body, format="multipart")
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    photos = list(CasePhoto.objects.filter(case=case).order_by("pk"))
    assert [(p.stage, p.width, p.height) for p in photos] == [("filing", 64, 48), ("filing", 80, 60)]
    assert photos[0].event == case.events.get(kind="file")
    assert [p["stage"] for p in response.json()["photos"]] == ["filing", "filing"]


def test_file_multipart_with_a_bad_photo_writes_nothing(world):
    bad = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    body = filing_body(world, photos=[jpeg(), bad])
    response = client_for(world, "grid_leader").post(LIST, body, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"photos"}
    assert (Case.objects.count(), CasePhoto.objects.count(), CaseEvent.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"grid": "民营第一网格"}, "grid", "case_grid_invalid"),
        ({"latitude": 39.9, "longitude": 116.4}, "location", "case_location_outside_county"),
        ({"description": " "}, "description", "invalid"),
        ({"urgency": "soon"}, "urgency", "invalid"),
        ({"category": "abc"}, "category", "invalid"),
    ],
)
def test_file_refusals_name_the_field(world, overrides, field, code):
    if overrides.get("grid") == "民营第一网格":
        overrides = {"grid": world.regions["民营第一网格"].pk}
    response = client_for(world, "grid_leader").post(LIST, filing_body(world, **overrides), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert not Case.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# List


@pytest.fixture
def listed(world) -> dict[str, Case]:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=GUCHENG), tick=False) as clock:
        cases = {"road": case_make(world, description="村道塌陷，需修补。")}
        clock.shift(dt.timedelta(days=1))
        cases["boundary"] = case_make(
            world,
            category="boundary",
            description="两户宅基地边界争执。",
            urgency="urgent",
            privacy=Privacy.ANONYMOUS,
            resident="王建国",
        )
        clock.shift(dt.timedelta(days=1))
        cases["grid2"] = case_make(world, reporter="grid_leader_2", grid="第二网格", description="路灯不亮。")
        clock.shift(dt.timedelta(days=1))
        cases["minying"] = case_make(world, reporter="minying_leader", grid="民营第一网格")
        case_bring_to(world, cases["road"], CaseStatus.ASSIGNED)
    return cases


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_list_is_scoped_sorted_and_counted(world, listed):
    response = client_for(world, "village_secretary").get(LIST)
    body = response.json()
    assert _numbers(response) == [listed["grid2"].number, listed["boundary"].number, listed["road"].number]
    assert body["count"] == 3
    assert (body["page"], body["pages"], body["next"], body["previous"]) == (1, 1, None, None)
    assert body["status_counts"]["submitted"] == 2
    assert body["status_counts"]["assigned"] == 1
    assert sum(body["status_counts"].values()) == 3
    assert _numbers(client_for(world, "grid_leader").get(LIST)) == [
        listed["boundary"].number,
        listed["road"].number,
    ]
    assert _numbers(client_for(world, "minying_secretary").get(LIST)) == [listed["minying"].number]
    assert _numbers(client_for(world, "nobody").get(LIST)) == []


def test_list_filters(world, listed):
    client = client_for(world, "township_admin")
    assert _numbers(client.get(LIST, {"status": "assigned"})) == [listed["road"].number]
    both = _numbers(client.get(LIST, {"status": ["assigned", "submitted"], "sort": "filed_at"}))
    assert both == [listed["road"].number, listed["boundary"].number, listed["grid2"].number]
    assert _numbers(client.get(LIST, {"category": world.categories["boundary"].pk})) == [
        listed["boundary"].number
    ]
    parent = world.categories["boundary"].parent_id
    assert _numbers(client.get(LIST, {"category": parent})) == [listed["boundary"].number]
    assert _numbers(client.get(LIST, {"urgency": "urgent"})) == [listed["boundary"].number]
    assert _numbers(client.get(LIST, {"region": world.regions["第二网格"].pk})) == [listed["grid2"].number]
    assert _numbers(client.get(LIST, {"q": "宅基地"})) == [listed["boundary"].number]
    assert _numbers(client.get(LIST, {"q": listed["grid2"].number[-6:]})) == [listed["grid2"].number]
    assert _numbers(client.get(LIST, {"filed_from": "2026-03-03", "filed_to": "2026-03-03"})) == [
        listed["boundary"].number
    ]
    assert _numbers(client.get(LIST, {"privacy": "anonymous"})) == [listed["boundary"].number]
    assert _numbers(client.get(LIST, {"level": "grid"})) == []
    # The tabs count every status under the other filters.
    counted = client.get(LIST, {"status": "assigned", "region": world.regions["新华村"].pk}).json()
    assert (
        counted["count"],
        counted["status_counts"]["submitted"],
        counted["status_counts"]["assigned"],
    ) == (1, 2, 1)


def test_list_mine(world, listed):
    assert _numbers(client_for(world, "xinhua_clerk").get(LIST, {"mine": "assigned"})) == [
        listed["road"].number
    ]
    assert _numbers(client_for(world, "grid_leader_2").get(LIST, {"mine": "reported"})) == [
        listed["grid2"].number
    ]
    # The township admin's queue holds nothing yet: everything is at the village.
    assert _numbers(client_for(world, "township_admin").get(LIST, {"mine": "queue"})) == []
    queue = _numbers(client_for(world, "village_secretary").get(LIST, {"mine": "queue"}))
    assert queue == [listed["grid2"].number, listed["boundary"].number, listed["road"].number]


def test_list_paginates_with_links(world, listed):
    client = client_for(world, "county_admin")
    first = client.get(LIST, {"page_size": 3}).json()
    assert (first["count"], first["pages"], first["previous"]) == (4, 2, None)
    assert first["next"].endswith("page=2&page_size=3") or "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [row["number"] for row in second["results"]] == [listed["road"].number]
    assert second["next"] is None
    assert second["previous"] is not None


def test_list_refuses_bad_filters(world, listed):
    response = client_for(world, "county_admin").get(LIST, {"status": "lost", "sort": "colour"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "sort"}


def test_list_masks_the_resident(world, listed):
    rows = {row["number"]: row for row in client_for(world, "village_secretary").get(LIST).json()["results"]}
    assert rows[listed["boundary"].number]["resident"] == {"label": "匿名", "id": None}
    rows = {row["number"]: row for row in client_for(world, "grid_leader").get(LIST).json()["results"]}
    resident = world.people.residents["王建国"]
    assert rows[listed["boundary"].number]["resident"] == {"label": "王建国", "id": resident.pk}


@pytest.mark.parametrize("count", [5, 50])
def test_the_list_selector_answers_in_a_constant_number_of_queries(
    world, django_assert_max_num_queries, count
):
    for index in range(count):
        case_make(
            world,
            grid="第一网格" if index % 2 else "第二网格",
            reporter="village_secretary",
            resident="王建国" if index % 3 == 0 and index % 2 else None,
            privacy=Privacy.PUBLIC if index % 4 else Privacy.CONFIDENTIAL,
        )
    user = world.users["township_admin"]
    # Scope, counts per status, the page of rows, and the identity rule's three.
    with django_assert_max_num_queries(6):
        page = case_list(user=user, filters=CaseFilters(q="村道"), sort="warning", page_size=100)
    assert page.total == count
    assert len(page.rows) == count
    assert all(hasattr(row, "resident_label") for row in page.rows)
    with django_assert_max_num_queries(6):
        case_list(user=user, filters=CaseFilters(region=world.regions["新华村"].pk, status=("submitted",)))


# ---------------------------------------------------------------------------------------------------------
# Detail


def test_detail_staff_view_has_the_full_timeline(world):
    case = case_bring_to(world, case_make(world, resident="王建国"), CaseStatus.SIGNED)
    body = client_for(world, "village_secretary").get(detail_url(case)).json()
    assert body["staff_view"] is True
    assert body["resident"] == {"label": "王建国", "id": world.people.residents["王建国"].pk}
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in body["timeline"]] == [
        ("file", "", "submitted"),
        ("accept", "submitted", "accepted"),
        ("assign", "accepted", "assigned"),
        ("sign_for", "assigned", "signed"),
    ]
    assert [e["actor"] for e in body["timeline"]] == ["王秀英", "刘强", "刘强", "新华村文书"]
    assert body["assigned_user"] == {"id": world.users["xinhua_clerk"].pk, "name": "新华村文书"}
    assert [a["name"] for a in body["actions"]] == []
    handler = client_for(world, "xinhua_clerk").get(detail_url(case)).json()
    assert [a["name"] for a in handler["actions"]] == ["return", "start", "resolve"]


def test_detail_public_view_carries_no_personal_data(world):
    case = case_bring_to(world, case_make(world, resident="王建国"), CaseStatus.ASSIGNED)
    from grids.services.cases import case_note_add

    secretary = world.users["village_secretary"]
    case_note_add(actor=secretary, case=case, note="已电话联系王建国，电话13800001111。")
    case_note_add(actor=secretary, case=case, note="已安排现场查看。", is_public=True)
    response = client_for(world, "viewer").get(detail_url(case))
    body = response.json()
    assert body["staff_view"] is False
    text = json.dumps(body, ensure_ascii=False)
    for personal in ("王建国", "13800001111", "刘强", "王秀英", "新华村文书"):
        assert personal not in text, personal
    assert body["resident"] == {"label": "王**", "id": None}
    assert [(e["kind"], e["actor"], e["note"]) for e in body["timeline"]] == [
        ("file", "", ""),
        ("accept", "", ""),
        ("assign", "", ""),
        ("note", "", "已安排现场查看。"),
    ]
    assert body["assigned_user"] is None


@pytest.mark.parametrize("username", ["grid_leader", "minying_secretary", "mediator", "nobody"])
def test_detail_out_of_scope_answers_like_a_missing_case(world, username):
    case = case_make(world, reporter="grid_leader_2", grid="第二网格")
    client = client_for(world, username)
    outside, missing = client.get(detail_url(case)), client.get(detail_url(2_147_483_000))
    assert (outside.status_code, missing.status_code) == (404, 404)
    assert (
        outside.json()
        == missing.json()
        == {
            "code": "not_found",
            "detail": "未找到该诉求，或者它不在您的管辖范围内。",
        }
    )


# ---------------------------------------------------------------------------------------------------------
# Transitions and notes


def transition(world: GridsWorld, username: str, case: Case, name: str, note: str = "", **params: Any):
    body: dict[str, Any] = {"name": name, "note": note}
    if params:
        body["params"] = params
    return client_for(world, username).post(f"{detail_url(case)}transitions/", body, format="json")


def test_a_case_through_the_api_from_filing_to_archive(world):
    case = case_make(world)
    steps = [
        ("village_secretary", "accept", "", {}),
        ("village_secretary", "assign", "", {"unit": world.units["xinhua"].pk}),
        ("xinhua_clerk", "sign_for", "", {}),
        ("xinhua_clerk", "start", "", {}),
        ("xinhua_clerk", "resolve", "已修复。", {"result": "已铺设沥青。"}),
        ("grid_leader", "follow_up", "", {"satisfaction": "satisfied"}),
        ("village_secretary", "archive", "", {}),
    ]
    for username, name, note, params in steps:
        response = transition(world, username, case, name, note, **params)
        assert response.status_code == 200, (name, response.json())
    body = response.json()
    assert (body["status"], body["result"], body["satisfaction"]) == ("closed", "已铺设沥青。", "satisfied")
    assert len(body["timeline"]) == 8


def test_transition_refusals(world):
    case = case_make(world)
    not_allowed = transition(world, "village_secretary", case, "sign_for")
    assert not_allowed.status_code == 409
    assert not_allowed.json() == {
        "code": "case_transition_not_allowed",
        "detail": "该诉求当前状态为“已上报”，不能执行“签收”。",
        "transition": "sign_for",
        "case_status": "submitted",
    }
    forbidden = transition(world, "grid_leader", case, "accept")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "case_action_forbidden"
    no_note = transition(world, "village_secretary", case, "escalate", note="")
    assert no_note.status_code == 400
    assert no_note.json()["fields"] == {"note": ["请填写上报提级的理由。"]}
    unknown = transition(world, "village_secretary", case, "approve")
    assert (unknown.status_code, list(unknown.json()["fields"])) == (400, ["name"])
    bad_param = transition(world, "village_secretary", case, "accept", unit=world.units["xinhua"].pk)
    assert (bad_param.status_code, bad_param.json()["code"]) == (400, "case_transition_params_invalid")
    bad_type = transition(world, "village_secretary", case, "send_down", note="下派", region="第一网格")
    assert bad_type.status_code == 400
    assert list(bad_type.json()["fields"]["params"]) == ["region"]
    out_of_scope = transition(world, "minying_secretary", case, "accept")
    assert out_of_scope.status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_resolve_with_photos_in_multipart(world):
    case = case_bring_to(world, case_make(world), CaseStatus.IN_PROGRESS)
    response = client_for(world, "xinhua_clerk").post(
        f"{detail_url(case)}transitions/",
        {
            "name": "resolve",
            "note": "已修复。",
            "params": json.dumps({"result": "已修补路面。"}),
            "photos": [jpeg()],
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    photo = CasePhoto.objects.get(case=case)
    assert (photo.stage, photo.event.kind) == ("result", "resolve")
    assert Case.objects.get(pk=case.pk).result == "已修补路面。"


def test_note_add(world):
    case = case_make(world)
    response = client_for(world, "village_secretary").post(
        f"{detail_url(case)}notes/", {"note": "已约定周三现场查看。"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["timeline"][-1]["kind"] == "note"
    assert response.json()["timeline"][-1]["is_public"] is False
    empty = client_for(world, "village_secretary").post(
        f"{detail_url(case)}notes/", {"note": ""}, format="json"
    )
    assert (empty.status_code, list(empty.json()["fields"])) == (400, ["note"])
    viewer = client_for(world, "viewer").post(f"{detail_url(case)}notes/", {"note": "看看"}, format="json")
    assert viewer.status_code == 403


def test_the_schema_lists_the_case_endpoints(world):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert set(paths[LIST]) == {"get", "post"}
    assert set(paths[f"{LIST}{{id}}/"]) == {"get"}
    assert set(paths[f"{LIST}{{id}}/transitions/"]) == {"post"}
    assert set(paths[f"{LIST}{{id}}/notes/"]) == {"post"}
    assert paths[LIST]["get"]["operationId"] == "grids_case_list"
