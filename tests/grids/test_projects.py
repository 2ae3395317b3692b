"""Projects from feedback: a case becomes a village project, milestones move its progress (the done share
of the milestone weight) and its status; who may do it; the pages (list, detail, the form from a case, the
region page's section) with their scope, errors next to the field and input kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent
from grids.models import CaseStatus, FeedbackProject, ProjectMilestone, ProjectStatus
from grids.selectors import projects as project_selectors
from grids.services import projects as project_services
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def project_make(world, *, key: str = "p-1", title: str = "前庭后院小花园", user: str = "village_secretary"):
    case = case_make(world, description="村民希望把房前屋后的空地建成小花园，由各户认领管护。")
    project = project_services.project_create_from_case(
        actor=world.users[user],
        case=case,
        title=title,
        description="群众设计、村里建设、各户管护。",
        idempotency_key=key,
    )
    return case, project


def milestones_make(world, project, weights=(1, 2, 1)):
    made = []
    for index, weight in enumerate(weights, start=1):
        made.append(
            project_services.project_milestone_add(
                actor=world.users["village_secretary"],
                project=project,
                title=f"节点{index}",
                due_on=dt.date(2026, 6, index),
                weight=weight,
                idempotency_key=f"m-{project.pk}-{index}",
            )
        )
    return made


# --- services -------------------------------------------------------------------------------------


def test_a_case_becomes_a_project_of_its_village(world):
    case, project = project_make(world)
    project.refresh_from_db()
    assert project.village_id == world.regions["新华村"].pk
    assert project.title == "前庭后院小花园"
    assert project.status == ProjectStatus.PLANNED
    assert project.progress_percent == 0
    assert project.started_on is None
    assert project.created_by_id == world.users["village_secretary"].pk
    assert list(project.source_cases.values_list("pk", flat=True)) == [case.pk]
    audit = AuditEvent.objects.get(object_type="grids.feedbackproject", object_id=str(project.pk))
    assert audit.action == AuditAction.CREATE
    assert audit.region_path == world.regions["新华村"].path
    assert audit.changes["case"] == [None, case.number]


def test_a_replay_returns_the_first_project_and_another_body_is_a_conflict(world):
    case, project = project_make(world, key="same-key")
    again = project_services.project_create_from_case(
        actor=world.users["village_secretary"], case=case, title="前庭后院小花园", idempotency_key="same-key"
    )
    assert again.pk == project.pk
    assert FeedbackProject.objects.count() == 1
    with pytest.raises(Conflict) as error:
        project_services.project_create_from_case(
            actor=world.users["village_secretary"], case=case, title="另一个项目", idempotency_key="same-key"
        )
    assert error.value.status == 409
    assert FeedbackProject.objects.count() == 1


def test_only_the_village_secretary_and_above_create_projects(world):
    case = case_make(world)
    for username in ("grid_leader", "viewer"):
        with pytest.raises(DomainError) as error:
            project_services.project_create_from_case(
                actor=world.users[username], case=case, title="项目", idempotency_key=f"k-{username}"
            )
        assert (error.value.code, error.value.status) == ("project_forbidden", 403)
    for username in ("shihua_admin", "minying_secretary", "dongjie_secretary", "nobody"):
        with pytest.raises(NotFound):
            project_services.project_create_from_case(
                actor=world.users[username], case=case, title="项目", idempotency_key=f"k-{username}"
            )
    for username in ("township_admin", "county_admin"):
        project = project_services.project_create_from_case(
            actor=world.users[username], case=case, title=f"{username}的项目", idempotency_key=f"k-{username}"
        )
        assert project.village_id == world.regions["新华村"].pk
    assert FeedbackProject.objects.count() == 2


def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written(world):
    case = case_make(world)
    secretary = world.users["village_secretary"]
    for title, key, code, field in (
        ("  ", "k1", "title_required", "title"),
        ("长" * 101, "k2", "title_too_long", "title"),
        ("项目", "", "idempotency_key_missing", None),
    ):
        with pytest.raises(DomainError) as error:
            project_services.project_create_from_case(
                actor=secretary, case=case, title=title, idempotency_key=key
            )
        assert (error.value.code, error.value.field) == (code, field)
    duplicate = case_make(world)
    case_bring_to(world, duplicate, CaseStatus.DUPLICATE)
    with pytest.raises(DomainError) as error:
        project_services.project_create_from_case(
            actor=secretary, case=duplicate, title="项目", idempotency_key="k3"
        )
    assert (error.value.code, error.value.field) == ("project_case_closed", "case")
    assert error.value.message == "重复件的诉求不能转为项目。"
    assert FeedbackProject.objects.count() == 0


def test_progress_is_the_done_share_of_the_milestone_weight(world):
    _case, project = project_make(world)
    first, second, third = milestones_make(world, project, weights=(1, 2, 1))
    project.refresh_from_db()
    assert (project.progress_percent, project.status) == (0, ProjectStatus.PLANNED)

    secretary = world.users["village_secretary"]
    project = project_services.project_milestone_complete(
        actor=secretary, milestone=second, done_on=dt.date(2026, 5, 2), note="图纸定稿"
    )
    assert (project.progress_percent, project.status) == (50, ProjectStatus.ACTIVE)
    project.refresh_from_db()
    assert (project.progress_percent, project.status, project.started_on) == (
        50,
        ProjectStatus.ACTIVE,
        dt.date(2026, 5, 2),
    )
    second.refresh_from_db()
    assert (second.done_on, second.note) == (dt.date(2026, 5, 2), "图纸定稿")

    project_services.project_milestone_complete(actor=secretary, milestone=first)
    project.refresh_from_db()
    assert (project.progress_percent, project.status) == (75, ProjectStatus.ACTIVE)
    project_services.project_milestone_complete(actor=secretary, milestone=third)
    project.refresh_from_db()
    assert (project.progress_percent, project.status) == (100, ProjectStatus.DONE)
    assert project.started_on == dt.date(2026, 5, 2)

    # A new milestone on a finished project: it is running again, 4 of 5 weight done.
    project_services.project_milestone_add(
        actor=secretary, project=project, title="管护公约", due_on=dt.date(2026, 9, 1), idempotency_key="late"
    )
    project.refresh_from_db()
    assert (project.progress_percent, project.status) == (80, ProjectStatus.ACTIVE)


def test_a_share_is_rounded_down_so_100_means_all_done(world):
    _case, project = project_make(world)
    first, _second, _third = milestones_make(world, project, weights=(1, 1, 1))
    project = project_services.project_milestone_complete(
        actor=world.users["village_secretary"], milestone=first
    )
    assert project.progress_percent == 33


def test_completing_twice_changes_nothing_and_a_replayed_milestone_is_the_first(world):
    _case, project = project_make(world)
    (first,) = milestones_make(world, project, weights=(2,))
    secretary = world.users["village_secretary"]
    project_services.project_milestone_complete(actor=secretary, milestone=first, done_on=dt.date(2026, 5, 1))
    before = AuditEvent.objects.count()
    project = project_services.project_milestone_complete(
        actor=secretary, milestone=first, done_on=dt.date(2026, 5, 3)
    )
    first.refresh_from_db()
    assert first.done_on == dt.date(2026, 5, 1)
    assert AuditEvent.objects.count() == before
    assert project.progress_percent == 100
    again = project_services.project_milestone_add(
        actor=secretary,
        project=project,
        title="节点1",
        due_on=dt.date(2026, 6, 1),
        idempotency_key=f"m-{project.pk}-1",
    )
    assert again.pk == first.pk
    assert ProjectMilestone.objects.filter(project=project).count() == 1


def test_milestone_input_is_checked(world):
    _case, project = project_make(world)
    secretary = world.users["village_secretary"]
    for kwargs, code, field in (
        ({"title": "", "due_on": TODAY(), "weight": 1}, "title_required", "title"),
        ({"title": "节点", "due_on": None, "weight": 1}, "due_on_required", "due_on"),
        ({"title": "节点", "due_on": TODAY(), "weight": 0}, "weight_range", "weight"),
        ({"title": "节点", "due_on": TODAY(), "weight": 101}, "weight_range", "weight"),
    ):
        with pytest.raises(DomainError) as error:
            project_services.project_milestone_add(
                actor=secretary, project=project, idempotency_key=f"k-{code}-{kwargs['weight']}", **kwargs
            )
        assert (error.value.code, error.value.field) == (code, field)
    (milestone,) = milestones_make(world, project, weights=(1,))
    with pytest.raises(DomainError) as error:
        project_services.project_milestone_complete(
            actor=secretary, milestone=milestone, done_on=timezone.localdate() + dt.timedelta(days=1)
        )
    assert (error.value.code, error.value.field) == ("done_on_future", "done_on")
    with pytest.raises(DomainError) as error:
        project_services.project_milestone_complete(actor=world.users["grid_leader"], milestone=milestone)
    assert error.value.status == 404
    with pytest.raises(DomainError) as error:
        project_services.project_milestone_complete(actor=world.users["viewer"], milestone=milestone)
    assert error.value.status == 403
    milestone.refresh_from_db()
    assert milestone.done_on is None


def test_a_suspended_project_completes_nothing_until_resumed(world):
    _case, project = project_make(world)
    first, second = milestones_make(world, project, weights=(1, 1))
    secretary = world.users["village_secretary"]
    project_services.project_milestone_complete(actor=secretary, milestone=first)
    with pytest.raises(DomainError) as error:
        project_services.project_suspend(actor=secretary, project=project, reason=" ")
    assert (error.value.code, error.value.field) == ("reason_required", "reason")
    project = project_services.project_suspend(actor=secretary, project=project, reason="等待汛期过后施工")
    assert project.status == ProjectStatus.SUSPENDED
    with pytest.raises(DomainError) as error:
        project_services.project_milestone_complete(actor=secretary, milestone=second)
    assert error.value.code == "project_suspended"
    with pytest.raises(DomainError) as error:
        project_services.project_suspend(actor=secretary, project=project, reason="再次暂停")
    assert error.value.code == "project_not_suspendable"
    project = project_services.project_resume(actor=secretary, project=project)
    assert (project.status, project.progress_percent) == (ProjectStatus.ACTIVE, 50)
    with pytest.raises(DomainError) as error:
        project_services.project_resume(actor=secretary, project=project)
    assert error.value.code == "project_not_suspended"


# --- selectors ------------------------------------------------------------------------------------


def test_the_list_is_scoped_to_the_users_villages(world):
    _case, xinhua = project_make(world)
    minying_case = case_make(world, reporter="minying_leader", grid="民营第一网格")
    minying = project_services.project_create_from_case(
        actor=world.users["minying_secretary"], case=minying_case, title="社区活动室", idempotency_key="my"
    )
    # A village's projects are seen by whoever holds a role over the whole village (they are on the
    # village's page); a grid leader's scope is one grid, so not.
    seen = {
        name: sorted(p.title for p in project_selectors.project_list(user=user))
        for name, user in world.users.items()
    }
    assert seen == {
        "county_admin": ["前庭后院小花园", "社区活动室"],
        "township_admin": ["前庭后院小花园"],
        "village_secretary": ["前庭后院小花园"],
        "viewer": ["前庭后院小花园"],
        "mediator": ["前庭后院小花园"],
        "minying_secretary": ["社区活动室"],
        "shihua_admin": ["社区活动室"],
        "canteen_manager": ["社区活动室"],
        "grid_leader": [],
        "grid_leader_2": [],
        "minying_leader": [],
        "dongjie_secretary": [],
        "xinhua_clerk": [],
        "chengguan_clerk": [],
        "county_clerk": [],
        "minying_clerk": [],
        "nobody": [],
    }
    with pytest.raises(NotFound):
        project_selectors.project_get(user=world.users["village_secretary"], project_id=minying.pk)
    assert project_selectors.project_get(user=world.users["county_admin"], project_id=xinhua.pk) == xinhua


# --- pages ----------------------------------------------------------------------------------------


def test_list_and_detail_pages(world):
    case, project = project_make(world)
    milestones_make(world, project, weights=(1, 3))
    project_services.project_milestone_complete(
        actor=world.users["village_secretary"], milestone=project.milestones.get(weight=3)
    )
    client = client_for("village_secretary")
    listing = text(client.get(reverse("grids:project_list")))
    assert "前庭后院小花园" in listing
    assert "共 1 个项目" in listing
    assert "节点 1/2" in listing
    assert "75%" in listing
    detail = client.get(reverse("grids:project_detail", args=[project.pk]))
    assert detail.status_code == 200
    body = text(detail)
    assert 'data-testid="project-progress">75%' in body
    assert "已完成 3 / 共 4" in body
    assert case.number in body
    assert 'data-testid="milestone-form"' in body
    # Someone who may only look sees no forms and gets 403 on a write.
    viewer = client_for("viewer")
    assert 'data-testid="milestone-form"' not in text(
        viewer.get(reverse("grids:project_detail", args=[project.pk]))
    )
    response = viewer.post(
        reverse("grids:project_detail", args=[project.pk]),
        {"action": "milestone", "title": "x", "due_on": "2026-06-01", "weight": "1", "idempotency_key": "v"},
    )
    assert response.status_code == 403
    for name in ("minying_secretary", "grid_leader", "nobody"):
        assert client_for(name).get(reverse("grids:project_detail", args=[project.pk])).status_code == 404, (
            name
        )


def test_a_refused_milestone_form_keeps_the_input_and_says_why_next_to_the_field(world):
    _case, project = project_make(world)
    client = client_for("village_secretary")
    url = reverse("grids:project_detail", args=[project.pk])
    response = client.post(
        url,
        {"action": "milestone", "title": "花园施工", "due_on": "", "weight": "0", "idempotency_key": "abc"},
    )
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'data-field="due_on">.*?请填写日期。', body)
    assert re.search(r'data-field="weight">.*?权重应为1到100之间的整数。', body)
    assert 'value="花园施工"' in body
    assert ProjectMilestone.objects.count() == 0
    response = client.post(
        url,
        {
            "action": "milestone",
            "title": "花园施工",
            "due_on": "2026-06-01",
            "weight": "2",
            "idempotency_key": "abc",
        },
    )
    assert response.status_code == 302
    # The same submit again (a double tap): still one milestone.
    client.post(
        url,
        {
            "action": "milestone",
            "title": "花园施工",
            "due_on": "2026-06-01",
            "weight": "2",
            "idempotency_key": "abc",
        },
    )
    assert list(ProjectMilestone.objects.values_list("title", "weight")) == [("花园施工", 2)]
    milestone = ProjectMilestone.objects.get()
    response = client.post(url, {"action": "complete", "milestone": milestone.pk, "done_on": "2999-01-01"})
    assert response.status_code == 400
    assert "完成日期不能晚于今天。" in text(response)
    response = client.post(
        url, {"action": "complete", "milestone": milestone.pk, "done_on": TODAY().isoformat()}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.progress_percent, project.status) == (100, ProjectStatus.DONE)


def test_the_create_page_turns_a_case_into_a_project(world):
    case = case_make(world)
    client = client_for("village_secretary")
    url = reverse("grids:project_create", args=[case.number])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {"title": "", "description": "说明", "idempotency_key": "c1"})
    assert response.status_code == 400
    assert "请填写项目名称。" in text(response)
    assert "说明" in text(response)
    response = client.post(url, {"title": "村口路灯改造", "description": "说明", "idempotency_key": "c1"})
    project = FeedbackProject.objects.get()
    assert response["Location"] == reverse("grids:project_detail", args=[project.pk])
    assert client_for("grid_leader").get(url).status_code == 403
    assert client_for("minying_secretary").get(url).status_code == 404


def test_the_region_page_section(world):
    _case, project = project_make(world)
    client = client_for("township_admin")
    for region, expected in (("新华村", True), ("城关镇", True), ("东街社区", False)):
        body = text(client.get(reverse("grids:project_region_section", args=[world.regions[region].pk])))
        assert ("前庭后院小花园" in body) is expected, region
    assert "东街社区还没有由群众诉求转化的项目。" in text(
        client.get(reverse("grids:project_region_section", args=[world.regions["东街社区"].pk]))
    )
    assert (
        client.get(reverse("grids:project_region_section", args=[world.regions["石花镇"].pk])).status_code
        == 404
    )
    # The include the region page adds renders on its own, with only the region in its context.
    request = RequestFactory().get("/")
    html = render_to_string(
        "grids/projects/_section.html", {"region": world.regions["新华村"]}, request=request
    )
    assert f'data-gc-fragment="/grids/projects/region/{world.regions["新华村"].pk}/section/"' in html
    assert (
        render_to_string("grids/projects/_section.html", {"region": world.regions["第一网格"]}).strip() == ""
    )
    assert project.pk


# --- the API ----------------------------------------------------------------------------------------


def api_for(username: str):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from governance.models import User

    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_api(world):
    case = case_make(world)
    secretary = api_for("village_secretary")
    data = {"case_id": case.pk, "title": "前庭后院小花园", "description": "", "idempotency_key": "api-p"}
    response = secretary.post("/api/v1/grids/projects/", data, format="json")
    assert response.status_code == 201
    body = response.json()
    project_id = body["id"]
    assert (body["title"], body["status"], body["progress_percent"], body["can_manage"]) == (
        "前庭后院小花园",
        "planned",
        0,
        True,
    )
    assert body["source_cases"] == [
        {"number": case.number, "category": "道路损坏", "status_label": "已上报", "is_visible": True}
    ]
    assert secretary.post("/api/v1/grids/projects/", data, format="json").status_code == 200
    response = secretary.post(
        f"/api/v1/grids/projects/{project_id}/milestones/",
        {"title": "", "due_on": "2026-06-01", "idempotency_key": "m"},
        format="json",
    )
    assert (response.status_code, response.json()["fields"]) == (400, {"title": ["请填写节点名称。"]})
    for key, title, weight in (("m1", "设计", 1), ("m2", "施工", 3)):
        response = secretary.post(
            f"/api/v1/grids/projects/{project_id}/milestones/",
            {"title": title, "due_on": "2026-06-01", "weight": weight, "idempotency_key": key},
            format="json",
        )
        assert response.status_code == 201
    milestones = {m["title"]: m["id"] for m in response.json()["milestones"]}
    response = secretary.post(
        f"/api/v1/grids/projects/{project_id}/complete-milestone/",
        {"milestone_id": milestones["施工"]},
        format="json",
    )
    assert (response.json()["progress_percent"], response.json()["status"]) == (75, "active")
    listing = secretary.get("/api/v1/grids/projects/", {"status": "active"}).json()
    assert [(p["title"], p["milestone_done"], p["milestone_count"]) for p in listing["results"]] == [
        ("前庭后院小花园", 1, 2)
    ]
    assert secretary.get("/api/v1/grids/projects/", {"status": "done"}).json()["results"] == []
    response = api_for("viewer").post(
        f"/api/v1/grids/projects/{project_id}/suspend/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    outsider = api_for("minying_secretary")
    missing = outsider.post("/api/v1/grids/projects/2147483000/suspend/", {}, format="json")
    response = outsider.post(f"/api/v1/grids/projects/{project_id}/suspend/", {}, format="json")
    assert (response.status_code, response.json()) == (404, missing.json())
    response = secretary.post(
        f"/api/v1/grids/projects/{project_id}/suspend/", {"reason": "汛期停工"}, format="json"
    )
    assert response.json()["status"] == "suspended"
    response = secretary.post(f"/api/v1/grids/projects/{project_id}/resume/", {}, format="json")
    assert response.json()["status"] == "active"
