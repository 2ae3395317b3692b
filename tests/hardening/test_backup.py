"""manage.py backup / restore on the suite's PostgreSQL: the manifest, a round trip into a fresh database,
and the refusals (damaged backup, non-empty database without --yes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from governance.demo import seed_demo_county
from governance.management.commands.backup import DUMP, MANIFEST, MEDIA, sha256_file
from governance.models import Household, Region
from tests.conftest import ROOT, database_url, merged_env

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_connection():
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    )
    conn.autocommit = True
    return conn


@pytest.fixture
def backup_dir(tmp_path: Path, settings) -> Path:
    seed_demo_county(password="xiangzhi-demo")
    media = tmp_path / "media"
    (media / "grids" / "photos").mkdir(parents=True)
    (media / "grids" / "photos" / "a.jpg").write_bytes(b"\xff\xd8photo")
    settings.MEDIA_ROOT = str(media)
    target = tmp_path / "backup"
    call_command("backup", "--to", str(target))
    return target


def test_backup_writes_dump_media_and_manifest(backup_dir: Path) -> None:
    manifest = json.loads((backup_dir / MANIFEST).read_text("utf-8"))
    assert manifest["format"] == "xiangzhi-backup/1"
    assert manifest["database"]["name"] == connection.settings_dict["NAME"]
    assert manifest["media"] == {"included": True, "files": 1}
    assert sorted(manifest["files"]) == [DUMP, MEDIA]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_file(backup_dir / name)
        assert entry["bytes"] == (backup_dir / name).stat().st_size
    assert manifest["row_counts"]["governance_region"] == Region.objects.count()
    assert manifest["row_counts"]["governance_household"] == Household.objects.count()
    assert not backup_dir.with_name("backup.partial").exists()


def test_backup_refuses_an_existing_directory(backup_dir: Path) -> None:
    with pytest.raises(CommandError, match="备份目录已存在"):
        call_command("backup", "--to", str(backup_dir))


def test_restore_refuses_a_damaged_backup(backup_dir: Path) -> None:
    with (backup_dir / MEDIA).open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(CommandError, match="校验和与清单不符"):
        call_command("restore", str(backup_dir), "--yes")


def test_restore_refuses_a_non_empty_database_without_yes(backup_dir: Path) -> None:
    with pytest.raises(CommandError, match=r"不是空的.*--yes"):
        call_command("restore", str(backup_dir))
    assert Region.objects.count() > 0  # untouched


def test_restore_round_trip_into_a_fresh_database(backup_dir: Path, tmp_path: Path) -> None:
    regions = Region.objects.count()
    target = f"{connection.settings_dict['NAME']}_restored"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    db = settings.DATABASES["default"]
    url = database_url(target)
    media = tmp_path / "restored-media"
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "restore", str(backup_dir)],
            cwd=ROOT,
            env=merged_env({"DATABASE_URL": url, "MEDIA_ROOT": str(media)}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert f"数据库 {target} 不存在，已新建" in result.stdout
        assert "恢复完成" in result.stdout
        assert (media / "grids" / "photos" / "a.jpg").read_bytes() == b"\xff\xd8photo"
        restored = psycopg2.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=target
        )
        with restored, restored.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM governance_region")
            assert cursor.fetchone()[0] == regions
        restored.close()
        again = subprocess.run(
            [sys.executable, "manage.py", "restore", str(backup_dir), "--yes", "--no-media"],
            cwd=ROOT,
            env=merged_env({"DATABASE_URL": url, "MEDIA_ROOT": str(media)}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        assert "文件 0 个" in again.stdout
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.close()
