"""`python manage.py backup [--to PATH] [--no-media]` (`make backup BACKUP_ARGS=...`): the database and the
uploaded media in one dated directory, with a manifest.

The directory (default backups/xiangzhi-<database>-<YYYYmmdd-HHMMSS>/, git-ignored; `--to PATH` names it)
holds:
- database.dump   `pg_dump --format=custom` of DATABASE_URL (one consistent snapshot: pg_dump reads in one
                  repeatable-read transaction, so the dump is a single point in time even under traffic);
- media.tar.gz    MEDIA_ROOT, every file below it (an empty archive when there is none);
- manifest.json   when and from where, the row counts of the key tables, each file's size and SHA-256.

The directory is written as <PATH>.partial and renamed when complete, so a PATH that exists is a whole
backup: an interrupted run leaves only a .partial directory, never something restore would trust.
The row counts come from the dump's own snapshot: a REPEATABLE READ transaction exports its snapshot,
counts the key tables in it and hands it to `pg_dump --snapshot`, so the counts are exactly the dump's rows
even under concurrent writes, and restore can compare them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar.gz"
FORMAT = "xiangzhi-backup/1"
# The tables whose row counts the manifest records (and restore compares): the spine, the ledgers, the
# cases and the dashboard facts. A model missing from this checkout is skipped.
KEY_MODELS = (
    "governance.Region",
    "governance.User",
    "governance.Household",
    "governance.Resident",
    "governance.AuditEvent",
    "governance.MetricFact",
    "grids.Case",
    "points.Account",
    "points.LedgerTransaction",
    "points.Posting",
    "points.Item",
    "points.StockMovement",
    "points.Redemption",
)


def database_settings() -> dict[str, Any]:
    """The default database's connection settings; CommandError unless it is PostgreSQL."""
    if connection.vendor != "postgresql":
        raise CommandError(_("备份与恢复需要 PostgreSQL 数据库（DATABASE_URL=postgres://...）。"))
    return dict(settings.DATABASES["default"])


def libpq_env(db: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump / pg_restore / psql: the connection as PG* variables (the password
    never on a command line, where `ps` would show it)."""
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        value = db.get(key)
        if value:
            env[name] = str(value)
    env["PGDATABASE"] = str(db["NAME"])
    return env


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def key_table_counts() -> dict[str, int]:
    """{db_table: exact row count} for KEY_MODELS present in this checkout."""
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for label in KEY_MODELS:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            table = model._meta.db_table
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - a model's own table name
            counts[table] = int(cursor.fetchone()[0])
    return counts


def run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL client tool; CommandError with its stderr when it fails or is missing."""
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as error:
        raise CommandError(
            _("找不到 %(tool)s：请安装 PostgreSQL 客户端工具。") % {"tool": argv[0]}
        ) from error
    if result.returncode != 0:
        raise CommandError(
            _("%(what)s失败（%(tool)s 退出码 %(code)s）：%(stderr)s")
            % {
                "what": what,
                "tool": argv[0],
                "code": result.returncode,
                "stderr": result.stderr.strip()[-2000:],
            }
        )


class Command(BaseCommand):
    help = _(
        "备份数据库（pg_dump 自定义格式）和上传的文件（MEDIA_ROOT）到一个带日期的目录，"
        "并写入清单（时间、数据库、关键表行数、校验和）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            dest="target",
            help=_("备份目录（默认 backups/xiangzhi-<数据库>-<日期时间>/；不能已存在）"),
        )
        parser.add_argument("--no-media", action="store_true", help=_("只备份数据库，不打包上传的文件"))

    def handle(self, *args: Any, **options: Any) -> None:
        db = database_settings()
        started = timezone.now()
        stamp = timezone.localtime(started).strftime("%Y%m%d-%H%M%S")
        target = Path(
            options["target"] or Path(settings.BASE_DIR) / "backups" / f"xiangzhi-{db['NAME']}-{stamp}"
        )
        target = target.resolve()
        if target.exists():
            raise CommandError(_("备份目录已存在：%(path)s。请换一个目录。") % {"path": target})
        partial = target.with_name(target.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        try:
            manifest = self._write(partial, db, started, with_media=not options["no_media"])
            partial.rename(target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        files = manifest["files"]
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "备份完成：%(path)s（数据库 %(db_bytes)s 字节，文件 %(media_bytes)s 字节，"
                    "用时 %(seconds).1f 秒）。"
                )
                % {
                    "path": target,
                    "db_bytes": files[DUMP]["bytes"],
                    "media_bytes": files[MEDIA]["bytes"] if MEDIA in files else 0,
                    "seconds": manifest["seconds"],
                }
            )
        )

    def _write(
        self, directory: Path, db: dict[str, Any], started: dt.datetime, *, with_media: bool
    ) -> dict[str, Any]:
        env = libpq_env(db)
        dump = directory / DUMP
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            row_counts = key_table_counts()
            # The snapshot lives as long as this transaction: pg_dump must finish inside it.
            run_tool(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                    str(db["NAME"]),
                ],
                env,
                _("导出数据库"),
            )
        media_root = Path(settings.MEDIA_ROOT)
        media_files = 0
        if with_media:
            with tarfile.open(directory / MEDIA, "w:gz") as archive:
                if media_root.is_dir():
                    for path in sorted(media_root.rglob("*")):
                        if path.is_file() and not path.is_symlink():
                            archive.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                            media_files += 1
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        files = {
            path.name: {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
            for path in sorted(directory.iterdir())
        }
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": started.isoformat(),
            "finished_at": timezone.now().isoformat(),
            "seconds": round((timezone.now() - started).total_seconds(), 3),
            "database": {
                "name": db["NAME"],
                "host": db.get("HOST") or "",
                "port": str(db.get("PORT") or ""),
                "server_version": server_version,
            },
            "media": {"included": with_media, "files": media_files},
            "row_counts": row_counts,
            "files": files,
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return manifest
