"""The grid leader's home /grids/: households, open cases with deadline colours, follow-ups,
notifications and this month's work, in a constant number of queries; everyone else is sent on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from grids.models import CaseStatus, WarningLevel, WorkKind
from grids.selectors.home import leader_home
from grids.services.deadlines import deadlines_check
from grids.services.notifications import notification_mark_read, notify
from grids.services.worklog import work_log_record
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_leader_home_shows_the_leaders_grid_and_the_file_button(world):
    response = client_for("grid_leader").get("/grids/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "新华村 · 第一网格" in html
    assert 'href="/grids/file/"' in html
    assert "上报民情" in html
    # Households on the register in 第一网格: 王家 and 李家 (the inactive 旧户 is not counted).
    assert re.search(r'data-testid="stat-households"><span class="stat__value">2<', html)
    assert "没有办理中的诉求。" in html
    assert "暂无通知。" in html


def test_open_cases_with_warning_colours_follow_ups_notifications_and_month(world):
    leader = world.users["grid_leader"]
    quiet = case_make(world, description="村道塌陷一处，雨天难走")
    red = case_bring_to(world, case_make(world, description="水渠堵塞，田里进不了水"), CaseStatus.ASSIGNED)
    yellow = case_bring_to(world, case_make(world, description="桥栏杆松动"), CaseStatus.SIGNED)
    done = case_bring_to(world, case_make(world, description="路灯修好了待回访"), CaseStatus.RESOLVED)
    case_bring_to(world, case_make(world, description="已归档的一件"), CaseStatus.CLOSED)
    elsewhere = case_make(world, reporter="grid_leader_2", grid="第二网格", description="第二网格的事")

    # The deadline task: the signed case near its resolve deadline, the assigned one long past signing.
    deadlines_check(now=yellow.resolve_deadline - dt.timedelta(minutes=5))
    red.refresh_from_db()
    yellow.refresh_from_db()
    assert red.warning == WarningLevel.RED
    assert yellow.warning == WarningLevel.YELLOW

    notification_mark_read(user=leader)
    notify(users=[leader], case=quiet, text="村里已受理您上报的诉求")
    work_log_record(
        actor=leader,
        idempotency_key="home-test-1",
        grid=world.regions["第一网格"],
        kind=WorkKind.OUTREACH,
        occurred_on=timezone.localdate(),
        topic="医保缴费政策宣传",
        attendees_count=23,
    )

    data = leader_home(leader)
    assert [c.pk for c in data.open_cases] == [red.pk, yellow.pk, quiet.pk]
    assert (data.open_count, data.red_count, data.yellow_count) == (3, 1, 1)
    assert [c.pk for c in data.follow_ups] == [done.pk]
    assert data.households_count == 2
    assert data.unread_count == 1
    assert data.notifications[0].text == "村里已受理您上报的诉求"
    assert data.filed_this_month == 5
    assert data.work_this_month == 1
    assert data.recent_work[0].topic == "医保缴费政策宣传"
    assert elsewhere.pk not in [c.pk for c in data.open_cases]

    html = client_for("grid_leader").get("/grids/").content.decode()
    rows = re.findall(r'class="case-row case-row--(\w+)" href="([^"]+)" data-testid="open-case"', html)
    assert rows == [
        ("red", f"/grids/cases/{red.number}/"),
        ("yellow", f"/grids/cases/{yellow.number}/"),
        ("none", f"/grids/cases/{quiet.number}/"),
    ]
    assert "1 件超期" in html
    assert "1 件临期" in html
    assert f'href="/grids/cases/{done.number}/" data-testid="follow-up-case"' in html
    assert "待我回访" in html
    assert "村里已受理您上报的诉求" in html
    assert "1 条未读" in html
    assert "本月上报民情 5 件，记录网格工作 1 次。" in html
    assert "医保缴费政策宣传" in html
    assert "23 人参加" in html
    assert "第二网格的事" not in html


def test_home_answers_in_a_constant_number_of_queries(world, django_assert_max_num_queries):
    client = client_for("grid_leader")
    client.get("/grids/")
    with django_assert_max_num_queries(20) as few:
        client.get("/grids/")
    for i in range(8):
        case_make(world, description=f"第{i}件诉求：路面破损")
        notify(users=[world.users["grid_leader"]], case=None, text=f"通知{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/grids/")
    assert response.content.decode().count('data-testid="open-case"') == 8


def test_village_secretary_and_above_go_to_the_queue(world):
    for username in ("village_secretary", "township_admin", "county_admin"):
        response = client_for(username).get("/grids/")
        assert response.status_code == 302
        assert response.url == "/grids/queue/"


def test_users_without_a_grid_role_are_told_what_the_page_is(world):
    response = client_for("canteen_manager").get("/grids/")
    assert response.status_code == 200
    assert "您的账号没有网格长角色" in response.content.decode()
    assert "上报民情" not in response.content.decode().split("<main", 1)[1]


def test_anonymous_is_sent_to_log_in(world):
    response = Client().get("/grids/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_navigation_points_the_grids_module_at_the_home(world):
    html = client_for("grid_leader").get("/").content.decode()
    assert re.search(r'href="/grids/"[^>]*data-module="grids"', html)
