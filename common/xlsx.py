"""Reading uploaded .xlsx sheets, shared by every import (the roster, the sales): a cheap check that an
upload is an .xlsx at all, opening it read-only, a cell's value as text, and a header as compared."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from common.errors import DomainError

UNREADABLE = gettext_lazy("无法读取该文件：请上传 Excel 2007 及以上版本保存的 .xlsx 文件。")
# Spaces (the full-width one too), required-marks, colons, bracketed notes: "身份证号（必填）" is 身份证号.
_HEADER_NOISE = re.compile(r"[\s\u3000*＊:：]|[（(【\[].*?[）)】\]]")


def header_normalise(text: Any) -> str:
    """A header as compared: no spaces, no required-marks, no bracketed notes ("身份证号（必填）")."""
    return _HEADER_NOISE.sub("", "" if text is None else str(text))


def cell_text(value: Any) -> str:
    """A cell's value as typed: whole floats without ".0", dates as ISO dates, text stripped; "" for empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def workbook_open(source: IO[bytes], *, code: str = "file_unreadable") -> Any:
    """The workbook, read-only with cached values; DomainError `code` (next to the file field) otherwise."""
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except Exception:
        raise DomainError(code, UNREADABLE, field="file") from None


def xlsx_check(upload: UploadedFile, *, code: str = "file_unreadable") -> None:
    """A cheap look at the upload (an .xlsx is a zip holding xl/workbook.xml); the task reads the rest."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            readable = "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        readable = False
    upload.seek(0)
    if not readable:
        raise DomainError(code, UNREADABLE, field="file")
