"""List exports as jobs: created (validated, idempotent), run as the requester (scope decided at run time)
in Celery or, when small, in the request; progress, the file's exact cells, the audit entries, the
requester-only pages, API and downloads, and the deletion of old files."""

# ruff: noqa: F811  (fixtures are imported, then named as test arguments)

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from celery.schedules import crontab
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common import dispatch
from config.celery import app
from governance import pii, tasks
from governance.models import (
    AuditAction,
    AuditEvent,
    ExportJob,
    ExportKind,
    RoleAssignment,
)
from governance.roles import Role
from governance.services import exports as export_services
from governance.services import roles as role_services
from tests.governance.export_factories import (
    export_via_pages,
    hidden_inputs,
    job_file_rows,
    response_rows,
)
from tests.governance.people_factories import people_world  # noqa: F401 (a fixture)
from tests.governance.roster_factories import eager_celery, media_root  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

RESIDENT_HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "年龄",
    "身份证号",
    "手机号",
    "与户主关系",
    "状态",
    "标签",
    "户号",
    "乡镇",
    "村（社区）",
    "网格",
]
FIRST_GRID_ORDER = ["张德明", "李桂兰", "王建国", "王秀兰", "刘芳", "王小明"]
ALL_RESIDENTS = {*FIRST_GRID_ORDER, "赵淑珍", "孙立平"}


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Every export goes to Celery (no small ones in the request), and the tasks are kept here instead
    of being sent: the test runs them when it wants."""
    sent: list[int] = []
    monkeypatch.setattr(export_services, "SYNC_MAX_ROWS", 0)
    keep_sent(monkeypatch, sent)
    return sent


def keep_sent(monkeypatch, sent: list[int]) -> None:
    """What common.dispatch would publish to the broker is kept in `sent` (the export jobs' ids)."""
    monkeypatch.setattr(dispatch, "_publish", lambda name, args: sent.append(args[0]))


def create(world, username: str, kind: str, capture, *, key: str = "", **kwargs) -> ExportJob:
    with capture(execute=True):
        job = export_services.export_job_create(
            actor=world.users[username],
            kind=kind,
            filters=kwargs.pop("filters", {}),
            idempotency_key=key or uuid.uuid4().hex,
            **kwargs,
        )
    job.refresh_from_db()
    return job


def page(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=args)


def api(name: str, *args) -> str:
    return reverse(f"v1:governance:{name}", args=args)


def masked_row(world, name: str, age: int, relation: str, tags: str, number: str) -> list:
    resident = world.residents[name]
    return [
        name,
        resident.get_gender_display(),
        dt.datetime.combine(resident.birth_date, dt.time()),
        age,
        pii.mask_id_number(world.id_numbers[name]),
        resident.phone_masked,
        relation,
        "在籍",
        tags,
        number,
        "城关镇",
        "新华村",
        "第一网格",
    ]


def export_entries() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("pk"))


# ---------------------------------------------------------------------------------------------------------
# The lifecycle


def test_a_large_export_runs_in_celery_with_progress_every_n_rows(
    people_world, eager_celery, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(export_services, "SYNC_MAX_ROWS", 5)
    monkeypatch.setattr(export_services, "PROGRESS_EVERY", 2)
    with CaptureQueriesContext(connection) as queries:
        job = create(people_world, "county_admin", ExportKind.RESIDENTS, django_capture_on_commit_callbacks)
    updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "governance_exportjob"')
    ]
    # Claimed (running), counted, moved every 2 rows, finished: each its own UPDATE.
    assert [re.search(r"\"status\" = '(\w+)'", sql).group(1) for sql in updates if '"status"' in sql] == [
        "running",
        "done",
    ]
    progress = [
        int(m.group(1)) for sql in updates if (m := re.match(r'.*SET "rows_done" = (\d+) WHERE', sql))
    ]
    assert progress == [2, 4, 6, 8]
    assert (job.status, job.rows_done, job.rows_total, job.failure_message) == ("done", 8, 8, "")
    assert job.started_at is not None
    assert job.finished_at is not None
    assert re.fullmatch(r"居民名单-\d{8}-\d{4}\.xlsx", job.file_name)
    assert re.fullmatch(r"exports/\d{4}/\d{2}/[0-9a-f]{32}\.xlsx", job.file.name)
    rows = job_file_rows(job)
    assert rows[0] == RESIDENT_HEADERS
    assert len(rows) == 9
    assert {row[0] for row in rows[1:]} == ALL_RESIDENTS
    assert [row for row in rows if row[0] == "王建国"] == [
        masked_row(people_world, "王建国", 45, "户主", "", "XH-002")
    ]
    (entry,) = export_entries()
    assert (entry.actor_id, entry.object_type, entry.detail, entry.region_path) == (
        people_world.users["county_admin"].pk,
        "governance.resident",
        "导出居民名单8行（个人信息已遮挡）",
        people_world.regions["谷城县"].path,
    )
    assert entry.changes == {"filters": {}, "row_count": 8, "unmasked": False}


def test_a_small_export_is_made_in_the_request_and_a_large_one_is_queued(
    people_world, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[int] = []
    keep_sent(monkeypatch, sent)
    small = create(people_world, "grid_leader", ExportKind.RESIDENTS, django_capture_on_commit_callbacks)
    assert sent == []
    assert (small.status, small.rows_done) == ("done", 6)
    assert [row[0] for row in job_file_rows(small)[1:]] == FIRST_GRID_ORDER

    monkeypatch.setattr(export_services, "SYNC_MAX_ROWS", 5)
    large = create(people_world, "grid_leader", ExportKind.RESIDENTS, django_capture_on_commit_callbacks)
    assert sent == [large.pk]
    assert (large.status, large.rows_total, large.rows_done, bool(large.file)) == ("queued", 6, 0, False)
    assert len(export_entries()) == 1  # the small one's: the large one is not made yet

    assert tasks.export_run(large.pk) == {"job": large.pk, "status": "done", "rows": 6}
    # Delivered again (acks_late after a lost ack): the job is not made twice.
    assert tasks.export_run(large.pk) == {"job": large.pk, "status": "done", "rows": 6}
    assert len(export_entries()) == 2


def test_scope_is_decided_when_the_job_runs(people_world, queued, django_capture_on_commit_callbacks):
    """Asked for as 城关镇's township admin, run after the role moved to 花圃村: the file holds 花圃村."""
    admin = people_world.users["county_admin"]
    township_admin = people_world.users["township_admin"]
    job = create(people_world, "township_admin", ExportKind.HOUSEHOLDS, django_capture_on_commit_callbacks)
    assert (job.status, job.rows_total) == ("queued", 2)
    for assignment in RoleAssignment.objects.filter(user=township_admin):
        role_services.role_revoke(actor=admin, assignment=assignment)
    role_services.role_assign(
        user=township_admin, role=Role.VILLAGE_SECRETARY, region=people_world.regions["花圃村"]
    )

    job = export_services.export_job_run(job_id=job.pk)
    assert (job.status, job.rows_done, job.rows_total) == ("done", 1, 1)
    rows = job_file_rows(job)
    assert [row[0] for row in rows] == ["户号", "HP-001"]
    assert rows[1][1:4] == ["紫金镇", "花圃村", "花圃一网格"]
    (entry,) = export_entries()
    assert entry.region_path == people_world.regions["花圃村"].path
    assert job.region_path == people_world.regions["花圃村"].path


def test_household_export_filters_and_values(people_world, django_capture_on_commit_callbacks):
    job = create(
        people_world,
        "county_admin",
        ExportKind.HOUSEHOLDS,
        django_capture_on_commit_callbacks,
        filters={"region": str(people_world.regions["新华村"].pk), "sort": "-number", "page": "3"},
    )
    assert job.filters == {"region": str(people_world.regions["新华村"].pk), "sort": "-number"}
    assert job.summary == "区域：新华村"
    head = "王建国"
    assert job_file_rows(job) == [
        [
            "户号",
            "乡镇",
            "村（社区）",
            "网格",
            "户主",
            "户主身份证号",
            "户主手机号",
            "住址",
            "人口",
            "标签",
            "状态",
        ],
        [
            "XH-002",
            "城关镇",
            "新华村",
            "第一网格",
            head,
            pii.mask_id_number(people_world.id_numbers[head]),
            "137****3333",
            "谷城县城关镇新华村****",
            4,
            "",
            "在册",
        ],
        [
            "XH-001",
            "城关镇",
            "新华村",
            "第一网格",
            "张德明",
            pii.mask_id_number(people_world.id_numbers["张德明"]),
            "138****1111",
            "谷城县城关镇新华村****",
            2,
            "低保户",
            "在册",
        ],
    ]
    (entry,) = export_entries()
    assert entry.region_path == people_world.regions["新华村"].path


def test_full_export_is_in_clear_only_where_the_role_sees_personal_data(
    people_world, django_capture_on_commit_callbacks
):
    job = create(
        people_world,
        "village_secretary",
        ExportKind.RESIDENTS,
        django_capture_on_commit_callbacks,
        filters={"q": "王建国"},
        full_personal_data=True,
    )
    rows = job_file_rows(job)
    assert rows[1][4:6] == [people_world.id_numbers["王建国"], "13700003333"]
    (entry,) = export_entries()
    assert entry.detail == "导出居民名单1行（含完整身份证号、手机号、住址）"
    assert entry.changes == {"filters": {"q": "王建国"}, "row_count": 1, "unmasked": True}


def test_full_export_fails_when_the_role_is_withdrawn_before_it_runs(
    people_world, queued, django_capture_on_commit_callbacks
):
    job = create(
        people_world,
        "village_secretary",
        ExportKind.RESIDENTS,
        django_capture_on_commit_callbacks,
        full_personal_data=True,
    )
    secretary = people_world.users["village_secretary"]
    for assignment in RoleAssignment.objects.filter(user=secretary):
        role_services.role_revoke(actor=people_world.users["county_admin"], assignment=assignment)
    role_services.role_assign(user=secretary, role=Role.VIEWER, region=people_world.regions["新华村"])
    job = export_services.export_job_run(job_id=job.pk)
    assert (job.status, job.failure_message, bool(job.file)) == (
        "failed",
        "您的角色不能导出完整的个人信息。",
        False,
    )
    assert export_entries() == []


def test_an_unexpected_error_fails_the_job_with_a_chinese_message(
    people_world, queued, monkeypatch, media_root, django_capture_on_commit_callbacks
):
    job = create(people_world, "grid_leader", ExportKind.HOUSEHOLDS, django_capture_on_commit_callbacks)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_services, "workbook_write", broken)
    job = export_services.export_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert job.failure_message == "导出过程中发生意外错误，没有生成文件。请稍后重试或联系管理员。"
    assert job.finished_at is not None
    assert not list(media_root.rglob("*.xlsx"))
    assert export_entries() == []
    html = people_world.client("grid_leader").get(page("export_job_detail", job.pk)).content.decode()
    assert "导出过程中发生意外错误，没有生成文件。请稍后重试或联系管理员。" in html
    assert 'data-testid="export-download"' not in html


def test_party_member_export_runs_the_party_selector(demo_county, django_capture_on_commit_callbacks):
    from governance.models import User
    from tests.governance.party_factories import party_world_make

    world = party_world_make(demo_county)
    township_admin = User.objects.get(username="township_admin")
    with django_capture_on_commit_callbacks(execute=True):
        job = export_services.export_job_create(
            actor=township_admin,
            kind=ExportKind.PARTY_MEMBERS,
            filters={"org": str(world.tree.xinhua.pk), "sort": "name", "stage": "full"},
            idempotency_key="p1",
        )
    job.refresh_from_db()
    rows = job_file_rows(job)
    assert rows[0] == ["姓名", "性别", "所在党组织", "党员类别", "发展阶段", "申请日期", "入党日期"]
    names = [row[0] for row in rows[1:]]
    assert names == sorted(names)
    assert job.rows_done == len(names) > 0
    assert {row[4] for row in rows[1:]} == {"正式党员"}
    entry = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governance.partymember")
    assert entry.changes == {
        "filters": [None, {"org": str(world.tree.xinhua.pk), "sort": "name", "stage": "full"}],
        "rows": [None, len(names)],
    }


def test_audit_log_export_needs_a_reader_and_keeps_the_sort(people_world, django_capture_on_commit_callbacks):
    with pytest.raises(export_services.DomainError) as refused:
        create(people_world, "village_secretary", ExportKind.AUDIT_LOG, django_capture_on_commit_callbacks)
    assert (refused.value.status, refused.value.message) == (
        403,
        "只有县委组织部管理员和乡镇管理员可以导出审计日志。",
    )
    expected = AuditEvent.objects.filter(
        action=AuditAction.CREATE, region_path__startswith=people_world.regions["城关镇"].path
    ).count()
    job = create(
        people_world,
        "township_admin",
        ExportKind.AUDIT_LOG,
        django_capture_on_commit_callbacks,
        filters={"sort": "at", "action": "create"},
    )
    rows = job_file_rows(job)
    assert rows[0][:3] == ["时间", "操作人", "操作"]
    assert {row[2] for row in rows[1:]} == {"新增"}
    times = [row[0] for row in rows[1:]]
    assert times == sorted(times)
    assert len(times) == job.rows_done == expected > 0
    entry = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="governance.auditevent")
    assert entry.changes == {"rows": [None, job.rows_done], "filters": [None, "action=create"]}


# ---------------------------------------------------------------------------------------------------------
# Refusals, idempotency, requester only


@pytest.mark.parametrize(
    ("username", "kind", "filters", "full", "status", "code", "message"),
    [
        (
            "canteen_manager",
            "residents",
            {},
            True,
            403,
            "personal_data_forbidden",
            "您的角色不能导出完整的个人信息。",
        ),
        ("county_admin", "party_members", {}, True, 400, "export_full_unsupported", None),
        ("county_admin", "things", {}, False, 400, "export_kind_unknown", "未知的导出类型：things"),
        ("county_admin", "households", {"grid": "abc"}, False, 400, "export_filters_invalid", None),
        ("county_admin", "residents", {"age_band": "0-200"}, False, 400, "export_filters_invalid", None),
        ("county_admin", "party_members", {"stage": "boss"}, False, 400, "export_filters_invalid", None),
        ("county_admin", "audit_log", {"sort": "actor"}, False, 400, "export_filters_invalid", None),
    ],
)
def test_refusals_make_no_job(people_world, username, kind, filters, full, status, code, message):
    with pytest.raises(export_services.DomainError) as refused:
        export_services.export_job_create(
            actor=people_world.users[username],
            kind=kind,
            filters=filters,
            full_personal_data=full,
            idempotency_key="r1",
        )
    assert (refused.value.status, refused.value.code) == (status, code)
    if message:
        assert refused.value.message == message
    assert not ExportJob.objects.exists()


def test_invalid_filter_messages_name_the_filter(people_world):
    with pytest.raises(export_services.DomainError) as refused:
        export_services.export_job_create(
            actor=people_world.users["county_admin"],
            kind="party_members",
            filters={"stage": "boss"},
            idempotency_key="r1",
        )
    assert refused.value.message == "筛选条件有误：发展阶段，请选择有效的选项。"
    assert refused.value.field == "filters"


def test_replaying_the_idempotency_key_returns_the_first_job(
    people_world, django_capture_on_commit_callbacks
):
    first = create(people_world, "grid_leader", "households", django_capture_on_commit_callbacks, key="same")
    again = create(
        people_world,
        "grid_leader",
        "residents",
        django_capture_on_commit_callbacks,
        key="same",
        filters={"q": "王"},
    )
    assert again.pk == first.pk
    assert again.kind == "households"
    assert ExportJob.objects.count() == 1
    assert len(export_entries()) == 1
    # The key is per requester: another user's same key is another job.
    other = create(
        people_world, "village_secretary", "households", django_capture_on_commit_callbacks, key="same"
    )
    assert other.pk != first.pk
    with pytest.raises(export_services.DomainError) as missing:
        create(people_world, "grid_leader", "households", django_capture_on_commit_callbacks, key="  ")
    assert missing.value.code == "idempotency_key_missing"


def test_another_users_job_answers_404_everywhere(people_world, django_capture_on_commit_callbacks):
    job = create(
        people_world, "grid_leader", "residents", django_capture_on_commit_callbacks, full_personal_data=True
    )
    assert job.status == "done"
    for username in ("county_admin", "village_secretary"):
        client = people_world.client(username)
        for url in (
            page("export_job_detail", job.pk),
            page("export_job_download", job.pk),
            api("export_job_detail", job.pk),
            api("export_job_download", job.pk),
        ):
            assert client.get(url).status_code == 404, (username, url)
        assert client.get(api("export_job_list")).json()["results"] == []
        assert f"/governance/exports/{job.pk}/" not in client.get(page("export_job_list")).content.decode()
    assert Client().get(page("export_job_detail", job.pk)).status_code == 302
    assert Client().get(api("export_job_detail", job.pk)).status_code == 401
    assert len(export_entries()) == 1  # no download was recorded


def test_downloads_are_audited_and_need_the_gate_still(people_world, django_capture_on_commit_callbacks):
    job = create(
        people_world,
        "village_secretary",
        "residents",
        django_capture_on_commit_callbacks,
        full_personal_data=True,
    )
    client = people_world.client("village_secretary")
    first = client.get(page("export_job_download", job.pk))
    rows = response_rows(first)
    assert len(rows) == 7
    assert first["Cache-Control"] == "private, no-store"
    assert response_rows(client.get(api("export_job_download", job.pk))) == rows
    downloads = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="governance.exportjob")
    assert downloads.count() == 2
    entry = downloads.first()
    assert (entry.object_id, entry.object_repr, entry.region_path, entry.ip_address) == (
        str(job.pk),
        job.file_name,
        people_world.regions["新华村"].path,
        "127.0.0.1",
    )
    assert entry.detail == f"下载导出文件《{job.file_name}》，共 6 行（含完整身份证号、手机号、住址）"
    assert entry.changes == {"kind": "residents", "rows": 6, "unmasked": True}
    # The role that saw personal data is gone: the file with it is no longer handed out.
    secretary = people_world.users["village_secretary"]
    for assignment in RoleAssignment.objects.filter(user=secretary):
        role_services.role_revoke(actor=people_world.users["county_admin"], assignment=assignment)
    assert client.get(page("export_job_download", job.pk)).status_code == 403
    assert client.get(api("export_job_download", job.pk)).status_code == 403
    assert downloads.count() == 2


# ---------------------------------------------------------------------------------------------------------
# Old files


def test_files_are_deleted_seven_days_after_they_are_made(people_world, django_capture_on_commit_callbacks):
    old = create(people_world, "grid_leader", "households", django_capture_on_commit_callbacks)
    recent = create(people_world, "grid_leader", "residents", django_capture_on_commit_callbacks)
    now = timezone.now()
    ExportJob.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=7, minutes=1))
    ExportJob.objects.filter(pk=recent.pk).update(finished_at=now - dt.timedelta(days=6, hours=23))
    storage = old.file.storage
    old_name = old.file.name
    assert storage.exists(old_name)

    assert tasks.export_files_expire() == {"expired": 1}
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.file.name) == ("expired", "")
    assert not storage.exists(old_name)
    assert recent.status == "done"
    assert storage.exists(recent.file.name)
    assert export_services.export_files_expire() == 0

    client = people_world.client("grid_leader")
    assert client.get(page("export_job_download", old.pk)).status_code == 404
    html = client.get(page("export_job_detail", old.pk)).content.decode()
    assert "文件已超过 7 天，已自动删除。如仍需要，请重新导出。" in html
    assert client.get(api("export_job_detail", old.pk)).json()["download_url"] == ""


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection as beat does
def test_the_cleanup_is_scheduled_for_beat():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    assert app.conf.beat_schedule["governance-export-files-expire"] == {
        "task": "governance.export_files_expire",
        "schedule": crontab(minute=17),
    }
    assert "governance.export_files_expire" in app.tasks
    DatabaseScheduler(app=app)  # what `celery beat` does when it starts
    entry = PeriodicTask.objects.get(name="governance-export-files-expire")
    assert (entry.task, entry.crontab.minute, entry.crontab.hour, entry.enabled) == (
        "governance.export_files_expire",
        "17",
        "*",
        True,
    )


# ---------------------------------------------------------------------------------------------------------
# API


def test_api_create_status_and_download(people_world, django_capture_on_commit_callbacks):
    client = people_world.client("county_admin")
    body = {
        "kind": "households",
        "filters": {"region": str(people_world.regions["新华村"].pk), "tag": "low_income"},
        "idempotency_key": "api-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(api("export_job_list"), body, content_type="application/json")
    assert created.status_code == 201
    job = ExportJob.objects.get()
    data = created.json()
    assert data["id"] == job.pk
    assert {
        k: data[k] for k in ("kind", "kind_label", "status", "status_label", "is_finished", "percent")
    } == {
        "kind": "households",
        "kind_label": "户名单",
        # The test's transaction commits (and so the file is made) only after the answer; in production
        # the service commits first and a small export is already done when it answers.
        "status": "queued",
        "status_label": "排队中",
        "is_finished": False,
        "percent": 0,
    }
    assert data["summary"] == "区域：新华村；户标签：低保户"
    status = client.get(api("export_job_detail", job.pk)).json()
    assert {k: status[k] for k in ("status", "percent", "rows_done", "rows_total", "full_personal_data")} == {
        "status": "done",
        "percent": 100,
        "rows_done": 1,
        "rows_total": 1,
        "full_personal_data": False,
    }
    assert status["download_url"] == api("export_job_download", job.pk)
    assert status["page_url"] == page("export_job_detail", job.pk)
    assert status["expires_at"] is not None
    rows = response_rows(client.get(status["download_url"]))
    assert [row[0] for row in rows] == ["户号", "XH-001"]

    replay = client.post(api("export_job_list"), body, content_type="application/json")
    assert (replay.status_code, replay.json()["id"], ExportJob.objects.count()) == (201, job.pk, 1)
    listed = client.get(api("export_job_list")).json()
    assert [row["id"] for row in listed["results"]] == [job.pk]


def test_api_refusals(people_world):
    manager = people_world.client("canteen_manager")
    forbidden = manager.post(
        api("export_job_list"),
        {"kind": "residents", "full_personal_data": True, "idempotency_key": "x"},
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "personal_data_forbidden"
    invalid = manager.post(api("export_job_list"), {"kind": "things"}, content_type="application/json")
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid"
    assert set(invalid.json()["fields"]) == {"kind", "idempotency_key"}
    assert Client().post(api("export_job_list"), {}, content_type="application/json").status_code == 401
    assert not ExportJob.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_export_page_shows_what_will_be_exported(people_world):
    client = people_world.client("grid_leader")
    response = client.get(
        page("export_new", "households"), {"member_tag": "left_behind_elderly", "page": "2", "utm": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "导出户名单（Excel）" in html
    assert re.search(r"有成员带此标签：</span>\s*留守老人", html)
    assert "约 1 行" in html
    assert "身份证号、手机号、住址已遮挡" in html
    assert "文件将立即生成。" in html
    form = hidden_inputs(html)
    assert set(form) == {"csrfmiddlewaretoken", "idempotency_key", "member_tag"}
    assert form["member_tag"] == "left_behind_elderly"
    assert not ExportJob.objects.exists()  # looking never starts an export

    # A GET on the list's link and on this page writes nothing; a bad filter is refused, not ignored.
    bad = client.get(page("export_new", "households"), {"grid": "abc"}).content.decode()
    assert "筛选条件有误：网格编号，" in bad
    assert 'data-testid="export-start"' not in bad
    posted = client.post(page("export_new", "households"), {"grid": "abc", "idempotency_key": "k"})
    assert posted.status_code == 400
    assert "筛选条件有误：网格编号，" in posted.content.decode()
    assert 'data-testid="export-start"' not in posted.content.decode()
    assert not ExportJob.objects.exists()
    assert client.get(page("export_new", "nothing")).status_code == 404
    assert client.get(page("export_new", "audit_log")).status_code == 403
    assert client.get(page("export_new", "residents"), {"full": "1"}).status_code == 200
    assert (
        people_world.client("canteen_manager").get(page("export_new", "residents"), {"full": "1"}).status_code
        == 403
    )


def test_job_page_shows_the_bar_then_the_download(people_world, queued, django_capture_on_commit_callbacks):
    client = people_world.client("grid_leader")
    job = export_via_pages(
        client,
        page("people_resident_export"),
        {"tag": "left_behind_elderly"},
        django_capture_on_commit_callbacks,
    )
    assert queued == [job.pk]
    html = client.get(page("export_job_detail", job.pk)).content.decode()
    assert 'data-testid="export-progress"' in html
    assert f'data-status-url="{api("export_job_detail", job.pk)}"' in html
    assert "排队等待导出…" in html
    assert "js/exports.js" in html
    assert 'data-testid="export-download"' not in html

    export_services.export_job_run(job_id=job.pk)
    html = client.get(page("export_job_detail", job.pk)).content.decode()
    assert 'data-testid="export-progress"' not in html
    assert "导出完成，共 2 行。" in html
    assert f'href="{page("export_job_download", job.pk)}" data-testid="export-download"' in html
    assert "js/exports.js" not in html


def test_my_exports_lists_only_my_jobs(people_world, django_capture_on_commit_callbacks):
    mine = create(
        people_world,
        "grid_leader",
        "households",
        django_capture_on_commit_callbacks,
        filters={"tag": "low_income"},
    )
    theirs = create(people_world, "village_secretary", "residents", django_capture_on_commit_callbacks)
    html = people_world.client("grid_leader").get(page("export_job_list")).content.decode()
    assert f'href="/governance/exports/{mine.pk}/"' in html
    assert f'href="/governance/exports/{theirs.pk}/"' not in html
    assert "户标签：低保户" in html
    assert 'data-testid="my-exports"' in html  # the menu's way here
    empty = people_world.client("canteen_manager").get(page("export_job_list")).content.decode()
    assert "您还没有导出过名单。" in empty
