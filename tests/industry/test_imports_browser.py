"""Sales import in a browser: on a phone the township admin uploads a sheet with bad rows and reads the
error table; on a desktop the county admin watches a job's progress bar move as the page polls, then the
page shows the outcome by itself; the list of imports. Screenshots at 390×844 and 1366×900."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.celery import app
from industry.models import SalesImportJob, SalesImportStatus
from industry.services import imports as services
from tests.browser_fixtures import login
from tests.industry.factories import industry_world
from tests.industry.factories_imports import CG, key, sale, upload, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(demo_county, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return industry_world(demo_county)


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_upload_on_a_phone_shows_every_bad_row(world, eager, phone, screenshot, tmp_path):
    sheet = tmp_path / "城关镇展会销售.xlsx"
    rows = [sale(), sale(amount="12.345"), sale(channel="批发"), sale(product="NO-SUCH")]
    rows += [sale(business="不存在的合作社"), sale(sold_on="2022-13-01"), sale(amount="88")]
    sheet.write_bytes(xlsx_bytes(rows))

    login(phone, "township_admin")
    phone.goto("/industry/imports/new/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-upload")
    phone.get_by_label("销售记录文件（.xlsx）").set_input_files(str(sheet))
    phone.get_by_label("展会节会").select_option(str(world.chengguan_event.pk))
    phone.get_by_test_id("import-submit").click()
    phone.wait_for_url("**/industry/imports/*/")
    job = SalesImportJob.objects.get()
    assert job.status == SalesImportStatus.REJECTED
    assert phone.get_by_test_id("import-outcome").inner_text() == (
        "共 7 行，其中 5 行有误，整张表没有导入。请按下表改正后重新上传。"
    )
    assert phone.get_by_test_id("error-row").count() == 5
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-rejected")


def test_the_progress_bar_follows_the_job_and_the_page_shows_the_outcome(world, desktop, phone, screenshot):
    admin = world.county_admin
    # Queued through the suite's Redis with no worker listening: the test plays the worker.
    job = services.sales_import_create(
        actor=admin,
        idempotency_key=key(),
        upload=upload([sale(), sale(amount="2000", channel="线上", platform="抖音")], name="城关镇销售.xlsx"),
        event=world.chengguan_event,
    )
    try:
        login(desktop, "county_admin")
        desktop.goto(f"/industry/imports/{job.pk}/")
        assert desktop.get_by_test_id("job-status").inner_text() == "排队中"
        desktop.wait_for_function(
            "document.querySelector('[data-progress-text]').textContent.includes('排队')"
        )
        screenshot(desktop, "desktop-queued")

        SalesImportJob.objects.filter(pk=job.pk).update(
            status=SalesImportStatus.VALIDATING,
            total_rows=200_000,
            processed_rows=90_000,
            started_at=timezone.now(),
        )
        cache.set(
            services.progress_cache_key(job.pk),
            {"phase": "validating", "processed": 90_000, "total": 200_000},
            600,
        )
        desktop.wait_for_function(
            "document.querySelector('[role=progressbar]').getAttribute('aria-valuenow') === '36'"
        )
        assert (
            "正在校验：已校验 90,000 / 200,000 行" in desktop.get_by_test_id("import-progress").inner_text()
        )
        screenshot(desktop, "desktop-validating")
        login(phone, "county_admin")
        phone.goto(f"/industry/imports/{job.pk}/")
        phone.wait_for_function("document.querySelector('[data-progress-percent]').textContent === '36%'")
        assert "正在校验：已校验 90,000 / 200,000 行" in phone.get_by_test_id("import-progress").inner_text()
        assert phone.get_by_test_id("import-retry").count() == 0
        screenshot(phone, "phone-validating")

        SalesImportJob.objects.filter(pk=job.pk).update(status=SalesImportStatus.QUEUED, started_at=None)
        cache.delete(services.progress_cache_key(job.pk))
        services.sales_import_run(job_id=job.pk)
        # The page notices the finished job on its next poll and reloads itself.
        desktop.get_by_test_id("import-outcome").wait_for()
        assert desktop.get_by_test_id("import-outcome").inner_text() == (
            "导入完成：共导入 2 条销售记录，销售额 ¥2,100.50。"
        )
        assert desktop.get_by_test_id("imported-rows").inner_text() == "2"
        screenshot(desktop, "desktop-done")
        phone.get_by_test_id("import-outcome").wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "phone-done")

        with_errors = services.sales_import_create(
            actor=admin, idempotency_key=key(), upload=upload([sale(channel="?"), sale(event="不存在的展会")])
        )
        services.sales_import_run(job_id=with_errors.pk)
        desktop.goto(f"/industry/imports/{with_errors.pk}/")
        screenshot(desktop, "desktop-rejected")
        desktop.goto("/industry/imports/")
        assert desktop.get_by_test_id("import-row").count() == 2
        assert CG in desktop.get_by_test_id("import-table").inner_text()
        screenshot(desktop, "desktop-list")
        phone.goto("/industry/imports/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "phone-list")
        desktop.goto("/industry/imports/new/")
        screenshot(desktop, "desktop-upload")
    finally:
        app.control.purge()
