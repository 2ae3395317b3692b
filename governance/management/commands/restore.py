"""`python manage.py restore PATH [--yes] [--no-media]` (`make restore RESTORE_ARGS="PATH --yes"`): put a
backup made by `manage.py backup` back into DATABASE_URL's database and MEDIA_ROOT.

In order, stopping at the first problem with a Chinese message and a non-zero exit:
1. the manifest is read and every file's size and SHA-256 is checked against it (a damaged or incomplete
   backup is refused before anything is touched);
2. the database is created when it does not exist; when it exists and holds tables, restore refuses unless
   `--yes` says to overwrite it;
3. `pg_restore --clean --if-exists --single-transaction --exit-on-error`: the restore commits whole or not
   at all, so a failure leaves the database as it was;
4. the key tables' row counts are compared with the manifest's;
5. the media archive is unpacked beside MEDIA_ROOT and each file moved into place (files the backup does
   not know are left alone; the archive's paths cannot escape MEDIA_ROOT).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from governance.management.commands.backup import (
    DUMP,
    FORMAT,
    MANIFEST,
    MEDIA,
    database_settings,
    key_table_counts,
    libpq_env,
    run_tool,
    sha256_file,
)


def manifest_verified(directory: Path) -> dict[str, Any]:
    """The backup's manifest after checking every listed file's size and SHA-256; CommandError naming the
    first file that is missing or differs."""
    path = directory / MANIFEST
    if not path.is_file():
        raise CommandError(_("不是备份目录：找不到 %(path)s。") % {"path": path})
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except ValueError as error:
        raise CommandError(_("备份清单无法读取：%(path)s。") % {"path": path}) from error
    if manifest.get("format") != FORMAT or DUMP not in manifest.get("files", {}):
        raise CommandError(_("备份清单格式不对：%(path)s。") % {"path": path})
    for name, expected in manifest["files"].items():
        file = directory / name
        if not file.is_file():
            raise CommandError(_("备份不完整：缺少文件 %(name)s。") % {"name": name})
        if file.stat().st_size != expected["bytes"] or sha256_file(file) != expected["sha256"]:
            raise CommandError(
                _("备份文件 %(name)s 的校验和与清单不符：文件已损坏或被改动。") % {"name": name}
            )
    return manifest


def _psql(env: dict[str, str], database: str, sql: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603
            [  # noqa: S607 - the PostgreSQL client tools from PATH, like pg_dump
                "psql",
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                database,
                "-c",
                sql,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise CommandError(_("找不到 %(tool)s：请安装 PostgreSQL 客户端工具。") % {"tool": "psql"}) from error
    if result.returncode != 0:
        raise CommandError(_("无法连接数据库服务器：%(stderr)s") % {"stderr": result.stderr.strip()[-1000:]})
    return result.stdout.strip()


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class Command(BaseCommand):
    help = _(
        "从 manage.py backup 生成的备份目录恢复数据库和上传的文件：先核对校验和，"
        "数据库非空时需加 --yes 才会覆盖。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=_("备份目录（含 manifest.json）"))
        parser.add_argument("--yes", action="store_true", help=_("数据库不是空的也覆盖它"))
        parser.add_argument("--no-media", action="store_true", help=_("只恢复数据库，不恢复上传的文件"))

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        directory = Path(options["path"]).resolve()
        manifest = manifest_verified(directory)
        db = database_settings()
        name = str(db["NAME"])
        env = libpq_env(db)
        # Nothing of Django's may hold the database while pg_restore drops and recreates its tables.
        connection.close()

        # The name is quoted as a literal / an identifier: it comes from DATABASE_URL, not from a user.
        lookup = f"SELECT 1 FROM pg_database WHERE datname = {_quote_literal(name)}"  # noqa: S608
        exists = _psql(env, "postgres", lookup)
        if not exists:
            _psql(env, "postgres", f"CREATE DATABASE {_quote_ident(name)}")
            self.stdout.write(_("数据库 %(name)s 不存在，已新建。") % {"name": name})
        else:
            tables = int(
                _psql(
                    env,
                    name,
                    "SELECT COUNT(*) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                )
            )
            if tables and not options["yes"]:
                raise CommandError(
                    _("数据库 %(name)s 不是空的（%(tables)s 张表）。确认要用备份覆盖它，请加 --yes。")
                    % {"name": name, "tables": tables}
                )

        run_tool(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={name}",
                str(directory / DUMP),
            ],
            env,
            _("恢复数据库"),
        )

        expected = manifest.get("row_counts", {})
        found = key_table_counts()
        differing = {t: (n, found.get(t)) for t, n in expected.items() if found.get(t) != n}
        if differing:
            raise CommandError(
                _("恢复后的行数与备份清单不符：%(tables)s")
                % {"tables": "；".join(f"{t} {want} → {got}" for t, (want, got) in sorted(differing.items()))}
            )

        media_files = 0
        if not options["no_media"] and MEDIA in manifest["files"]:
            media_files = self._restore_media(directory / MEDIA, Path(settings.MEDIA_ROOT))

        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "恢复完成：数据库 %(name)s（%(tables)s 张关键表行数与清单一致），文件 %(files)s 个，"
                    "用时 %(seconds).1f 秒。"
                )
                % {
                    "name": name,
                    "tables": len(expected),
                    "files": media_files,
                    "seconds": time.perf_counter() - started,
                }
            )
        )

    def _restore_media(self, archive_path: Path, media_root: Path) -> int:
        """Unpack the archive beside MEDIA_ROOT, then move each file into place; returns how many."""
        media_root.mkdir(parents=True, exist_ok=True)
        count = 0
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=media_root.parent) as scratch:
            with tarfile.open(archive_path, "r:gz") as archive:
                # The "data" filter refuses absolute paths, "..", links out of the tree and device files.
                archive.extractall(scratch, filter="data")
            for path in sorted(Path(scratch).rglob("*")):
                if not path.is_file():
                    continue
                destination = media_root / path.relative_to(scratch)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)
                count += 1
        return count
