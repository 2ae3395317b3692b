#!/usr/bin/env python3
"""Benchmark the roster import (花名册导入) on PostgreSQL: 100,000 rows must validate and import in under a
minute (issue 3). Run separately, never in the test suite:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xiangzhi .venv/bin/python bench/import_bench.py

1. A template database, DATABASE_URL's name + "_importbench_tpl", is created once (migrated and seeded
   with the demo county at the default scale: 3,551 grids, ~35,000 households); each run migrates it
   (a no-op when current) and clones a throw-away database from it (CREATE DATABASE ... TEMPLATE), so
   every run starts from the same state. --fresh rebuilds the template.
2. It writes a roster .xlsx of --rows rows (default 100,000) over the demo grids, in households of a head,
   a spouse and children: valid fake ID numbers (420625 + birth date + sequence + check character from
   governance.pii.id_number_check_char), the gender and birth date columns agreeing with them, phones
   and tags on some rows. IDs already in the database are skipped, so every row is valid. The file is
   saved as Excel and WPS save theirs (a shared string table, a <dimension> element); openpyxl itself
   inlines every string (and in write-only mode leaves the dimension out), which reads slower: --inline
   keeps openpyxl's form, the worst case.
3. Floors, measured in the same run on the same file and database: openpyxl's raw read-only read of the
   file, and a bare `bulk_create` of the same number of Resident rows (constant, pre-encrypted values,
   rolled back). Their sum is the least any import of this file can cost.
4. The import itself: roster_import_create (as the county admin, all-or-nothing mode, template headers so
   no confirmation) with Celery eager (REDIS_URL unset), which runs validation and import in-process.
   It prints the total, rows/s, the validation+import time (the job's started_at→finished_at) and the
   ratio to the floor, and fails when the job did not import every row or took a minute or more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT_SECONDS = 60.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅小龙海燕德福春花"
TAGS = ["", "", "", "", "留守老人", "低保", "党员", "退役军人", "残疾", "返乡人员"]


def log(message: str) -> None:
    print(f"[import-bench] {message}", flush=True)


def database_urls(database_url: str) -> tuple[str, str, str, str]:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("import_bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    base = parts.path.lstrip("/") or "xiangzhi"
    template, run = f"{base}_importbench_tpl", f"{base}_importbench"
    for name in (template, run):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise SystemExit(f"{name!r} is not a plain PostgreSQL database name")
    return (
        urlunsplit(parts._replace(path=f"/{template}")),
        template,
        urlunsplit(parts._replace(path=f"/{run}")),
        run,
    )


def manage(database_url: str, *command: str) -> None:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("REDIS_URL", None)
    env.setdefault("SECRET_KEY", "import-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    env.setdefault("DEBUG", "0")
    env.setdefault("SECURE_HTTPS", "0")
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def prepare(database_url: str, fresh: bool) -> str:
    """Make sure the template exists and is migrated; clone this run's database; return its URL."""
    import psycopg2

    template_url, template, run_url, run = database_urls(database_url)
    admin = psycopg2.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"xiangzhi-import-bench:{template}"])
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            exists = cur.fetchone() is not None
            if exists and fresh:
                cur.execute(f'DROP DATABASE "{template}"')
                exists = False
            if not exists:
                log(f"creating the template database {template} (once; seeding the demo county)")
                cur.execute(f'CREATE DATABASE "{template}"')
                started = time.monotonic()
                manage(template_url, "migrate", "--noinput", "-v", "0")
                manage(template_url, "seed_demo", "--scale", "default", "--quiet-logins")
                log(f"template ready in {time.monotonic() - started:.0f} s")
            else:
                manage(template_url, "migrate", "--noinput", "-v", "0")
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


def roster_write(
    path: Path, rows: int, grid_codes: list[str], taken: set[str], seed: int = 20261129, inline: bool = False
) -> int:
    """Write `rows` valid roster rows to `path` (template headers); return the number of households."""
    from openpyxl import Workbook

    from governance import pii
    from governance.services.roster import TEMPLATE_HEADERS

    rng = random.Random(seed)
    used: set[str] = set()

    def person(birth: dt.date, male: bool) -> str:
        while True:
            order = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"420625{birth:%Y%m%d}{order:03d}"
            number = first17 + pii.id_number_check_char(first17)
            if number not in used and pii.lookup_hash(number) not in taken:
                used.add(number)
                return number

    def birthday(start: int, end: int) -> dt.date:
        return dt.date(rng.randint(start, end), rng.randint(1, 12), rng.randint(1, 28))

    # Not write-only: a normal workbook is saved the way Excel and WPS save theirs (a shared string table
    # and a <dimension> element), which is what villages upload; write-only files inline every string.
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(TEMPLATE_HEADERS)
    written = households = 0
    while written < rows:
        households += 1
        grid = grid_codes[households % len(grid_codes)]
        number = f"B{households:06d}"
        address = f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        head_male = rng.random() < 0.8
        head_birth = birthday(1940, 1990)
        members = [("户主", head_male, head_birth)]
        if written + 1 < rows:
            members.append(
                ("配偶", not head_male, birthday(head_birth.year - 3, min(head_birth.year + 3, 1995)))
            )
        for _child in range(rng.choice([0, 1, 1, 2, 2, 3])):
            if written + len(members) >= rows:
                break
            members.append(("子女", rng.random() < 0.5, birthday(max(head_birth.year + 20, 1960), 2015)))
        for relation, male, birth in members:
            id_number = person(birth, male)
            name = (
                rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            )
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if relation != "子女" else ""
            sheet.append(
                [
                    number,
                    grid,
                    name,
                    "男" if male else "女",
                    birth.isoformat(),
                    id_number,
                    phone,
                    relation,
                    address if relation == "户主" else "",
                    rng.choice(TAGS),
                ]
            )
            written += 1
    workbook.save(path)
    if not inline:
        excel_like(path)
    return households


_INLINE_CELL = re.compile(
    r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>'
)


def excel_like(path: Path) -> None:
    """Rewrite openpyxl's inline strings as a shared string table, the way Excel and WPS save every
    workbook: each distinct text once in xl/sharedStrings.xml, cells holding its index."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    table: dict[str, int] = {}
    cells = 0

    def shared(match: re.Match[str]) -> str:
        nonlocal cells
        cells += 1
        index = table.setdefault(match.group(3), len(table))
        return f'<c r="{match.group(1)}"{match.group(2) or ""} t="s"><v>{index}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = _INLINE_CELL.sub(shared, parts[sheet].decode()).encode()
    strings = "".join(f"<si><t>{text}</t></si>" for text in table)
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{cells}" uniqueCount="{len(table)}">{strings}</sst>'
    ).encode()
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        .encode()
    )
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = (
        parts[rels]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdSharedStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        .encode()
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the template database")
    parser.add_argument("--keep", action="store_true", help="keep this run's database afterwards")
    parser.add_argument("--inline", action="store_true", help="keep openpyxl's inline strings (worst case)")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "")
    run_url = prepare(database_url, args.fresh)
    media = tempfile.mkdtemp(prefix="import-bench-media-")
    os.environ.update(
        DATABASE_URL=run_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        MEDIA_ROOT=media,
        CONN_MAX_AGE="600",
    )
    os.environ.pop("REDIS_URL", None)  # Celery eager, in-process: the import is timed here
    os.environ.setdefault("SECRET_KEY", "import-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECURE_HTTPS", "0")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction
    from openpyxl import load_workbook

    from governance import pii
    from governance.models import Household, ImportMode, ImportStatus, Region, RegionLevel, Resident, User
    from governance.services import roster as roster_services

    try:
        grid_codes = list(
            Region.objects.filter(level=RegionLevel.GRID)
            .exclude(code="")
            .order_by("path")
            .values_list("code", flat=True)
        )
        taken = set(Resident.objects.values_list("id_number_hash", flat=True))
        path = Path(media) / "roster.xlsx"
        started = time.monotonic()
        households = roster_write(path, args.rows, grid_codes, taken, inline=args.inline)
        log(
            f"wrote {args.rows:,} rows ({households:,} households over {len(grid_codes):,} grids, "
            f"{path.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s; "
            f"the database already holds {len(taken):,} residents"
        )

        started = time.monotonic()
        workbook = load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True)) - 1
        workbook.close()
        read_floor = time.monotonic() - started

        household_row = Household.objects.filter(grid__level=RegionLevel.GRID).first()
        assert household_row is not None
        constant = roster_services._resident_pii("420625198001020018", "13800138000")
        started = time.monotonic()
        with transaction.atomic():
            Resident.objects.bulk_create(
                [
                    Resident(
                        household_id=household_row.pk,
                        name="甲",
                        gender="M",
                        birth_date=dt.date(1980, 1, 2),
                        relation_to_head="other",
                        **{**constant, "id_number_hash": f"{n:064x}"},
                    )
                    for n in range(args.rows)
                ],
                batch_size=roster_services.BATCH_SIZE,
            )
            transaction.set_rollback(True)
        insert_floor = time.monotonic() - started
        floor = read_floor + insert_floor

        actor = User.objects.get(username="county_admin")
        upload = SimpleUploadedFile("bench.xlsx", path.read_bytes())
        residents_before = Resident.objects.count()
        started = time.monotonic()
        job = roster_services.roster_import_create(
            actor=actor, upload=upload, mode=ImportMode.ALL_OR_NOTHING, idempotency_key=f"bench-{time.time()}"
        )
        elapsed = time.monotonic() - started
        job.refresh_from_db()
        assert job.started_at is not None
        assert job.finished_at is not None
        in_task = (job.finished_at - job.started_at).total_seconds()
        imported = Resident.objects.count() - residents_before
        sample = Resident.objects.order_by("-pk").first()
        assert sample is not None

        def server_version() -> str:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return str(cursor.fetchone()[0]).split()[0]

        decrypted_ok = pii.lookup_hash(pii.decrypt(sample.id_number_encrypted)) == sample.id_number_hash

        print()
        machine = f"PostgreSQL {server_version()} · {os.cpu_count()} CPUs · {dt.date.today()}"
        print(f"roster import benchmark · {machine}")
        print(f"  rows in the file              {count:>10,}")
        print(f"  import (upload→finished)      {elapsed:>10.1f} s   {args.rows / elapsed:>9,.0f} rows/s")
        print(f"  validation + import (task)    {in_task:>10.1f} s   {args.rows / in_task:>9,.0f} rows/s")
        print(
            f"  floor: openpyxl raw read      {read_floor:>10.1f} s   {args.rows / read_floor:>9,.0f} rows/s"
        )
        insert_rate = args.rows / insert_floor
        print(f"  floor: bare bulk_create       {insert_floor:>10.1f} s   {insert_rate:>9,.0f} rows/s")
        print(f"  floor: read + insert          {floor:>10.1f} s")
        print(f"  ratio import / floor          {elapsed / floor:>10.2f} ×")
        print(
            f"  status {job.status}: imported {job.imported_residents:,} residents, "
            f"{job.imported_households:,} households, {job.rejected_rows} rejected rows; "
            f"encryption round trip {'ok' if decrypted_ok else 'BAD'}"
        )
        ok = (
            job.status == ImportStatus.SUCCEEDED
            and job.imported_residents == args.rows == imported
            and decrypted_ok
            and elapsed < LIMIT_SECONDS
        )
        if not ok:
            print(f"FAILED: the import must bring in all {args.rows:,} rows in under {LIMIT_SECONDS:.0f} s")
            for entry in job.errors[:10]:
                print("  ", entry)
        return 0 if ok else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop(database_url)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
