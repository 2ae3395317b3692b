#!/usr/bin/env python3
"""Time the monthly settlement of one canteen with 100,000 meals on PostgreSQL (issue 6: under 2 s).
Run separately, never in the test suite:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/canteens_settlement.py

1. A throw-away database, DATABASE_URL's name + "_settlebench", is dropped and created, migrated and
   seeded with the demo county's skeleton (seed_demo_county, scale skeleton).
2. One canteen in 民营社区 (石花镇) with the default tiers, 1,100 residents aged 60+ in bulk, and --meals
   meals (default 100,000) in last month in bulk: distinct (resident, day, slot) so the one-meal-per-slot
   UNIQUE holds, random prices (300–1,200 fen), each split with canteens.split.meal_split by one of four
   rules so the meals' CHECKs hold, a tenth of the government parts at township level, 2 % guests at full
   price; then 1 % of the meals reversed the way a correction does it (negated amounts naming the
   original, the original's voided_at set).
3. A floor, measured in the same run: one plain SELECT COUNT(*), SUM(price_fen) over the month's meals.
4. settlement_compute(site, year, month) (the system call: no actor) --runs times (default 5), each a full
   recompute of the draft; prints every run, the median, the ratio to the floor, and exits 1 when the
   median is 2 s or more or the settlement disagrees with a direct SUM over the meals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT_SECONDS = 2.0
RESIDENTS = 1_100


def log(message: str) -> None:
    print(f"[settlement-bench] {message}", flush=True)


def run_database(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("canteens_settlement needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = f"{parts.path.lstrip('/') or 'xiangzhi'}_settlebench"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise SystemExit(f"{name!r} is not a plain PostgreSQL database name")
    return urlunsplit(parts._replace(path=f"/{name}")), name


def admin_execute(database_url: str, *statements: str) -> None:
    import psycopg2

    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        admin.close()


def prepare(database_url: str) -> str:
    run_url, name = run_database(database_url)
    admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=run_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("REDIS_URL", None)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    log(f"migrated {name} in {time.monotonic() - started:.0f} s")
    return run_url


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    os.environ.setdefault("SECRET_KEY", "settlement-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECURE_HTTPS", "0")
    database_url = os.environ.get("DATABASE_URL", "")
    run_url = prepare(database_url)
    os.environ.update(DATABASE_URL=run_url, DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from canteens.defaults import tiers_ensure
    from canteens.models import GovernmentLevel, Meal, Settlement, Site, SiteKind, VerifyMethod
    from canteens.services.settlements import month_bounds, settlement_compute
    from canteens.split import Share, meal_split
    from governance import pii
    from governance.demo import seed_demo_county
    from governance.models import Household, Region, Resident, User

    try:
        regions = seed_demo_county(password=settings.DEMO_PASSWORD)
        community = regions["民营社区"] if "民营社区" in regions else Region.objects.get(name="民营社区")
        grid = (
            Region.objects.filter(path__startswith=community.path).exclude(pk=community.pk).first()
            or community
        )
        actor = User.objects.get(username="canteen_manager")
        tiers = tiers_ensure()
        site = Site.objects.create(
            kind=SiteKind.CANTEEN, name="基准测试爱心食堂", region=community, capacity=200
        )

        rng = random.Random(20260601)  # test data: no secrets
        households = Household.objects.bulk_create(
            [
                Household(grid=grid, number=f"BENCH-{n:04d}", address=f"基准{n}号")
                for n in range(RESIDENTS // 5)
            ]
        )
        columns = {**pii.id_number_columns("420625195001020018"), **pii.phone_columns("")}
        residents = Resident.objects.bulk_create(
            [
                Resident(
                    household=households[n // 5],
                    name=f"老人{n}",
                    gender="M" if n % 2 else "F",
                    birth_date=dt.date(1930 + n % 30, 1, 2),
                    relation_to_head="other",
                    **{**columns, "id_number_hash": f"settlebench{n:053x}"},
                )
                for n in range(RESIDENTS)
            ],
            batch_size=2_000,
        )
        today = timezone.localdate()
        last = today.replace(day=1) - dt.timedelta(days=1)
        year, month = last.year, last.month
        start, end = month_bounds(year, month)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
        slots = ("breakfast", "lunch", "dinner")
        if args.meals > len(residents) * len(days) * len(slots):
            raise SystemExit("more meals than (resident, day, slot) combinations")

        def pct(funder: str, percent: int, cap: int | None = None) -> Share:
            return Share(funder, share_bp=percent * 100, cap_fen=cap)

        rules = [
            (
                tiers["age-60-69"],
                [
                    Share("resident", fixed_fen=200),
                    pct("government", 50),
                    pct("community", 30),
                    pct("donation", 20),
                ],
            ),
            (
                tiers["age-70-79"],
                [
                    Share("resident", fixed_fen=150),
                    pct("government", 60),
                    pct("community", 30),
                    pct("donation", 10),
                ],
            ),
            (
                tiers["age-80-89"],
                [
                    Share("resident", fixed_fen=100),
                    pct("government", 60),
                    pct("community", 30),
                    pct("donation", 10),
                ],
            ),
            (
                tiers["low-income"],
                [
                    Share("resident", fixed_fen=50),
                    pct("government", 70, 400),
                    pct("community", 20),
                    pct("donation", 10),
                ],
            ),
        ]
        started = time.monotonic()
        seen: set[tuple[int, int, int]] = set()
        rows: list[Meal] = []
        while len(rows) < args.meals:
            r, d, s = rng.randrange(len(residents)), rng.randrange(len(days)), rng.randrange(3)
            if (r, d, s) in seen:
                continue
            seen.add((r, d, s))
            price = rng.randint(300, 1200)
            guest = rng.random() < 0.02
            if guest:
                tier, parts = None, {"resident": price, "government": 0, "community": 0, "donation": 0}
            else:
                tier, shares = rules[r % len(rules)]
                parts = meal_split(price, shares, "community")
            rows.append(
                Meal(
                    site=site,
                    served_on=days[d],
                    slot=slots[s],
                    resident=None if guest else residents[r],
                    tier=tier,
                    is_guest=guest,
                    guest_name="过路客" if guest else "",
                    verified_by=VerifyMethod.GUEST if guest else VerifyMethod.CARD_QR,
                    price_fen=price,
                    resident_fen=parts["resident"],
                    government_fen=parts["government"],
                    government_level=GovernmentLevel.TOWNSHIP
                    if rng.random() < 0.1
                    else GovernmentLevel.COUNTY,
                    community_fen=parts["community"],
                    donation_fen=parts["donation"],
                    created_by=actor,
                )
            )
        meals = Meal.objects.bulk_create(rows, batch_size=5_000)
        reversed_meals = rng.sample(meals, len(meals) // 100)
        Meal.objects.bulk_create(
            [
                Meal(
                    site=site,
                    served_on=m.served_on,
                    slot=m.slot,
                    resident=m.resident,
                    tier=m.tier,
                    is_guest=m.is_guest,
                    verified_by=m.verified_by,
                    price_fen=-m.price_fen,
                    resident_fen=-m.resident_fen,
                    government_fen=-m.government_fen,
                    government_level=m.government_level,
                    community_fen=-m.community_fen,
                    donation_fen=-m.donation_fen,
                    reverses=m,
                    created_by=actor,
                )
                for m in reversed_meals
            ],
            batch_size=5_000,
        )
        Meal.objects.filter(pk__in=[m.pk for m in reversed_meals]).update(voided_at=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE canteens_meal")
        log(
            f"inserted {len(meals):,} meals + {len(reversed_meals):,} reversals for {year}-{month:02d} "
            f"in {time.monotonic() - started:.1f} s"
        )

        floor_times = []
        for _run in range(args.runs):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*), SUM(price_fen) FROM canteens_meal "
                    "WHERE site_id = %s AND served_on >= %s AND served_on < %s",
                    [site.pk, start, end],
                )
                count, price_total = cursor.fetchone()
            floor_times.append(time.perf_counter() - started)
        floor = statistics.median(floor_times)

        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            settlement = settlement_compute(site=site, year=year, month=month)
            elapsed = time.perf_counter() - started
            times.append(elapsed)
            log(f"run {run}: settlement_compute {elapsed * 1000:.0f} ms")
        median = statistics.median(times)
        settlement = Settlement.objects.get(pk=settlement.pk)
        expected_meals = len(meals) - len(reversed_meals)  # a reversal counts −1
        exact = settlement.price_fen == int(price_total) and settlement.meals == expected_meals
        log(
            f"median of {args.runs}: {median * 1000:.0f} ms for {count:,} meal rows "
            f"(limit {LIMIT_SECONDS * 1000:.0f} ms); floor (one COUNT/SUM scan) {floor * 1000:.0f} ms, "
            f"ratio {median / floor if floor else 0:.1f}× the floor; "
            f"{settlement.meals:,} person-times, {settlement.elders:,} elders, "
            f"¥{settlement.price_fen / 100:,.2f}, {settlement.lines.count()} lines; "
            f"figures {'exact' if exact else 'WRONG'}"
        )
        return 0 if median < LIMIT_SECONDS and exact else 1
    finally:
        connection.close()
        if not args.keep:
            admin_execute(database_url, f'DROP DATABASE IF EXISTS "{run_database(database_url)[1]}"')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
