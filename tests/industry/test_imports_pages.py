"""The sales-import pages: the upload form (errors next to the field, the event preselected), the job page
with its outcome or its paginated error table, the progress document it polls, the template and report
downloads, the list with its filters, sort and Excel export, and the retry; another town's job is 404."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from industry.models import SalesImportJob, SalesImportStatus
from industry.services import imports as services
from tests.industry.factories import PASSWORD, industry_world
from tests.industry.factories_imports import (  # noqa: F401 (fixtures)
    CG,
    SHIHUA_MUSHROOM,
    XLSX,
    eager_celery,
    key,
    media_root,
    sale,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")


@pytest.fixture
def world(demo_county):
    return industry_world(demo_county)


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def make(world, actor, rows, capture, **kwargs) -> SalesImportJob:
    with capture(execute=True):
        job = services.sales_import_create(actor=actor, idempotency_key=key(), upload=upload(rows), **kwargs)
    job.refresh_from_db()
    return job


def test_upload_form_runs_the_import_and_shows_the_outcome(world, django_capture_on_commit_callbacks):
    client = client_for(world.chengguan_admin)
    page = client.get("/industry/imports/new/", {"event": world.chengguan_event.pk})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["event"].value() == str(world.chengguan_event.pk)
    # Only events the uploader runs are offered: the 城关 expo, not the 石花 festival.
    assert [value for value, _label in form.fields["event"].choices] == ["", str(world.chengguan_event.pk)]
    assert "下载导入模板" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/industry/imports/new/",
            {
                "file": SimpleUploadedFile("城关销售.xlsx", xlsx_bytes([sale(), sale(amount="20")]), XLSX),
                "event": str(world.chengguan_event.pk),
                "idempotency_key": "page-key",
            },
        )
    job = SalesImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/industry/imports/{job.pk}/"
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert detail.context["is_finished"] is True
    assert "导入完成：共导入 2 条销售记录，销售额 ¥120.50。" in html
    assert 'data-testid="import-progress"' not in html
    assert job.event_id == world.chengguan_event.pk


def test_upload_errors_show_next_to_the_field_and_keep_the_choice(world):
    client = client_for(world.chengguan_admin)
    response = client.post(
        "/industry/imports/new/",
        {
            "file": SimpleUploadedFile("销售.xls", b"old excel", "application/vnd.ms-excel"),
            "event": str(world.chengguan_event.pk),
            "idempotency_key": key(),
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {"file": ["仅支持 .xlsx 文件；.xls 等旧格式请先在 Excel 中“另存为” .xlsx 再上传。"]}
    assert form["event"].value() == str(world.chengguan_event.pk)
    assert 'data-testid="error-file"' in response.content.decode()
    # An event the uploader may not run is not a valid choice.
    refused = client.post(
        "/industry/imports/new/",
        {"file": upload([sale()]), "event": str(world.shihua_event.pk), "idempotency_key": key()},
    )
    assert refused.status_code == 400
    assert list(refused.context["form"].errors) == ["event"]
    assert SalesImportJob.objects.count() == 0


def test_people_without_events_cannot_open_the_upload_form(world):
    secretary = Client()
    assert secretary.login(username="village_secretary", password=PASSWORD)
    assert secretary.get("/industry/imports/new/").status_code == 403
    assert secretary.get("/industry/imports/").status_code == 200


def test_a_rejected_job_pages_its_errors_and_offers_the_report(world, django_capture_on_commit_callbacks):
    rows = [sale(channel="?") for _ in range(60)] + [sale()]
    job = make(world, world.chengguan_admin, rows, django_capture_on_commit_callbacks)
    client = client_for(world.chengguan_admin)
    first = client.get(f"/industry/imports/{job.pk}/")
    html = first.content.decode()
    assert "共 61 行，其中 60 行有误，整张表没有导入。" in html
    assert first.context["errors_page"].paginator.count == 60
    assert html.count('data-testid="error-row"') == 50
    second = client.get(f"/industry/imports/{job.pk}/", {"page": 2})
    assert second.content.decode().count('data-testid="error-row"') == 10

    report = client.get(f"/industry/imports/{job.pk}/report.xlsx")
    assert report.status_code == 200
    assert report["Content-Type"] == XLSX
    sheet = load_workbook(BytesIO(b"".join(report.streaming_content))).active
    rows_in_report = list(sheet.iter_rows(values_only=True))
    assert rows_in_report[0] == ("行号", *services.TEMPLATE_HEADERS, "错误原因")
    assert len(rows_in_report) == 61
    assert rows_in_report[1][0] == 2
    assert rows_in_report[1][-1] == "渠道：渠道应为“线上”或“线下”。"


def test_progress_document_template_and_another_towns_job(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.sales_import_create(
            actor=world.chengguan_admin, idempotency_key=key(), upload=upload([sale()])
        )
    client = client_for(world.chengguan_admin)
    page = client.get(f"/industry/imports/{job.pk}/")
    html = page.content.decode()
    assert f'data-progress-url="/industry/imports/{job.pk}/progress/"' in html
    assert "industry/imports.js" in html
    progress = client.get(f"/industry/imports/{job.pk}/progress/")
    assert progress["Cache-Control"] == "no-store"
    assert progress.json() == {
        "id": job.pk,
        "status": "queued",
        "status_label": "排队中",
        "phase": "queued",
        "percent": 0,
        "processed_rows": 0,
        "total_rows": 0,
        "is_finished": False,
        "page_url": f"/industry/imports/{job.pk}/",
    }
    services.sales_import_run(job_id=job.pk)
    assert client.get(f"/industry/imports/{job.pk}/progress/").json()["percent"] == 100

    template = client.get("/industry/imports/template.xlsx")
    assert template.status_code == 200
    assert "filename*=UTF-8''%E9%94%80%E5%94%AE" in template["Content-Disposition"]
    shihua = client_for(world.shihua_admin)
    for path in ("", "progress/", "report.xlsx"):
        assert shihua.get(f"/industry/imports/{job.pk}/{path}").status_code == 404
    assert shihua.post(f"/industry/imports/{job.pk}/retry/").status_code == 404


def test_list_filters_sorts_paginates_and_exports(world, django_capture_on_commit_callbacks):
    admin = world.county_admin
    done = make(
        world, admin, [sale(amount="300")], django_capture_on_commit_callbacks, event=world.chengguan_event
    )
    rejected = make(world, admin, [sale(channel="?")], django_capture_on_commit_callbacks)
    shihua_row = sale("", SHIHUA_MUSHROOM, "GC-FUN-0001", sold_on=world.shihua_event.starts_on.isoformat())
    shihua = make(world, admin, [shihua_row], django_capture_on_commit_callbacks, event=world.shihua_event)
    client = client_for(admin)
    everything = client.get("/industry/imports/")
    assert [j.pk for j in everything.context["page"].object_list] == [shihua.pk, rejected.pk, done.pk]
    assert "共 3 次导入" in everything.content.decode()
    only_rejected = client.get("/industry/imports/", {"status": "rejected"})
    assert [j.pk for j in only_rejected.context["page"].object_list] == [rejected.pk]
    by_event = client.get("/industry/imports/", {"event": world.chengguan_event.pk})
    assert [j.pk for j in by_event.context["page"].object_list] == [done.pk]
    by_amount = client.get("/industry/imports/", {"sort": "-amount_fen"})
    assert [j.pk for j in by_amount.context["page"].object_list] == [done.pk, shihua.pk, rejected.pk]
    assert [j.pk for j in client.get("/industry/imports/", {"q": CG}).context["page"].object_list] == [
        done.pk
    ]

    exported = client.get("/industry/imports/", {"status": "done", "sort": "-amount_fen", "export": "xlsx"})
    assert exported["Content-Type"] == XLSX
    sheet = load_workbook(BytesIO(b"".join(exported.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "文件",
        "展会节会",
        "上传人",
        "上传时间",
        "状态",
        "数据行",
        "导入行",
        "有误行",
        "导入销售额（元）",
    )
    assert [(r[1], r[4], r[6], r[8]) for r in rows[1:]] == [
        (CG, "已导入", 1, 300),
        ("石花镇香菇节", "已导入", 1, 100.5),
    ]

    for n in range(20):
        SalesImportJob.objects.create(
            uploaded_by=admin,
            region_path=world.regions["城关镇"].path,
            file=f"sales_imports/x{n}.xlsx",
            original_name=f"x{n}.xlsx",
            idempotency_key=f"page-{n}",
            status=SalesImportStatus.FAILED,
        )
    second = client.get("/industry/imports/", {"page": 2})
    assert len(second.context["page"].object_list) == 3
    # The township admin of 城关镇 sees the jobs of its town only (the 石花 one is the county admin's).
    township = client_for(world.chengguan_admin).get("/industry/imports/", {"page": 1})
    assert shihua.pk not in [j.pk for j in township.context["page"].object_list]
    assert township.context["page"].paginator.count == 21


def test_retry_from_the_page(world, django_capture_on_commit_callbacks, monkeypatch):
    real_read = services._read
    monkeypatch.setattr(services, "_read", lambda job, actor: (_ for _ in ()).throw(RuntimeError("boom")))
    job = make(world, world.chengguan_admin, [sale()], django_capture_on_commit_callbacks)
    client = client_for(world.chengguan_admin)
    page = client.get(f"/industry/imports/{job.pk}/").content.decode()
    assert "导入过程中发生意外错误，没有写入任何数据。请稍后重试或联系管理员。" in page
    assert 'data-testid="import-retry"' in page
    monkeypatch.setattr(services, "_read", real_read)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/industry/imports/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == (SalesImportStatus.DONE, 1)
