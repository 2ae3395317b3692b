#!/usr/bin/env python3
"""Benchmark the sales import (销售记录导入) on PostgreSQL: 200,000 rows from .xlsx must validate and import
in under a minute (issue 7). Run separately, never inside a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/industry_import.py

1. A template database, DATABASE_URL's name + "_salesbench_tpl", is made once: migrated, the skeleton demo
   county (seed_demo_county), and one expo of 城关镇 with 200 exhibitors (businesses of 新华村, half with a
   credit code) and a catalogue of 1,000 products, created directly. Each run migrates it (a no-op when
   current) and clones a throw-away database from it (CREATE DATABASE ... TEMPLATE). --fresh rebuilds it.
2. It writes a sales .xlsx of --rows rows (default 200,000) in the template's columns: the expo by name,
   the exhibitor by name or (every third row) by credit code, a product code, 线上 with a platform or 线下,
   a date cell within the expo, a quantity and an amount as numbers. Saved the way Excel and WPS save
   theirs: a shared string table and a <dimension> element (openpyxl inlines every string and, in
   write-only mode, leaves the dimension out; see bench/import_bench.py's notes). --inline keeps
   openpyxl's form, the worst case.
3. Floors, measured in the same run on the same file and database: openpyxl's raw read-only read of the
   file (every cell's value, nothing else); python-calamine's raw read when it is installed (the import
   then reads with it, so the floor uses it); and a bare COPY of the same number of SalesRecord rows
   (constant values, the buffer prepared beforehand, the deferred foreign-key checks run, rolled back).
   Read + COPY is the least any import of this file can cost.
4. The import itself: sales_import_create as the county admin with Celery eager (REDIS_URL unset), which
   validates and writes in-process. It prints the total, rows/s, the in-task time and the ratio to the
   floor, and exits non-zero when the job did not import every row or took a minute or more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT_SECONDS = 60.0
EVENT_NAME = "谷城县农旅展览会（基准）"
EVENT_START = dt.date(2022, 3, 1)
EVENT_DAYS = 10
EXHIBITORS = 200
PRODUCTS = 1_000
PLATFORMS = ["抖音", "淘宝", "拼多多", "快手", "京东"]


def log(message: str) -> None:
    print(f"[industry-import-bench] {message}", flush=True)


def database_urls(database_url: str) -> tuple[str, str, str, str]:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("industry_import needs PostgreSQL: set DATABASE_URL=postgres://...")
    base = parts.path.lstrip("/") or "xiangzhi"
    template, run = f"{base}_salesbench_tpl", f"{base}_salesbench"
    for name in (template, run):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise SystemExit(f"{name!r} is not a plain PostgreSQL database name")
    return (
        urlunsplit(parts._replace(path=f"/{template}")),
        template,
        urlunsplit(parts._replace(path=f"/{run}")),
        run,
    )


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("REDIS_URL", None)
    env.setdefault("SECRET_KEY", "industry-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    env.setdefault("DEBUG", "0")
    env.setdefault("SECURE_HTTPS", "0")
    return env


def prepare(database_url: str, fresh: bool) -> str:
    """Make sure the template exists and is migrated; clone this run's database; return its URL."""
    import psycopg2

    template_url, template, run_url, run = database_urls(database_url)
    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"xiangzhi-industry-bench:{template}"])
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            exists = cur.fetchone() is not None
            if exists and fresh:
                cur.execute(f'DROP DATABASE "{template}"')
                exists = False
            env = _env(template_url)
            if not exists:
                log(f"creating the template database {template} (once)")
                cur.execute(f'CREATE DATABASE "{template}"')
                started = time.monotonic()
                subprocess.run(
                    [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
                subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--seed-template"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
                log(f"template ready in {time.monotonic() - started:.0f} s")
            else:
                subprocess.run(
                    [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
            cur.execute(f'DROP DATABASE IF EXISTS "{run}"')
            cur.execute(f'CREATE DATABASE "{run}" TEMPLATE "{template}"')
    finally:
        admin.close()
    return run_url


def drop(database_url: str) -> None:
    import psycopg2

    _template_url, _template, _run_url, run = database_urls(database_url)
    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{run}"')
    finally:
        admin.close()


def seed_template() -> None:
    """The skeleton county, one expo of 城关镇, its 200 exhibitors and the 1,000-product catalogue."""
    import django

    django.setup()
    from django.db import transaction

    from governance.demo import seed_demo_county
    from industry.models import Business, BusinessKind, Event, EventKind, Exhibitor, Product, ProductCategory

    with transaction.atomic():
        regions = seed_demo_county(scale="skeleton")
        village = regions["新华村"]
        event = Event.objects.create(
            kind=EventKind.EXPO,
            name=EVENT_NAME,
            region=regions["城关镇"],
            town_product="谷城毛尖",
            starts_on=EVENT_START,
            ends_on=EVENT_START + dt.timedelta(days=EVENT_DAYS - 1),
        )
        businesses = Business.objects.bulk_create(
            [
                Business(
                    kind=BusinessKind.ENTERPRISE if n % 2 else BusinessKind.COOPERATIVE,
                    name=f"基准参展主体{n:03d}",
                    region=village,
                    credit_code=f"91420625BENCH{n:05d}" if n % 2 == 0 else "",
                )
                for n in range(EXHIBITORS)
            ]
        )
        Exhibitor.objects.bulk_create(
            [Exhibitor(event=event, business=b, booth=f"A{n:03d}") for n, b in enumerate(businesses)]
        )
        categories = list(ProductCategory.values)
        Product.objects.bulk_create(
            [
                Product(
                    code=f"BP{n:04d}",
                    name=f"基准农产品{n:04d}",
                    category=categories[n % len(categories)],
                    origin_region=village,
                )
                for n in range(PRODUCTS)
            ]
        )


def sales_write(
    path: Path, rows: int, credit_codes: dict[str, str], seed: int = 20261129, inline: bool = False
) -> int:
    """Write `rows` valid sales rows to `path` (template headers); return the total amount in fen."""
    from openpyxl import Workbook

    from industry.services.imports import TEMPLATE_HEADERS

    rng = random.Random(seed)
    names = sorted(credit_codes)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("销售记录")
    sheet.append(TEMPLATE_HEADERS)
    total = 0
    for n in range(rows):
        name = names[n % len(names)]
        by_code = n % 3 == 0 and credit_codes[name]
        online = rng.random() < 0.45
        fen = rng.randint(100, 5_000_000)
        total += fen
        sheet.append(
            [
                EVENT_NAME,
                "" if by_code else name,
                credit_codes[name] if by_code else "",
                f"BP{rng.randrange(PRODUCTS):04d}",
                "线上" if online else "线下",
                rng.choice(PLATFORMS) if online else "",
                EVENT_START + dt.timedelta(days=rng.randrange(EVENT_DAYS)),
                rng.randint(1, 500),
                fen / 100 if fen % 100 else fen // 100,
                "",
            ]
        )
    workbook.save(path)
    if not inline:
        from bench.import_bench import excel_like

        excel_like(path)
        dimension_add(path, rows + 1, len(TEMPLATE_HEADERS))
    return total


def dimension_add(path: Path, last_row: int, columns: int) -> None:
    """Add the <dimension> element Excel writes (openpyxl's write-only mode leaves it out)."""
    from openpyxl.utils import get_column_letter

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    text = parts[sheet].decode()
    if "<dimension " not in text:
        ref = f'<dimension ref="A1:{get_column_letter(columns)}{last_row}" />'
        text = text.replace("</sheetPr>", "</sheetPr>" + ref, 1)
    parts[sheet] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def copy_floor(rows: int) -> float:
    """Seconds for a bare COPY of `rows` constant SalesRecord rows with their foreign-key checks (then
    rolled back)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from industry.models import Exhibitor, Product, SalesRecord

    exhibitor = Exhibitor.objects.select_related("event").first()
    product = Product.objects.first()
    assert exhibitor is not None
    assert product is not None
    columns = [
        "event_id",
        "exhibitor_id",
        "product_id",
        "channel",
        "platform",
        "sold_on",
        "quantity",
        "amount_fen",
        "reason",
        "source",
        "created_at",
    ]
    line = "\t".join(
        [
            str(exhibitor.event_id),
            str(exhibitor.pk),
            str(product.pk),
            "offline",
            "",
            EVENT_START.isoformat(),
            "1",
            "100",
            "",
            "import",
            timezone.now().isoformat(),
        ]
    )
    buffer = io.StringIO((line + "\n") * rows)
    sql = f"COPY {SalesRecord._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with transaction.atomic():
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks run at COMMIT, which a
            # rolled-back floor would skip; make them run now so the floor pays what a real import pays.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.monotonic() - started
        transaction.set_rollback(True)
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the template database")
    parser.add_argument("--keep", action="store_true", help="keep this run's database afterwards")
    parser.add_argument("--inline", action="store_true", help="keep openpyxl's inline strings (worst case)")
    parser.add_argument(
        "--reader",
        choices=["auto", "openpyxl"],
        default="auto",
        help="openpyxl: import without python-calamine even when it is installed",
    )
    parser.add_argument("--seed-template", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_template:
        seed_template()
        return 0

    database_url = os.environ.get("DATABASE_URL", "")
    run_url = prepare(database_url, args.fresh)
    media = tempfile.mkdtemp(prefix="industry-bench-media-")
    os.environ.update(_env(run_url), MEDIA_ROOT=media, CONN_MAX_AGE="600")
    os.environ.pop("REDIS_URL", None)  # Celery eager, in-process: the import is timed here
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.db.models import Count, Sum
    from openpyxl import load_workbook

    from governance.models import User
    from industry.models import Exhibitor, SalesImportStatus, SalesRecord
    from industry.services import imports as import_services

    if args.reader == "openpyxl":
        import_services.CalamineWorkbook = None
    try:
        credit_codes = dict(
            Exhibitor.objects.values_list("business__name", "business__credit_code").order_by(
                "business__name"
            )
        )
        path = Path(media) / "sales.xlsx"
        started = time.monotonic()
        expected_fen = sales_write(path, args.rows, credit_codes, inline=args.inline)
        log(
            f"wrote {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB, {len(credit_codes)} exhibitors) "
            f"in {time.monotonic() - started:.1f} s"
        )

        started = time.monotonic()
        workbook = load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True)) - 1
        workbook.close()
        read_floor = time.monotonic() - started
        calamine = None
        if import_services.CalamineWorkbook is not None:
            started = time.monotonic()
            book = import_services.CalamineWorkbook.from_path(str(path))
            assert sum(1 for _row in book.get_sheet_by_index(0).iter_rows()) - 1 == count
            calamine = time.monotonic() - started
        insert_floor = copy_floor(args.rows)
        reader = "python-calamine" if calamine is not None else "openpyxl"
        floor = (calamine if calamine is not None else read_floor) + insert_floor

        actor = User.objects.get(username="county_admin")
        upload = SimpleUploadedFile("bench.xlsx", path.read_bytes())
        started = time.monotonic()
        job = import_services.sales_import_create(
            actor=actor, idempotency_key=f"bench-{time.time()}", upload=upload
        )
        elapsed = time.monotonic() - started
        job.refresh_from_db()
        assert job.started_at is not None
        assert job.finished_at is not None
        in_task = (job.finished_at - job.started_at).total_seconds()
        stored = SalesRecord.objects.filter(import_job=job).aggregate(n=Count("id"), fen=Sum("amount_fen"))

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = str(cursor.fetchone()[0]).split()[0]
        print()
        machine = f"PostgreSQL {server} · {os.cpu_count()} CPUs · {dt.date.today()}"
        print(f"sales import benchmark · {machine}")
        print(f"  rows in the file              {count:>10,}")
        print(f"  import (upload→finished)      {elapsed:>10.1f} s   {args.rows / elapsed:>9,.0f} rows/s")
        print(f"  validation + write (task)     {in_task:>10.1f} s   {args.rows / in_task:>9,.0f} rows/s")
        print(
            f"  floor: openpyxl raw read      {read_floor:>10.1f} s   {args.rows / read_floor:>9,.0f} rows/s"
        )
        if calamine is not None:
            print(
                f"  floor: python-calamine read   {calamine:>10.1f} s   {args.rows / calamine:>9,.0f} rows/s"
            )
        copy_rate = args.rows / insert_floor
        print(f"  floor: bare COPY + FK checks  {insert_floor:>10.1f} s   {copy_rate:>9,.0f} rows/s")
        print(f"  floor: read + COPY            {floor:>10.1f} s   (the import reads with {reader})")
        print(f"  ratio import / floor          {elapsed / floor:>10.2f} ×")
        if calamine is not None:
            openpyxl_floor = read_floor + insert_floor
            print(f"  ratio import / openpyxl floor {elapsed / openpyxl_floor:>10.2f} ×")
        amount = Decimal(job.amount_fen) / 100
        print(
            f"  status {job.status}: imported {job.imported_rows:,} rows, {amount:,.2f} yuan, "
            f"{job.rejected_rows} rejected rows"
        )
        ok = (
            job.status == SalesImportStatus.DONE
            and job.imported_rows == args.rows == stored["n"]
            and job.amount_fen == expected_fen == stored["fen"]
            and elapsed < LIMIT_SECONDS
        )
        if not ok:
            print(f"FAILED: the import must bring in all {args.rows:,} rows in under {LIMIT_SECONDS:.0f} s")
            for entry in job.errors[:10]:
                print("  ", entry)
            if job.failure_message:
                print("  ", job.failure_message)
        return 0 if ok else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(database_url)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
