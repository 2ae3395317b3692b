"""Points reports: exact figures per village / township and month, scope, a fixed number of queries, and
the Excel exports.

The ledger (points_world; time frozen): in April 王家 +100 and 李家 +40 (新华村), 赵家 +50 (东街社区),
孙家 +70 (石花镇 / 民营社区). In May: 王家 −10 (deduction), 王家 redeems 2 洗衣粉 (40) and 1 毛巾 (10) on
the 城关镇 day and returns 1 洗衣粉 (+20 back), 李家's April award of 40 is reversed (−40), 赵家 expires 5.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from points.ledger import ledger_post, ledger_reverse, system_account
from points.models import AccountKind, DayStatus, RedemptionDay, TransactionKind
from points.selectors.reports import (
    flow_totals,
    points_flow_report,
    redemption_day_report,
    store_stock_report,
)
from points.services.redemptions import redemption_create, redemption_return
from tests.points.factories import PointsWorld, points_give, points_world, township_of  # noqa: F401

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 0, tzinfo=SH)


@pytest.fixture
def ledger_world(points_world):  # noqa: F811
    w = points_world
    admin = w.users["township_admin"]
    with time_machine.travel(at(4, 10), tick=False):
        points_give(w, "王家", 100)
        w.extra["li"] = points_give(w, "李家", 40)
        points_give(w, "赵家", 50)
        points_give(w, "孙家", 70, actor=w.users["shihua_admin"])
    with time_machine.travel(at(5, 12), tick=False):
        township = township_of(w, "王家")
        ledger_post(
            township=township,
            kind=TransactionKind.DEDUCTION,
            memo="扣分",
            legs=[(w.accounts["王家"], -10), (system_account(township, AccountKind.ISSUANCE), 10)],
            actor=admin,
        )
        day = RedemptionDay.objects.create(
            store=w.stores["城关镇"], date=dt.date(2026, 5, 12), status=DayStatus.OPEN, opened_at=at(5, 12)
        )
        receipt = redemption_create(
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
            store=w.stores["城关镇"],
            household=w.households["王家"],
            lines=[(w.items["洗衣粉"], 2), (w.items["毛巾"], 1)],
            day=day,
        )
        line = receipt.lines.get(item=w.items["洗衣粉"])
        redemption_return(actor=admin, idempotency_key=uuid.uuid4().hex, line=line, quantity=1, reason="破损")
        ledger_reverse(transaction=w.extra["li"], actor=admin, memo="误发冲正")
        ledger_post(
            township=township,
            kind=TransactionKind.EXPIRY,
            memo="清零",
            legs=[(w.accounts["赵家"], -5), (system_account(township, AccountKind.EXPIRY), 5)],
            actor=admin,
        )
        w.extra["day"] = day
        yield w


def _rows(rows):
    return [
        (
            r.township,
            r.region,
            r.month.strftime("%Y-%m"),
            r.issued,
            r.deducted,
            r.redeemed,
            r.expired,
            r.adjusted,
            r.net,
        )
        for r in rows
    ]


def test_flow_per_village_and_month_exact(ledger_world):
    w = ledger_world
    rows = points_flow_report(user=w.users["county_admin"], year=2026)
    assert _rows(rows) == [
        ("城关镇", "新华村", "2026-04", 140, 0, 0, 0, 0, 140),
        ("城关镇", "新华村", "2026-05", -40, 10, 30, 0, 0, -80),  # a reversed award, a return
        ("城关镇", "东街社区", "2026-04", 50, 0, 0, 0, 0, 50),
        ("城关镇", "东街社区", "2026-05", 0, 0, 0, 5, 0, -5),
        ("石花镇", "民营社区", "2026-04", 70, 0, 0, 0, 0, 70),
    ]
    # The columns account for every household balance exactly.
    total = sum(a.balance for a in (w.account(k) for k in w.accounts))
    assert flow_totals(rows)["net"] == total == 175
    assert points_flow_report(user=w.users["county_admin"], year=2025) == []


def test_flow_per_township_and_scope(ledger_world):
    w = ledger_world
    township_rows = points_flow_report(user=w.users["county_admin"], year=2026, level="township")
    assert [r[1:] for r in _rows(township_rows)] == [
        ("城关镇", "2026-04", 190, 0, 0, 0, 0, 190),
        ("城关镇", "2026-05", -40, 10, 30, 5, 0, -85),
        ("石花镇", "2026-04", 70, 0, 0, 0, 0, 70),
    ]
    secretary = _rows(points_flow_report(user=w.users["village_secretary"], year=2026))
    assert [r[1] for r in secretary] == ["新华村", "新华村"]
    assert points_flow_report(user=w.users["shihua_admin"], year=2026)[0].region == "民营社区"
    assert points_flow_report(user=w.users["canteen_manager"], year=2026) == []
    assert points_flow_report(user=w.users["nobody"], year=2026) == []


def test_stock_and_days_exact(ledger_world):
    w = ledger_world
    stock = {(r.store, r.item): r for r in store_stock_report(user=w.users["township_admin"])}
    assert set(stock) == {
        ("城关镇积分超市", "洗衣粉"),
        ("城关镇积分超市", "食用油"),
        ("城关镇积分超市", "毛巾"),
    }
    soap = stock[("城关镇积分超市", "洗衣粉")]
    assert (soap.on_hand, soap.points_value, soap.purchased, soap.redeemed, soap.purchase_fen) == (
        2,
        40,
        3,
        1,
        1500,
    )
    assert soap.purchase_yuan == "15.00"
    towel = stock[("城关镇积分超市", "毛巾")]
    assert (towel.on_hand, towel.points_value, towel.redeemed) == (4, 40, 1)
    days = redemption_day_report(user=w.users["township_admin"], year=2026)
    assert [(d.store, d.date, d.households, d.receipts, d.points, d.items, d.stock_left) for d in days] == [
        ("城关镇积分超市", dt.date(2026, 5, 12), 1, 1, 30, 2, 7)
    ]
    assert redemption_day_report(user=w.users["shihua_admin"], year=2026) == []
    assert [r.item for r in store_stock_report(user=w.users["shihua_admin"])] == ["香皂"]
    assert store_stock_report(user=w.users["nobody"]) == []


def _count(call) -> int:
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context)


def test_reports_take_a_fixed_number_of_queries(ledger_world):
    w = ledger_world
    user = w.users["county_admin"]
    before = [
        _count(lambda: points_flow_report(user=user, year=2026)),
        _count(lambda: store_stock_report(user=user)),
        _count(lambda: redemption_day_report(user=user, year=2026)),
    ]
    for _n in range(5):
        points_give(w, "李家", 3)
        points_give(w, "孙家", 2, actor=w.users["shihua_admin"])
    RedemptionDay.objects.create(store=w.stores["石花镇"], date=dt.date(2026, 5, 13))
    after = [
        _count(lambda: points_flow_report(user=user, year=2026)),
        _count(lambda: store_stock_report(user=user)),
        _count(lambda: redemption_day_report(user=user, year=2026)),
    ]
    assert before == after
    assert before[0] == 2  # the caller's role assignments, then one aggregate


def test_report_pages_and_exports(ledger_world):
    client = Client()
    client.login(username="county_admin", password="xiangzhi-demo")
    page = client.get("/points/reports/?year=2026")
    assert page.status_code == 200
    html = page.content.decode()
    assert "新华村" in html
    assert "民营社区" in html
    export = client.get("/points/reports/?year=2026&format=xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["乡镇", "村（社区）", "月份"]
    assert values[1] == ["城关镇", "新华村", "2026-04", 140, 0, 0, 0, 0, 140]
    assert values[-1][1] == "合计"
    assert values[-1][3:] == [220, 10, 30, 5, 0, 175]
    for url in ("/points/reports/stock/", "/points/reports/days/?year=2026"):
        assert client.get(url).status_code == 200
        export = client.get(url + ("&" if "?" in url else "?") + "format=xlsx")
        assert export.status_code == 200
        assert load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.max_row >= 2
    assert Client().get("/points/reports/").status_code == 302
