"""Helpers for the export tests: go through the export pages as a person would (the list's export link,
the export page, “开始导出”), and read the files back with openpyxl."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import ExportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_rows(content: bytes) -> list[list[Any]]:
    """The first sheet's rows as values, empty cells as ""."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.active
    assert sheet is not None
    return [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]


def response_rows(response) -> list[list[Any]]:
    """The rows of a downloaded file (a FileResponse)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX
    return xlsx_rows(b"".join(response.streaming_content))


def job_file_rows(job: ExportJob) -> list[list[Any]]:
    """The rows of a job's stored file, read straight from storage."""
    with job.file.open("rb") as handle:
        return xlsx_rows(handle.read())


def hidden_inputs(page: str) -> dict[str, str]:
    """The hidden fields of the export page's form (“开始导出”)."""
    found = re.search(r'<form [^>]*data-testid="export-form">(.*?)</form>', page, re.S)
    assert found, "the export page has no form"
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(1))
    }


def export_via_pages(client: Client, link: str, params: dict[str, str], capture) -> ExportJob:
    """Follow a list's export `link` (with `params`) to the export page, press “开始导出” and return the
    job. `capture` is pytest-django's django_capture_on_commit_callbacks: a small export is made right
    after the commit, so its job comes back done."""
    followed = client.get(link, params)
    assert followed.status_code == 302, followed.status_code
    export_page = client.get(followed["Location"])
    assert export_page.status_code == 200
    form = hidden_inputs(export_page.content.decode())
    assert form.get("idempotency_key")
    with capture(execute=True):
        started = client.post(followed["Location"].split("?")[0], form)
    assert started.status_code == 302, started.content.decode()[:2000]
    found = re.search(r"/exports/(\d+)/$", started["Location"])
    assert found, started["Location"]
    job_id = int(found.group(1))
    job = ExportJob.objects.get(pk=job_id)
    assert started["Location"] == reverse("governance:export_job_detail", args=[job.pk])
    return job
