"""The error report of a sales import whose upload is gone (swept, or the media not restored with a backup):
the reasons alone, row by row, instead of a server error."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.industry.factories_imports import XLSX, eager_celery, media_root, sale  # noqa: F401 (fixtures)
from tests.industry.test_imports_pages import client_for, make, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")


def test_the_report_lists_the_reasons_when_the_upload_is_gone(world, django_capture_on_commit_callbacks):  # noqa: F811
    rows = [sale(), sale(channel="?"), sale(), sale(channel="?")]
    job = make(world, world.chengguan_admin, rows, django_capture_on_commit_callbacks)
    job.file.storage.delete(job.file.name)

    report = client_for(world.chengguan_admin).get(f"/industry/imports/{job.pk}/report.xlsx")

    assert report.status_code == 200
    assert report["Content-Type"] == XLSX
    sheet = load_workbook(BytesIO(b"".join(report.streaming_content))).active
    assert list(sheet.iter_rows(values_only=True)) == [
        ("行号", "错误原因"),
        (3, "渠道：渠道应为“线上”或“线下”。"),
        (5, "渠道：渠道应为“线上”或“线下”。"),
    ]
