"""Excel (.xlsx) output with openpyxl: every list export goes through here.

Rows are streamed into a write-only workbook, so an export of any size stays flat in memory (openpyxl
spools the sheet to a temporary file). List exports are made by a Celery task into a stored file
(governance.services.exports) and served with `xlsx_file_response`; small generated files (templates,
reports) go out directly with `xlsx_response`. Callers write the audit entry for exports of personal
data (governance.audit.audit_record).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="B8141B")


def _cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # Excel has no time zones: write the local (Asia/Shanghai) wall-clock time.
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, dt.date | int | float | Decimal | str):
        return value
    return str(value)


def workbook_write(
    *,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> tempfile.SpooledTemporaryFile[bytes]:
    """Write one sheet (bold red header row, frozen) and return the file positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths or [max(10, len(h) * 2 + 4) for h in headers], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header_cells = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_cell_value(v) for v in row])
    # Returned open to the caller (FileResponse closes it): no context manager here.
    output: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_response(
    *,
    filename: str,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> FileResponse:
    """An attachment download; `filename` may be Chinese (RFC 5987 encoding)."""
    output = workbook_write(sheet_title=sheet_title, headers=headers, rows=rows, widths=widths)
    return xlsx_file_response(output, filename=filename)


def xlsx_file_response(file: IO[bytes], *, filename: str) -> FileResponse:
    """An already written .xlsx (open for reading) as an attachment named `filename` (may be Chinese:
    RFC 5987 encoding); the response closes the file once sent."""
    response = FileResponse(file, content_type=XLSX_CONTENT_TYPE, as_attachment=True, filename=filename)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    # Personal data: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response
