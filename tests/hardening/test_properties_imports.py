"""Property-based tests (issue 9, Bad input) on the Excel imports: the village roster (governance) and the
sales ledger (industry), the two parsers of uploaded .xlsx sheets (common.xlsx opens both).

Sheets are generated with random cells — plausible values, wrong types (numbers, dates, booleans where text
belongs), empty rows, huge strings, full-width digits — and run through the real service and its Celery
task (eagerly, in process) on PostgreSQL. Whatever the sheet holds, the job ends as imported or refused
with a Chinese reason per bad cell (or a Chinese failure message), never through an unexpected error, and
nothing is half-written: the rows written are exactly the rows the job reports as imported.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.models import Household, ImportJob, ImportMode, ImportStatus, Resident, User
from governance.services import roster as roster_services
from industry.models import SalesImportStatus, SalesRecord
from industry.services import imports as sales_services
from tests.governance.roster_factories import eager_celery, fake_id, media_root  # noqa: F401 (fixtures)
from tests.governance.roster_factories import upload as roster_upload
from tests.industry.factories import industry_world
from tests.industry.factories_imports import CG, SH, XINHUA_FOOD, XINHUA_TEA, XINHUA_TEA_CODE, days_ago
from tests.industry.factories_imports import upload as sales_upload

pytestmark = pytest.mark.usefixtures("eager_celery", "media_root")

# Examples share the test's transaction (hypothesis runs them inside one pytest-django test), so each
# property is checked as a difference of counts around one import.
IMPORTS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
CJK = re.compile(r"[\u4e00-\u9fff]")
UNEXPECTED = "导入过程中发生意外错误，没有写入任何数据。请稍后重试或联系管理员。"

# openpyxl refuses control characters in a cell (a sheet saved by Excel cannot hold them either).
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
HUGE = st.sampled_from(["长" * 5000, "9" * 400, "X" * 32767, " " * 300])
WRONG_TYPE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    TEXT,
    HUGE,
)


def cell(*plausible: object) -> st.SearchStrategy[object]:
    """Mostly a plausible value for the column, often something else entirely."""
    return st.one_of(st.sampled_from(plausible), WRONG_TYPE)


@st.composite
def roster_rows(draw: st.DrawFn) -> list[list[object]]:
    rows: list[list[object]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            rows.append([None] * 10)  # an empty row
            continue
        birth = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31)))
        valid_id = fake_id(f"{birth:%Y%m%d}", draw(st.integers(min_value=0, max_value=999)))
        rows.append(
            [
                draw(cell("H001", "H002", "H003", 7)),
                draw(cell("420625100201001", "新华村第一网格", "新华村/第一网格", 420625100201001)),
                draw(cell("王大明", "李秀兰", "欧阳小华")),
                draw(cell("男", "女", "M", "")),
                draw(cell(f"{birth:%Y-%m-%d}", f"{birth.year}年{birth.month}月{birth.day}日", birth, "")),
                draw(
                    cell(
                        valid_id,
                        valid_id.lower(),
                        valid_id[:-1] + "0",
                        valid_id.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                    )
                ),
                draw(cell("13912345678", "139 1234 5678", "+8613912345678", "1234567", "")),
                draw(cell("户主", "配偶", "子女", "妻子", "邻居")),
                draw(cell("新华村一组1号", "")),
                draw(cell("党员,低保户", "留守老人", "", "不存在的标签")),
            ]
        )
    return rows


@pytest.fixture
def secretary(demo_county) -> User:
    return User.objects.get(username="village_secretary")


@pytest.mark.parametrize("mode", [ImportMode.ALL_OR_NOTHING, ImportMode.VALID_ONLY])
def test_a_roster_of_random_cells_is_imported_or_refused_in_chinese_never_half_written(
    secretary, django_capture_on_commit_callbacks, mode
):
    @IMPORTS
    @given(roster_rows())
    def check(rows):
        residents, households = Resident.objects.count(), Household.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            job = roster_services.roster_import_create(
                actor=secretary, upload=roster_upload(rows), mode=mode, idempotency_key=uuid.uuid4().hex
            )
        job = ImportJob.objects.get(pk=job.pk)
        assert job.status in {ImportStatus.SUCCEEDED, ImportStatus.REJECTED, ImportStatus.FAILED}, job.status
        assert job.failure_message != UNEXPECTED
        if job.status == ImportStatus.FAILED:
            assert CJK.search(job.failure_message), job.failure_message
        for entry in job.errors:
            assert CJK.search(str(entry["reason"])), entry
        # Exactly what the job says it wrote, nothing else (a refused sheet or a failure writes nothing).
        assert Resident.objects.count() - residents == job.imported_residents
        assert Household.objects.count() - households == job.imported_households
        if job.status != ImportStatus.SUCCEEDED:
            assert job.imported_residents == 0
        if mode == ImportMode.ALL_OR_NOTHING and job.errors:
            assert job.imported_residents == 0

    check()


@st.composite
def sales_rows(draw: st.DrawFn) -> list[list[object]]:
    yesterday = days_ago(1)
    rows: list[list[object]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            rows.append([None] * 10)
            continue
        rows.append(
            [
                draw(cell(CG, SH, "不存在的展会")),
                draw(cell(XINHUA_TEA, XINHUA_FOOD, "")),
                draw(cell("", XINHUA_TEA_CODE, XINHUA_TEA_CODE.lower())),
                draw(cell("GC-TEA-0001", "GC-TEA-0002", "GC-PRO-0001", "NOPE")),
                draw(cell("线下", "线上", "现场", "批发")),
                draw(cell("", "抖音", "淘宝" * 20)),
                draw(
                    cell(
                        yesterday.isoformat(),
                        yesterday,
                        f"{yesterday.year}年{yesterday.month}月{yesterday.day}日",
                        "99999999999-1-1",
                        "2022-02-30",
                    )
                ),
                draw(cell("2", 3, "10.5", "-1", "1e30", "")),
                draw(cell("100.50", 88.5, "¥2,000", "12.345", "1e999999", "NaN", "0")),
                draw(cell("", "备注")),
            ]
        )
    return rows


@pytest.fixture
def world(demo_county):
    return industry_world(demo_county)


def test_a_sales_sheet_of_random_cells_is_imported_or_refused_in_chinese_never_half_written(
    world, django_capture_on_commit_callbacks
):
    admin = world.county_admin

    @IMPORTS
    @given(sales_rows())
    def check(rows):
        before = SalesRecord.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            job = sales_services.sales_import_create(
                actor=admin, idempotency_key=uuid.uuid4().hex, upload=sales_upload(rows), event=None
            )
        job.refresh_from_db()
        assert job.status in {SalesImportStatus.DONE, SalesImportStatus.REJECTED, SalesImportStatus.FAILED}
        assert job.failure_message != UNEXPECTED
        if job.status == SalesImportStatus.FAILED:
            assert CJK.search(job.failure_message), job.failure_message
        for entry in job.errors:
            assert CJK.search(str(entry["reason"])), entry
        # All or nothing: a refused sheet writes no row; an imported one writes every row it counts.
        assert SalesRecord.objects.count() - before == job.imported_rows
        if job.status != SalesImportStatus.DONE:
            assert job.imported_rows == 0

    check()
