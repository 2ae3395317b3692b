"""Sales imported from Excel (销售记录导入): an expo's or festival's sales sheet read into SalesRecord rows.

The flow (design.md §2, §7), the same as the roster import's (governance.services.roster), whose pieces
are reused here: header matching, the cheap .xlsx check, the workbook reader and the COPY writer.

1. `sales_import_create` stores the upload as a SalesImportJob (one per idempotency key: a double-submitted
   form or a retried POST makes one job) and queues industry.tasks.sales_import after the commit.
2. The task calls `sales_import_run`, which claims the job with a conditional UPDATE (queued →
   validating), reads every row and checks it with the rules every sales write shares
   (industry.services.sales_rules: same refusals, same messages as the page and the API), then the
   event (among the uploader's runnable events), the business (by credit code, else by name among the
   event's exhibitors), that it exhibits at the event, and the product code.
3. All or nothing: a sheet with any bad row is REJECTED whole, with a report entry for every bad cell
   (row, column, value shown, reason) and nothing written. A good sheet is written with COPY in chunks
   inside one transaction that also marks the job DONE, so the records and DONE commit together or not at
   all. One IMPORT audit entry per finished job.

Progress: the validation phase commits `processed_rows` on the job as it goes and puts
{phase, processed, total} in the cache; the write phase runs inside one transaction, so its progress is
only in the cache (Redis in production), which industry.selectors.imports reads.

A worker that dies mid-run leaves the job VALIDATING or WRITING with nothing written (the single write
transaction rolled back). Its redelivered task (acks_late) re-claims the job once `started_at` is older
than STALE_AFTER, which is longer than the task's hard time limit, so a live run is never claimed twice;
`sales_import_retry` lets the uploader (or anyone who may run the job's event) queue such a job, or a
FAILED one, again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO, StringIO
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from common.dispatch import send_on_commit
from common.errors import Conflict, DomainError, NotFound
from common.idempotency import idempotency_key_clean
from common.xlsx import cell_text, header_normalise, workbook_open, xlsx_check
from governance import access as governance_access
from governance.audit import audit_record
from governance.models import AuditAction
from industry import access
from industry.models import (
    Business,
    Event,
    Exhibitor,
    Product,
    SalesImportJob,
    SalesImportStatus,
    SalesRecord,
    SalesSource,
)
from industry.services import sales_rules


def _calamine() -> Any:
    """python-calamine's workbook class, or None when it is not installed (it is optional: see _Book)."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return CalamineWorkbook


CalamineWorkbook: Any = _calamine()

logger = logging.getLogger(__name__)
AnyUser = AbstractBaseUser | AnonymousUser

MAX_UPLOAD_BYTES = 30 * 1024 * 1024  # 200,000 rows saved by Excel are about 6 MB
PROGRESS_EVERY = 5_000  # rows between two progress updates
WRITE_CHUNK = 20_000  # rows per COPY
# Longer than the task's hard time limit (industry.tasks): a job started this long ago is not running.
STALE_AFTER = dt.timedelta(minutes=15)
PROGRESS_TTL = 3_600
EXAMPLE_NOTE = "示例"  # a row whose 备注 starts with this is the template's example, skipped
FINISHED = frozenset({SalesImportStatus.DONE, SalesImportStatus.REJECTED, SalesImportStatus.FAILED})
RUNNING = frozenset({SalesImportStatus.VALIDATING, SalesImportStatus.WRITING})
_UNREADABLE = gettext_lazy("无法读取该文件：请上传 Excel 2007 及以上版本保存的 .xlsx 文件。")


# --- The columns ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesColumn:
    key: str
    header: str  # the template's header
    aliases: tuple[str, ...]
    required: Any  # lazy text: 必填 / 选填 / a condition
    help: Any  # lazy text
    example: Any


SALES_COLUMNS: tuple[SalesColumn, ...] = (
    SalesColumn(
        "event",
        "展会节会",
        ("展会", "节会", "展会名称", "节会名称", "展会节会名称", "活动名称"),
        gettext_lazy("上传时未选择展会节会时必填"),
        gettext_lazy("展会节会的名称，须是您可以管理的展会节会；上传时已选择展会节会的，本列可不填。"),
        "紫金镇开茶节",
    ),
    SalesColumn(
        "business",
        "参展主体",
        ("参展主体名称", "主体名称", "经营主体", "参展单位", "参展商", "企业名称"),
        gettext_lazy("与统一社会信用代码至少填一项"),
        gettext_lazy("参展主体（企业、合作社、家庭农场、农户）的名称，须是该展会节会的参展主体。"),
        "谷城县玉皇剑茶业有限公司",
    ),
    SalesColumn(
        "credit_code",
        "统一社会信用代码",
        ("信用代码", "社会信用代码", "统一代码"),
        gettext_lazy("与参展主体至少填一项"),
        gettext_lazy("18位统一社会信用代码；填写后按代码识别参展主体，同名主体须填写本列。"),
        "91420625MA4912345T",
    ),
    SalesColumn(
        "product_code",
        "产品编码",
        ("产品代码", "商品编码", "产品编号"),
        gettext_lazy("必填"),
        gettext_lazy("农产品目录中的产品编码。"),
        "ZJ-CHA-001",
    ),
    SalesColumn(
        "channel",
        "渠道",
        ("销售渠道", "线上线下"),
        gettext_lazy("必填"),
        gettext_lazy("线上或线下（也可填：网上、现场）。"),
        "线上",
    ),
    SalesColumn(
        "platform",
        "销售平台",
        ("平台", "线上平台", "电商平台"),
        gettext_lazy("线上销售必填"),
        gettext_lazy("线上销售的平台，例如抖音、淘宝、拼多多；线下销售不填。"),
        "抖音",
    ),
    SalesColumn(
        "sold_on",
        "销售日期",
        ("日期", "销售时间"),
        gettext_lazy("必填"),
        gettext_lazy("如 2022-03-05 或 2022年3月5日；须在展会节会举办期间，且不晚于今天。"),
        "2022-03-05",
    ),
    SalesColumn(
        "quantity",
        "数量",
        ("销售数量", "销量"),
        gettext_lazy("选填"),
        gettext_lazy("不小于 0，最多两位小数；不填按 0 计。"),
        "120",
    ),
    SalesColumn(
        "amount",
        "销售额（元）",
        ("销售额", "销售金额", "金额", "成交额"),
        gettext_lazy("必填"),
        gettext_lazy("大于 0 的金额（元），最多两位小数，单条不超过 1000 万元，例如 1200.50。"),
        "36000.50",
    ),
    SalesColumn(
        "note",
        "备注",
        ("说明",),
        gettext_lazy("选填"),
        gettext_lazy("仅供核对，不导入。以“示例”开头的行是模板的示例行，导入时自动跳过。"),
        "示例行，导入时自动跳过",
    ),
)
COLUMNS_BY_KEY = {c.key: c for c in SALES_COLUMNS}
TEMPLATE_HEADERS = [c.header for c in SALES_COLUMNS]
_ORDER = {c.key: index for index, c in enumerate(SALES_COLUMNS)}
_ALIASES: dict[str, str] = {}
for _column in SALES_COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _ALIASES[header_normalise(_name)] = _column.key


def header_mapping(headers: list[str]) -> dict[int, str]:
    """{column index: column key} for the headers recognised (spaces, full-width brackets and notes such
    as “（元）” or “（必填）” ignored); each key at most once, the first column naming it."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        key = _ALIASES.get(header_normalise(header))
        if key and key not in taken:
            mapping[index] = key
            taken.add(key)
    return mapping


# --- The template ---------------------------------------------------------------------------------------


def sales_template_workbook() -> BytesIO:
    """The template: sheet 销售记录 (headers and one example row) and sheet 填写说明 (each column)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "销售记录"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="B8141B")
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
    sheet.append([str(c.example) for c in SALES_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="8D949C")
    widths = {"event": 18, "business": 28, "credit_code": 22, "product_code": 14, "sold_on": 13, "note": 26}
    for index, column in enumerate(SALES_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(column.key, 12)
        if column.key in {"credit_code", "product_code", "sold_on"}:
            # Text, so that Excel keeps leading zeros and does not reformat codes or dates.
            for row in range(2, 2001):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append([_("列名"), _("是否必填"), _("填写说明"), _("也可识别的列名")])
    for cell in notes[1]:
        cell.font = header_font
        cell.fill = header_fill
    for column in SALES_COLUMNS:
        notes.append([column.header, str(column.required), str(column.help), "、".join(column.aliases)])
    notes.append([])
    for line in (
        _("1. 每笔销售填一行：哪个展会节会、哪个参展主体、哪个产品、什么渠道、哪天卖出、卖了多少。"),
        _("2. 列的顺序可以调整，列名中的空格、括号里的说明（如“（元）”）不影响识别。"),
        _(
            "3. 上传后系统逐行校验；只要有一行有误，整张表都不导入，"
            "有误的行会列出行号、列名、填写内容和原因，报告可下载，改正后重新上传即可。"
        ),
        _("4. 导入的销售记录不能修改；发现错误时，请在销售记录中冲正该条记录后重新录入。"),
        _("5. 第2行是示例（备注以“示例”开头），导入时自动跳过，可以保留也可以删除。"),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 22
    notes.column_dimensions["C"].width = 70
    notes.column_dimensions["D"].width = 36
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    output = BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


# --- Creating a job -------------------------------------------------------------------------------------


def importer_region_path(actor: AnyUser) -> str:
    """The outermost region at which `actor` runs events ("" for an organiser granted single events)."""
    paths = governance_access.outermost(
        [path for _role, path in governance_access.assignments(actor, access.EVENT_ROLES)]
    )
    return sorted(paths, key=lambda p: (p.count("/"), p))[0] if paths else ""


def sales_import_can_create(actor: AnyUser) -> bool:
    return actor.is_authenticated and access.events_runnable(actor).exists()


def _enqueue(job: SalesImportJob) -> None:
    from industry.tasks import sales_import

    job_id = job.pk
    send_on_commit(sales_import, job_id)


def _file_check(upload: UploadedFile) -> str:
    """The upload's file name once it looks like an .xlsx within the size limit (DomainError otherwise)."""
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name.lower().endswith((".xlsx", ".xlsm")):
        raise DomainError(
            "sales_file_type",
            _("仅支持 .xlsx 文件；.xls 等旧格式请先在 Excel 中“另存为” .xlsx 再上传。"),
            field="file",
        )
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise DomainError("sales_file_too_large", _("文件不能超过 30 MB。"), field="file")
    xlsx_check(upload, code="sales_file_unreadable")
    return name


@transaction.atomic
def sales_import_create(
    *, actor: AnyUser, idempotency_key: str, upload: UploadedFile, event: Event | None = None
) -> SalesImportJob:
    """Store an uploaded sales sheet as a queued job (the import task is enqueued after the commit) and
    return it; the same key again (from the same uploader) returns the same job and stores nothing.

    `event`, when given, must be one `actor` may run: rows may then leave 展会节会 blank. The job's
    region is the event's, else the outermost region where `actor` runs events. Reading the workbook
    happens in the task, so the upload request stays short however large the sheet.
    """
    if not actor.is_authenticated:
        raise DomainError("login_required", _("请先登录。"), status=403)
    key = idempotency_key_clean(idempotency_key)
    existing = SalesImportJob.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replayed(existing, actor)
    if event is not None and not access.can_run_event(actor, event):
        raise NotFound(access.EVENT_NOT_FOUND)
    if not sales_import_can_create(actor):
        raise DomainError("sales_import_forbidden", _("您没有导入销售记录的权限。"), status=403)
    region_path = str(event.region.path) if event is not None else importer_region_path(actor)
    if event is None and not region_path:
        raise DomainError("event_required", _("请选择要导入销售记录的展会节会。"), field="event")
    name = _file_check(upload)
    job = SalesImportJob(
        uploaded_by_id=actor.pk,
        event=event,
        region_path=region_path,
        original_name=name[:200],
        idempotency_key=key,
        status=SalesImportStatus.QUEUED,
    )
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # The same form submitted twice at once: the other request made the job.
        job.file.delete(save=False)
        return _replayed(SalesImportJob.objects.get(idempotency_key=key), actor)
    _enqueue(job)
    return job


def _replayed(job: SalesImportJob, actor: AnyUser) -> SalesImportJob:
    if job.uploaded_by_id != actor.pk:
        # Keys are unique across users; another user's key must neither act nor reveal that job.
        raise Conflict(
            "idempotency_key_reused", _("同一防重复提交标识已用于另一次上传，请刷新页面后重新上传。")
        )
    return job


def job_is_finished(job: SalesImportJob) -> bool:
    return job.status in FINISHED


def job_is_stale(job: SalesImportJob, now: dt.datetime | None = None) -> bool:
    """A job left validating or writing by a worker that died (nothing of it was written)."""
    now = now or timezone.now()
    return job.status in RUNNING and (job.started_at is None or job.started_at < now - STALE_AFTER)


def job_can_manage(actor: AnyUser, job: SalesImportJob) -> bool:
    """The uploader, whoever may run the job's event, or an event runner over the job's region."""
    if not actor.is_authenticated:
        return False
    if job.uploaded_by_id == actor.pk:
        return True
    if job.event is not None:
        return access.can_run_event(actor, job.event)
    return bool(job.region_path) and governance_access.covers(actor, job.region_path, access.EVENT_ROLES)


def job_can_retry(job: SalesImportJob) -> bool:
    return job.status == SalesImportStatus.FAILED or job_is_stale(job)


@transaction.atomic
def sales_import_retry(*, actor: AnyUser, job: SalesImportJob) -> SalesImportJob:
    """Queue a FAILED job, or one a dead worker left validating or writing, once more; return it.

    Safe: such a job has no records (its write transaction never committed; checked again here), and
    the task claims it with a conditional UPDATE. A job queued, running or finished otherwise is
    returned as it is (a double-submitted form)."""
    job = (
        SalesImportJob.objects.select_for_update(of=("self",)).select_related("event__region").get(pk=job.pk)
    )
    if not job_can_manage(actor, job):
        raise DomainError(
            "sales_import_not_yours", _("只有上传人或展会节会的管理者可以重新导入。"), status=403
        )
    if not job_can_retry(job):
        return job
    if SalesRecord.objects.filter(import_job_id=job.pk).exists():  # pragma: no cover - guarded by design
        raise Conflict("sales_import_written", _("该批次已写入销售记录，不能重新导入。"))
    job.status = SalesImportStatus.QUEUED
    job.processed_rows = 0
    job.failure_message = ""
    job.started_at = None
    job.finished_at = None
    job.save(update_fields=["status", "processed_rows", "failure_message", "started_at", "finished_at"])
    cache.delete(progress_cache_key(job.pk))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=job,
        region_path=job.region_path,
        changes={"status": [None, SalesImportStatus.QUEUED]},
        detail=_("重新导入销售记录《%s》") % job.original_name,
    )
    _enqueue(job)
    return job


# --- Validating and writing -----------------------------------------------------------------------------


def progress_cache_key(job_id: int) -> str:
    return f"industry-sales-import:{job_id}:progress"


def _progress(job_id: int, phase: str, processed: int, total: int) -> None:
    cache.set(
        progress_cache_key(job_id),
        {"phase": phase, "processed": processed, "total": total},
        PROGRESS_TTL,
    )


class _Report:
    """The rejected cells: [{"row", "column", "value", "reason"}] in sheet and column order."""

    def __init__(self, headers: list[str], column_of: dict[str, int]) -> None:
        self.headers = headers
        self.column_of = column_of
        self.entries: list[tuple[int, int, dict[str, Any]]] = []
        self.rows: set[int] = set()

    def header(self, key: str) -> str:
        index = self.column_of.get(key)
        if index is not None and index < len(self.headers) and self.headers[index]:
            return self.headers[index]
        return COLUMNS_BY_KEY[key].header

    def add(self, row: int, key: str, reason: str, value: Any = "") -> None:
        self.rows.add(row)
        self.entries.append(
            (
                row,
                # A column missing from the sheet sorts after the present ones, in the template's order.
                self.column_of.get(key, len(SALES_COLUMNS) * 10 + _ORDER[key]),
                {"row": row, "column": self.header(key), "value": cell_text(value)[:60], "reason": reason},
            )
        )

    def sorted(self) -> list[dict[str, Any]]:
        return [entry for _r, _c, entry in sorted(self.entries, key=lambda e: (e[0], e[1]))]


def _text(value: Any) -> str:
    """cell_text, quicker for the common case of a text cell (called several times per row)."""
    return value.strip() if type(value) is str else cell_text(value)


def _day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True, slots=True)
class _ExhibitorRef:
    exhibitor_id: int
    business_id: int
    name: str
    credit_code: str
    village: str


class _Lookups:
    """What the rows are checked against, loaded once per job (a few queries, never one per row)."""

    def __init__(self, actor: AnyUser, job_event: Event | None) -> None:
        self.job_event = job_event
        self.events_by_name: dict[str, list[Event]] = defaultdict(list)
        for event in access.events_runnable(actor).order_by("starts_on", "pk"):
            self.events_by_name[event.name].append(event)
        self.products = dict(Product.objects.values_list("code", "id"))
        self._exhibitors: dict[int, tuple[dict[str, list[_ExhibitorRef]], dict[str, _ExhibitorRef]]] = {}
        self._businesses: dict[str, tuple[int, str] | None] = {}

    def exhibitors(self, event: Event) -> tuple[dict[str, list[_ExhibitorRef]], dict[str, _ExhibitorRef]]:
        """(by business name, by credit code) among `event`'s exhibitors."""
        found = self._exhibitors.get(event.pk)
        if found is None:
            by_name: dict[str, list[_ExhibitorRef]] = defaultdict(list)
            by_code: dict[str, _ExhibitorRef] = {}
            rows = Exhibitor.objects.filter(event=event).values_list(
                "id", "business_id", "business__name", "business__credit_code", "business__region__name"
            )
            for exhibitor_id, business_id, name, code, village in rows:
                ref = _ExhibitorRef(exhibitor_id, business_id, name, code, village)
                by_name[name].append(ref)
                if code:
                    by_code[code] = ref
            found = self._exhibitors[event.pk] = (by_name, by_code)
        return found

    def business_by_code(self, code: str) -> tuple[int, str] | None:
        if code not in self._businesses:
            row = Business.objects.filter(credit_code=code).values_list("id", "name").first()
            self._businesses[code] = (row[0], row[1]) if row else None
        return self._businesses[code]


# A checked row ready for COPY: event, exhibitor, product, channel, platform, sold_on, quantity, amount.
_Good = tuple[int, int, int, str, str, dt.date, Decimal, int]
_GOOD_FIELDS = (
    "event_id",
    "exhibitor_id",
    "product_id",
    "channel",
    "platform",
    "sold_on",
    "quantity",
    "amount_fen",
)


# A bad cell: its column key, the reason, the value shown.
_Problem = tuple[str, str, Any]


def _parsed(parse: Any, key: str, value: Any) -> tuple[Any, tuple[_Problem, ...]]:
    try:
        return parse(value), ()
    except DomainError as error:
        return None, ((key, str(error.message), value),)


class _Checker:
    """Checks one row's cells; adds an entry to the report for every bad cell.

    Each check is a pure function of a few cells (and the event), so its outcome is remembered by those
    values: a sheet repeats its events, exhibitors, channels, dates and quantities on many rows. Keys
    carry the value's type, so that a cell holding 1 and one holding True are not taken for each other.
    """

    def __init__(self, lookups: _Lookups, report: _Report, today: dt.date) -> None:
        self.lookups = lookups
        self.report = report
        self.today = today
        self._memo: dict[tuple[Any, ...], tuple[Any, tuple[_Problem, ...]]] = {}

    def _remember(self, key: tuple[Any, ...], check: Any) -> tuple[Any, tuple[_Problem, ...]]:
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = check()
        return found

    def event(self, text: str, sold_on: dt.date | None) -> tuple[Event | None, tuple[_Problem, ...]]:
        job_event = self.lookups.job_event
        if not text:
            if job_event is not None:
                return job_event, ()
            return None, (("event", _("请填写展会节会名称。"), ""),)
        if job_event is not None:
            if text == job_event.name:
                return job_event, ()
            reason = _("本次导入限定为《%(event)s》，本行填写的是“%(text)s”。") % {
                "event": job_event.name,
                "text": text,
            }
            return None, (("event", reason, text),)
        candidates = self.lookups.events_by_name.get(text, [])
        if not candidates:
            return None, (("event", _("未找到展会节会“%s”，或者它不在您的管辖范围内。") % text, text),)
        if len(candidates) == 1:
            return candidates[0], ()
        if sold_on is not None:
            held = [e for e in candidates if e.starts_on <= sold_on <= e.ends_on]
            if len(held) == 1:
                return held[0], ()
        reason = _(
            "名为“%(text)s”的展会节会有多个（%(dates)s），请核对销售日期，使其落在其中一个的举办期间。"
        ) % {"text": text, "dates": "、".join(_day(e.starts_on) for e in candidates)}
        return None, (("event", reason, text),)

    def exhibitor(
        self, event: Event, name: str, code: str
    ) -> tuple[_ExhibitorRef | None, tuple[_Problem, ...]]:
        by_name, by_code = self.lookups.exhibitors(event)
        if code:
            ref = by_code.get(code)
            if ref is None:
                business = self.lookups.business_by_code(code)
                if business is None:
                    reason = _("统一社会信用代码“%s”没有对应的经营主体。") % code
                else:
                    reason = _("“%(name)s”不是《%(event)s》的参展主体。") % {
                        "name": business[1],
                        "event": event.name,
                    }
                return None, (("credit_code", reason, code),)
            if name and name != ref.name:
                reason = _("统一社会信用代码对应的参展主体是“%(found)s”，与填写的“%(name)s”不一致。") % {
                    "found": ref.name,
                    "name": name,
                }
                return None, (("business", reason, name),)
            return ref, ()
        if not name:
            return None, (("business", _("请填写参展主体名称或统一社会信用代码。"), ""),)
        refs = by_name.get(name, [])
        if not refs:
            reason = _("“%(name)s”不是《%(event)s》的参展主体。") % {"name": name, "event": event.name}
            return None, (("business", reason, name),)
        if len(refs) > 1:
            described = "、".join(
                f"{r.name}（{r.village}{'，' + r.credit_code if r.credit_code else ''}）" for r in refs
            )
            reason = _(
                "《%(event)s》有多个名为“%(name)s”的参展主体：%(candidates)s。请填写统一社会信用代码加以区分。"
            ) % {"event": event.name, "name": name, "candidates": described}
            return None, (("business", reason, name),)
        return refs[0], ()

    def _channel(self, channel_value: Any, platform_value: Any) -> tuple[Any, tuple[_Problem, ...]]:
        channel, problems = _parsed(sales_rules.channel_parse, "channel", channel_value)
        if channel is None:
            return None, problems
        platform, problems = _parsed(
            lambda value: sales_rules.platform_clean(channel, value), "platform", platform_value
        )
        return (None, problems) if problems else ((channel, platform), ())

    def row(self, number: int, cells: dict[str, Any]) -> _Good | None:
        """The row's clean values, or None when any cell is bad (each bad cell is in the report)."""
        remember = self._remember
        problems: list[_Problem] = []
        raw = cells.get("amount")
        amount_fen, found = remember(
            ("amount", type(raw), raw), lambda: _parsed(sales_rules.amount_fen_parse, "amount", raw)
        )
        problems += found
        raw_quantity = cells.get("quantity")
        quantity, found = remember(
            ("quantity", type(raw_quantity), raw_quantity),
            lambda: _parsed(sales_rules.quantity_parse, "quantity", raw_quantity),
        )
        problems += found
        raw_channel, raw_platform = cells.get("channel"), cells.get("platform")
        channel_platform, found = remember(
            ("channel", type(raw_channel), raw_channel, type(raw_platform), raw_platform),
            lambda: self._channel(raw_channel, raw_platform),
        )
        problems += found
        raw_date = cells.get("sold_on")
        sold_on, found = remember(
            ("date", type(raw_date), raw_date), lambda: _parsed(sales_rules.date_parse, "sold_on", raw_date)
        )
        problems += found

        event_text = _text(cells.get("event"))
        event, found = remember(("event", event_text, sold_on), lambda: self.event(event_text, sold_on))
        problems += found
        ref = None
        if event is not None:
            if sold_on is not None:
                _day_ok, found = remember(
                    ("in_event", event.pk, sold_on),
                    lambda: _parsed(
                        lambda day: sales_rules.sold_on_check(
                            day, starts_on=event.starts_on, ends_on=event.ends_on, today=self.today
                        ),
                        "sold_on",
                        sold_on,
                    ),
                )
                # The reason is the event's; the value shown is what the cell held.
                problems += [(key, reason, raw_date) for key, reason, _value in found]
            name, code = _text(cells.get("business")), _text(cells.get("credit_code")).upper()
            ref, found = remember(
                ("exhibitor", event.pk, name, code), lambda: self.exhibitor(event, name, code)
            )
            problems += found

        code = _text(cells.get("product_code"))
        product_id = self.lookups.products.get(code) if code else None
        if not code:
            problems.append(("product_code", _("请填写产品编码。"), ""))
        elif product_id is None:
            problems.append(("product_code", _("产品编码“%s”不在农产品目录中。") % code, code))
        if problems:
            for key, reason, value in problems:
                self.report.add(number, key, reason, value)
            return None
        if event is None or ref is None or product_id is None:  # pragma: no cover - reported above
            return None
        channel, platform = channel_platform
        return (event.pk, ref.exhibitor_id, product_id, str(channel), platform, sold_on, quantity, amount_fen)


class _Book:
    """The uploaded workbook's sales sheet (销售记录 when present, else the first), read row by row.

    python-calamine (Rust) reads a sheet about ten times faster than openpyxl, which dominates the cost
    of a large import; without it installed, openpyxl's read-only mode (governance.services.roster's
    reader) gives the same rows. Either way each row is (1-based sheet row number, cell values) with
    None or "" for an empty cell, numbers as int or float, date cells as date or datetime.
    """

    def __init__(self, source: IO[bytes]) -> None:
        self._openpyxl: Any = None
        self._sheet: Any
        if CalamineWorkbook is not None:
            try:
                workbook = CalamineWorkbook.from_filelike(source)
            except Exception:
                raise DomainError("sales_file_unreadable", _UNREADABLE) from None
            names = list(workbook.sheet_names)
            if not names:
                raise DomainError("sales_file_empty", _("该文件中没有工作表。"))
            self._sheet = workbook.get_sheet_by_name("销售记录" if "销售记录" in names else names[0])
            end = self._sheet.end
            self.max_row = end[0] + 1 if end else 0
        else:
            try:
                self._openpyxl = workbook_open(source)
            except DomainError:
                raise DomainError("sales_file_unreadable", _UNREADABLE) from None
            names = list(self._openpyxl.sheetnames)
            if not names:
                raise DomainError("sales_file_empty", _("该文件中没有工作表。"))
            self._sheet = self._openpyxl["销售记录" if "销售记录" in names else names[0]]
            self.max_row = self._sheet.max_row or 0

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        if self._openpyxl is not None:
            yield from enumerate(self._sheet.iter_rows(values_only=True), start=1)
            return
        # calamine yields every row from the first (empty ones too) but starts the cells at the first
        # used column: pad them back so that column indexes are the sheet's.
        start = self._sheet.start
        pad = [""] * (start[1] if start else 0)
        if pad:
            for number, values in enumerate(self._sheet.iter_rows(), start=1):
                yield number, pad + values
        else:
            yield from enumerate(self._sheet.iter_rows(), start=1)

    def close(self) -> None:
        if self._openpyxl is not None:
            self._openpyxl.close()


@dataclass
class _Sheet:
    header_row: int
    headers: list[str]
    column_of: dict[str, int]
    estimated_rows: int
    rows: Iterator[tuple[int, Sequence[Any]]]  # the rows after the header row


def _sheet_find(book: _Book) -> _Sheet:
    """The sheet's header row: the first of the top ten rows naming at least two of the columns (sheets
    often start with a title row); row 1 when none does. Reads the rows once: `rows` goes on from there."""
    rows = book.rows()
    top: list[tuple[int, Sequence[Any]]] = []
    for item in rows:
        top.append(item)
        if len(top) == 10:
            break
    texts = [[cell_text(v) for v in values] for _n, values in top]
    if not any(any(row) for row in texts):
        raise DomainError("sales_file_empty", _("工作表是空的：没有表头也没有数据。"))
    header_index = next((i for i, row in enumerate(texts) if len(header_mapping(row)) >= 2), 0)
    headers = texts[header_index]
    while headers and not headers[-1]:
        headers.pop()
    column_of = {key: index for index, key in header_mapping(headers).items()}
    header_row = top[header_index][0]
    return _Sheet(
        header_row=header_row,
        headers=headers,
        column_of=column_of,
        estimated_rows=max(0, book.max_row - header_row),
        rows=itertools.chain(top[header_index + 1 :], rows),
    )


def _missing_columns(found: _Sheet, job: SalesImportJob, report: _Report) -> bool:
    """Report the required columns the header row lacks; True when any is missing."""
    missing: list[tuple[str, str]] = []
    for key in ("product_code", "channel", "sold_on", "amount"):
        if key not in found.column_of:
            missing.append((key, _("缺少“%s”列。") % COLUMNS_BY_KEY[key].header))
    if "business" not in found.column_of and "credit_code" not in found.column_of:
        missing.append(("business", _("缺少“参展主体”或“统一社会信用代码”列，至少需要其中一列。")))
    if "event" not in found.column_of and job.event_id is None:
        missing.append(("event", _("缺少“展会节会”列：请在表中加上这一列，或在上传时选择展会节会。")))
    for key, reason in missing:
        report.add(found.header_row, key, reason)
    return bool(missing)


def _blank(values: Sequence[Any]) -> bool:
    return not any(v is not None and (type(v) is not str or v.strip()) for v in values)


@dataclass
class _Outcome:
    rows: int
    good: list[_Good]
    report: _Report


def _read(job: SalesImportJob, actor: AnyUser) -> _Outcome:
    """Every data row checked (blank rows and the template's example row skipped)."""
    with job.file.open("rb") as source:
        book = _Book(source)
        try:
            found = _sheet_find(book)
            report = _Report(found.headers, found.column_of)
            if _missing_columns(found, job, report):
                return _Outcome(0, [], report)
            SalesImportJob.objects.filter(pk=job.pk).update(total_rows=found.estimated_rows)
            _progress(job.pk, SalesImportStatus.VALIDATING, 0, found.estimated_rows)
            checker = _Checker(_Lookups(actor, job.event), report, timezone.localdate())
            items = sorted(found.column_of.items(), key=lambda item: item[1])
            width = items[-1][1] + 1
            note_column = found.column_of.get("note")
            good: list[_Good] = []
            rows = 0
            for number, row_values in found.rows:
                values = row_values[:width]
                if _blank(values):
                    continue
                length = len(values)
                if (
                    note_column is not None
                    and note_column < length
                    and _text(values[note_column]).startswith(EXAMPLE_NOTE)
                ):
                    continue
                rows += 1
                checked = checker.row(number, {key: values[i] if i < length else None for key, i in items})
                if checked is not None and not report.rows:
                    good.append(checked)
                elif report.rows and good:
                    good = []  # all or nothing: once a row is bad, the good ones are not needed
                if rows % PROGRESS_EVERY == 0:
                    total = max(found.estimated_rows, rows)
                    SalesImportJob.objects.filter(pk=job.pk).update(processed_rows=rows, total_rows=total)
                    _progress(job.pk, SalesImportStatus.VALIDATING, rows, total)
        finally:
            book.close()
    return _Outcome(rows, good, report)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_COLUMNS = (
    *_GOOD_FIELDS,
    "reason",
    "source",
    "import_job_id",
    "recorded_by_id",
    "created_at",
)


def _copy(job: SalesImportJob, good: list[_Good], now: dt.datetime) -> None:
    """Insert the checked rows: COPY on PostgreSQL (ids from the column's identity default, the other
    columns their defaults: no reversal, no key), bulk_create elsewhere (the SQLite demo)."""
    if connection.vendor != "postgresql":
        SalesRecord.objects.bulk_create(
            [
                SalesRecord(
                    **dict(zip(_GOOD_FIELDS, row, strict=True)),
                    source=SalesSource.IMPORT,
                    import_job_id=job.pk,
                    recorded_by_id=job.uploaded_by_id,
                )
                for row in good
            ],
            batch_size=2_000,
        )
        return
    uploader = "\\N" if job.uploaded_by_id is None else str(job.uploaded_by_id)
    tail = f"\t\t{SalesSource.IMPORT}\t{job.pk}\t{uploader}\t{now.isoformat()}\n"
    buffer = StringIO()
    write = buffer.write
    for event_id, exhibitor_id, product_id, channel, platform, sold_on, quantity, amount_fen in good:
        write(
            f"{event_id}\t{exhibitor_id}\t{product_id}\t{channel}\t{platform.translate(_COPY_ESCAPES)}"
            f"\t{sold_on.isoformat()}\t{quantity}\t{amount_fen}{tail}"
        )
    buffer.seek(0)
    quote = connection.ops.quote_name
    column_of = {f.attname: f.column for f in SalesRecord._meta.concrete_fields}
    columns = ", ".join(quote(column_of[name]) for name in _COPY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {quote(SalesRecord._meta.db_table)} ({columns}) FROM STDIN", buffer)


class _Superseded(Exception):
    """Another run claimed the job after this one (this one was taken for dead): write nothing."""


def _write(job: SalesImportJob, claimed_at: dt.datetime, good: list[_Good]) -> int:
    """COPY the rows and mark the job DONE, in the caller's transaction; return the amount in fen."""
    locked = SalesImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != SalesImportStatus.WRITING or locked.started_at != claimed_at:
        raise _Superseded
    if SalesRecord.objects.filter(import_job_id=job.pk).exists():
        raise _Superseded
    now = timezone.now()
    amount = 0
    total = len(good)
    for start in range(0, total, WRITE_CHUNK):
        chunk = good[start : start + WRITE_CHUNK]
        _copy(job, chunk, now)
        amount += sum(g[7] for g in chunk)
        _progress(job.pk, SalesImportStatus.WRITING, min(start + WRITE_CHUNK, total), total)
    return amount


def _finish(
    job: SalesImportJob,
    *,
    status: SalesImportStatus,
    rows: int,
    imported: int = 0,
    amount_fen: int = 0,
    report: list[dict[str, Any]] | None = None,
    rejected: int = 0,
    message: str = "",
) -> None:
    """Record the outcome on the job and its one audit entry (call inside a transaction)."""
    job.status = status
    job.total_rows = rows
    job.processed_rows = rows
    job.imported_rows = imported
    job.rejected_rows = rejected
    job.amount_fen = amount_fen
    job.errors = report or []
    job.failure_message = message[:300]
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "total_rows",
            "processed_rows",
            "imported_rows",
            "rejected_rows",
            "amount_fen",
            "errors",
            "failure_message",
            "finished_at",
        ]
    )
    audit_record(
        actor=job.uploaded_by,
        action=AuditAction.IMPORT,
        obj=job,
        region_path=job.region_path,
        changes={
            "status": [None, status],
            "event": [None, job.event_id],
            "total_rows": [None, rows],
            "imported_rows": [None, imported],
            "rejected_rows": [None, rejected],
            "amount_fen": [None, amount_fen],
        },
        detail=_(
            "导入销售记录《%(file)s》：共%(total)d行，导入%(imported)d行，销售额%(yuan)s元，有误%(rejected)d行"
        )
        % {
            "file": job.original_name,
            "total": rows,
            "imported": imported,
            "yuan": f"{Decimal(amount_fen) / 100:,.2f}",
            "rejected": rejected,
        },
    )


def sales_import_run(*, job_id: int) -> SalesImportJob:
    """Validate and import a queued job; return it finished (DONE, REJECTED or FAILED), or as it was
    when this run could not claim it.

    Claims the job with a conditional UPDATE (queued, or stale after a worker's death → validating),
    so a task delivered twice runs it once and a finished job is never written again. A database that
    goes away mid-run puts the job back in the queue and re-raises (the task retries); any other error
    ends the job as FAILED with nothing written.
    """
    now = timezone.now()
    stale = Q(status__in=list(RUNNING), started_at__lt=now - STALE_AFTER)
    claimed = (
        SalesImportJob.objects.filter(pk=job_id)
        .filter(Q(status=SalesImportStatus.QUEUED) | stale)
        .update(status=SalesImportStatus.VALIDATING, started_at=now, processed_rows=0)
    )
    job = SalesImportJob.objects.select_related("uploaded_by", "event__region").get(pk=job_id)
    if not claimed:
        return job
    try:
        _run(job, now)
    except (OperationalError, InterfaceError):
        SalesImportJob.objects.filter(pk=job_id, started_at=now).update(status=SalesImportStatus.QUEUED)
        raise
    except _Superseded:
        logger.warning("sales import %s was claimed again by another run; this run wrote nothing", job_id)
    except DomainError as error:
        _fail(job, str(error.message))
    except Exception:
        logger.exception("sales import %s failed", job_id)
        _fail(job, _("导入过程中发生意外错误，没有写入任何数据。请稍后重试或联系管理员。"))
    finally:
        cache.delete(progress_cache_key(job_id))
    job.refresh_from_db()
    return job


def _fail(job: SalesImportJob, message: str) -> None:
    job.refresh_from_db(fields=["processed_rows"])
    with transaction.atomic():
        _finish(job, status=SalesImportStatus.FAILED, rows=job.processed_rows, message=message)


def _run(job: SalesImportJob, claimed_at: dt.datetime) -> None:
    actor = job.uploaded_by
    if actor is None or not actor.is_active:
        raise DomainError("sales_import_no_uploader", _("上传人的账号已停用，无法导入。"))
    if job.event is not None and not access.can_run_event(actor, job.event):
        raise DomainError("sales_import_event_gone", _("上传人已无权管理该展会节会，无法导入。"))
    outcome = _read(job, actor)
    report = outcome.report
    if report.rows or not outcome.rows:
        if not report.rows:
            raise DomainError("sales_no_rows", _("表中没有数据行。"))
        with transaction.atomic():
            _finish(
                job,
                status=SalesImportStatus.REJECTED,
                rows=outcome.rows,
                report=report.sorted(),
                rejected=len(report.rows),
            )
        return
    total = len(outcome.good)
    SalesImportJob.objects.filter(pk=job.pk, started_at=claimed_at).update(
        status=SalesImportStatus.WRITING, total_rows=total, processed_rows=total
    )
    _progress(job.pk, SalesImportStatus.WRITING, 0, total)
    with transaction.atomic():
        amount = _write(job, claimed_at, outcome.good)
        _finish(job, status=SalesImportStatus.DONE, rows=total, imported=total, amount_fen=amount)


# --- The report -----------------------------------------------------------------------------------------


def sales_report_rows(job: SalesImportJob) -> tuple[list[str], Iterator[list[Any]]]:
    """The report workbook's header and rows: the sheet's bad rows as uploaded (行号 first), each with
    an 错误原因 column joining its reasons. Reads the upload up to the last bad row only."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for entry in job.errors:
        reasons[int(entry["row"])].append(f"{entry['column']}：{entry['reason']}")
    if not job.file or not job.file.storage.exists(job.file.name):
        # The upload is gone (swept, or media not restored with a backup): the reasons alone still tell
        # the user which rows to fix.
        return [_("行号"), _("错误原因")], iter(
            [[row, "；".join(why)] for row, why in sorted(reasons.items())]
        )
    with job.file.open("rb") as source:
        book = _Book(source)
        try:
            found = _sheet_find(book)
        finally:
            book.close()
    titles = [h or get_column_letter(i + 1) for i, h in enumerate(found.headers)]
    return [_("行号"), *titles, _("错误原因")], _report_rows(job, reasons)


def _report_rows(job: SalesImportJob, reasons: dict[int, list[str]]) -> Iterator[list[Any]]:
    if not reasons:
        return
    last = max(reasons)
    with job.file.open("rb") as source:
        book = _Book(source)
        try:
            found = _sheet_find(book)
            width = max(len(found.headers), 1)
            if found.header_row in reasons:
                yield [found.header_row, *found.headers, "；".join(reasons[found.header_row])]
            for number, values in found.rows:
                if number > last:
                    break
                if number in reasons:
                    cells = [cell_text(v) for v in values[:width]]
                    yield [number, *cells, *[""] * (width - len(cells)), "；".join(reasons[number])]
        finally:
            book.close()
