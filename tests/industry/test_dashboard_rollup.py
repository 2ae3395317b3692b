"""The sales rollup (industry/rollup.py, kept by the trigger of industry/migrations/0004) equals a direct
GROUP BY over the sales records after originals, corrections dated later, an Excel import (COPY) and the
bulk demo seed (COPY and executemany); the dashboards read it in a constant number of queries and give the
same dataclasses as the direct GROUP BY; the verification names a difference, the rebuild repairs it; the
migration's backfill and its reverse work."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.db import connection, transaction

from governance.demo import seed_demo_county
from governance.models import User
from industry import rollup
from industry.models import SalesChannel, SalesRecord, SalesRollup, SalesRollupGrain
from industry.selectors import dashboard as selectors
from industry.services import imports as import_services
from industry.services import sales as sales_services
from tests.industry.factories import industry_world
from tests.industry.factories_dashboard import big_event, dashboard_world
from tests.industry.factories_imports import (
    CG,
    SH,
    SHIHUA_MUSHROOM,
    XINHUA_FOOD,
    XINHUA_TEA,
    days_ago,
    eager_celery,  # noqa: F401 (fixture)
    key,
    media_root,  # noqa: F401 (fixture)
    sale,
    upload,
)

pytestmark = pytest.mark.django_db

migration = importlib.import_module("industry.migrations.0004_sales_rollup_trigger")


def admin() -> User:
    return User.objects.get(username="county_admin")


def rows_of(event_id: int, grain: str) -> list[tuple]:
    """The stored rollup rows of one grain: (key, amount_fen, quantity, records), in key order."""
    rows = SalesRollup.objects.filter(event_id=event_id, grain=grain)
    columns = {
        "day": "day",
        "channel": "channel",
        "product": "product__code",
        "exhibitor": "exhibitor__booth",
    }[grain]
    extra = ("platform",) if grain == "channel" else ()
    return sorted(
        tuple(row)
        for row in rows.values_list(columns, *extra, "amount_fen", "quantity", "records").order_by()
    )


def test_originals_and_a_later_dated_correction_are_rolled_up_exactly(demo_county):
    made = dashboard_world(demo_county)
    e1 = made.e1.pk
    d = dt.date
    assert rows_of(e1, "day") == [
        (d(2022, 3, 5), 140_000, Decimal("14.00"), 2),
        # R3 + R4 + R5 − R4's reversal X4 (dated 03-07, counted on 03-06): 4 records − 1.
        (d(2022, 3, 6), 50_050, Decimal("5.00"), 2),
        (d(2022, 3, 7), 10_000, Decimal("1.00"), 1),
    ]
    assert rows_of(e1, "channel") == [
        ("offline", "", 130_000, Decimal("13.00"), 3),
        ("online", "抖音", 40_000, Decimal("4.00"), 1),
        ("online", "淘宝", 30_050, Decimal("3.00"), 1),
    ]
    assert rows_of(e1, "product") == [
        ("GC-PRO-0001", 20_000, Decimal("2.00"), 1),
        ("GC-TEA-0001", 140_050, Decimal("14.00"), 3),
        ("GC-TEA-0002", 40_000, Decimal("4.00"), 1),
    ]
    # A03 sells nothing: no row.
    assert rows_of(e1, "exhibitor") == [
        ("A01", 150_000, Decimal("15.00"), 3),
        ("A02", 50_050, Decimal("5.00"), 2),
    ]
    assert SalesRollup.objects.filter(event_id=e1).count() == 3 + 3 + 3 + 2
    assert rollup.sales_rollup_verify() == []

    # A correction through the service, dated today: it nets out on its original's day.
    sales_services.sales_record_reverse(
        actor=admin(), idempotency_key=key(), record=made.sales["R6"], reason="重复录入"
    )
    assert rows_of(e1, "day")[-1] == (d(2022, 3, 7), 0, Decimal("0.00"), 0)
    assert rows_of(e1, "exhibitor")[0] == ("A01", 140_000, Decimal("14.00"), 2)
    assert rollup.sales_rollup_verify() == []
    board = selectors.event_dashboard(admin(), e1)
    assert (board.totals.amount_fen, board.totals.records) == (190_050, 4)
    assert board == selectors.event_dashboard(admin(), e1, direct=True)


def test_the_dashboards_equal_the_direct_group_by(demo_county):
    made = dashboard_world(demo_county)
    big_event(demo_county, products=30, exhibitors=12, records=400)
    assert rollup.sales_rollup_verify() == []
    for user in ("county_admin", "township_admin"):
        who = User.objects.get(username=user)
        for year in (2021, 2022, 2023):
            assert selectors.year_dashboard(who, year) == selectors.year_dashboard(who, year, direct=True)
    board = selectors.event_dashboard(admin(), made.e1.pk)
    assert board == selectors.event_dashboard(admin(), made.e1.pk, direct=True)
    assert board.totals.amount_fen == 200_050


@pytest.mark.usefixtures("eager_celery", "media_root")
def test_an_excel_import_is_rolled_up_exactly(demo_county, django_capture_on_commit_callbacks):
    world = industry_world(demo_county)
    yesterday = days_ago(1)
    sh_day = world.shihua_event.starts_on
    rows = [
        sale(CG, XINHUA_TEA, "GC-TEA-0001", "线下", "", yesterday, 2, "1200.50"),
        sale(CG, XINHUA_TEA, "GC-TEA-0001", "线下", "", yesterday, 1, "99.50"),
        sale(CG, XINHUA_FOOD, "GC-PRO-0001", "线上", "抖音", days_ago(2), 3, 300),
        sale(SH, SHIHUA_MUSHROOM, "GC-FUN-0001", "线上", "淘宝", sh_day, "10.5", 2000),
    ]
    before = selectors.event_dashboard(admin(), world.chengguan_event.pk).totals.amount_fen
    with django_capture_on_commit_callbacks(execute=True):
        job = import_services.sales_import_create(actor=admin(), idempotency_key=key(), upload=upload(rows))
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == ("done", 4)
    assert rollup.sales_rollup_verify() == []
    cg = selectors.event_dashboard(admin(), world.chengguan_event.pk)
    assert cg.totals.amount_fen - before == 130_000 + 30_000
    assert cg == selectors.event_dashboard(admin(), world.chengguan_event.pk, direct=True)
    day = SalesRollup.objects.get(event=world.chengguan_event, grain=SalesRollupGrain.DAY, day=yesterday)
    direct = SalesRecord.objects.filter(event=world.chengguan_event, sold_on=yesterday)
    assert day.amount_fen == sum(r.amount_fen for r in direct)
    assert day.records == sum(1 if r.reverses_id is None else -1 for r in direct)


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "executemany"])
def test_the_bulk_demo_seed_is_rolled_up_exactly(use_copy):
    seed_demo_county(password="xiangzhi-demo", scale="test", use_copy=use_copy)
    assert SalesRecord.objects.filter(reverses__isnull=False).exists()
    assert rollup.sales_rollup_verify() == []
    board = selectors.year_dashboard(admin(), 2022)
    assert board == selectors.year_dashboard(admin(), 2022, direct=True)
    assert board.totals.amount_fen == 32_000_000_000
    assert board.totals.events == 10


def test_queries_stay_the_same_from_10_to_1000_records(demo_county, django_assert_max_num_queries):
    small = big_event(demo_county, products=5, exhibitors=3, records=10)
    large = big_event(demo_county, products=80, exhibitors=30, records=1_000)
    user = admin()
    counts = []
    for event in (small, large):
        with django_assert_max_num_queries(8) as captured:
            board = selectors.event_dashboard(user, event.pk)
        counts.append(len(captured.captured_queries))
        # Every figure query reads the rollup or a dimension table, never the sales records.
        assert not [q["sql"] for q in captured.captured_queries if "industry_salesrecord" in q["sql"]]
    assert counts[0] == counts[1]
    assert board.totals.records == 1_000 - len(range(0, 1_000, 7))
    assert len(board.products) == 80
    with django_assert_max_num_queries(counts[0] + 1) as captured:
        year = selectors.year_dashboard(user, 2021)
    assert not [q["sql"] for q in captured.captured_queries if "industry_salesrecord" in q["sql"]]
    assert year.totals.events == 2
    assert year.totals.amount_fen == sum(
        selectors.event_dashboard(user, e.pk).totals.amount_fen for e in (small, large)
    )


def test_verify_names_a_difference_and_the_rebuild_repairs_it(demo_county):
    made = dashboard_world(demo_county)
    e1 = made.e1.pk
    rows = SalesRollup.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE industry_sales_rollup SET amount_fen = amount_fen + 1 "
            "WHERE event_id = %s AND grain = 'day' AND day = %s",
            [e1, dt.date(2022, 3, 6)],
        )
        cursor.execute(
            "DELETE FROM industry_sales_rollup WHERE event_id = %s AND grain = 'channel' AND platform = %s",
            [e1, "抖音"],
        )
    differences = rollup.sales_rollup_verify()
    assert [d.line() for d in differences] == [
        f"industry.sales_rollup event={e1} channel channel=online platform='抖音': "
        "missing (source amount_fen=40000 quantity=4.00 records=1)",
        f"industry.sales_rollup event={e1} day day=2022-03-06: rollup amount_fen=50051 quantity=5.00 "
        "records=2 vs source amount_fen=50050 quantity=5.00 records=2",
    ]
    assert rollup.sales_rollup_verify([made.e2.pk]) == []
    written = rollup.sales_rollup_rebuild()
    assert written == SalesRollup.objects.count() == rows
    assert rollup.sales_rollup_verify() == []


def test_the_migration_backfills_and_its_reverse_drops_the_trigger(demo_county):
    made = dashboard_world(demo_county)
    rows = SalesRollup.objects.count()
    with connection.schema_editor() as editor:
        migration.drop_trigger(None, editor)
    assert not SalesRollup.objects.exists()
    # Without the trigger a new record is not rolled up ...
    SalesRecord.objects.create(
        event=made.e2,
        exhibitor=made.exhibitors["B01"],
        product=made.sales["Q1"].product,
        channel=SalesChannel.OFFLINE,
        sold_on=dt.date(2022, 5, 11),
        quantity=Decimal("1"),
        amount_fen=5_000,
        idempotency_key=key(),
    )
    assert len(rollup.sales_rollup_verify()) == rows
    # ... and the forward migration fills the rollup from every record and keeps it from then on.
    with connection.schema_editor() as editor:
        migration.create_trigger_and_backfill(None, editor)
    assert rollup.sales_rollup_verify() == []
    sales_services.sales_record_reverse(
        actor=admin(), idempotency_key=key(), record=made.sales["Q2"], reason="录入错误"
    )
    assert rollup.sales_rollup_verify() == []
    board = selectors.year_dashboard(admin(), 2022)
    assert board.totals.amount_fen == 200_050 + 300_000 + 5_000


def test_truncating_the_sales_empties_the_rollup(demo_county):
    dashboard_world(demo_county)
    assert SalesRollup.objects.exists()
    with transaction.atomic(), connection.cursor() as cursor:
        # The deferred foreign-key checks of the set-up rows run first: TRUNCATE refuses pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE industry_salesrecord")
    assert not SalesRollup.objects.exists()
    assert rollup.sales_rollup_verify() == []
