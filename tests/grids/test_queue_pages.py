"""The triage queue: who has one and what it holds, tabs with exact counts, every filter, sort,
pagination, warnings, bulk accept, the Excel export and its audit row, privacy of the residents' names,
and a constant number of SQL queries whatever the number of cases."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from governance.models import AuditAction, AuditEvent
from grids import access as grids_access
from grids.models import Case, CaseStatus, Privacy, Urgency, WarningLevel
from grids.selectors import queue as queue_selectors
from tests.grids.factories import case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db

URL = "/grids/queue/"


@pytest.fixture
def world(demo_county):
    return grids_world_make(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def listed(response) -> list[str]:
    """The case numbers on the page, in order."""
    return re.findall(r'<li class="gc-qcase[^"]*" data-case="([^"]+)"', response.content.decode())


def tab_counts(response) -> dict[str, int]:
    return {
        slug: int(n)
        for slug, n in re.findall(
            r'data-tab="(\w+)">[^<]*<span class="gc-tab__n">(\d+)</span>', response.content.decode()
        )
    }


@pytest.fixture
def desk(world):
    """One case in every queue state in 新华村, one in 民营社区 (another township)."""
    states = [
        CaseStatus.SUBMITTED,
        CaseStatus.ACCEPTED,
        CaseStatus.ASSIGNED,
        CaseStatus.SIGNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.RESOLVED,
        CaseStatus.FOLLOWED_UP,
        CaseStatus.RETURNED,
        CaseStatus.REOPENED,
        CaseStatus.CLOSED,
        CaseStatus.WITHDRAWN,
    ]
    cases = {}
    for status in states:
        case = case_make(world, resident="王建国")
        cases[status] = case_bring_to(world, case, status)
    cases["minying"] = case_make(world, reporter="minying_leader", grid="民营第一网格")
    return cases


def test_tabs_hold_their_states_with_exact_counts(world, desk):
    client = client_for("village_secretary")
    response = client.get(URL)
    assert response.status_code == 200
    assert tab_counts(response) == {
        "submitted": 1,
        "accepted": 1,
        "assigned": 1,
        "handling": 2,
        "resolved": 1,
        "followed_up": 1,
        "returned": 2,
    }
    expected = {
        "submitted": [CaseStatus.SUBMITTED],
        "accepted": [CaseStatus.ACCEPTED],
        "assigned": [CaseStatus.ASSIGNED],
        "handling": [CaseStatus.IN_PROGRESS, CaseStatus.SIGNED],
        "resolved": [CaseStatus.RESOLVED],
        "followed_up": [CaseStatus.FOLLOWED_UP],
        "returned": [CaseStatus.REOPENED, CaseStatus.RETURNED],
    }
    for tab, statuses in expected.items():
        page = client.get(URL, {"tab": tab})
        # Newest filed first: the later state was made later.
        assert listed(page) == [desk[s].number for s in statuses], tab
    # Closed and withdrawn cases and the other township's case are in no tab.
    body = text(client.get(URL, {"tab": "submitted"}))
    assert desk["minying"].number not in body
    assert desk[CaseStatus.CLOSED].number not in body


def test_who_has_a_queue_and_what_it_holds(world, desk):
    township = client_for("township_admin")
    assert listed(township.get(URL)) == [desk[CaseStatus.SUBMITTED].number]
    assert listed(client_for("county_admin").get(URL)) == [
        desk["minying"].number,
        desk[CaseStatus.SUBMITTED].number,
    ]
    assert listed(client_for("minying_secretary").get(URL)) == [desk["minying"].number]
    assert listed(client_for("dongjie_secretary").get(URL)) == []
    # A grid leader's queue holds the cases kept in the grid (none here): the village's are not theirs.
    assert listed(client_for("grid_leader").get(URL)) == []
    for username in ("viewer", "mediator", "canteen_manager", "xinhua_clerk", "nobody"):
        assert client_for(username).get(URL).status_code == 403, username
    assert Client().get(URL).status_code == 302


def test_filters_and_their_errors(world):
    secretary = client_for("village_secretary")
    road = case_make(world, category="road", urgency=Urgency.URGENT)
    boundary = case_make(world, category="boundary", grid="第二网格", reporter="grid_leader_2")
    late = case_make(world, category="road")
    Case.objects.filter(pk=late.pk).update(
        warning=WarningLevel.RED, filed_at=timezone.now() - dt.timedelta(days=10)
    )
    Case.objects.filter(pk=road.pk).update(warning=WarningLevel.YELLOW)
    parent = world.categories["road"].parent
    checks = [
        ({"category": world.categories["boundary"].pk}, [boundary]),
        ({"category": parent.pk}, [road, late]),
        ({"urgency": "urgent"}, [road]),
        ({"warning": "any"}, [road, late]),
        ({"warning": "red"}, [late]),
        ({"warning": "yellow"}, [road]),
        ({"region": world.regions["第二网格"].pk}, [boundary]),
        ({"region": world.regions["新华村"].pk}, [boundary, road, late]),
        ({"level": "village"}, [boundary, road, late]),
        ({"level": "township"}, []),
        ({"filed_to": (timezone.localdate() - dt.timedelta(days=5)).isoformat()}, [late]),
        ({"filed_from": timezone.localdate().isoformat()}, [boundary, road]),
        (
            {"number": road.number[:-1]},
            [c for c in (boundary, road, late) if c.number.startswith(road.number[:-1])],
        ),
        ({"number": road.number}, [road]),
    ]
    for params, expected in checks:
        response = secretary.get(URL, params)
        assert listed(response) == [c.number for c in expected], params
        assert "已筛选" in text(response), params
    # A filter the form refuses is shown next to its field and filters nothing.
    response = secretary.get(URL, {"filed_from": "2026-13-40", "warning": "red"})
    assert re.search(r'data-field="filed_from">.*?请输入有效的日期', text(response))
    assert listed(response) == [late.number]
    response = secretary.get(URL, {"filed_from": "2026-05-02", "filed_to": "2026-05-01"})
    assert "结束日期不能早于开始日期。" in text(response)
    response = secretary.get(URL, {"category": "999999"})
    assert re.search(r'data-field="category">.*?请从列表中选择。', text(response))
    assert len(listed(response)) == 3
    # The warning summary counts every open case of the desk.
    body = text(secretary.get(URL))
    assert re.search(r"超期 <b>1</b>", body)
    assert re.search(r"临期 <b>1</b>", body)


def test_sort_and_pages(world):
    secretary = client_for("village_secretary")
    made = [case_make(world, description=f"第{i}件：村道损坏。") for i in range(33)]
    Case.objects.filter(pk=made[5].pk).update(urgency=Urgency.CRITICAL)
    Case.objects.filter(pk=made[9].pk).update(urgency=Urgency.URGENT)
    Case.objects.filter(pk=made[7].pk).update(warning=WarningLevel.RED)
    Case.objects.filter(pk=made[8].pk).update(warning=WarningLevel.YELLOW)
    newest_first = [c.number for c in reversed(made)]
    first = secretary.get(URL)
    assert listed(first) == newest_first[:30]
    assert "第 1 / 2 页" in text(first)
    assert listed(secretary.get(URL, {"page": 2})) == newest_first[30:]
    assert listed(secretary.get(URL, {"sort": "filed"}))[:3] == [
        made[0].number,
        made[1].number,
        made[2].number,
    ]
    assert listed(secretary.get(URL, {"sort": "urgency"}))[:3] == [
        made[5].number,
        made[9].number,
        made[32].number,
    ]
    assert listed(secretary.get(URL, {"sort": "warning"}))[:3] == [
        made[7].number,
        made[8].number,
        made[32].number,
    ]
    # The warning colours are on the rows.
    body = first.content.decode()
    assert f'class="gc-qcase gc-qcase--red" data-case="{made[7].number}"' in body
    assert f'class="gc-qcase gc-qcase--yellow" data-case="{made[8].number}"' in body


def test_bulk_accept(world):
    secretary = client_for("village_secretary")
    one, two, done = (case_make(world) for _ in range(3))
    case_bring_to(world, done, CaseStatus.ACCEPTED)
    other = case_make(world, reporter="minying_leader", grid="民营第一网格")
    response = secretary.post(
        URL, {"cases": [one.number, two.number, done.number, other.number, "NOPE"], "back": "tab=submitted"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?tab=submitted"
    assert {c.number: c.status for c in Case.objects.all()} == {
        one.number: CaseStatus.ACCEPTED,
        two.number: CaseStatus.ACCEPTED,
        done.number: CaseStatus.ACCEPTED,
        other.number: CaseStatus.SUBMITTED,
    }
    page = text(secretary.get(URL))
    assert f"已受理 2 件：{one.number}、{two.number}。" in page
    assert f"{done.number} 未受理：该诉求当前状态为“已受理”，不能执行“受理”。" in page
    assert f"{other.number} 未受理：未找到该诉求，或者它不在您的管辖范围内。" in page
    assert "NOPE 未受理" in page
    response = secretary.post(URL, {"back": "tab=submitted"})
    assert "请先勾选要受理的诉求。" in text(secretary.get(URL))
    assert client_for("viewer").post(URL, {"cases": [one.number]}).status_code == 403


def test_the_export_writes_the_filtered_list_and_an_audit_row(world):
    secretary = client_for("village_secretary")
    public = case_make(world, resident="王建国", description="村道塌陷。")
    secret = case_make(world, resident="李德明", privacy=Privacy.CONFIDENTIAL, description="邻里纠纷。")
    case_make(world, reporter="minying_leader", grid="民营第一网格")
    response = secretary.get(URL, {"tab": "submitted", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:10] == (
        "编号",
        "状态",
        "类别",
        "紧急程度",
        "预警",
        "网格",
        "村（社区）",
        "办理层级",
        "反映人",
        "诉求内容",
    )
    assert sorted((r[0], r[8], r[9]) for r in rows[1:]) == sorted(
        [(public.number, "王建国", "村道塌陷。"), (secret.number, "保密", "邻里纠纷。")]
    )
    audit = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="grids.case")
    assert audit.actor_id == world.users["village_secretary"].pk
    assert audit.changes["rows"] == [None, 2]
    assert audit.changes["filters"][1]["tab"] == "submitted"
    assert audit.region_path == world.regions["新华村"].path
    # Without any name in it, an export carries no personal data and is not recorded.
    Case.objects.filter(pk=public.pk).update(privacy=Privacy.ANONYMOUS)
    secretary.get(URL, {"tab": "all", "export": "xlsx"})
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_names_follow_the_privacy_rule(world):
    public = case_make(world, resident="王建国")
    anonymous = case_make(world, resident="王秀英", privacy=Privacy.ANONYMOUS)
    secret = case_make(world, resident="李德明", privacy=Privacy.CONFIDENTIAL)
    body = text(client_for("village_secretary").get(URL))
    assert "反映人：王建国" in body
    assert "反映人：匿名" in body
    assert "反映人：保密" in body
    assert "王秀英" not in body.replace("王秀英 ·", "")  # the reporter's own name is in the page header
    assert "李德明" not in body
    # The queue's bulk rule is the gate's rule, for every user and case.
    cases = list(Case.objects.select_related("grid").filter(pk__in=[public.pk, anonymous.pk, secret.pk]))
    for user in world.users.values():
        assert queue_selectors.queue_identity_visible(user=user, cases=cases) == {
            c.pk for c in cases if grids_access.case_sees_identity(user, c)
        }, user.username


def _queries_for(client: Client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("params", [{}, {"tab": "handling", "warning": "any", "sort": "deadline"}])
def test_a_constant_number_of_queries_whatever_the_number_of_cases(
    world, params, django_assert_max_num_queries
):
    secretary = client_for("village_secretary")

    def fill(n: int) -> None:
        for index in range(n):
            case = case_make(world, resident="王建国" if index % 2 else None, privacy=Privacy.PUBLIC)
            if index % 3 == 1:
                case_bring_to(world, case, CaseStatus.SIGNED)
                Case.objects.filter(pk=case.pk).update(warning=WarningLevel.RED)

    fill(5)
    small = _queries_for(secretary, params)
    fill(55)
    assert Case.objects.count() == 60
    with django_assert_max_num_queries(small):
        response = secretary.get(URL, params)
    assert len(listed(response)) >= 5
    # Session, user, the role assignments (read by the gate, the filters, the scope and the privacy rule),
    # categories, regions, the counts, the page, the mediator grants, the grids navigation strip's roles:
    # 13, one more with filters on.
    assert small <= 14
    with django_assert_max_num_queries(14):
        secretary.get(URL, params)
