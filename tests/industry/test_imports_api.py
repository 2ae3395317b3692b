"""The sales-import API: POST multipart with an Idempotency-Key (a replay answers the same job), the list,
one job with its first 100 errors, every error paged, and the retry; another town's job answers 404."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from industry.models import SalesImportJob, SalesImportStatus, SalesRecord
from industry.services import imports as services
from tests.industry.factories import industry_world
from tests.industry.factories_imports import (  # noqa: F401 (fixtures)
    SHIHUA_MUSHROOM,
    eager_celery,
    key,
    media_root,
    sale,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")
URL = "/api/v1/industry/sales-imports/"


@pytest.fixture
def world(demo_county):
    return industry_world(demo_county)


def client_for(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(client, rows, key_value, django_capture_on_commit_callbacks, **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            URL,
            {"file": SimpleUploadedFile("城关销售.xlsx", xlsx_bytes(rows)), **data},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key_value,
        )


def test_upload_replay_list_and_detail(world, django_capture_on_commit_callbacks):
    client = client_for(world.chengguan_admin)
    first = post(client, [sale(), sale(amount="20")], "api-key-1", django_capture_on_commit_callbacks)
    assert first.status_code == 201, first.content
    body = first.json()
    job = SalesImportJob.objects.get()
    assert body["id"] == job.pk
    # Eager Celery ran the import on commit, after the answer was built: the detail shows the outcome.
    detail = client.get(f"{URL}{job.pk}/").json()
    assert {k: detail[k] for k in ("status", "is_finished", "percent", "imported_rows", "amount_fen")} == {
        "status": "done",
        "is_finished": True,
        "percent": 100,
        "imported_rows": 2,
        "amount_fen": 12_050,
    }
    assert (detail["amount_yuan"], detail["errors"], detail["error_count"], detail["report_url"]) == (
        "120.50",
        [],
        0,
        "",
    )
    assert detail["page_url"] == f"/industry/imports/{job.pk}/"

    again = post(client, [sale()], "api-key-1", django_capture_on_commit_callbacks)
    assert again.status_code == 201
    assert again.json()["id"] == job.pk
    assert SalesImportJob.objects.count() == 1
    assert SalesRecord.objects.filter(import_job=job).count() == 2

    listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [job.pk]
    assert "errors" not in listed["results"][0]


def test_errors_are_paged_and_the_detail_carries_the_first_hundred(world, django_capture_on_commit_callbacks):
    client = client_for(world.chengguan_admin)
    rows = [sale(channel="?") for _ in range(120)]
    response = post(client, rows, key(), django_capture_on_commit_callbacks)
    job_id = response.json()["id"]
    detail = client.get(f"{URL}{job_id}/").json()
    assert (detail["status"], detail["rejected_rows"], detail["error_count"]) == ("rejected", 120, 120)
    assert len(detail["errors"]) == 100
    assert detail["errors"][0] == {
        "row": 2,
        "column": "渠道",
        "value": "?",
        "reason": "渠道应为“线上”或“线下”。",
    }
    assert detail["report_url"] == f"/industry/imports/{job_id}/report.xlsx"
    page = client.get(f"{URL}{job_id}/errors/", {"page": 3}).json()
    assert page["count"] == 120
    assert [e["row"] for e in page["results"]] == list(range(102, 122))
    assert page["next"] is None
    # The list counts the entries in the database instead of loading them.
    (listed,) = client.get(URL).json()["results"]
    assert (listed["error_count"], listed["report_url"]) == (120, f"/industry/imports/{job_id}/report.xlsx")


def test_an_event_outside_scope_and_another_towns_job_answer_404(world, django_capture_on_commit_callbacks):
    chengguan = client_for(world.chengguan_admin)
    refused = post(
        chengguan, [sale()], key(), django_capture_on_commit_callbacks, event=world.shihua_event.pk
    )
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"

    shihua = client_for(world.shihua_admin)
    row = sale("", SHIHUA_MUSHROOM, "GC-FUN-0001", sold_on=world.shihua_event.starts_on.isoformat())
    made = post(shihua, [row], key(), django_capture_on_commit_callbacks, event=world.shihua_event.pk)
    assert made.status_code == 201
    job_id = made.json()["id"]
    assert SalesImportJob.objects.get(pk=job_id).status == SalesImportStatus.DONE
    missing = chengguan.get(f"{URL}999999/")
    for path in (f"{URL}{job_id}/", f"{URL}{job_id}/errors/"):
        response = chengguan.get(path)
        assert (response.status_code, response.json()) == (404, missing.json())
    retry, retry_missing = chengguan.post(f"{URL}{job_id}/retry/"), chengguan.post(f"{URL}999999/retry/")
    assert (retry.status_code, retry.json()) == (404, retry_missing.json())
    assert chengguan.get(URL).json()["results"] == []


def test_missing_key_and_bad_file_are_field_errors(world, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.chengguan_admin)
    no_key = client.post(
        URL, {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([sale()]))}, format="multipart"
    )
    assert no_key.status_code == 400
    assert no_key.json()["code"] == "idempotency_key_missing"
    bad = client.post(
        URL,
        {"file": SimpleUploadedFile("a.csv", b"a,b"), "idempotency_key": key()},
        format="multipart",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "sales_file_type")
    nobody = client_for(world.organiser)
    refused = post(nobody, [sale()], key(), django_capture_on_commit_callbacks)
    assert (refused.status_code, refused.json()["code"]) == (400, "event_required")


def test_retry_queues_a_failed_job_again(world, django_capture_on_commit_callbacks, monkeypatch):
    client = client_for(world.chengguan_admin)
    real_read = services._read
    monkeypatch.setattr(services, "_read", lambda job, actor: (_ for _ in ()).throw(RuntimeError("boom")))
    job_id = post(client, [sale()], key(), django_capture_on_commit_callbacks).json()["id"]
    assert client.get(f"{URL}{job_id}/").json()["can_retry"] is True
    monkeypatch.setattr(services, "_read", real_read)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{job_id}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    detail = client.get(f"{URL}{job_id}/").json()
    assert (detail["status"], detail["imported_rows"], detail["can_retry"]) == ("done", 1, False)
