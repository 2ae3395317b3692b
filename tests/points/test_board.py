"""The public points board (积分公示榜): what it shows, that it leaks no personal data, and filing an
objection from it (refusals, the per-address limit, exactly once), by page and by API.

The board world (time frozen in May 2026, Asia/Shanghai): 新华村 (code 420625100201) has 王家 (XH-001,
head 王建国), 李家 (XH-002, head 李德明) on 第一网格, 张家 (XH-101, head 张伟) on 第二网格, and the
inactive 旧户. Given 100 / 40 / 40 points; 王家's 孝老爱亲 (+20) was posted on 20 May; under notice until
27 May: 李家's 庭院整洁 (+5, resident 李芳, a note naming people and a phone) and 张家's 乱倒垃圾 (−5).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from governance import pii
from governance.models import Household, Resident
from points.models import Award, AwardStatus, Objection, ObjectionStatus
from points.selectors.board import board_get, board_month_parse
from points.services.awards import award_post, award_propose, award_review
from points.services.board import OBJECTIONS_PER_IP_PER_DAY
from tests.points.factories import PointsWorld, points_give, points_world  # noqa: F401

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
CODE = "420625100201"
NOTE = "王建国和李芳一起打扫了村道，联系13800001111，身份证420625197005010011"


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=SH)


def award_under_notice(
    world: PointsWorld, household: str, rule: str, *, resident: str | None = None, note: str = ""
) -> Award:
    award = award_propose(
        actor=world.users["grid_leader"] if household != "张家" else world.users["grid_leader_2"],
        idempotency_key=uuid.uuid4().hex,
        household=world.households[household],
        rule=world.rules[rule],
        occurred_on=dt.date(2026, 5, 1),
        resident=world.people.residents[resident] if resident else None,
        note=note,
    )
    return award_review(actor=world.users["village_secretary"], award=award, approve=True)


@pytest.fixture
def board_world(points_world):  # noqa: F811
    cache.clear()
    w = points_world
    with time_machine.travel(at(5, 2), tick=False):
        points_give(w, "王家", 100)
        points_give(w, "李家", 40)
        points_give(w, "张家", 40)
        points_give(w, "赵家", 500)  # 东街社区: another village, never on 新华村's board
        w.extra["posted"] = award_under_notice(w, "王家", "孝老爱亲", resident="王秀英", note=NOTE)
    with time_machine.travel(at(5, 20), tick=False):
        assert award_post(award_id=w.extra["posted"].pk)
        w.extra["pending"] = award_under_notice(w, "李家", "庭院整洁", resident="李芳", note=NOTE)
        w.extra["deduction"] = award_under_notice(w, "张家", "乱倒垃圾")
        yield w


def forbidden_strings() -> set[str]:
    """Every resident's full name, ID number and phone (in clear and masked), every address: none of them
    may appear on the public board."""
    found: set[str] = set()
    for r in Resident.objects.all():
        found.add(r.name)
        number = pii.decrypt(r.id_number_encrypted)
        found |= {number, number[:6] + number[6:14], r.id_number_masked}
        phone = pii.decrypt(r.phone_encrypted)
        if phone:
            found |= {phone, r.phone_masked}
    found |= {a for a in Household.objects.values_list("address", flat=True) if a}
    return {s for s in found if s}


# --- the mask -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三明", "张*明"), ("王芳", "王*"), ("欧阳明华", "欧**华"), ("李", "*"), ("", ""), (" 张 明 ", "张*")],
)
def test_mask_name(name, masked):
    assert pii.mask_name(name) == masked


def test_month_parse():
    today = dt.date(2026, 5, 20)
    assert board_month_parse("2026-04", today=today) == dt.date(2026, 4, 1)
    assert board_month_parse("2026-06", today=today) == dt.date(2026, 5, 1)  # future: the current month
    assert board_month_parse("2026-13", today=today) == dt.date(2026, 5, 1)
    assert board_month_parse("junk", today=today) == dt.date(2026, 5, 1)
    assert board_month_parse(None, today=today) == dt.date(2026, 5, 1)


# --- what the board shows -------------------------------------------------------------------------------


def test_board_selector_exact(board_world, django_assert_num_queries):
    w = board_world
    with django_assert_num_queries(6):
        board = board_get(code=CODE)
    rows = [(h.rank, h.number, h.name, h.grid, h.balance, h.pending) for h in board.households]
    assert rows == [
        (1, "XH-001", "王*国", "第一网格", 120, 0),
        (2, "XH-002", "李*明", "第一网格", 40, 5),
        (2, "XH-101", "张*", "第二网格", 40, 0),
    ]
    assert board.household_count == 3
    assert [(a.id, a.household_name, a.resident_name, a.points, a.rule_name) for a in board.pending] == [
        (w.extra["pending"].pk, "李*明", "李*", 5, "庭院整洁"),
        (w.extra["deduction"].pk, "张*", "", -5, "乱倒垃圾"),
    ]
    assert board.pending[0].notice_ends_at == at(5, 27)
    assert [(a.id, a.points, a.resident_name) for a in board.posted] == [(w.extra["posted"].pk, 20, "王*英")]
    assert (board.posted_count, board.posted_points) == (1, 20)
    assert [(h.rank, h.number, h.name, h.points) for h in board.honour] == [(1, "XH-001", "王*国", 20)]
    april = board_get(code=CODE, month=dt.date(2026, 4, 1))
    assert (april.posted, april.posted_count, april.honour) == ([], 0, [])


def test_board_page_public_and_complete(board_world):
    w = board_world
    response = Client().get(f"/points/board/{CODE}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "城关镇 新华村" in html
    assert html.count('data-testid="rank-row"') == 3
    assert html.count('data-testid="pending-award"') == 2
    assert html.count('data-testid="objection-form"') == 2
    assert "公示至 5月27日 10:00" in html
    assert f'action="/points/board/{CODE}/awards/{w.extra["pending"].pk}/objection/"' in html
    assert "<svg" in html
    assert 'data-testid="board-qr"' in html
    assert f"http://testserver/points/board/{CODE}/" in html
    assert "2026年5月光荣榜" in html


def test_board_unknown_code_404(db):
    assert Client().get("/points/board/420625999999/").status_code == 404


def test_board_does_not_leak_personal_data(board_world):
    """The rendered HTML of every public view (board, another month, poster, the form with an error, the
    API) contains no resident's full name, ID number (clear or masked), phone or address."""
    w = board_world
    forbidden = forbidden_strings()
    assert {"王建国", "李芳", "13800001111"} <= forbidden
    client = Client()
    pages = [
        client.get(f"/points/board/{CODE}/").content.decode(),
        client.get(f"/points/board/{CODE}/?month=2026-04").content.decode(),
        client.get(f"/points/board/{CODE}/poster/").content.decode(),
        client.post(
            f"/points/board/{CODE}/awards/{w.extra['pending'].pk}/objection/",
            {f"a{w.extra['pending'].pk}-reason": "", f"a{w.extra['pending'].pk}-idempotency_key": "k1"},
        ).content.decode(),
        APIClient().get(f"/api/v1/points/board/{CODE}/").content.decode("unicode_escape"),
    ]
    for html in pages:
        leaked = sorted(s for s in forbidden if s in html)
        assert leaked == []
        # Nothing shaped like an 18-digit ID number or a mobile number either. The forms' idempotency keys
        # (uuid4 hex, random) are taken out first: a run of 11 decimal digits inside one is not a phone.
        shaped = re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", "", html)
        assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", shaped)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", shaped)
    # The award's note (free text) is never shown.
    assert "打扫了村道" not in pages[0]


def test_poster_and_qr(board_world):
    client = Client()
    poster = client.get(f"/points/board/{CODE}/poster/")
    assert poster.status_code == 200
    assert 'data-testid="board-poster"' in poster.content.decode()
    qr = client.get(f"/points/board/{CODE}/qr.svg")
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg")


# --- objections -----------------------------------------------------------------------------------------


def _post(
    client: Client,
    award: Award,
    reason: str,
    *,
    key: str | None = None,
    phone: str = "",
    name: str = "",
    ip: str = "10.0.0.1",
):
    p = f"a{award.pk}"
    return client.post(
        f"/points/board/{CODE}/awards/{award.pk}/objection/",
        {
            f"{p}-reason": reason,
            f"{p}-contact_name": name,
            f"{p}-contact_phone": phone,
            f"{p}-idempotency_key": key or uuid.uuid4().hex,
        },
        REMOTE_ADDR=ip,
    )


def test_objection_filed_and_replayed_once(board_world):
    award = board_world.extra["pending"]
    client = Client()
    response = _post(
        client, award, "他家院子其实并不整洁", key="same-key", phone="139 0000 2222", name="热心村民"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/points/board/{CODE}/?filed={award.pk}#award-{award.pk}"
    objection = Objection.objects.get(award=award)
    assert objection.status == ObjectionStatus.OPEN
    assert objection.reason == "他家院子其实并不整洁"
    assert objection.contact_name == "热心村民"
    assert objection.contact_phone_masked == "139****2222"
    assert "13900002222" not in objection.contact_phone_encrypted
    assert pii.decrypt(objection.contact_phone_encrypted) == "13900002222"
    assert objection.client_ip == "10.0.0.1"
    # A double click: the same key answers the same way and writes nothing more.
    again = _post(
        client, award, "他家院子其实并不整洁", key="same-key", phone="139 0000 2222", name="热心村民"
    )
    assert again.status_code == 302
    assert Objection.objects.filter(award=award).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="objection-filed"' in page
    assert "1 条异议待处理" in page
    assert "139****2222" not in page  # the objector's phone is not public either


@pytest.mark.parametrize(
    ("reason", "phone", "field", "message"),
    [
        ("", "", "reason", "请填写异议理由。"),
        ("   ", "", "reason", "请填写异议理由。"),
        ("不对", "", "reason", "请写明异议理由（至少 5 个字）。"),
        ("他家院子其实并不整洁", "12345", "contact_phone", "手机号应为11位数字，以1开头。"),
    ],
)
def test_objection_refused_next_to_field_input_kept(board_world, reason, phone, field, message):
    award = board_world.extra["pending"]
    response = _post(Client(), award, reason, phone=phone)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'id="id_a{award.pk}-{field}-error"' in html
    assert '<details class="pb-object" open>' in html
    if phone:
        assert f'value="{phone}"' in html
        assert reason in html
    assert not Objection.objects.exists()


def test_objection_to_award_not_on_board_or_not_under_notice_is_404(board_world):
    w = board_world
    client = Client()
    posted = w.extra["posted"]
    assert _post(client, posted, "已经入账的也想提异议").status_code == 404
    # An award of another village (东街社区) is not on 新华村's board.
    other = award_propose(
        actor=w.users["dongjie_secretary"],
        idempotency_key=uuid.uuid4().hex,
        household=w.households["赵家"],
        rule=w.rules["庭院整洁"],
        occurred_on=dt.date(2026, 5, 1),
    )
    other = award_review(actor=w.users["dongjie_secretary"], award=other, approve=True)
    assert _post(client, other, "别的村的公示也想提异议").status_code == 404
    # A proposed (not yet approved) award is not public.
    proposed = award_propose(
        actor=w.users["grid_leader"],
        idempotency_key=uuid.uuid4().hex,
        household=w.households["王家"],
        rule=w.rules["庭院整洁"],
        occurred_on=dt.date(2026, 5, 3),
    )
    assert proposed.status == AwardStatus.PROPOSED
    assert _post(client, proposed, "还没审核的也想提异议").status_code == 404
    # After the notice period ends the form is refused too.
    with time_machine.travel(at(5, 28), tick=False):
        assert _post(client, w.extra["pending"], "公示期过了才提出异议").status_code == 404
    assert (
        Client().post(f"/points/board/420625999999/awards/{w.extra['pending'].pk}/objection/", {}).status_code
        == 404
    )
    assert not Objection.objects.exists()


def test_objection_rate_limit_per_address_per_award(board_world):
    """One open objection per address and award (objection_file), and at most OBJECTIONS_PER_IP_PER_DAY
    per address and award in 24 hours even once earlier ones were decided."""
    award = board_world.extra["pending"]
    client = Client()
    assert _post(client, award, "第一条异议的理由").status_code == 302
    second = _post(client, award, "第二条异议的理由")
    assert second.status_code == 409
    assert "您对该条积分的异议已提交，村里正在核实，请耐心等待。" in second.content.decode()
    # Other addresses are not limited by this one.
    assert _post(client, award, "另一个地址的异议", ip="10.0.0.2").status_code == 302
    # Earlier objections from 10.0.0.1 decided: still at most 3 a day from that address.
    for _n in range(OBJECTIONS_PER_IP_PER_DAY - 1):
        Objection.objects.filter(award=award, client_ip="10.0.0.1").update(status=ObjectionStatus.DISMISSED)
        assert _post(client, award, "又一条异议的理由").status_code == 302
    Objection.objects.filter(award=award, client_ip="10.0.0.1").update(status=ObjectionStatus.DISMISSED)
    limited = _post(client, award, "超过上限的异议")
    assert limited.status_code == 429
    assert "同一网络对这条公示一天内最多提出3条异议" in limited.content.decode()
    assert Objection.objects.filter(award=award, client_ip="10.0.0.1").count() == OBJECTIONS_PER_IP_PER_DAY
    # A day later the address may object again.
    with time_machine.travel(at(5, 21, 11), tick=False):
        assert _post(client, award, "第二天的异议理由").status_code == 302
    # The other award on the board has its own count.
    assert _post(client, board_world.extra["deduction"], "扣分那条的异议").status_code == 302


# --- the API --------------------------------------------------------------------------------------------


def test_api_board_and_objection(board_world):
    w = board_world
    api = APIClient()
    body = api.get(f"/api/v1/points/board/{CODE}/").json()
    assert body["village"] == "新华村"
    assert [(h["rank"], h["name"], h["balance"]) for h in body["households"]] == [
        (1, "王*国", 120),
        (2, "李*明", 40),
        (2, "张*", 40),
    ]
    assert [a["id"] for a in body["pending"]] == [w.extra["pending"].pk, w.extra["deduction"].pk]
    assert body["honour"] == [
        {"rank": 1, "number": "XH-001", "name": "王*国", "grid": "第一网格", "points": 20}
    ]
    assert api.get("/api/v1/points/board/420625999999/").status_code == 404

    url = "/api/v1/points/board/objections/"
    target = {"village_code": CODE, "award_id": w.extra["pending"].pk}
    first = api.post(
        url,
        {
            **target,
            "reason": "他家院子其实并不整洁",
            "contact_phone": "13900002222",
            "idempotency_key": "api-1",
        },
    )
    assert first.status_code == 201
    assert first.json()["contact_phone"] == "139****2222"
    replay = api.post(
        url,
        {
            **target,
            "reason": "他家院子其实并不整洁",
            "contact_phone": "13900002222",
            "idempotency_key": "api-1",
        },
    )
    assert replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert Objection.objects.count() == 1
    short = api.post(url, {**target, "reason": "不对", "idempotency_key": "api-2"})
    assert short.status_code == 400
    assert short.json()["code"] == "objection_reason_short"
    missing = api.post(
        url,
        {
            "village_code": CODE,
            "award_id": w.extra["posted"].pk,
            "reason": "已经入账的也想提异议",
            "idempotency_key": "api-3",
        },
    )
    assert missing.status_code == 404


def test_board_index_lists_villages_in_scope(board_world):
    client = Client()
    assert client.get("/points/board/").status_code == 302  # log-in required
    client.login(username="grid_leader", password="xiangzhi-demo")
    html = client.get(reverse("points:board_index")).content.decode()
    assert f"/points/board/{CODE}/" in html
    assert "/points/board/420625101002/" not in html  # 民营社区 is not theirs
