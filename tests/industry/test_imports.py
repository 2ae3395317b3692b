"""Sales import from Excel: a good sheet imports exactly; a sheet with any bad row is refused whole with
every bad cell reported (row, column, value, the shared rules' message) and nothing written; replayed
keys, redelivered tasks, stale jobs and retries never write twice; scope decides which events a sheet
may name and which jobs a user sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import timezone
from openpyxl import load_workbook

from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent, User
from industry.models import (
    Business,
    BusinessKind,
    Exhibitor,
    SalesImportJob,
    SalesImportStatus,
    SalesRecord,
    SalesSource,
)
from industry.selectors import imports as selectors
from industry.services import imports as services
from tests.industry.factories import CG_TOTAL, SH_TOTAL, industry_world
from tests.industry.factories_imports import (  # noqa: F401 (fixtures)
    CG,
    SH,
    SHIHUA_MUSHROOM,
    SHIHUA_MUSHROOM_CODE,
    SHIHUA_NOODLE,
    XINHUA_FOOD,
    XINHUA_TEA,
    XINHUA_TEA_CODE,
    days_ago,
    eager_celery,
    key,
    media_root,
    sale,
    upload,
)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")

AMOUNT_FORMAT = "销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。"


@pytest.fixture
def world(demo_county):
    return industry_world(demo_county)


@pytest.fixture(params=["calamine", "openpyxl"])
def reader(request, monkeypatch):
    """Both readers of the sheet give the same rows: python-calamine when installed, openpyxl else."""
    if request.param == "calamine":
        pytest.importorskip("python_calamine")
    else:
        monkeypatch.setattr(services, "CalamineWorkbook", None)
    return request.param


def run(actor, rows, capture, *, idempotency_key=None, event=None, **sheet) -> SalesImportJob:
    with capture(execute=True) as callbacks:
        job = services.sales_import_create(
            actor=actor, idempotency_key=idempotency_key or key(), upload=upload(rows, **sheet), event=event
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    return job


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_a_good_sheet_imports_exactly_with_lenient_headers(world, reader, django_capture_on_commit_callbacks):
    admin = world.county_admin
    headers = [" 展会节会 ", "参展主体名称", "统一社会信用代码", "产品编码（必填）", "渠道", "销售平台"]
    headers += ["销售日期", "数量", "销售额(元)", "备注"]
    sh_start = world.shihua_event.starts_on
    rows = [
        sale(CG, XINHUA_TEA, "GC-TEA-0001", "线下", "", days_ago(1).isoformat(), 2, "1,200.50"),
        sale(
            CG, "", "GC-TEA-0002", "线上", "抖音", days_ago(1), 3, 88.5, credit_code=XINHUA_TEA_CODE.lower()
        ),
        sale(CG, XINHUA_FOOD, "GC-PRO-0001", "现场", "", _cn(days_ago(2)), "", 300),
        sale(SH, SHIHUA_MUSHROOM, "GC-FUN-0001", "网上", "淘宝", f"{sh_start:%Y/%-m/%-d}", "10.5", "¥2,000"),
        [None] * 10,
        sale(
            SH,
            SHIHUA_NOODLE,
            "GC-PRO-0001",
            "offline",
            "",
            f"{sh_start + dt.timedelta(days=1):%Y%m%d}",
            1,
            "66.66",
        ),
        sale(
            "紫金镇开茶节",
            "示例主体",
            "ZJ-CHA-001",
            "线上",
            "抖音",
            "2022-03-05",
            120,
            "1",
            note="示例行，导入时自动跳过",
        ),
    ]
    job = run(admin, rows, django_capture_on_commit_callbacks, headers=headers, title="2022年展会销售汇总")

    assert (job.status, job.total_rows, job.processed_rows) == (SalesImportStatus.DONE, 5, 5)
    assert (job.imported_rows, job.rejected_rows, job.amount_fen, job.errors) == (5, 0, 365_566, [])
    assert job.region_path == world.regions["谷城县"].path
    imported = SalesRecord.objects.filter(import_job=job).order_by("pk")
    assert [
        (
            r.event_id,
            r.exhibitor.booth,
            r.product.code,
            r.channel,
            r.platform,
            r.sold_on,
            r.quantity,
            r.amount_fen,
        )
        for r in imported
    ] == [
        (
            world.chengguan_event.pk,
            "A01",
            "GC-TEA-0001",
            "offline",
            "",
            days_ago(1),
            Decimal("2.00"),
            120_050,
        ),
        (
            world.chengguan_event.pk,
            "A01",
            "GC-TEA-0002",
            "online",
            "抖音",
            days_ago(1),
            Decimal("3.00"),
            8_850,
        ),
        (world.chengguan_event.pk, "A02", "GC-PRO-0001", "offline", "", days_ago(2), Decimal("0.00"), 30_000),
        (world.shihua_event.pk, "B01", "GC-FUN-0001", "online", "淘宝", sh_start, Decimal("10.50"), 200_000),
        (
            world.shihua_event.pk,
            "B02",
            "GC-PRO-0001",
            "offline",
            "",
            sh_start + dt.timedelta(days=1),
            Decimal("1.00"),
            6_666,
        ),
    ]
    assert {(r.source, r.idempotency_key, r.recorded_by_id, r.reverses_id, r.reason) for r in imported} == {
        (SalesSource.IMPORT, None, admin.pk, None, "")
    }

    def total(event) -> int:
        return SalesRecord.objects.filter(event=event).aggregate(s=Sum("amount_fen"))["s"]

    assert total(world.chengguan_event) == CG_TOTAL + 158_900
    assert total(world.shihua_event) == SH_TOTAL + 206_666
    audits = AuditEvent.objects.filter(object_type="industry.salesimportjob", object_id=str(job.pk))
    assert [(a.action, a.actor_id, a.region_path) for a in audits] == [
        (AuditAction.IMPORT, admin.pk, world.regions["谷城县"].path)
    ]
    assert audits[0].changes["imported_rows"] == [None, 5]
    assert audits[0].changes["amount_fen"] == [None, 365_566]
    assert cache.get(services.progress_cache_key(job.pk)) is None


@pytest.fixture
def twin_farms(world):
    """Two exhibitors of the 城关 expo named 新华家庭农场 (one per village), for the ambiguous-name rule."""
    other = Business.objects.create(
        name="新华家庭农场", kind=BusinessKind.FAMILY_FARM, region=world.regions["民营社区"]
    )
    Exhibitor.objects.create(
        event=world.chengguan_event, business=world.businesses["新华家庭农场"], booth="C01"
    )
    Exhibitor.objects.create(event=world.chengguan_event, business=other, booth="C02")


def test_a_sheet_with_bad_rows_is_refused_whole_and_every_bad_cell_is_reported(
    world, twin_farms, reader, django_capture_on_commit_callbacks
):
    admin = world.chengguan_admin  # runs the 城关 expo only; 石花镇香菇节 is outside its scope
    before = SalesRecord.objects.count()
    cg = world.chengguan_event
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    rows = [
        sale(),  # 2: good
        sale(amount=""),  # 3
        sale(amount="12.345"),  # 4
        sale(amount="10000000.01"),  # 5
        sale(quantity="-1"),  # 6
        sale(channel="批发"),  # 7
        sale(channel="线上", platform=""),  # 8
        sale(sold_on="2022-13-01"),  # 9
        sale(sold_on=tomorrow.isoformat()),  # 10
        sale(sold_on=days_ago(10).isoformat()),  # 11
        sale(event="不存在的展会"),  # 12
        sale(event=SH, business=SHIHUA_MUSHROOM, product="GC-FUN-0001"),  # 13
        sale(business="民营社区股份经济合作社"),  # 14
        sale(business="新华家庭农场"),  # 15
        sale(business=""),  # 16
        sale(business="", credit_code="91420625MA4ZZ9999Z"),  # 17
        sale(business="", credit_code=SHIHUA_MUSHROOM_CODE),  # 18
        sale(business=XINHUA_FOOD, credit_code=XINHUA_TEA_CODE),  # 19
        sale(product="NO-SUCH"),  # 20
        sale(product=""),  # 21
        sale(business="", credit_code=XINHUA_TEA_CODE, product="GC-TEA-0002"),  # 22: good
        sale(product="X1", amount="abc"),  # 23: two bad cells
    ]
    job = run(admin, rows, django_capture_on_commit_callbacks)

    assert SalesRecord.objects.count() == before
    assert not SalesRecord.objects.filter(import_job=job).exists()
    assert (job.status, job.total_rows, job.rejected_rows, job.imported_rows, job.amount_fen) == (
        SalesImportStatus.REJECTED,
        22,
        20,
        0,
        0,
    )
    period = f"（{_cn(cg.starts_on)} 至 {_cn(cg.ends_on)}）"
    assert job.errors == [
        {"row": 3, "column": "销售额（元）", "value": "", "reason": "请填写销售额。"},
        {"row": 4, "column": "销售额（元）", "value": "12.345", "reason": AMOUNT_FORMAT},
        {
            "row": 5,
            "column": "销售额（元）",
            "value": "10000000.01",
            "reason": "单条销售额不能超过 1000 万元，请核对。",
        },
        {"row": 6, "column": "数量", "value": "-1", "reason": "数量应为不小于 0 的数字，最多两位小数。"},
        {"row": 7, "column": "渠道", "value": "批发", "reason": "渠道应为“线上”或“线下”。"},
        {"row": 8, "column": "销售平台", "value": "", "reason": "线上销售请填写销售平台，例如抖音、淘宝。"},
        {
            "row": 9,
            "column": "销售日期",
            "value": "2022-13-01",
            "reason": "日期格式不对，例如 2022-03-05 或 2022年3月5日。",
        },
        {"row": 10, "column": "销售日期", "value": tomorrow.isoformat(), "reason": "销售日期不能晚于今天。"},
        {
            "row": 11,
            "column": "销售日期",
            "value": days_ago(10).isoformat(),
            "reason": f"销售日期应在展会节会举办期间{period}。",
        },
        {
            "row": 12,
            "column": "展会节会",
            "value": "不存在的展会",
            "reason": "未找到展会节会“不存在的展会”，或者它不在您的管辖范围内。",
        },
        {
            "row": 13,
            "column": "展会节会",
            "value": SH,
            "reason": f"未找到展会节会“{SH}”，或者它不在您的管辖范围内。",
        },
        {
            "row": 14,
            "column": "参展主体",
            "value": "民营社区股份经济合作社",
            "reason": f"“民营社区股份经济合作社”不是《{CG}》的参展主体。",
        },
        {
            "row": 15,
            "column": "参展主体",
            "value": "新华家庭农场",
            "reason": f"《{CG}》有多个名为“新华家庭农场”的参展主体："
            "新华家庭农场（新华村）、新华家庭农场（民营社区）。请填写统一社会信用代码加以区分。",
        },
        {"row": 16, "column": "参展主体", "value": "", "reason": "请填写参展主体名称或统一社会信用代码。"},
        {
            "row": 17,
            "column": "统一社会信用代码",
            "value": "91420625MA4ZZ9999Z",
            "reason": "统一社会信用代码“91420625MA4ZZ9999Z”没有对应的经营主体。",
        },
        {
            "row": 18,
            "column": "统一社会信用代码",
            "value": SHIHUA_MUSHROOM_CODE,
            "reason": f"“{SHIHUA_MUSHROOM}”不是《{CG}》的参展主体。",
        },
        {
            "row": 19,
            "column": "参展主体",
            "value": XINHUA_FOOD,
            "reason": f"统一社会信用代码对应的参展主体是“{XINHUA_TEA}”，与填写的“{XINHUA_FOOD}”不一致。",
        },
        {
            "row": 20,
            "column": "产品编码",
            "value": "NO-SUCH",
            "reason": "产品编码“NO-SUCH”不在农产品目录中。",
        },
        {"row": 21, "column": "产品编码", "value": "", "reason": "请填写产品编码。"},
        {"row": 23, "column": "产品编码", "value": "X1", "reason": "产品编码“X1”不在农产品目录中。"},
        {"row": 23, "column": "销售额（元）", "value": "abc", "reason": AMOUNT_FORMAT},
    ]
    audit = AuditEvent.objects.get(object_type="industry.salesimportjob", object_id=str(job.pk))
    assert audit.changes["status"] == [None, SalesImportStatus.REJECTED]
    assert audit.changes["rejected_rows"] == [None, 20]

    # The downloadable report: the sheet's bad rows as uploaded, 行号 first and 错误原因 last.
    headers, report = services.sales_report_rows(job)
    assert headers == ["行号", *services.TEMPLATE_HEADERS, "错误原因"]
    report_rows = list(report)
    assert [r[0] for r in report_rows] == [*range(3, 22), 23]
    assert report_rows[-1] == [
        23,
        CG,
        XINHUA_TEA,
        "",
        "X1",
        "线下",
        "",
        days_ago(1).isoformat(),
        "2",
        "abc",
        "",
        f"产品编码：产品编码“X1”不在农产品目录中。；销售额（元）：{AMOUNT_FORMAT}",
    ]


def test_missing_columns_reject_the_sheet_at_its_header_row(world, django_capture_on_commit_callbacks):
    headers = ["参展主体", "渠道", "销售日期", "数量"]
    job = run(
        world.county_admin,
        [[XINHUA_TEA, "线下", days_ago(1).isoformat(), 1]],
        django_capture_on_commit_callbacks,
        headers=headers,
    )
    assert (job.status, job.total_rows, job.rejected_rows) == (SalesImportStatus.REJECTED, 0, 1)
    assert job.errors == [
        {
            "row": 1,
            "column": "展会节会",
            "value": "",
            "reason": "缺少“展会节会”列：请在表中加上这一列，或在上传时选择展会节会。",
        },
        {"row": 1, "column": "产品编码", "value": "", "reason": "缺少“产品编码”列。"},
        {"row": 1, "column": "销售额（元）", "value": "", "reason": "缺少“销售额（元）”列。"},
    ]
    assert SalesRecord.objects.filter(import_job=job).count() == 0


def test_a_job_for_one_event_takes_rows_without_the_event_and_refuses_rows_naming_another(
    world, django_capture_on_commit_callbacks
):
    admin = world.county_admin
    headers = [h for h in services.TEMPLATE_HEADERS if h != "展会节会"]
    good = run(
        admin,
        [sale()[1:], sale(amount="20")[1:]],
        django_capture_on_commit_callbacks,
        event=world.chengguan_event,
        headers=headers,
    )
    assert (good.status, good.imported_rows, good.amount_fen, good.event_id) == (
        SalesImportStatus.DONE,
        2,
        12_050,
        world.chengguan_event.pk,
    )
    assert good.region_path == world.regions["城关镇"].path

    bad = run(
        admin, [sale(), sale(event=SH)], django_capture_on_commit_callbacks, event=world.chengguan_event
    )
    assert bad.status == SalesImportStatus.REJECTED
    assert bad.errors == [
        {
            "row": 3,
            "column": "展会节会",
            "value": SH,
            "reason": f"本次导入限定为《{CG}》，本行填写的是“{SH}”。",
        }
    ]


def test_same_named_events_are_told_apart_by_the_sale_date(world, django_capture_on_commit_callbacks):
    from industry.models import Event

    last_year = world.chengguan_event
    earlier = Event.objects.create(
        kind=last_year.kind,
        name=CG,
        region=last_year.region,
        starts_on=days_ago(400),
        ends_on=days_ago(398),
    )
    Exhibitor.objects.create(event=earlier, business=world.businesses[XINHUA_TEA], booth="A01")
    job = run(
        world.county_admin,
        [sale(sold_on=days_ago(399).isoformat()), sale(), sale(sold_on=days_ago(100).isoformat())],
        django_capture_on_commit_callbacks,
    )
    assert job.errors == [
        {
            "row": 4,
            "column": "展会节会",
            "value": CG,
            "reason": f"名为“{CG}”的展会节会有多个（{_cn(days_ago(400))}、{_cn(last_year.starts_on)}），"
            "请核对销售日期，使其落在其中一个的举办期间。",
        }
    ]
    fixed = run(
        world.county_admin,
        [sale(sold_on=days_ago(399).isoformat()), sale()],
        django_capture_on_commit_callbacks,
    )
    assert fixed.status == SalesImportStatus.DONE
    assert list(
        SalesRecord.objects.filter(import_job=fixed).values_list("event_id", flat=True).order_by("pk")
    ) == [
        earlier.pk,
        last_year.pk,
    ]


def test_a_replayed_key_returns_the_same_job_and_another_users_key_conflicts(
    world, django_capture_on_commit_callbacks
):
    admin = world.chengguan_admin
    first = run(admin, [sale()], django_capture_on_commit_callbacks, idempotency_key="same-key")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.sales_import_create(
            actor=admin, idempotency_key="same-key", upload=upload([sale(), sale()])
        )
    assert callbacks == []
    assert again.pk == first.pk
    assert SalesImportJob.objects.count() == 1
    assert SalesRecord.objects.filter(import_job=first).count() == 1
    with pytest.raises(Conflict) as raised:
        services.sales_import_create(
            actor=world.county_admin, idempotency_key="same-key", upload=upload([sale()])
        )
    assert raised.value.code == "idempotency_key_reused"


def test_a_redelivered_task_never_writes_twice(world, django_capture_on_commit_callbacks):
    from industry.tasks import sales_import

    job = run(world.chengguan_admin, [sale(), sale(amount="5")], django_capture_on_commit_callbacks)
    assert (job.status, job.imported_rows) == (SalesImportStatus.DONE, 2)
    assert sales_import.delay(job.pk).get() == {"job": job.pk, "status": "done", "imported_rows": 2}
    services.sales_import_run(job_id=job.pk)
    assert SalesRecord.objects.filter(import_job=job).count() == 2
    assert (
        AuditEvent.objects.filter(object_type="industry.salesimportjob", object_id=str(job.pk)).count() == 1
    )


def test_a_running_job_is_left_alone_and_a_stale_one_is_claimed_again_once(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.sales_import_create(
            actor=world.chengguan_admin, idempotency_key=key(), upload=upload([sale(), sale(amount="1")])
        )
    started = timezone.now() - dt.timedelta(minutes=1)
    SalesImportJob.objects.filter(pk=job.pk).update(status=SalesImportStatus.VALIDATING, started_at=started)
    assert services.sales_import_run(job_id=job.pk).status == SalesImportStatus.VALIDATING
    assert not services.job_can_retry(SalesImportJob.objects.get(pk=job.pk))
    assert SalesRecord.objects.filter(import_job=job).count() == 0

    # A worker died mid-write long ago: its transaction rolled back, so the job holds no records.
    dead = timezone.now() - services.STALE_AFTER - dt.timedelta(minutes=1)
    SalesImportJob.objects.filter(pk=job.pk).update(status=SalesImportStatus.WRITING, started_at=dead)
    assert services.job_can_retry(SalesImportJob.objects.get(pk=job.pk))
    done = services.sales_import_run(job_id=job.pk)
    assert (done.status, done.imported_rows, done.amount_fen) == (SalesImportStatus.DONE, 2, 10_150)
    assert services.sales_import_run(job_id=job.pk).imported_rows == 2
    assert SalesRecord.objects.filter(import_job=job).count() == 2


def test_a_run_that_lost_its_claim_writes_nothing(world, django_capture_on_commit_callbacks):
    """Two runs of one job (the first taken for dead): the one whose claim is no longer the job's wins."""
    with django_capture_on_commit_callbacks(execute=False):
        job = services.sales_import_create(
            actor=world.chengguan_admin, idempotency_key=key(), upload=upload([sale()])
        )
    mine = timezone.now() - dt.timedelta(minutes=20)
    theirs = timezone.now()
    SalesImportJob.objects.filter(pk=job.pk).update(status=SalesImportStatus.WRITING, started_at=theirs)
    good = [
        (
            world.chengguan_event.pk,
            world.exhibitors["A01"].pk,
            world.products["GC-TEA-0001"].pk,
            "offline",
            "",
            days_ago(1),
            Decimal(1),
            100,
        )
    ]
    with pytest.raises(services._Superseded):
        services._write(job, mine, good)
    assert SalesRecord.objects.filter(import_job=job).count() == 0


def test_a_failed_job_can_be_retried_and_then_imports(world, django_capture_on_commit_callbacks, monkeypatch):
    real_read = services._read

    def broken(job, actor):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_read", broken)
    job = run(world.chengguan_admin, [sale()], django_capture_on_commit_callbacks)
    assert (job.status, job.failure_message) == (
        SalesImportStatus.FAILED,
        "导入过程中发生意外错误，没有写入任何数据。请稍后重试或联系管理员。",
    )
    assert services.job_can_retry(job)
    monkeypatch.setattr(services, "_read", real_read)
    with pytest.raises(DomainError) as raised:
        services.sales_import_retry(actor=world.shihua_admin, job=job)
    assert (raised.value.code, raised.value.status) == ("sales_import_not_yours", 403)
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_import_retry(actor=world.chengguan_admin, job=job)
    job.refresh_from_db()
    assert (job.status, job.imported_rows, job.failure_message) == (SalesImportStatus.DONE, 1, "")
    actions = AuditEvent.objects.filter(object_type="industry.salesimportjob", object_id=str(job.pk))
    assert sorted(actions.values_list("action", flat=True)) == sorted(
        [AuditAction.IMPORT, AuditAction.UPDATE, AuditAction.IMPORT]
    )
    # A finished job is not queued again.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.sales_import_retry(actor=world.chengguan_admin, job=job)
    assert callbacks == []


def test_uploads_that_are_not_xlsx_are_refused_at_once(world, monkeypatch):
    admin = world.chengguan_admin

    def code(upload_file) -> str:
        with pytest.raises(DomainError) as raised:
            services.sales_import_create(actor=admin, idempotency_key=key(), upload=upload_file)
        assert raised.value.field == "file"
        return raised.value.code

    assert code(SimpleUploadedFile("sales.xls", b"\xd0\xcf\x11\xe0")) == "sales_file_type"
    assert code(SimpleUploadedFile("sales.xlsx", b"not a zip at all")) == "sales_file_unreadable"
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 100)
    assert code(upload([sale()])) == "sales_file_too_large"
    assert SalesImportJob.objects.count() == 0


def test_scope_decides_who_may_upload_for_which_event_and_who_sees_a_job(
    world, django_capture_on_commit_callbacks
):
    secretary = User.objects.get(username="village_secretary")
    with pytest.raises(DomainError) as raised:
        services.sales_import_create(actor=secretary, idempotency_key=key(), upload=upload([sale()]))
    assert (raised.value.code, raised.value.status) == ("sales_import_forbidden", 403)
    with pytest.raises(NotFound):
        services.sales_import_create(
            actor=world.chengguan_admin,
            idempotency_key=key(),
            upload=upload([sale()]),
            event=world.shihua_event,
        )

    shihua_job = run(
        world.shihua_admin,
        [sale(SH, SHIHUA_MUSHROOM, "GC-FUN-0001", sold_on=world.shihua_event.starts_on.isoformat())],
        django_capture_on_commit_callbacks,
    )
    assert (shihua_job.status, shihua_job.region_path) == (
        SalesImportStatus.DONE,
        world.regions["石花镇"].path,
    )
    with pytest.raises(NotFound):
        selectors.sales_import_job_get(actor=world.chengguan_admin, job_id=shihua_job.pk)
    assert selectors.sales_import_job_get(actor=world.county_admin, job_id=shihua_job.pk) == shihua_job
    assert list(selectors.sales_import_jobs_visible(world.chengguan_admin)) == []
    # The organiser granted the 石花 festival sees its imports and may upload for it (no region role).
    organiser = world.organiser
    assert list(selectors.sales_import_jobs_visible(organiser)) == []
    organiser_job = run(
        organiser,
        [sale("", SHIHUA_NOODLE, "GC-PRO-0001", sold_on=world.shihua_event.starts_on.isoformat())],
        django_capture_on_commit_callbacks,
        event=world.shihua_event,
    )
    assert organiser_job.status == SalesImportStatus.DONE
    with pytest.raises(DomainError) as raised:
        services.sales_import_create(actor=organiser, idempotency_key=key(), upload=upload([sale()]))
    assert raised.value.code == "event_required"
    assert set(selectors.sales_import_jobs_visible(organiser)) == {organiser_job}


def test_progress_moves_through_validation_then_writing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.sales_import_create(
            actor=world.chengguan_admin, idempotency_key=key(), upload=upload([sale()])
        )
    assert selectors.sales_import_progress(job) == selectors.ImportProgress(
        "queued", "queued", 0, 0, 0, False
    )
    SalesImportJob.objects.filter(pk=job.pk).update(
        status=SalesImportStatus.VALIDATING, processed_rows=5_000, total_rows=200_000
    )
    job.refresh_from_db()
    cache.set(
        services.progress_cache_key(job.pk), {"phase": "validating", "processed": 50_000, "total": 200_000}
    )
    assert selectors.sales_import_progress(job) == selectors.ImportProgress(
        "validating", "validating", 20, 50_000, 200_000, False
    )
    SalesImportJob.objects.filter(pk=job.pk).update(status=SalesImportStatus.WRITING, total_rows=200_000)
    job.refresh_from_db()
    cache.set(
        services.progress_cache_key(job.pk), {"phase": "writing", "processed": 100_000, "total": 200_000}
    )
    assert selectors.sales_import_progress(job).percent == 90
    cache.delete(services.progress_cache_key(job.pk))


def test_the_template_has_the_headers_an_example_row_and_a_sheet_explaining_each_column(
    world, django_capture_on_commit_callbacks
):
    workbook = load_workbook(services.sales_template_workbook())
    sheet, notes = workbook["销售记录"], workbook["填写说明"]
    assert [c.value for c in sheet[1]] == [
        "展会节会",
        "参展主体",
        "统一社会信用代码",
        "产品编码",
        "渠道",
        "销售平台",
        "销售日期",
        "数量",
        "销售额（元）",
        "备注",
    ]
    assert sheet.max_row == 2 or all(c.value is None for row in sheet.iter_rows(min_row=3) for c in row)
    assert [c.value for c in sheet[2]][9] == "示例行，导入时自动跳过"
    explained = {row[0].value: row[2].value for row in notes.iter_rows(min_row=2, max_row=11)}
    assert set(explained) == set(services.TEMPLATE_HEADERS)
    assert explained["渠道"] == "线上或线下（也可填：网上、现场）。"
    # Uploading the template as it is imports nothing: its one row is the example.
    data = services.sales_template_workbook().getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.sales_import_create(
            actor=world.county_admin,
            idempotency_key=key(),
            upload=SimpleUploadedFile("模板.xlsx", data),
        )
    job.refresh_from_db()
    assert (job.status, job.failure_message) == (SalesImportStatus.FAILED, "表中没有数据行。")


def test_report_of_a_sheet_with_a_title_row_keeps_the_sheet_row_numbers(
    reader, world, django_capture_on_commit_callbacks
):
    job = run(
        world.county_admin,
        [sale(), sale(channel="?")],
        django_capture_on_commit_callbacks,
        title="城关镇销售表",
    )
    assert job.errors == [{"row": 4, "column": "渠道", "value": "?", "reason": "渠道应为“线上”或“线下”。"}]
    _headers, rows = services.sales_report_rows(job)
    assert [r[0] for r in rows] == [4]


def test_a_sheet_placed_away_from_a1_keeps_its_row_numbers_and_columns(
    reader, world, django_capture_on_commit_callbacks
):
    """Blank rows above and a blank column A (as people leave them) move neither row numbers nor columns."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for offset, values in enumerate([services.TEMPLATE_HEADERS, sale(), sale(channel="?")]):
        for column, value in enumerate(values, start=2):
            sheet.cell(row=3 + offset, column=column, value=value)
    data = BytesIO()
    workbook.save(data)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.sales_import_create(
            actor=world.county_admin,
            idempotency_key=key(),
            upload=SimpleUploadedFile("偏移.xlsx", data.getvalue()),
        )
    job.refresh_from_db()
    assert job.errors == [{"row": 5, "column": "渠道", "value": "?", "reason": "渠道应为“线上”或“线下”。"}]
    headers, rows = services.sales_report_rows(job)
    assert headers == ["行号", "A", *services.TEMPLATE_HEADERS, "错误原因"]
    assert [r[:3] for r in rows] == [[5, "", CG]]


def test_remembered_checks_tell_a_true_cell_from_a_one(world, django_capture_on_commit_callbacks):
    job = run(
        world.county_admin,
        [sale(quantity=1), sale(quantity=True), sale(quantity=1), sale(channel="线上", platform="抖音")],
        django_capture_on_commit_callbacks,
    )
    assert job.errors == [
        {"row": 3, "column": "数量", "value": "True", "reason": "数量应为不小于 0 的数字，最多两位小数。"}
    ]
