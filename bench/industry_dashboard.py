#!/usr/bin/env python3
"""Benchmark the sales dashboards (issue 7: "the event dashboard answers from rollups in a constant number
of queries") on PostgreSQL, against 200,000+ sales records. Run separately, never inside a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/industry_dashboard.py

1. A database, DATABASE_URL's name + "_dashbench", is made once (--fresh rebuilds it; it is only read
   afterwards): migrated, the skeleton demo county, ten 2022 expos (one per town, ten days each), 200
   businesses exhibiting at every expo, a catalogue of 1,000 products, and --rows sales records (default
   200,000) at the first expo plus 2,000 at each of the nine others, written with COPY in chunks of 20,000
   (as the Excel import writes them, so the rollup's trigger runs as it does in production); 1 % of the
   first expo's records are reversed by a later-dated correction.
2. For --runs runs (default 9), interleaved so that both sides see the same machine load: the event
   dashboard of the big expo and the year's overview of 2022 as the county admin, read from the rollup
   (industry.selectors.dashboard, the way the pages answer) and with direct=True (the old way: GROUP BYs
   over the sales records themselves — the floor this benchmark measures against, in the same run).
   It prints the median and the spread of each, the ratio direct / rollup, the queries of each side and the
   rollup's rows, and checks that both sides give equal figures and that `sales_rollup_verify` is exact.
   Exits non-zero when the figures differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
YEAR = 2022
EVENT_DAYS = 10
EXHIBITORS = 200
PRODUCTS = 1_000
OTHER_EVENTS_ROWS = 2_000
CHUNK = 20_000
REVERSED_SHARE = 0.01
PLATFORMS = ["抖音", "淘宝", "拼多多", "快手", "京东"]
BIG_EVENT = "谷城县农旅展览会（看板基准）"


def log(message: str) -> None:
    print(f"[industry-dashboard-bench] {message}", flush=True)


def bench_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("industry_dashboard needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = f"{parts.path.lstrip('/') or 'xiangzhi'}_dashbench"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise SystemExit(f"{name!r} is not a plain PostgreSQL database name")
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("REDIS_URL", None)
    env.setdefault("SECRET_KEY", "industry-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    env.setdefault("DEBUG", "0")
    env.setdefault("SECURE_HTTPS", "0")
    env.setdefault("CONN_MAX_AGE", "600")
    return env


def prepare(database_url: str, *, fresh: bool, rows: int) -> str:
    """Make sure the bench database exists, is migrated and holds the data; return its URL."""
    import psycopg2

    url, name = bench_url(database_url)
    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"xiangzhi-industry-dashbench:{name}"])
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cur.fetchone() is not None
            if exists and fresh:
                cur.execute(f'DROP DATABASE "{name}"')
                exists = False
            env = _env(url)
            if not exists:
                log(f"creating the bench database {name} (once; --fresh rebuilds it)")
                cur.execute(f'CREATE DATABASE "{name}"')
            started = time.monotonic()
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
            if not exists:
                subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--seed", "--rows", str(rows)],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
                log(f"bench database ready in {time.monotonic() - started:.0f} s")
    finally:
        admin.close()
    return url


def _copy(rows: list[str]) -> None:
    from django.db import connection

    columns = "event_id, exhibitor_id, product_id, channel, platform, sold_on, quantity, amount_fen, "
    columns += "reverses_id, reason, source, created_at"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            buffer = io.StringIO("".join(rows[start : start + CHUNK]))
            cursor.cursor.copy_expert(f"COPY industry_salesrecord ({columns}) FROM STDIN", buffer)


def seed(rows: int) -> None:
    """The skeleton county, the ten expos with their exhibitors, the catalogue and the sales records."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from governance.demo import seed_demo_county
    from governance.models import Region, RegionLevel
    from industry.models import Business, BusinessKind, Event, EventKind, Exhibitor, Product, ProductCategory

    rng = random.Random(20261129)
    now = timezone.now().isoformat()
    with transaction.atomic():
        regions = seed_demo_county(scale="skeleton")
        village = regions["新华村"]
        towns = list(Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code")[:10])
        events = []
        for n, town in enumerate(towns):
            starts = dt.date(YEAR, 1 + n, 5)
            events.append(
                Event.objects.create(
                    kind=EventKind.EXPO,
                    name=BIG_EVENT if n == 0 else f"{town.name}{YEAR}农旅节（看板基准）",
                    region=town,
                    starts_on=starts,
                    ends_on=starts + dt.timedelta(days=EVENT_DAYS - 1),
                )
            )
        businesses = Business.objects.bulk_create(
            Business(
                kind=BusinessKind.ENTERPRISE if n % 2 else BusinessKind.COOPERATIVE,
                name=f"看板基准参展主体{n:03d}",
                region=village,
            )
            for n in range(EXHIBITORS)
        )
        categories = list(ProductCategory.values)
        products = Product.objects.bulk_create(
            Product(
                code=f"DP{n:04d}",
                name=f"看板基准农产品{n:04d}",
                category=categories[n % len(categories)],
                origin_region=village,
            )
            for n in range(PRODUCTS)
        )
        product_ids = [p.pk for p in products]
        lines: list[str] = []
        for n, event in enumerate(events):
            booths = Exhibitor.objects.bulk_create(
                Exhibitor(event=event, business=b, booth=f"A{i:03d}") for i, b in enumerate(businesses)
            )
            booth_ids = [b.pk for b in booths]
            for _ in range(rows if n == 0 else OTHER_EVENTS_ROWS):
                online = rng.random() < 0.45
                day = event.starts_on + dt.timedelta(days=rng.randrange(EVENT_DAYS))
                lines.append(
                    f"{event.pk}\t{rng.choice(booth_ids)}\t{rng.choice(product_ids)}\t"
                    f"{'online' if online else 'offline'}\t{rng.choice(PLATFORMS) if online else ''}\t"
                    f"{day.isoformat()}\t{rng.randint(1, 500)}\t{rng.randint(100, 5_000_000)}\t"
                    f"\\N\t\timport\t{now}\n"
                )
        started = time.monotonic()
        _copy(lines)
        log(f"wrote {len(lines):,} sales records with COPY in {time.monotonic() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, exhibitor_id, product_id, channel, platform, sold_on, quantity, amount_fen "
                "FROM industry_salesrecord WHERE event_id = %s ORDER BY id",
                [events[0].pk],
            )
            originals = cursor.fetchall()
        reversed_ = rng.sample(originals, int(len(originals) * REVERSED_SHARE))
        later = events[0].ends_on + dt.timedelta(days=3)
        _copy(
            [
                f"{events[0].pk}\t{x}\t{p}\t{channel}\t{platform}\t{later.isoformat()}\t{-quantity}\t{-amount}\t"
                f"{pk}\t录入错误\tpage\t{now}\n"
                for pk, x, p, channel, platform, _day, quantity, amount in sorted(reversed_)
            ]
        )
        log(f"wrote {len(reversed_):,} reversals dated {later}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE industry_salesrecord")
        cursor.execute("VACUUM ANALYZE industry_sales_rollup")


def _timed(call: Callable[[], Any], times: list[float]) -> Any:
    started = time.perf_counter()
    result = call()
    times.append(time.perf_counter() - started)
    return result


def _queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def measure(runs: int) -> int:
    import django

    django.setup()
    from django.db import connection

    from governance.models import User
    from industry.models import Event, SalesRecord, SalesRollup
    from industry.rollup import sales_rollup_verify
    from industry.selectors import dashboard

    with connection.cursor() as cursor:
        # Dead rows left by anything run against this database (a rolled-back COPY) would be scanned by
        # the direct side: measure compact tables.
        cursor.execute("VACUUM ANALYZE industry_salesrecord")
        cursor.execute("VACUUM ANALYZE industry_sales_rollup")
    admin = User.objects.get(username="county_admin")
    event = Event.objects.get(name=BIG_EVENT)
    records = SalesRecord.objects.count()
    at_event = SalesRecord.objects.filter(event=event).count()
    rollup_rows = SalesRollup.objects.count()
    at_event_rows = SalesRollup.objects.filter(event=event).count()
    sides: dict[str, Callable[[], Any]] = {
        "event dashboard · rollup": lambda: dashboard.event_dashboard(admin, event.pk),
        "event dashboard · direct (floor)": lambda: dashboard.event_dashboard(admin, event.pk, direct=True),
        "year overview · rollup": lambda: dashboard.year_dashboard(admin, YEAR),
        "year overview · direct (floor)": lambda: dashboard.year_dashboard(admin, YEAR, direct=True),
    }
    for call in sides.values():  # warm the caches and the connection
        call()
    times: dict[str, list[float]] = {name: [] for name in sides}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, call in sides.items():
            results[name] = _timed(call, times[name])
    queries = {name: _queries(call) for name, call in sides.items()}
    started = time.perf_counter()
    differences = sales_rollup_verify()
    verify_seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    load = os.getloadavg()
    print()
    print(f"sales dashboard benchmark · {version} · {os.cpu_count()} CPUs · {dt.date.today()}")
    print(f"  load average at the end          {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  sales records                    {records:,} ({at_event:,} at the big expo)")
    print(f"  rollup rows                      {rollup_rows:,} ({at_event_rows:,} for the big expo)")
    print(f"  runs                             {runs} (median, min–max)")
    for name, seconds in times.items():
        print(
            f"  {name:<33}{statistics.median(seconds) * 1000:9.1f} ms"
            f"   ({min(seconds) * 1000:.1f}–{max(seconds) * 1000:.1f})   {queries[name]} queries"
        )
    for what in ("event dashboard", "year overview"):
        rollup = statistics.median(times[f"{what} · rollup"])
        direct = statistics.median(times[f"{what} · direct (floor)"])
        print(f"  ratio {what} direct / rollup   {direct / rollup:8.1f} ×")
    print(f"  sales_rollup_verify              {verify_seconds:9.2f} s   {len(differences)} differences")
    same = (
        results["event dashboard · rollup"] == results["event dashboard · direct (floor)"]
        and results["year overview · rollup"] == results["year overview · direct (floor)"]
    )
    print(f"  figures equal (rollup = direct)  {'yes' if same else 'NO'}")
    return 0 if same and not differences else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="sales records at the big expo")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench database")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        seed(args.rows)
        return 0
    url = prepare(os.environ.get("DATABASE_URL", ""), fresh=args.fresh, rows=args.rows)
    os.environ.update(_env(url))
    return measure(args.runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
