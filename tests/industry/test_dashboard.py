"""The sales dashboards: exact figures after a correction, a constant number of queries whatever the
event's size, scope (a township admin's year holds its town's events only; another town's event is 404),
the Excel files of every table with their exact totals, and the API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.errors import NotFound
from governance.models import User
from industry.selectors import dashboard as selectors
from tests.industry.factories_dashboard import (
    E1_TOTAL,
    E2_TOTAL,
    YEAR_TOTAL,
    DashboardWorld,
    big_event,
    dashboard_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(demo_county) -> DashboardWorld:
    return dashboard_world(demo_county)


def user(name: str) -> User:
    return User.objects.get(username=name)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def api_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user(username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- the figures ----------------------------------------------------------------------------------------


def test_event_figures_net_out_the_correction(made):
    board = selectors.event_dashboard(user("county_admin"), made.e1.pk)
    t = board.totals
    assert (t.amount_fen, t.online_fen, t.offline_fen) == (E1_TOTAL, 70_050, 130_000)
    assert (t.records, t.product_kinds, t.exhibitors, t.exhibitors_selling, t.events) == (5, 3, 3, 2, 1)
    # The reversal is dated 03-07 but counts on its original's day, 03-06.
    assert [(d.day, d.amount_fen, d.records) for d in board.days] == [
        (dt.date(2022, 3, 5), 140_000, 2),
        (dt.date(2022, 3, 6), 50_050, 2),
        (dt.date(2022, 3, 7), 10_000, 1),
    ]
    assert [(c.channel, c.label, c.amount_fen, c.records) for c in board.channels] == [
        ("offline", "线下", 130_000, 3),
        ("online", "线上", 70_050, 2),
    ]
    assert [(p.platform, p.amount_fen, p.records) for p in board.platforms] == [
        ("抖音", 40_000, 1),
        ("淘宝", 30_050, 1),
    ]
    assert [(c.category, c.label, c.amount_fen, c.records, c.product_kinds) for c in board.categories] == [
        ("tea", "茶叶", 180_050, 4, 2),
        ("processed", "加工食品", 20_000, 1, 1),
    ]
    assert [(p.code, p.quantity, p.amount_fen, p.records) for p in board.top_products] == [
        ("GC-TEA-0001", Decimal("14.00"), 140_050, 3),
        ("GC-TEA-0002", Decimal("4.00"), 40_000, 1),
        ("GC-PRO-0001", Decimal("2.00"), 20_000, 1),
    ]
    assert [(e.name, e.village, e.amount_fen, e.records) for e in board.top_exhibitors] == [
        ("新华茶叶专业合作社", "新华村", 150_000, 3),
        ("谷城新华食品有限公司", "新华村", 50_050, 2),
    ]
    assert board.towns == []
    assert board.events == []


def test_event_days_run_over_the_whole_event(demo_county):
    made = dashboard_world(demo_county)
    board = selectors.event_dashboard(user("county_admin"), made.world.chengguan_event.pk)
    # The 城关 event runs from two days ago to tomorrow: the line stops today, zero where nothing sold.
    start = made.world.chengguan_event.starts_on
    assert [(d.day, d.amount_fen) for d in board.days] == [
        (start, 80_000),
        (start + dt.timedelta(days=1), 0),
        (start + dt.timedelta(days=2), 0),
    ]


def test_year_overview_for_the_county(made):
    board = selectors.year_dashboard(user("county_admin"), 2022)
    t = board.totals
    assert (t.events, t.amount_fen, t.product_kinds, t.records, t.exhibitors) == (2, YEAR_TOTAL, 4, 7, 4)
    assert [(e.name, e.town, e.amount_fen, e.records) for e in board.events] == [
        ("城关镇2022春茶节", "城关镇", E1_TOTAL, 5),
        ("石花镇2022香菇节", "石花镇", E2_TOTAL, 2),
    ]
    assert [(r.name, r.events, r.amount_fen) for r in board.towns] == [
        ("石花镇", 1, E2_TOTAL),
        ("城关镇", 1, E1_TOTAL),
    ]
    assert [(c.category, c.amount_fen) for c in board.categories] == [
        ("fungi", 390_000),
        ("tea", 180_050),
        ("processed", 20_000),
    ]
    assert [(p.platform, p.amount_fen) for p in board.platforms] == [("抖音", 130_000), ("淘宝", 30_050)]
    # From the first sale day to the last, zeros between.
    assert board.days[0] == selectors.DayRow(dt.date(2022, 3, 5), 140_000, 2)
    assert board.days[-1] == selectors.DayRow(dt.date(2022, 5, 11), 90_000, 1)
    assert len(board.days) == (dt.date(2022, 5, 11) - dt.date(2022, 3, 5)).days + 1
    assert sum(d.amount_fen for d in board.days) == YEAR_TOTAL


def test_year_overview_counts_only_the_events_a_township_admin_sees(made):
    board = selectors.year_dashboard(user("township_admin"), 2022)
    assert [e.name for e in board.events] == ["城关镇2022春茶节"]
    assert (board.totals.events, board.totals.amount_fen, board.totals.product_kinds) == (1, E1_TOTAL, 3)
    assert [r.name for r in board.towns] == ["城关镇"]
    shihua = selectors.year_dashboard(made.world.shihua_admin, 2022)
    assert (shihua.totals.events, shihua.totals.amount_fen) == (1, E2_TOTAL)
    # Nobody's year is empty, not an error.
    nobody = User.objects.create_user(username="nobody-dash", password="x-long-password-1")
    empty = selectors.year_dashboard(nobody, 2022)
    assert (empty.totals.events, empty.totals.amount_fen, empty.days, empty.products) == (0, 0, [], [])


def test_another_towns_event_is_not_found(made):
    with pytest.raises(NotFound):
        selectors.event_dashboard(user("township_admin"), made.e2.pk)
    assert client_for("township_admin").get(f"/industry/events/{made.e2.pk}/dashboard/").status_code == 404
    api = api_for("township_admin")
    missing = api.get("/api/v1/industry/events/2147483000/dashboard/")
    outside = api.get(f"/api/v1/industry/events/{made.e2.pk}/dashboard/")
    assert (outside.status_code, outside.json()) == (404, missing.json())
    # The organiser granted the 石花 event of the world sees its dashboard, and no other.
    organiser = made.world.organiser
    assert selectors.event_dashboard(organiser, made.world.shihua_event.pk).totals.amount_fen == 231_050
    with pytest.raises(NotFound):
        selectors.event_dashboard(organiser, made.e2.pk)


# --- a constant number of queries -----------------------------------------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_event(demo_county, django_assert_num_queries):
    made = dashboard_world(demo_county)
    large = big_event(demo_county, products=60, exhibitors=25, records=900)
    admin = user("county_admin")
    small_count = _queries(lambda: selectors.event_dashboard(admin, made.e1.pk))
    with django_assert_num_queries(small_count):
        board = selectors.event_dashboard(admin, large.pk)
    assert board.totals.records == 900 - len(range(0, 900, 7))
    assert len(board.products) == 60
    year_count = _queries(lambda: selectors.year_dashboard(admin, 2022))
    with django_assert_num_queries(year_count):
        year = selectors.year_dashboard(admin, 2021)
    assert year.totals.amount_fen == board.totals.amount_fen
    # What the count is: the event (with the scope look-ups), four GROUP BYs and the exhibitor count.
    assert small_count <= 8, small_count


def test_big_event_totals_equal_the_sum_of_its_records(demo_county):
    from django.db.models import Sum

    from industry.models import SalesRecord

    large = big_event(demo_county, products=12, exhibitors=5, records=200)
    board = selectors.event_dashboard(user("county_admin"), large.pk)
    expected = SalesRecord.objects.filter(event=large).aggregate(s=Sum("amount_fen"))["s"]
    assert board.totals.amount_fen == expected
    assert sum(d.amount_fen for d in board.days) == expected
    assert sum(c.amount_fen for c in board.categories) == expected
    assert sum(p.amount_fen for p in board.products) == expected
    assert sum(e.amount_fen for e in board.exhibitors) == expected
    assert sum(p.amount_fen for p in board.platforms) == board.totals.online_fen


# --- pages and Excel ------------------------------------------------------------------------------------


def _sheet(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_event_page_and_every_table_exports(made):
    client = client_for("township_admin")
    url = f"/industry/events/{made.e1.pk}/dashboard/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "城关镇2022春茶节 · 销售看板" in html
    assert "2,000.50" in html  # the total, ¥2,000.50
    assert 'data-chart="chart-days"' in html
    assert 'id="chart-days"' in html
    for table in ("days", "channels", "platforms", "categories", "products", "exhibitors"):
        assert f'data-testid="export-{table}"' in html
    days = _sheet(client.get(url, {"export": "days"}))
    assert days[0] == ("日期", "销售额（元）", "记录数")
    assert days[-1] == ("合计", 2000.5, 5)
    assert [row[1] for row in days[1:-1]] == [1400, 500.5, 100]
    products = _sheet(client.get(url, {"export": "products"}))
    assert products[1][1:3] == ("GC-TEA-0001", "谷城毛尖")
    assert products[-1][0] == "合计"
    assert products[-1][6] == 2000.5
    assert products[-1][7] == 5
    categories = _sheet(client.get(url, {"export": "categories"}))
    assert [r[0] for r in categories[1:]] == ["茶叶", "加工食品", "合计"]
    assert categories[-1][1] == 2000.5
    channels = _sheet(client.get(url, {"export": "channels"}))
    assert [(r[0], r[1]) for r in channels[1:]] == [("线下", 1300), ("线上", 700.5), ("合计", 2000.5)]
    assert client.get(url, {"export": "nothing"}).status_code == 404


def test_year_page_headline_scope_and_exports(made):
    client = client_for("county_admin")
    page = client.get("/industry/dashboard/", {"year": 2022})
    html = page.content.decode()
    assert "2022年：展会节会 2 场，销售额 5,900.50 元，产品 4 种" not in html  # a small total reads in yuan
    assert "2022年：展会节会 2 场，销售额 ¥5,900.50，产品 4 种" in html
    events = _sheet(client.get("/industry/dashboard/", {"year": 2022, "export": "events"}))
    assert [r[0] for r in events[1:]] == ["城关镇2022春茶节", "石花镇2022香菇节", "合计 2 场"]
    assert events[-1][5] == 5900.5
    towns = _sheet(client.get("/industry/dashboard/", {"year": 2022, "export": "towns"}))
    assert towns[-1] == ("合计", 2, 5900.5, None, 7)
    township = client_for("township_admin").get("/industry/dashboard/", {"year": 2022}).content.decode()
    assert "2022年：展会节会 1 场，销售额 ¥2,000.50，产品 3 种" in township
    assert "石花镇2022香菇节" not in township
    # Without a year the page opens on the latest year with an event.
    latest = client.get("/industry/dashboard/")
    assert latest.status_code == 200
    assert latest.context["year"] == made.world.chengguan_event.starts_on.year


def test_headline_in_yi_yuan():
    from industry.templatetags.industry_tags import yuan_big

    assert yuan_big(320_000_000 * 100) == "3.2 亿元"
    assert yuan_big(1_234_500_00) == "123.5 万元"


# --- the API ----------------------------------------------------------------------------------------------


def test_event_dashboard_api(made):
    body = api_for("county_admin").get(f"/api/v1/industry/events/{made.e1.pk}/dashboard/").json()
    assert body["event"]["id"] == made.e1.pk
    assert body["event"]["region_name"] == "城关镇"
    assert body["totals"] == {
        "amount_fen": E1_TOTAL,
        "online_fen": 70_050,
        "offline_fen": 130_000,
        "records": 5,
        "product_kinds": 3,
        "exhibitors": 3,
        "exhibitors_selling": 2,
        "events": 1,
    }
    assert [(d["day"], d["amount_fen"]) for d in body["days"]] == [
        ("2022-03-05", 140_000),
        ("2022-03-06", 50_050),
        ("2022-03-07", 10_000),
    ]
    assert [(c["channel_label"], c["amount_fen"]) for c in body["channels"]] == [
        ("线下", 130_000),
        ("线上", 70_050),
    ]
    assert body["top_products"][0]["code"] == "GC-TEA-0001"
    assert body["top_products"][0]["quantity"] == "14.00"


def test_sales_summary_api(made):
    body = api_for("county_admin").get("/api/v1/industry/sales-summary/", {"year": 2022}).json()
    assert body["year"] == 2022
    assert (body["totals"]["events"], body["totals"]["amount_fen"]) == (2, YEAR_TOTAL)
    assert [r["name"] for r in body["results"]] == ["城关镇2022春茶节", "石花镇2022香菇节"]
    assert [(t["name"], t["amount_fen"]) for t in body["towns"]] == [
        ("石花镇", E2_TOTAL),
        ("城关镇", E1_TOTAL),
    ]
    township = api_for("township_admin").get("/api/v1/industry/sales-summary/", {"year": 2022}).json()
    assert [r["id"] for r in township["results"]] == [made.e1.pk]
    assert api_for("county_admin").get("/api/v1/industry/sales-summary/", {"year": 1999}).status_code == 400
