"""Roster import: every row validated before anything is written; all-or-nothing or valid rows only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance import pii
from governance.models import (
    AuditAction,
    AuditEvent,
    Household,
    HouseholdTag,
    ImportJob,
    ImportMode,
    ImportStatus,
    RegionKind,
    Resident,
    ResidentTag,
    User,
)
from governance.services import regions as region_services
from governance.services import roster as roster_services
from tests.governance.roster_factories import (  # noqa: F401 (fixtures)
    bad_checksum,
    eager_celery,
    fake_id,
    media_root,
    row,
    upload,
)

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")

WANG = fake_id("19700305", 11)
LI = fake_id("19720310", 22)
XIAOJUN_BAD = bad_checksum(fake_id("19950101", 31))
ZHANG = fake_id("19650102", 41)
LIU = fake_id("19660203", 52)
ZHAO = fake_id("19800101", 61)
SUN = fake_id("19810101", 71)
ZHOU = fake_id("19820101", 81)
DUP = fake_id("19830101", 91)
EXISTING = fake_id("19600101", 13)
FENG = fake_id("19840101", 15)
CHEN = fake_id("20100101", 17)
CHU = fake_id("19500101", 19)
WEI = fake_id("19720301", 24)

RELATION_HINT = "可填：户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、儿媳/女婿、其他。"


def bad_sheet() -> list[list[str]]:
    return [
        row("H001", "王大明", WANG, phone="13912345678", address="新华村一组1号", tags="党员,低保户"),  # 2
        row("H001", "李秀兰", LI, "妻子", gender="女"),  # 3
        row("H001", "王小军", XIAOJUN_BAD, "子女"),  # 4: bad checksum
        row("H002", "张建国", ZHANG, birth="1965-01-01"),  # 5: birth date does not match the ID
        row("H002", "刘芳", LIU, "配偶"),  # 6: its head is bad
        row("H003", "赵四", ZHAO, gender="女"),  # 7: gender does not match the ID
        row("H004", "孙五", SUN, phone="1234567"),  # 8: bad phone
        row("H005", "周六", ZHOU, grid="不存在网格"),  # 9: unknown grid
        row("H006", "吴七", DUP),  # 10: same ID as row 11
        row("H007", "吴八", DUP),  # 11
        row("H008", "郑九", EXISTING),  # 12: already in the database
        row("H009", "冯十", FENG, "邻居"),  # 13: unknown relation, so no head
        row("H010", "陈一", CHEN, "子女"),  # 14: household without a head row
        row("H011", "褚二", CHU, tags="留守老人"),  # 15
        row("H011", "卫三", WEI, "配偶", birth="1972年3月"),  # 16
    ]


EXPECTED_ERRORS = [
    {
        "row": 4,
        "column": "身份证号",
        "value": pii.mask_id_number(XIAOJUN_BAD),
        "reason": "身份证号校验码不正确，请核对后重新输入。",
    },
    {
        "row": 5,
        "column": "出生日期",
        "value": "1965-01-01",
        "reason": "出生日期与身份证号不符（身份证号显示为1965-01-02）。",
    },
    {"row": 6, "column": "户号", "value": "H002", "reason": "本户户主行（第5行）有误，本户成员不能导入。"},
    {"row": 7, "column": "性别", "value": "女", "reason": "性别与身份证号不符（身份证号显示为男）。"},
    {"row": 8, "column": "联系电话", "value": "123****4567", "reason": "手机号应为11位数字，以1开头。"},
    {
        "row": 9,
        "column": "网格",
        "value": "不存在网格",
        "reason": "网格“不存在网格”不存在，请填写正确的网格名称或15位网格编码。",
    },
    {
        "row": 10,
        "column": "身份证号",
        "value": pii.mask_id_number(DUP),
        "reason": "身份证号在表中重复出现（另见第11行）。",
    },
    {
        "row": 11,
        "column": "身份证号",
        "value": pii.mask_id_number(DUP),
        "reason": "身份证号在表中重复出现（另见第10行）。",
    },
    {
        "row": 12,
        "column": "身份证号",
        "value": pii.mask_id_number(EXISTING),
        "reason": "该居民已在系统中登记（身份证号重复），不能重复导入。",
    },
    {"row": 13, "column": "户号", "value": "H009", "reason": "户号“H009”在表中没有户主行。"},
    {
        "row": 13,
        "column": "与户主关系",
        "value": "邻居",
        "reason": f"与户主关系“邻居”无法识别，{RELATION_HINT}",
    },
    {"row": 14, "column": "户号", "value": "H010", "reason": "户号“H010”在表中没有户主行。"},
]


@pytest.fixture
def secretary(demo_county) -> User:
    return User.objects.get(username="village_secretary")


@pytest.fixture
def existing_resident(secretary, django_capture_on_commit_callbacks) -> Resident:
    """郑九, imported earlier through the same service."""
    with django_capture_on_commit_callbacks(execute=True):
        roster_services.roster_import_create(
            actor=secretary,
            upload=upload([row("H100", "郑九", EXISTING)], name="earlier.xlsx"),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="earlier",
        )
    return Resident.objects.get(name="郑九")


def run_import(actor, rows, mode, django_capture_on_commit_callbacks, key="k1", **kwargs) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = roster_services.roster_import_create(
            actor=actor, upload=upload(rows, **kwargs), mode=mode, idempotency_key=key
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    return job


def test_all_or_nothing_refuses_the_sheet_and_reports_every_bad_row(
    secretary, existing_resident, django_capture_on_commit_callbacks
):
    residents_before = Resident.objects.count()
    households_before = Household.objects.count()

    job = run_import(secretary, bad_sheet(), ImportMode.ALL_OR_NOTHING, django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.REJECTED
    assert job.errors == EXPECTED_ERRORS
    assert (job.total_rows, job.processed_rows, job.valid_rows, job.rejected_rows) == (15, 15, 4, 11)
    assert (job.imported_residents, job.imported_households) == (0, 0)
    assert Resident.objects.count() == residents_before
    assert Household.objects.count() == households_before
    entry = AuditEvent.objects.get(action=AuditAction.IMPORT, object_id=str(job.pk))
    assert entry.actor_name == "刘强"
    assert entry.object_type == "governance.importjob"
    assert entry.region_path == secretary.role_assignments.get().region.path
    assert entry.changes == {
        "status": [None, "rejected"],
        "mode": [None, "all_or_nothing"],
        "total_rows": [None, 15],
        "rejected_rows": [None, 11],
        "imported_households": [None, 0],
        "imported_residents": [None, 0],
    }
    assert entry.detail == "导入花名册《新华村花名册.xlsx》：共15行，导入居民0人、新建0户，有误11行"


def test_valid_only_imports_exactly_the_valid_rows(
    secretary, demo_county, existing_resident, django_capture_on_commit_callbacks
):
    job = run_import(secretary, bad_sheet(), ImportMode.VALID_ONLY, django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.SUCCEEDED
    assert job.errors == EXPECTED_ERRORS
    assert (job.valid_rows, job.rejected_rows, job.imported_residents, job.imported_households) == (
        4,
        11,
        4,
        2,
    )
    grid = demo_county["第一网格"]
    imported = Resident.objects.exclude(pk=existing_resident.pk).order_by("pk")
    assert [(r.name, r.household.number, r.relation_to_head, r.gender, r.birth_date) for r in imported] == [
        ("王大明", "H001", "self", "M", dt.date(1970, 3, 5)),
        ("李秀兰", "H001", "spouse", "F", dt.date(1972, 3, 10)),
        ("褚二", "H011", "self", "M", dt.date(1950, 1, 1)),
        ("卫三", "H011", "spouse", "F", dt.date(1972, 3, 1)),
    ]
    wang = imported[0]
    assert pii.decrypt(wang.id_number_encrypted) == WANG
    assert wang.id_number_hash == pii.lookup_hash(WANG)
    assert wang.id_number_masked == pii.mask_id_number(WANG)
    assert pii.decrypt(wang.phone_encrypted) == "13912345678"
    assert (wang.phone_hash, wang.phone_masked) == (pii.lookup_hash("13912345678"), "139****5678")
    assert imported[1].phone_encrypted == imported[1].phone_masked == ""

    h001 = Household.objects.get(grid=grid, number="H001")
    h011 = Household.objects.get(grid=grid, number="H011")
    assert (h001.head.name, h001.address, h011.head.name) == ("王大明", "新华村一组1号", "褚二")
    assert list(HouseholdTag.objects.values_list("household__number", "tag")) == [("H001", "low_income")]
    assert sorted(ResidentTag.objects.values_list("resident__name", "tag")) == [
        ("王大明", "party_member"),
        ("褚二", "left_behind_elderly"),
    ]
    entry = AuditEvent.objects.get(action=AuditAction.IMPORT, object_id=str(job.pk))
    assert entry.changes["imported_residents"] == [None, 4]
    assert entry.changes["imported_households"] == [None, 2]
    assert entry.detail == "导入花名册《新华村花名册.xlsx》：共15行，导入居民4人、新建2户，有误11行"


def test_members_join_an_existing_household_and_a_second_head_is_refused(
    secretary, existing_resident, django_capture_on_commit_callbacks
):
    rows = [
        row("H100", "郑小九", fake_id("19900101", 33), "儿子"),
        row("H100", "郑大", fake_id("19610101", 35)),
    ]
    job = run_import(secretary, rows, ImportMode.VALID_ONLY, django_capture_on_commit_callbacks)
    assert job.errors == [
        {
            "row": 3,
            "column": "与户主关系",
            "value": "户主",
            "reason": "户号“H100”在系统中已有户主，不能再导入户主。",
        }
    ]
    assert (job.status, job.imported_residents, job.imported_households) == (ImportStatus.SUCCEEDED, 1, 0)
    household = existing_resident.household
    assert sorted(household.members.values_list("name", flat=True)) == ["郑九", "郑小九"]
    household.refresh_from_db()
    assert household.head_id == existing_resident.pk


def test_two_heads_in_one_household_are_both_refused(secretary, django_capture_on_commit_callbacks):
    rows = [
        row("H1", "甲", fake_id("19700101", 11)),
        row("H1", "乙", fake_id("19700101", 22), "户主"),
        row("H1", "丙", fake_id("20000101", 33), "子女"),
    ]
    job = run_import(secretary, rows, ImportMode.VALID_ONLY, django_capture_on_commit_callbacks)
    assert job.errors == [
        {"row": 2, "column": "与户主关系", "value": "户主", "reason": "户号“H1”有多个户主（第2、3行）。"},
        {"row": 3, "column": "与户主关系", "value": "户主", "reason": "户号“H1”有多个户主（第2、3行）。"},
        {"row": 4, "column": "户号", "value": "H1", "reason": "本户户主行（第2行）有误，本户成员不能导入。"},
    ]
    assert job.status == ImportStatus.REJECTED
    assert not Resident.objects.exists()


def test_out_of_scope_and_ambiguous_grids(demo_county, django_capture_on_commit_callbacks):
    huapu_grid = region_services.region_create(
        parent=demo_county["花圃村"], name="第一网格", kind=RegionKind.GRID, code="420625107203001"
    )
    township_admin = User.objects.get(username="township_admin")  # 城关镇: 新华村 but not 花圃村 (紫金镇)
    rows = [
        row("A1", "甲", fake_id("19700101", 11), grid="420625107203001"),
        row("A2", "乙", fake_id("19700101", 13), grid="花圃村/第一网格"),
        row("A3", "丙", fake_id("19700101", 15), grid="第一网格"),
        row("A4", "丁", fake_id("19700101", 17), grid="新华村第一网格"),
    ]
    job = run_import(township_admin, rows, ImportMode.VALID_ONLY, django_capture_on_commit_callbacks)
    assert job.errors == [
        {
            "row": 2,
            "column": "网格",
            "value": "420625107203001",
            "reason": "网格“420625107203001”不在您的管辖范围内。",
        },
        {
            "row": 3,
            "column": "网格",
            "value": "花圃村/第一网格",
            "reason": "网格“花圃村/第一网格”不在您的管辖范围内。",
        },
    ]
    # "第一网格" names two grids in the county but only one in 城关镇: it is that one.
    assert sorted(Household.objects.values_list("number", "grid__name", "grid__parent__name")) == [
        ("A3", "第一网格", "新华村"),
        ("A4", "第一网格", "新华村"),
    ]
    county_admin = User.objects.get(username="county_admin")
    job = run_import(
        county_admin,
        [row("B1", "戊", fake_id("19700101", 19), grid="第一网格")],
        ImportMode.VALID_ONLY,
        django_capture_on_commit_callbacks,
        key="k2",
    )
    assert job.errors == [
        {
            "row": 2,
            "column": "网格",
            "value": "第一网格",
            "reason": "网格名称“第一网格”对应多个网格，请填写“村名/网格名”或15位网格编码。",
        }
    ]
    assert not Household.objects.filter(grid=huapu_grid).exists()


def test_header_variants_are_mapped_and_wait_for_confirmation(secretary, django_capture_on_commit_callbacks):
    headers = [
        "序号",
        "名字",
        "公民身份号码",
        "性别",
        "出生年月",
        "手机号",
        "与户主关系",
        "户编号",
        "所属网格",
        "家庭住址",
        "人员类别",
    ]
    rows = [
        [1, "王大明", WANG, "男", "1970.03", 13912345678, "户主", 1, "第一网格", "一组", "退役军人、党员"],
        [2, "李秀兰", LI, "女", "1972-03", "", "妻", 1, "第一网格", "", ""],
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = roster_services.roster_import_create(
            actor=secretary,
            upload=upload(rows, headers=headers, title="新华村第一网格花名册（2026年）"),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="variants",
        )
    # The task read the headers, found they are not the template's, and now waits for the uploader.
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING
    assert job.header_row == 2
    assert job.headers == headers
    assert job.column_mapping == {
        "1": "name",
        "2": "id_number",
        "3": "gender",
        "4": "birth_date",
        "5": "phone",
        "6": "relation",
        "7": "household_number",
        "8": "grid",
        "9": "address",
        "10": "tags",
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        roster_services.roster_import_map(actor=secretary, job=job, mapping=job.column_mapping)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.errors, job.imported_residents) == (ImportStatus.SUCCEEDED, [], 2)
    wang = Resident.objects.get(name="王大明")
    assert (wang.household.number, pii.decrypt(wang.phone_encrypted)) == ("1", "13912345678")
    assert sorted(wang.tags.values_list("tag", flat=True)) == ["party_member", "veteran"]


def test_mapping_must_name_every_required_column_once(secretary, django_capture_on_commit_callbacks):
    headers = ["名字", "证件号", "关系", "户号", "网格"]
    with django_capture_on_commit_callbacks(execute=True):
        job = roster_services.roster_import_create(
            actor=secretary,
            upload=upload([["甲", WANG, "户主", "1", "第一网格"]], headers=headers),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="m",
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING
    assert job.column_mapping == {"0": "name", "2": "relation", "3": "household_number", "4": "grid"}
    with pytest.raises(roster_services.DomainError, match="缺少必填列：身份证号。"):
        roster_services.roster_import_map(actor=secretary, job=job, mapping=job.column_mapping)
    with pytest.raises(roster_services.DomainError, match="“姓名”同时对应了“名字”和“证件号”两列"):
        roster_services.roster_import_map(
            actor=secretary, job=job, mapping={**job.column_mapping, "1": "name"}
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING
    with django_capture_on_commit_callbacks(execute=True):
        roster_services.roster_import_map(
            actor=secretary, job=job, mapping={**job.column_mapping, "1": "id_number"}
        )
    job.refresh_from_db()
    assert (job.status, job.imported_residents) == (ImportStatus.SUCCEEDED, 1)


def test_double_submission_makes_one_job_and_one_task(secretary, django_capture_on_commit_callbacks):
    rows = [row("H1", "甲", WANG)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = roster_services.roster_import_create(
            actor=secretary, upload=upload(rows), mode=ImportMode.ALL_OR_NOTHING, idempotency_key="same"
        )
        second = roster_services.roster_import_create(
            actor=secretary, upload=upload(rows), mode=ImportMode.VALID_ONLY, idempotency_key="same"
        )
    assert first.pk == second.pk
    assert second.mode == ImportMode.ALL_OR_NOTHING
    assert ImportJob.objects.count() == 1
    assert len(callbacks) == 1
    # A task delivered twice runs the job once.
    assert roster_services.roster_import_run(job_id=first.pk).status == ImportStatus.SUCCEEDED
    assert roster_services.roster_import_run(job_id=first.pk).status == ImportStatus.SUCCEEDED
    assert Resident.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_status_moves_queued_validating_importing_succeeded(
    secretary, monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[str] = []
    real = roster_services._set_progress

    def spy(job_id, **fields):
        if "status" in fields:
            seen.append(fields["status"])
        real(job_id, **fields)
        seen.append(ImportJob.objects.get(pk=job_id).status)

    monkeypatch.setattr(roster_services, "_set_progress", spy)
    monkeypatch.setattr(roster_services, "PROGRESS_EVERY", 2)
    with django_capture_on_commit_callbacks(execute=False):
        job = roster_services.roster_import_create(
            actor=secretary,
            upload=upload([row("H1", "甲", WANG), row("H1", "乙", LI, "配偶"), row("H2", "丙", CHU)]),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="s",
        )
    assert (job.status, job.total_rows, job.headers) == (ImportStatus.QUEUED, 0, [])
    done = roster_services.roster_import_run(job_id=job.pk)
    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == ["validating", "importing"]
    assert (done.status, done.processed_rows, done.total_rows) == (ImportStatus.SUCCEEDED, 3, 3)
    assert done.started_at is not None
    assert done.finished_at is not None


def test_unreadable_and_empty_files(secretary, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(roster_services.DomainError, match="无法读取该文件"):
        roster_services.roster_import_create(
            actor=secretary,
            upload=SimpleUploadedFile("a.xlsx", b"not a workbook"),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="x",
        )
    with pytest.raises(roster_services.DomainError, match=r"仅支持 \.xlsx 文件"):
        roster_services.roster_import_create(
            actor=secretary,
            upload=SimpleUploadedFile("a.xls", b"old"),
            mode=ImportMode.ALL_OR_NOTHING,
            idempotency_key="x",
        )
    # The template as downloaded: its example row is skipped, so there is nothing to import.
    template = SimpleUploadedFile("模板.xlsx", roster_services.roster_template_workbook().getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        job = roster_services.roster_import_create(
            actor=secretary, upload=template, mode=ImportMode.ALL_OR_NOTHING, idempotency_key="t"
        )
    job.refresh_from_db()
    assert (job.status, job.failure_message) == (ImportStatus.FAILED, "表中没有数据行。")
    assert AuditEvent.objects.get(action=AuditAction.IMPORT).changes["status"] == [None, "failed"]


def test_only_personal_data_roles_may_import(demo_county):
    canteen = User.objects.get(username="canteen_manager")
    with pytest.raises(roster_services.DomainError, match="您没有导入花名册的权限。"):
        roster_services.roster_import_create(
            actor=canteen, upload=upload([]), mode=ImportMode.ALL_OR_NOTHING, idempotency_key="c"
        )


def test_smoke_two_hundred_rows(secretary, django_capture_on_commit_callbacks):
    rows = []
    for n in range(100):
        rows.append(row(f"S{n:03d}", f"户主{n}", fake_id("19700101", 2 * n + 1)))
        rows.append(row(f"S{n:03d}", f"配偶{n}", fake_id("19710101", 2 * n), "配偶"))
    job = run_import(secretary, rows, ImportMode.ALL_OR_NOTHING, django_capture_on_commit_callbacks)
    assert (job.status, job.imported_residents, job.imported_households, job.errors) == (
        ImportStatus.SUCCEEDED,
        200,
        100,
        [],
    )
    assert Household.objects.filter(head__isnull=True).count() == 0
    assert Resident.objects.filter(relation_to_head="self").count() == 100


def test_a_job_left_running_by_a_dead_worker_is_claimed_again_only_when_stale(secretary):
    job = roster_services.roster_import_create(
        actor=secretary,
        upload=upload([row("H1", "甲", WANG)]),
        mode=ImportMode.VALID_ONLY,
        idempotency_key="d",
    )
    just_now = timezone.now() - dt.timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING, started_at=just_now)
    assert roster_services.roster_import_run(job_id=job.pk).status == ImportStatus.VALIDATING
    long_ago = timezone.now() - roster_services.STALE_AFTER - dt.timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING, started_at=long_ago)
    done = roster_services.roster_import_run(job_id=job.pk)
    assert (done.status, done.imported_residents) == (ImportStatus.SUCCEEDED, 1)
