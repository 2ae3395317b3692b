"""Excel exports of the awards pages: the review queue (/points/awards/review/export/) and the award list
(/points/awards/export/, the list's filters). Opened with openpyxl: exact headers, rows and values, dates
as dates, residents' names in full only for roles that see personal data, each export audited."""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from governance.models import AuditAction, AuditEvent
from points.models import AwardStatus
from points.services.objections import objection_file
from tests.points.award_factories import award_bring_to, award_make, awards_world_make, photo_upload

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DAY = dt.datetime(2026, 11, 18)  # a date cell reads back from openpyxl as midnight of that day
AT = dt.datetime(2026, 11, 18, 10, 0)  # local wall-clock time, as Excel holds it

REVIEW_HEADERS = [
    "编号",
    "村（社区）",
    "网格",
    "户号",
    "户主",
    "当事人",
    "条目编码",
    "积分条目",
    "类别",
    "分值",
    "发生日期",
    "申报人",
    "申报时间",
    "照片数",
    "事迹说明",
]
LIST_HEADERS = [
    *REVIEW_HEADERS[:11],
    "周期",
    "状态",
    "申报人",
    "申报时间",
    "审核时间",
    "公示截止",
    "入账时间",
    "未处理异议",
    "退回或作废理由",
    "事迹说明",
]


@pytest.fixture
def world(demo_county):
    return awards_world_make(demo_county)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def login(world, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def sheet(response) -> tuple[list, list[list], list[list[bool]]]:
    """(headers, rows of values, rows of is_date) of the only sheet of an .xlsx response."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.worksheets) == 1
    cells = list(workbook.worksheets[0].iter_rows())
    headers = [c.value for c in cells[0]]
    return (
        headers,
        [[c.value for c in row] for row in cells[1:]],
        [[c.is_date for c in row] for row in cells[1:]],
    )


@pytest.fixture
def awards(world):
    """Awards in two subtrees and several states (all proposed at NOW: time is frozen)."""
    made = {
        "wang": award_make(world, "王家", "HJ-02", resident="王建国", note="垃圾分类到位"),
        "li": award_make(world, "李家", "XL-01", actor="village_secretary", occurred_on=dt.date(2026, 11, 3)),
        "zhang": award_make(world, "张家", "ZF-02", actor="grid_leader_2", resident="张丽"),
        "photo": award_make(world, "李家", "HJ-01", photos=(photo_upload(), photo_upload("b.jpg"))),
        "sun": award_make(world, "孙家", "HJ-02", actor="minying_leader", resident="孙大爷"),
        "notice": award_make(world, "王家", "XL-01", occurred_on=dt.date(2026, 10, 30)),
        "rejected": award_make(world, "张家", "HJ-02", actor="grid_leader_2"),
    }
    made["notice"] = award_bring_to(world, made["notice"], AwardStatus.NOTICE)
    made["rejected"] = award_bring_to(world, made["rejected"], AwardStatus.REJECTED)
    objection_file(award=made["notice"], reason="事迹不实，未见照料")
    return made


def test_review_export_is_the_queue_oldest_first_with_full_names(world, awards):
    response = login(world, "village_secretary").get("/points/awards/review/export/")
    headers, rows, dates = sheet(response)
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''" + quote(
        "积分审核待办-2026-11-18.xlsx"
    )
    assert response["Cache-Control"] == "private, no-store"
    assert headers == REVIEW_HEADERS
    leader, secretary, leader_2 = (
        str(world.users[u]) for u in ("grid_leader", "village_secretary", "grid_leader_2")
    )
    a = awards
    assert rows == [
        [
            a["wang"].pk,
            "新华村",
            "第一网格",
            "XH-001",
            "王建国",
            "王建国",
            "HJ-02",
            "垃圾分类投放到位",
            "环境卫生",
            2,
            DAY,
            leader,
            AT,
            0,
            "垃圾分类到位",
        ],
        [
            a["li"].pk,
            "新华村",
            "第一网格",
            "XH-002",
            "李德明",
            None,
            "XL-01",
            "赡养老人、照料生活起居到位",
            "孝老爱亲",
            3,
            dt.datetime(2026, 11, 3),
            secretary,
            AT,
            0,
            None,
        ],
        [
            a["zhang"].pk,
            "新华村",
            "第二网格",
            "XH-101",
            "张伟",
            "张丽",
            "ZF-02",
            "主动调解邻里矛盾纠纷",
            "遵纪守法",
            3,
            DAY,
            leader_2,
            AT,
            0,
            None,
        ],
        [
            a["photo"].pk,
            "新华村",
            "第一网格",
            "XH-002",
            "李德明",
            None,
            "HJ-01",
            "庭院整洁、房前屋后无垃圾杂物",
            "环境卫生",
            2,
            DAY,
            leader,
            AT,
            2,
            None,
        ],
    ]
    # Dates and times are Excel dates, not text.
    assert [row[10] for row in dates] == [True] * 4
    assert [row[12] for row in dates] == [True] * 4
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor_id, event.object_type, event.region_path, event.changes["rows"]) == (
        world.users["village_secretary"].pk,
        "points.award",
        world.regions["新华村"].path,
        [None, 4],
    )
    assert event.detail == "导出积分审核待办 Excel，共 4 行。"


def test_review_export_scope_and_refusals(world, awards):
    _headers, rows, _dates = sheet(login(world, "minying_secretary").get("/points/awards/review/export/"))
    assert [row[0] for row in rows] == [awards["sun"].pk]
    assert rows[0][3:6] == ["MY-001", "孙大爷", "孙大爷"]
    _headers, rows, _dates = sheet(login(world, "dongjie_secretary").get("/points/awards/review/export/"))
    assert rows == []
    # Not reviewers: the export is not there for them, like the page.
    for username in ("grid_leader", "viewer", "canteen_manager", "nobody"):
        assert login(world, username).get("/points/awards/review/export/").status_code == 404
    assert Client().get("/points/awards/review/export/").status_code == 302
    assert not AuditEvent.objects.filter(
        action=AuditAction.EXPORT, actor_id=world.users["viewer"].pk
    ).exists()


def _page_ids(client: Client, query: str) -> list[int]:
    page = client.get(f"/points/awards/?{query}")
    assert page.status_code == 200
    return [int(i) for i in re.findall(r'href="/points/awards/(\d+)/"', page.content.decode())]


def test_list_export_follows_the_page_filters(world, awards):
    client = login(world, "village_secretary")
    a = awards
    newest_first = [a[k].pk for k in ("rejected", "notice", "photo", "zhang", "li", "wang")]
    for query, expected in (
        ("", newest_first),
        ("status=proposed", [a[k].pk for k in ("photo", "zhang", "li", "wang")]),
        ("status=notice", [a["notice"].pk]),
        ("q=XH-1", [a["rejected"].pk, a["zhang"].pk]),
        (f"grid={world.regions['第二网格'].pk}", [a["rejected"].pk, a["zhang"].pk]),
        (f"household={world.households['李家'].pk}&status=proposed", [a["photo"].pk, a["li"].pk]),
        ("period=2026-10", [a["notice"].pk]),
        ("status=bogus&page=2", newest_first),
    ):
        _headers, rows, _dates = sheet(client.get(f"/points/awards/export/?{query}"))
        assert [row[0] for row in rows] == expected, query
        if "page" not in query:
            assert _page_ids(client, query) == expected, query
    headers, rows, dates = sheet(client.get("/points/awards/export/"))
    assert headers == LIST_HEADERS
    leader, leader_2 = str(world.users["grid_leader"]), str(world.users["grid_leader_2"])
    notice = a["notice"]
    notice.refresh_from_db()
    ends = timezone.localtime(notice.notice_ends_at).replace(tzinfo=None)
    assert ends == dt.datetime(2026, 11, 25, 10, 0)
    by_id = {row[0]: row for row in rows}
    assert by_id[notice.pk] == [
        notice.pk,
        "新华村",
        "第一网格",
        "XH-001",
        "王建国",
        None,
        "XL-01",
        "赡养老人、照料生活起居到位",
        "孝老爱亲",
        3,
        dt.datetime(2026, 10, 30),
        "2026-10",
        "公示中",
        leader,
        AT,
        AT,
        ends,
        None,
        1,
        None,
        None,
    ]
    assert by_id[a["rejected"].pk][11:] == [
        "2026-11",
        "未通过",
        leader_2,
        AT,
        AT,
        None,
        None,
        0,
        "与事实不符",
        None,
    ]
    assert by_id[a["wang"].pk][11:] == [
        "2026-11",
        "待审核",
        leader,
        AT,
        None,
        None,
        None,
        0,
        None,
        "垃圾分类到位",
    ]
    notice_dates = dates[rows.index(by_id[notice.pk])]
    assert [notice_dates[i] for i in (10, 14, 15, 16)] == [True, True, True, True]
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert event.changes["rows"] == [None, 6]
    assert event.detail == "导出积分申报记录 Excel，共 6 行。"
    filtered = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("id")[1]
    assert filtered.changes["filters"] == [None, {"status": "proposed"}]


def test_list_export_masks_names_for_a_viewer_and_keeps_scope(world, awards):
    _headers, rows, _dates = sheet(login(world, "viewer").get("/points/awards/export/?status=proposed"))
    assert [(row[0], row[4], row[5]) for row in rows] == [
        (awards["photo"].pk, "李*明", None),
        (awards["zhang"].pk, "张*", "张*"),
        (awards["li"].pk, "李*明", None),
        (awards["wang"].pk, "王*国", "王*国"),
    ]
    _headers, rows, _dates = sheet(login(world, "minying_secretary").get("/points/awards/export/"))
    assert [(row[0], row[4], row[5]) for row in rows] == [(awards["sun"].pk, "孙大爷", "孙大爷")]
    _headers, rows, _dates = sheet(login(world, "grid_leader_2").get("/points/awards/export/"))
    assert [row[0] for row in rows] == [awards["rejected"].pk, awards["zhang"].pk]
    _headers, rows, _dates = sheet(login(world, "nobody").get("/points/awards/export/"))
    assert rows == []


def test_pages_link_to_their_exports(world, awards):
    client = login(world, "village_secretary")
    review = client.get("/points/awards/review/").content.decode()
    assert 'href="/points/awards/review/export/"' in review
    listing = client.get("/points/awards/?status=proposed&q=XH").content.decode()
    assert 'href="/points/awards/export/?status=proposed&amp;q=XH"' in listing
    assert 'href="/points/awards/export/"' in client.get("/points/awards/").content.decode()
    empty = login(world, "dongjie_secretary")
    assert "/points/awards/review/export/" not in empty.get("/points/awards/review/").content.decode()
    assert "/points/awards/export/" not in empty.get("/points/awards/").content.decode()
