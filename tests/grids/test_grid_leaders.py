"""Grid leaders' terms: electing a new leader ends the current term (grids.services.leaders), the history
page /grids/grid/<id>/leaders/ with its election form, and the API under regions/{id}/grid-leaders/.

The world (tests/grids/factories.py): 第一网格 has 王秀英 in office since 2023-01-01 and 李德明 before her
(2020-01-01 – 2023-01-01); 第二网格 has no leader yet.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from governance.models import AuditAction, AuditEvent
from governance.roles import Role
from governance.services import roles as role_services
from grids.models import GridLeader
from grids.services.leaders import grid_leader_elect
from tests.grids.factories import PASSWORD, GridsWorld, grids_world_make, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


def elect(world: GridsWorld, actor: str = "village_secretary", **overrides):
    data: dict[str, Any] = {
        "actor": world.users[actor],
        "grid": world.regions["第一网格"],
        "resident": world.people.residents["李芳"],
        "elected_on": dt.date(2026, 3, 1),
        "term_end": dt.date(2029, 2, 28),
    }
    data.update(overrides)
    return grid_leader_elect(**data)


def terms(world: GridsWorld, grid: str = "第一网格") -> list[tuple[str, dt.date, dt.date | None]]:
    rows = GridLeader.objects.filter(grid=world.regions[grid]).order_by("elected_on")
    return [(t.resident.name, t.elected_on, t.ended_on) for t in rows.select_related("resident")]


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------------------------------------------------
# The service


def test_electing_ends_the_current_term_the_day_before(world):
    current = world.people.leaders["第一网格"]
    term = elect(world)
    assert terms(world) == [
        ("李德明", dt.date(2020, 1, 1), dt.date(2023, 1, 1)),
        ("王秀英", dt.date(2023, 1, 1), dt.date(2026, 2, 28)),
        ("李芳", dt.date(2026, 3, 1), None),
    ]
    assert (term.term_end, term.user_id) == (dt.date(2029, 2, 28), None)
    ended = AuditEvent.objects.get(object_type="grids.gridleader", object_id=str(current.pk))
    assert (ended.action, ended.changes) == (AuditAction.UPDATE, {"ended_on": [None, "2026-02-28"]})
    created = AuditEvent.objects.get(object_type="grids.gridleader", object_id=str(term.pk))
    assert created.action == AuditAction.CREATE
    assert created.detail == "第一网格选举李芳为百户网格长"
    assert created.region_path == world.regions["第一网格"].path


def test_a_grid_without_a_leader_gets_its_first(world):
    term = elect(world, grid=world.regions["第二网格"], resident=world.people.residents["张伟"])
    assert terms(world, "第二网格") == [("张伟", dt.date(2026, 3, 1), None)]
    assert AuditEvent.objects.filter(object_type="grids.gridleader", object_id=str(term.pk)).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="grids.gridleader").count() == 0


@pytest.mark.parametrize("actor", ["township_admin", "county_admin"])
def test_staff_above_the_village_may_elect(world, actor):
    elect(world, actor=actor)
    assert terms(world)[-1] == ("李芳", dt.date(2026, 3, 1), None)


@pytest.mark.parametrize("actor", ["grid_leader", "viewer", "mediator"])
def test_roles_in_scope_that_do_not_elect_are_forbidden(world, actor):
    with pytest.raises(DomainError) as caught:
        elect(world, actor=actor)
    assert (caught.value.code, caught.value.status) == ("grid_leader_elect_forbidden", 403)
    assert len(terms(world)) == 2


@pytest.mark.parametrize(
    "actor", ["grid_leader_2", "dongjie_secretary", "shihua_admin", "minying_secretary", "nobody"]
)
def test_out_of_scope_answers_not_found(world, actor):
    with pytest.raises(NotFound):
        elect(world, actor=actor)
    assert len(terms(world)) == 2


def test_only_grids_have_leaders(world):
    with pytest.raises(DomainError) as caught:
        elect(world, grid=world.regions["新华村"])
    assert caught.value.code == "grid_leader_not_a_grid"


@pytest.mark.parametrize(
    ("resident", "code"),
    [
        ("张伟", "grid_leader_resident_not_in_grid"),  # lives in 第二网格
        ("王老汉", "grid_leader_resident_inactive"),  # deceased
    ],
)
def test_the_leader_lives_in_the_grid(world, resident, code):
    with pytest.raises(DomainError) as caught:
        elect(world, resident=world.people.residents[resident])
    assert (caught.value.code, caught.value.field) == (code, "resident")


def test_someone_who_moved_out_cannot_be_elected(world):
    with pytest.raises(DomainError) as caught:
        elect(world, resident=world.people.residents["钱旧人"])
    assert caught.value.code == "grid_leader_resident_inactive"
    assert str(caught.value.message) == "钱旧人已不在本网格居住（迁出），不能当选网格长。"


def test_a_resident_working_away_may_be_elected(world):
    elect(world, resident=world.people.residents["王小明"])
    assert terms(world)[-1][0] == "王小明"


@pytest.mark.parametrize(
    ("elected_on", "term_end", "code", "field"),
    [
        (dt.date(2023, 1, 1), dt.date(2026, 1, 1), "elected_on_not_after_current", "elected_on"),
        (dt.date(2022, 6, 1), dt.date(2025, 6, 1), "elected_on_not_after_current", "elected_on"),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 1), "term_end_before_elected", "term_end"),
        (dt.date(2026, 3, 1), dt.date(2031, 3, 2), "term_too_long", "term_end"),
        (None, dt.date(2029, 1, 1), "elected_on_required", "elected_on"),
        (dt.date(2026, 3, 1), None, "term_end_required", "term_end"),
    ],
)
def test_dates_are_checked(world, elected_on, term_end, code, field):
    with pytest.raises(DomainError) as caught:
        elect(world, elected_on=elected_on, term_end=term_end)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert len(terms(world)) == 2


def test_the_message_names_the_current_leader(world):
    with pytest.raises(DomainError) as caught:
        elect(world, elected_on=dt.date(2022, 6, 1), term_end=dt.date(2025, 6, 1))
    assert str(caught.value.message) == "新一届当选日期须晚于现任网格长王秀英的当选日期（2023年1月1日）。"


def test_an_election_in_the_future_is_refused(world):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(DomainError) as caught:
        elect(world, elected_on=tomorrow, term_end=tomorrow.replace(year=tomorrow.year + 3))
    assert caught.value.code == "elected_on_future"


def test_the_linked_account_must_hold_the_grid_leader_role_there(world):
    with pytest.raises(DomainError) as caught:
        elect(world, user=world.users["grid_leader_2"])  # a grid leader, of 第二网格
    assert (caught.value.code, caught.value.field) == ("grid_leader_user_without_role", "user")
    term = elect(world, user=world.users["grid_leader"])
    assert term.user_id == world.users["grid_leader"].pk


def test_a_replay_with_the_same_key_returns_the_first_term(world):
    key = uuid.uuid4().hex
    first = elect(world, idempotency_key=key)
    again = elect(world, idempotency_key=key)
    assert again.pk == first.pk
    assert len(terms(world)) == 3


# ---------------------------------------------------------------------------------------------------------
# The page


def leaders_url(world: GridsWorld, grid: str = "第一网格") -> str:
    return reverse("grids:grid_leaders", args=[world.regions[grid].pk])


def test_the_grid_leader_sees_the_history_without_the_form(world):
    response = client_for("grid_leader").get(leaders_url(world))
    assert response.status_code == 200
    page = text(response)
    assert "现任网格长" in page
    assert "王秀英" in page
    assert "李德明" in page
    assert "2020年1月1日 – 2023年1月1日" in page
    assert "2023年1月1日 – 至今" in page
    assert 'data-testid="elect-form"' not in page


def test_the_secretary_elects_on_the_page(world):
    client = client_for("village_secretary")
    page = text(client.get(leaders_url(world)))
    assert 'data-testid="elect-form"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    form = {
        "resident": world.people.residents["李芳"].pk,
        "elected_on": "2026-03-01",
        "term_end": "2029-02-28",
        "user": "",
        "idempotency_key": key,
    }
    response = client.post(leaders_url(world), form)
    assert response.status_code == 302
    assert response["Location"] == leaders_url(world)
    assert terms(world)[-1] == ("李芳", dt.date(2026, 3, 1), None)
    # The same form sent twice (a double tap) elects once.
    assert client.post(leaders_url(world), form).status_code == 302
    assert len(terms(world)) == 3
    page = text(client.get(leaders_url(world)))
    assert "已登记：李芳当选第一网格百户网格长。" in page


def test_an_error_shows_next_to_its_field_and_keeps_the_input(world):
    client = client_for("village_secretary")
    response = client.post(
        leaders_url(world),
        {
            "resident": world.people.residents["李芳"].pk,
            "elected_on": "2022-06-01",
            "term_end": "2025-06-01",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "新一届当选日期须晚于现任网格长王秀英的当选日期（2023年1月1日）。" in page
    assert 'value="2022-06-01"' in page
    assert 'value="2025-06-01"' in page
    assert f'<option value="{world.people.residents["李芳"].pk}" selected>' in page
    assert len(terms(world)) == 2


def test_the_page_refuses_a_resident_of_another_grid(world):
    response = client_for("village_secretary").post(
        leaders_url(world),
        {
            "resident": world.people.residents["张伟"].pk,
            "elected_on": "2026-03-01",
            "term_end": "2029-02-28",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 200
    assert "请选择本网格的居民。" in text(response)


def test_a_grid_leader_posting_is_forbidden(world):
    response = client_for("grid_leader").post(leaders_url(world), {"resident": 1})
    assert response.status_code == 403
    assert len(terms(world)) == 2


@pytest.mark.parametrize("username", ["grid_leader_2", "minying_secretary", "nobody"])
def test_out_of_scope_pages_answer_404(world, username):
    assert client_for(username).get(leaders_url(world)).status_code == 404
    assert client_for(username).post(leaders_url(world), {}).status_code == 404


def test_a_village_is_not_a_grid_page(world):
    assert client_for("village_secretary").get(leaders_url(world, "新华村")).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# The API


def api_for(username: str) -> APIClient:
    client = APIClient()
    assert client.login(username=username, password=PASSWORD)
    return client


def api_url(world: GridsWorld, region: str) -> str:
    return reverse("v1:grids:grid_leader_list", args=[world.regions[region].pk])


def test_the_api_lists_terms_under_a_region_in_scope(world):
    body = api_for("village_secretary").get(api_url(world, "新华村")).json()
    assert body["count"] == 2
    assert [(r["grid"]["name"], r["resident"]["name"], r["is_current"]) for r in body["results"]] == [
        ("第一网格", "王秀英", True),
        ("第一网格", "李德明", False),
    ]
    assert body["results"][0]["ended_on"] is None
    county = api_for("county_admin").get(api_url(world, "谷城县")).json()
    assert county["count"] == 4
    assert api_for("village_secretary").get(api_url(world, "城关镇")).status_code == 404


def test_the_api_elects(world):
    client = api_for("village_secretary")
    url = api_url(world, "第一网格")
    data = {
        "resident": world.people.residents["李芳"].pk,
        "elected_on": "2026-03-01",
        "term_end": "2029-02-28",
        "user": world.users["grid_leader"].pk,
        "idempotency_key": "elect-1",
    }
    response = client.post(url, data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["resident"]["name"], body["elected_on"], body["username"]) == (
        "李芳",
        "2026-03-01",
        "grid_leader",
    )
    assert client.post(url, data, format="json").json()["id"] == body["id"]
    assert len(terms(world)) == 3


def test_the_api_refuses_a_resident_elsewhere_like_a_missing_one(world):
    client = api_for("village_secretary")
    url = api_url(world, "第一网格")
    answers = []
    for resident in (world.people.residents["孙大爷"].pk, 2_147_000_000):
        response = client.post(
            url, {"resident": resident, "elected_on": "2026-03-01", "term_end": "2029-02-28"}, format="json"
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert answers[0][1]["fields"] == {"resident": ["网格长须是本网格（第一网格）的居民。"]}


def test_the_api_refuses_an_unknown_account_like_one_without_the_role(world):
    stranger = user_make("stranger", "路人")
    role_services.role_assign(user=stranger, role=Role.VIEWER, region=world.regions["第一网格"])
    client = api_for("village_secretary")
    answers = []
    for user_id in (stranger.pk, 2_147_000_000):
        response = client.post(
            api_url(world, "第一网格"),
            {
                "resident": world.people.residents["李芳"].pk,
                "elected_on": "2026-03-01",
                "term_end": "2029-02-28",
                "user": user_id,
            },
            format="json",
        )
        answers.append((response.status_code, response.json()["code"]))
    assert answers == [(400, "grid_leader_user_without_role")] * 2
