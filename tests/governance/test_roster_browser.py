"""In a desktop browser: upload a small roster with one bad row in all-or-nothing mode, watch the progress
bar poll the job, and see the report."""

from __future__ import annotations

import re

import pytest

from governance.models import ImportJob, ImportMode, ImportStatus, Resident
from governance.services import roster as roster_services
from tests.browser_fixtures import login
from tests.governance.roster_factories import (  # noqa: F401
    XLSX,
    bad_checksum,
    eager_celery,
    fake_id,
    media_root,
    row,
    xlsx_bytes,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_county", "media_root", "eager_celery"),
]


def test_all_or_nothing_upload_with_one_bad_row_shows_the_report(request, monkeypatch):
    page = request.getfixturevalue("desktop")
    shoot = request.getfixturevalue("screenshot")
    # The job is queued but not run by the request, so the page has to poll while the test runs it.
    monkeypatch.setattr(roster_services, "_enqueue", lambda job: None)
    bad_id = bad_checksum(fake_id("19950101", 31))
    sheet = xlsx_bytes(
        [
            row("H001", "王大明", fake_id("19700305", 11), address="新华村一组1号"),
            row("H001", "李秀兰", fake_id("19720310", 22), "配偶"),
            row("H001", "王小军", bad_id, "子女"),
        ]
    )
    login(page, "village_secretary")
    page.goto("/governance/roster/import/")
    page.get_by_label("花名册文件（.xlsx）").set_input_files(
        {"name": "新华村花名册.xlsx", "mimeType": XLSX, "buffer": sheet}
    )
    page.get_by_label("全部成功才导入：有任何一行有误，就一行也不导入").check()
    page.get_by_test_id("roster-submit").click()
    page.wait_for_url(re.compile(r"/governance/roster/import/\d+/$"))
    assert page.get_by_test_id("job-status").inner_text() == "排队中"
    assert page.get_by_test_id("roster-progress").is_visible()
    shoot(page, "queued")

    job = ImportJob.objects.get()
    assert job.mode == ImportMode.ALL_OR_NOTHING
    assert roster_services.roster_import_run(job_id=job.pk).status == ImportStatus.REJECTED

    outcome = page.get_by_test_id("roster-outcome")
    outcome.wait_for()
    assert outcome.inner_text() == (
        "共 3 行，其中 1 行有误。您选择了“全部成功才导入”，因此一行也没有导入。请修改后重新上传。"
    )
    assert page.get_by_test_id("job-status").inner_text() == "未导入"
    report_rows = page.get_by_test_id("roster-report").locator("tbody tr")
    assert report_rows.count() == 1
    assert report_rows.first.locator("td").all_inner_texts() == [
        "4",
        "身份证号",
        f"{bad_id[:4]}**********{bad_id[-4:]}",
        "身份证号校验码不正确，请核对后重新输入。",
    ]
    assert page.get_by_test_id("imported-residents").inner_text() == "0"
    shoot(page, "report")
    with page.expect_download() as download:
        page.get_by_test_id("report-download").click()
    assert download.value.suggested_filename == "新华村花名册-导入报告.xlsx"
    assert Resident.objects.count() == 0


def test_import_and_audit_pages_fit_a_phone(request):
    """A grid leader's 390 px phone: the upload form and the audit log need no sideways scrolling."""
    page = request.getfixturevalue("phone")
    shoot = request.getfixturevalue("screenshot")
    login(page, "grid_leader")
    page.goto("/governance/roster/import/")
    assert page.get_by_test_id("roster-submit").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "import")
    from governance.audit import audit_record
    from governance.models import AuditAction, Region, User

    village = Region.objects.get(name="新华村")
    audit_record(
        actor=User.objects.get(username="county_admin"),
        action=AuditAction.UPDATE,
        obj=village,
        region_path=village.path,
        changes={"code": ["420625100201", "420625100299"]},
        detail="修改新华村的统计用区划代码，因撤村并组后代码重新编排，原代码停用",
    )
    page.context.clear_cookies()
    login(page, "county_admin")
    page.goto("/governance/audit/")
    assert page.get_by_test_id("audit-filter").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "audit")
