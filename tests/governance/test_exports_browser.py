"""On a grid leader's phone: export the household list, watch the progress bar poll the job while it is
queued and then running, and download the file when it is done; then find it under “我的导出”."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone

from common import dispatch
from governance.models import ExportJob, ExportStatus
from governance.services import exports as export_services
from tests.browser_fixtures import login
from tests.governance.export_factories import xlsx_rows
from tests.governance.people_factories import people_world  # noqa: F401 (a fixture)
from tests.governance.roster_factories import media_root  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]


def test_phone_export_shows_the_progress_bar_until_the_download_link(request, monkeypatch):
    request.getfixturevalue("people_world")
    page = request.getfixturevalue("phone")
    shoot = request.getfixturevalue("screenshot")
    # Queued but not sent: the page has to poll while the test plays the worker.
    sent: list[int] = []
    monkeypatch.setattr(export_services, "SYNC_MAX_ROWS", 0)
    monkeypatch.setattr(dispatch, "_publish", lambda name, args: sent.append(args[0]))

    login(page, "grid_leader")
    page.goto("/governance/households/?member_tag=left_behind_elderly")
    page.get_by_test_id("export").click()
    page.wait_for_url(re.compile(r"/governance/exports/new/households/\?member_tag=left_behind_elderly$"))
    assert page.get_by_test_id("export-filters").inner_text() == "有成员带此标签：留守老人"
    assert page.get_by_test_id("export-rows").inner_text() == "约 1 行"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "export-page")

    page.get_by_test_id("export-start").click()
    page.wait_for_url(re.compile(r"/governance/exports/\d+/$"))
    job = ExportJob.objects.get()
    assert sent == [job.pk]
    assert page.get_by_test_id("export-progress").is_visible()
    assert page.get_by_test_id("export-status").inner_text() == "排队中"
    shoot(page, "queued")

    # A worker takes the job and is half way through: the polling page moves the bar.
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), rows_total=2, rows_done=1
    )
    page.get_by_text("正在导出：已导出 1 / 2 行").wait_for()
    assert page.get_by_test_id("export-status").inner_text() == "正在导出"
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "50"
    assert page.locator(".progress__bar").evaluate("bar => bar.style.width") == "50%"
    shoot(page, "running")

    # That worker died; the job goes back to the queue and is made for real.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED, started_at=None, rows_done=0)
    assert export_services.export_job_run(job_id=job.pk).status == ExportStatus.DONE
    link = page.get_by_test_id("export-download")
    link.wait_for()
    assert page.get_by_test_id("export-outcome").inner_text() == "导出完成，共 1 行。"
    assert page.get_by_test_id("export-status").inner_text() == "已完成"
    assert page.get_by_test_id("export-file").inner_text() == job.file_name
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert link.bounding_box()["height"] >= 44
    shoot(page, "done")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == job.file_name
    rows = xlsx_rows(Path(download.value.path()).read_bytes())
    assert [row[0] for row in rows] == ["户号", "XH-001"]

    page.get_by_text("菜单").click()
    page.get_by_test_id("my-exports").click()
    page.wait_for_url("**/governance/exports/")
    jobs = page.get_by_test_id("export-jobs").locator("li")
    assert jobs.count() == 1
    assert "有成员带此标签：留守老人" in jobs.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "my-exports")


def test_desktop_export_pages_and_the_menu_link(request):
    """County staff on a desktop: the “我的导出” link sits in the top bar beside 退出登录, and the pages
    lay out in the wide window."""
    world = request.getfixturevalue("people_world")
    page = request.getfixturevalue("desktop")
    shoot = request.getfixturevalue("screenshot")
    job = export_services.export_job_create(
        actor=world.users["county_admin"],
        kind="residents",
        filters={"age_band": "70-79", "tag": "left_behind_elderly"},
        idempotency_key="desktop",
    )
    login(page, "county_admin")
    link = page.get_by_test_id("my-exports")
    assert link.is_visible()
    bar = page.locator(".topbar").bounding_box()
    box = link.bounding_box()
    assert box["y"] + box["height"] <= bar["y"] + bar["height"]  # in the bar, not wrapped below it
    link.click()
    page.wait_for_url("**/governance/exports/")
    assert page.get_by_test_id("export-jobs").locator("li").count() == 1
    shoot(page, "my-exports")
    page.goto(f"/governance/exports/{job.pk}/")
    assert page.get_by_test_id("export-status").inner_text() == "已完成"
    assert page.get_by_test_id("export-summary").inner_text() == "筛选条件：标签：留守老人；年龄段：70–79岁"
    shoot(page, "job")
    page.goto("/governance/exports/new/residents/?age_band=70-79&full=1")
    assert page.get_by_test_id("export-masking").inner_text() == "含完整身份证号、手机号和住址"
    shoot(page, "export-page")
