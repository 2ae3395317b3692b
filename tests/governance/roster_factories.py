"""Helpers for the roster-import tests: sheets built in memory, valid fake ID numbers, eager Celery."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from config.celery import app
from governance import pii
from governance.services.roster import TEMPLATE_HEADERS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fake_id(birth: str, order: int) -> str:
    """A valid ID number of 谷城县 (420625) born on `birth` (YYYYMMDD); an odd `order` is a man."""
    first17 = f"420625{birth}{order:03d}"
    return first17 + pii.id_number_check_char(first17)


def bad_checksum(id_number: str) -> str:
    last = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + last


def xlsx_bytes(
    rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None, title: str | None = None
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    if title:
        sheet.append([title])
    sheet.append(list(headers if headers is not None else TEMPLATE_HEADERS))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(
    rows: Sequence[Sequence[Any]], name: str = "新华村花名册.xlsx", **kwargs: Any
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows, **kwargs), content_type=XLSX)


def row(
    number: str,
    name: str,
    id_number: str,
    relation: str = "户主",
    *,
    grid: str = "420625100201001",
    gender: str = "",
    birth: str = "",
    phone: str = "",
    address: str = "",
    tags: str = "",
) -> list[str]:
    """A row in the template's column order."""
    return [number, grid, name, gender, birth, id_number, phone, relation, address, tags]


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run tasks in-process, as the demo does without REDIS_URL (the suite itself has Redis)."""
    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
