"""Roster import pages and API: template download, upload form, header confirmation, status document,
report download (audited), scope."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import AuditAction, AuditEvent, ImportJob, ImportStatus, Resident, User
from governance.services import roster as roster_services
from tests.governance.roster_factories import (  # noqa: F401 (fixtures)
    XLSX,
    bad_checksum,
    eager_celery,
    fake_id,
    media_root,
    row,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")

GOOD = fake_id("19700305", 11)
BAD = bad_checksum(fake_id("19950101", 31))


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def test_template_download(demo_county):
    response = client_for("village_secretary").get(reverse("governance:roster_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["花名册", "填写说明"]
    roster = list(workbook["花名册"].iter_rows(values_only=True))
    assert roster[0] == (
        "户号",
        "网格",
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "联系电话",
        "与户主关系",
        "住址",
        "标签",
    )
    example_id = "42062519800102001" + roster_services.pii.id_number_check_char("42062519800102001")
    assert roster[1] == (
        "示例",
        "新华村/第一网格",
        "张三",
        "男",
        "1980-01-02",
        example_id,
        "13800138000",
        "户主",
        "城关镇新华村一组8号",
        "退役军人,党员",
    )
    notes = list(workbook["填写说明"].iter_rows(values_only=True))
    assert notes[0] == ("列名", "是否必填", "填写说明", "也可识别的列名")
    assert notes[6] == (
        "身份证号",
        "必填",
        "18位居民身份证号，末位可为X。请把本列设为“文本”格式。",
        "身份证号码、公民身份号码、身份证、居民身份证号码、证件号码",
    )
    assert notes[12][0].startswith("1. 每位居民填一行")
    # The example row is valid as written (its household number 示例 makes the importer skip it).
    assert roster_services.pii.id_number_parse(example_id).gender == "M"


def test_upload_page_runs_the_import_and_shows_the_report(demo_county, django_capture_on_commit_callbacks):
    client = client_for("village_secretary")
    page = client.get(reverse("governance:roster_import_new"))
    assert page.status_code == 200
    key = page.context["form"]["idempotency_key"].value()
    sheet = xlsx_bytes([row("H1", "王大明", GOOD), row("H1", "王小军", BAD, "子女")])
    data = {"mode": "all_or_nothing", "idempotency_key": key}

    def named() -> io.BytesIO:
        buffer = io.BytesIO(sheet)
        buffer.name = "新华村花名册.xlsx"
        return buffer

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("governance:roster_import_new"), {**data, "file": named()})
    assert len(callbacks) == 1
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:roster_import_detail", args=[job.pk])
    # The same form posted again (a double click) lands on the same job.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = client.post(reverse("governance:roster_import_new"), {**data, "file": named()})
    assert callbacks == []
    assert again["Location"] == response["Location"]
    assert ImportJob.objects.count() == 1

    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert detail.context["job"].status == ImportStatus.REJECTED
    assert "共 2 行，其中 1 行有误。您选择了“全部成功才导入”，因此一行也没有导入。请修改后重新上传。" in html
    assert "身份证号校验码不正确，请核对后重新输入。" in html
    assert "data-status-url" not in html  # finished on the first view: nothing to poll

    status = client.get(reverse("v1:governance:roster_import_detail", args=[job.pk])).json()
    assert {k: status[k] for k in ("status", "is_finished", "percent", "total_rows", "rejected_rows")} == {
        "status": "rejected",
        "is_finished": True,
        "percent": 100,
        "total_rows": 2,
        "rejected_rows": 1,
    }
    assert status["report_url"] == reverse("governance:roster_import_report", args=[job.pk])

    report = client.get(status["report_url"])
    assert report.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(b"".join(report.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows == [
        ("行号", "列", "填写内容", "原因"),
        (3, "身份证号", f"4206**********{BAD[-4:]}", "身份证号校验码不正确，请核对后重新输入。"),
    ]
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (export.object_type, export.object_id, export.detail) == (
        "governance.importjob",
        str(job.pk),
        "下载花名册导入报告《新华村花名册.xlsx》",
    )


def test_upload_errors_are_shown_next_to_the_field(demo_county):
    client = client_for("village_secretary")
    url = reverse("governance:roster_import_new")
    response = client.post(url, {"mode": "valid_only", "idempotency_key": "k"})
    assert response.context["form"].errors == {"file": ["请选择要上传的花名册文件。"]}
    junk = io.BytesIO(b"junk")
    junk.name = "roster.xls"
    response = client.post(url, {"mode": "valid_only", "idempotency_key": "k", "file": junk})
    assert response.context["form"].errors == {
        "file": ["仅支持 .xlsx 文件；.xls 等旧格式请先在 Excel 中“另存为” .xlsx 再上传。"]
    }
    assert response.context["form"]["mode"].value() == "valid_only"
    assert ImportJob.objects.count() == 0


def test_header_confirmation_page(demo_county, django_capture_on_commit_callbacks):
    client = client_for("village_secretary")
    headers = ["名字", "公民身份号码", "关系", "户编号", "网格名称", "备注"]
    sheet = xlsx_bytes([["王大明", GOOD, "户主", "7", "第一网格", "无"]], headers=headers)
    sheet_file = io.BytesIO(sheet)
    sheet_file.name = "variants.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("governance:roster_import_new"),
            {"mode": "valid_only", "idempotency_key": "v", "file": sheet_file},
        )
    job = ImportJob.objects.get()
    mapping_url = reverse("governance:roster_import_mapping", args=[job.pk])
    assert response["Location"] == reverse("governance:roster_import_detail", args=[job.pk])
    # The task found headers other than the template's: the job's page sends the uploader to confirm them.
    assert client.get(response["Location"])["Location"] == mapping_url
    status = client.get(reverse("v1:governance:roster_import_detail", args=[job.pk])).json()
    assert (status["status"], status["mapping_url"]) == ("mapping", mapping_url)
    page = client.get(mapping_url)
    form = page.context["form"]
    assert [form[f"col_{i}"].value() for i in range(6)] == [
        "name",
        "id_number",
        "relation",
        "household_number",
        "grid",
        "",
    ]
    assert [c["samples"] for c in page.context["columns"]] == [
        ["王大明"],
        [GOOD],
        ["户主"],
        ["7"],
        ["第一网格"],
        ["无"],
    ]
    bad = client.post(
        mapping_url,
        {"col_0": "name", "col_1": "", "col_2": "relation", "col_3": "household_number", "col_4": "grid"},
    )
    assert bad.context["form"].non_field_errors() == ["缺少必填列：身份证号。请为这些内容选择对应的列。"]
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(
            mapping_url,
            {
                "col_0": "name",
                "col_1": "id_number",
                "col_2": "relation",
                "col_3": "household_number",
                "col_4": "grid",
            },
        )
    assert good["Location"] == reverse("governance:roster_import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.imported_residents) == (ImportStatus.SUCCEEDED, 1)
    assert Resident.objects.get().household.number == "7"


def test_api_upload_status_and_scope(demo_county, django_capture_on_commit_callbacks):
    client = client_for("village_secretary")
    sheet = io.BytesIO(xlsx_bytes([row("H1", "王大明", GOOD)]))
    sheet.name = "api.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("v1:governance:roster_import_list"),
            {"file": sheet, "mode": "valid_only", "idempotency_key": "api-1"},
        )
    assert created.status_code == 201
    # Under the test transaction the task runs when the capture closes, after the response was made.
    assert created.json()["status"] == "queued"
    body = client.get(reverse("v1:governance:roster_import_detail", args=[created.json()["id"]])).json()
    assert (body["status"], body["imported_residents"], body["percent"], body["report_url"]) == (
        "succeeded",
        1,
        100,
        "",
    )
    listed = client.get(reverse("v1:governance:roster_import_list")).json()
    assert [j["id"] for j in listed["results"]] == [body["id"]]
    detail = reverse("v1:governance:roster_import_detail", args=[body["id"]])
    # The township admin above sees it; the canteen manager (石花镇) neither sees nor may import.
    assert client_for("township_admin").get(detail).status_code == 200
    canteen = client_for("canteen_manager")
    assert canteen.get(detail).status_code == 404
    assert canteen.get(reverse("v1:governance:roster_import_list")).json()["results"] == []
    assert canteen.get(reverse("governance:roster_import_detail", args=[body["id"]])).status_code == 404
    assert canteen.get(reverse("governance:roster_import_new")).status_code == 403
    again = io.BytesIO(xlsx_bytes([row("H1", "王大明", GOOD)]))
    again.name = "api.xlsx"
    refused = canteen.post(
        reverse("v1:governance:roster_import_list"),
        {"file": again, "mode": "valid_only", "idempotency_key": "c"},
    )
    assert refused.status_code == 403
    assert refused.json() == {"code": "roster_import_forbidden", "detail": "您没有导入花名册的权限。"}


def test_api_mapping(demo_county, django_capture_on_commit_callbacks):
    client = client_for("village_secretary")
    sheet = io.BytesIO(
        xlsx_bytes(
            [["王大明", GOOD, "户主", "7", "第一网格"]], headers=["名字", "身份证", "关系", "户号", "网格"]
        )
    )
    sheet.name = "m.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("v1:governance:roster_import_list"),
            {"file": sheet, "mode": "valid_only", "idempotency_key": "api-m"},
        ).json()
    body = client.get(reverse("v1:governance:roster_import_detail", args=[created["id"]])).json()
    assert (body["status"], body["column_mapping"]) == (
        "mapping",
        {"0": "name", "1": "id_number", "2": "relation", "3": "household_number", "4": "grid"},
    )
    url = reverse("v1:governance:roster_import_mapping", args=[body["id"]])
    refused = client.post(url, {"mapping": {"0": "name"}}, content_type="application/json")
    assert refused.status_code == 400
    assert (
        refused.json()["detail"] == "缺少必填列：户号、网格、身份证号、与户主关系。请为这些内容选择对应的列。"
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"mapping": body["column_mapping"]}, content_type="application/json")
    assert (done.status_code, done.json()["status"]) == (200, "queued")
    job = ImportJob.objects.get(pk=body["id"])
    assert (job.status, job.imported_residents) == (ImportStatus.SUCCEEDED, 1)


def test_status_document_while_running(demo_county, settings):
    """What the polling page reads mid-run: validation fills the first half of the bar, writing the second."""
    from django.core.cache import cache

    from governance.selectors.roster import import_job_progress

    secretary = User.objects.get(username="village_secretary")
    job = roster_services.roster_import_create(
        actor=secretary, upload=upload([row("H1", "甲", GOOD)]), mode="valid_only", idempotency_key="p"
    )
    assert import_job_progress(job).percent == 0
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.VALIDATING, total_rows=1000, processed_rows=400
    )
    job.refresh_from_db()
    assert import_job_progress(job).percent == 20
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING, valid_rows=800)
    job.refresh_from_db()
    cache.set(roster_services.progress_cache_key(job.pk), 200)
    assert (import_job_progress(job).percent, import_job_progress(job).written_rows) == (62, 200)
    cache.delete(roster_services.progress_cache_key(job.pk))
