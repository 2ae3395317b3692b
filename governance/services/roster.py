"""Roster import (花名册导入): the Excel sheets villages already keep, read into households and residents.

The flow (design.md §2, §7):
1. `roster_import_create` stores the upload as an ImportJob (one per uploader and idempotency key, so a
   double-submitted form makes one job), reads the header row and guesses which column is which. A sheet
   whose headers are exactly the template's is queued at once; otherwise the job waits for the uploader
   to confirm or adjust the mapping (`roster_import_map`).
2. The Celery task (governance.tasks) calls `roster_import_run`, which validates every row before it
   writes anything: the ID number's checksum (governance.pii), birth date and gender against the ID,
   the phone, the grid (known, and inside the uploader's scope), duplicates (the same ID twice in the
   sheet or already in the database), the relation to the head, and a head row for every new household.
3. Then either all valid rows are written in one transaction with bulk inserts, or — in the
   all-or-nothing mode when any row is bad — nothing is. Every rejected row is in the job's report
   (row, column, reason), and one IMPORT audit entry per job records the counts.

Progress: the validation phase commits `processed_rows` as it goes; the write phase runs inside one
transaction, so its progress goes to the cache (Redis in production), which the status endpoint reads.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from common.dispatch import send_on_commit
from common.errors import DomainError
from common.xlsx import cell_text, header_normalise, workbook_open, xlsx_check
from governance import access, pii
from governance.audit import audit_record
from governance.models import (
    AuditAction,
    Household,
    HouseholdTag,
    HouseholdTagKind,
    ImportJob,
    ImportMode,
    ImportStatus,
    Region,
    RegionLevel,
    RelationToHead,
    Resident,
    ResidentTag,
    ResidentTagKind,
    RoleAssignment,
    User,
)

logger = logging.getLogger(__name__)
AnyUser = AbstractBaseUser | AnonymousUser

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
PROGRESS_EVERY = 2_000  # rows between two progress updates
BATCH_SIZE = 2_000
_CHUNK = 5_000  # values per IN (...) when looking rows up
# Serialises the write phase of concurrent imports (PostgreSQL advisory lock key, any fixed number).
_WRITE_LOCK = 4_206_250_001
EXAMPLE_HOUSEHOLD_NUMBER = "示例"
STALE_AFTER = dt.timedelta(minutes=15)  # 100,000 rows take well under a minute


# --- The columns ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterField:
    key: str
    header: str  # the template's header
    aliases: tuple[str, ...]
    required: bool
    help: Any  # lazy text


ROSTER_FIELDS: tuple[RosterField, ...] = (
    RosterField(
        "household_number",
        "户号",
        ("户编号", "家庭编号", "户籍编号", "户主编号"),
        True,
        gettext_lazy("户在网格内的编号；同一户的成员填写相同的户号。"),
    ),
    RosterField(
        "grid",
        "网格",
        ("所属网格", "网格名称", "网格编码", "网格编号", "所在网格"),
        True,
        gettext_lazy("网格名称（如“第一网格”；重名时填“村名/网格名”，如“新华村/第一网格”）或15位网格编码。"),
    ),
    RosterField("name", "姓名", ("名字", "居民姓名", "成员姓名"), True, gettext_lazy("居民姓名。")),
    RosterField("gender", "性别", (), False, gettext_lazy("男或女；可不填，填写时须与身份证号一致。")),
    RosterField(
        "birth_date",
        "出生日期",
        ("出生年月", "出生年月日", "生日"),
        False,
        gettext_lazy("如 1980-01-02 或 1980年1月；可不填，填写时须与身份证号一致。"),
    ),
    RosterField(
        "id_number",
        "身份证号",
        ("身份证号码", "公民身份号码", "身份证", "居民身份证号码", "证件号码"),
        True,
        gettext_lazy("18位居民身份证号，末位可为X。请把本列设为“文本”格式。"),
    ),
    RosterField(
        "phone",
        "联系电话",
        ("手机号", "手机号码", "电话", "手机", "联系方式", "电话号码"),
        False,
        gettext_lazy("11位手机号；可不填。"),
    ),
    RosterField(
        "relation",
        "与户主关系",
        ("关系", "家庭关系", "与户主的关系", "户主关系"),
        True,
        gettext_lazy("户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、儿媳/女婿或其他；每户须有一行户主。"),
    ),
    RosterField(
        "address",
        "住址",
        ("家庭住址", "地址", "现住址", "居住地址", "家庭地址"),
        False,
        gettext_lazy("户的住址，取户主行填写的住址。"),
    ),
    RosterField(
        "tags",
        "标签",
        ("人员类别", "人员类型", "类别", "人员标签"),
        False,
        gettext_lazy(
            "可填多个，用逗号或顿号分隔：留守老人、留守妇女、留守儿童、低保、残疾、退役军人、党员、"
            "返乡人员、退休干部；户标签：低保户、脱贫户、军属户、五保户、文明家庭。"
        ),
    ),
)
FIELDS_BY_KEY = {f.key: f for f in ROSTER_FIELDS}
TEMPLATE_HEADERS = [f.header for f in ROSTER_FIELDS]
REQUIRED_FIELDS = [f.key for f in ROSTER_FIELDS if f.required]

# Spellings villages use, mapped to the stored values. Written out in Chinese (not taken from the
# choices' labels) so that an English user interface reads the same sheets.
RELATIONS: dict[str, str] = {
    **dict.fromkeys(("户主", "本人", "户主本人"), RelationToHead.SELF),
    **dict.fromkeys(("配偶", "妻", "妻子", "夫", "丈夫", "爱人"), RelationToHead.SPOUSE),
    **dict.fromkeys(
        ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "三子", "长女", "次女", "三女", "独子", "独女"),
        RelationToHead.CHILD,
    ),
    **dict.fromkeys(("父母", "父亲", "母亲", "父", "母"), RelationToHead.PARENT),
    **dict.fromkeys(("孙子女", "孙子", "孙女", "外孙", "外孙子", "外孙女"), RelationToHead.GRANDCHILD),
    **dict.fromkeys(("祖父母", "祖父", "祖母", "外祖父", "外祖母"), RelationToHead.GRANDPARENT),
    **dict.fromkeys(
        ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"), RelationToHead.SIBLING
    ),
    **dict.fromkeys(("儿媳/女婿", "儿媳", "女婿", "媳妇"), RelationToHead.CHILD_IN_LAW),
    **dict.fromkeys(("其他", "其它"), RelationToHead.OTHER),
}
RESIDENT_TAGS: dict[str, str] = {
    "留守老人": ResidentTagKind.LEFT_BEHIND_ELDERLY,
    "留守妇女": ResidentTagKind.LEFT_BEHIND_WOMAN,
    "留守儿童": ResidentTagKind.LEFT_BEHIND_CHILD,
    "低保": ResidentTagKind.LOW_INCOME,
    "残疾": ResidentTagKind.DISABILITY,
    "残疾人": ResidentTagKind.DISABILITY,
    "退役军人": ResidentTagKind.VETERAN,
    "党员": ResidentTagKind.PARTY_MEMBER,
    "返乡人员": ResidentTagKind.RETURNED_MIGRANT,
    "退休干部": ResidentTagKind.RETIRED_CADRE,
}
HOUSEHOLD_TAGS: dict[str, str] = {
    "低保户": HouseholdTagKind.LOW_INCOME,
    "脱贫户": HouseholdTagKind.POVERTY_ALLEVIATED,
    "军属户": HouseholdTagKind.MILITARY_FAMILY,
    "五保户": HouseholdTagKind.FIVE_GUARANTEES,
    "文明家庭": HouseholdTagKind.CIVILISED,
}
GENDERS = {"男": "M", "女": "F", "M": "M", "F": "F", "男性": "M", "女性": "F"}

_TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?|\s*月)?$")
_DATE_DIGITS_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_GRID_CODE_RE = re.compile(r"^\d{15}$")


_ALIASES: dict[str, str] = {}
for _field in ROSTER_FIELDS:
    for _name in (_field.header, *_field.aliases):
        _ALIASES[header_normalise(_name)] = _field.key


def header_mapping_guess(headers: list[str]) -> dict[str, str]:
    """{column index (as str): field key} for the headers we recognise; each field at most once."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        key = _ALIASES.get(header_normalise(header))
        if key and key not in taken:
            mapping[str(index)] = key
            taken.add(key)
    return mapping


def headers_match_template(headers: list[str]) -> bool:
    trimmed = list(headers)
    while trimmed and not header_normalise(trimmed[-1]):
        trimmed.pop()
    return [header_normalise(h) for h in trimmed] == TEMPLATE_HEADERS


# --- The template ---------------------------------------------------------------------------------------


def _example_id_number() -> str:
    first17 = "42062519800102001"
    return first17 + pii.id_number_check_char(first17)


def roster_template_workbook() -> BytesIO:
    """The template: sheet 花名册 (headers and one example row) and sheet 填写说明 (instructions)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="B8141B")
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
    example = {
        "household_number": EXAMPLE_HOUSEHOLD_NUMBER,
        "grid": "新华村/第一网格",
        "name": "张三",
        "gender": "男",
        "birth_date": "1980-01-02",
        "id_number": _example_id_number(),
        "phone": "13800138000",
        "relation": "户主",
        "address": "城关镇新华村一组8号",
        "tags": "退役军人,党员",
    }
    sheet.append([example[f.key] for f in ROSTER_FIELDS])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="8D949C")
    widths = {"grid": 22, "id_number": 22, "address": 26, "tags": 24, "relation": 12, "phone": 15}
    for index, roster_field in enumerate(ROSTER_FIELDS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(roster_field.key, 12)
        if roster_field.key in {"id_number", "phone", "household_number", "grid", "birth_date"}:
            # Text, so that Excel does not turn an ID number into 4.20625E+17.
            for row in range(2, 2001):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append([_("列名"), _("是否必填"), _("填写说明"), _("也可识别的列名")])
    for cell in notes[1]:
        cell.font = header_font
        cell.fill = header_fill
    for roster_field in ROSTER_FIELDS:
        notes.append(
            [
                roster_field.header,
                _("必填") if roster_field.required else _("选填"),
                str(roster_field.help),
                "、".join(roster_field.aliases),
            ]
        )
    notes.append([])
    for line in (
        _("1. 每位居民填一行；同一户的成员填写相同的“户号”和“网格”，每户须有一行“与户主关系”为“户主”。"),
        _("2. 系统中已有的户（同一网格、同一户号）会把表中的成员加入该户；已有户主的户不能再导入户主。"),
        _("3. 同一身份证号在表中只能出现一次，系统中已有的居民不会重复导入。"),
        _("4. 第2行是示例（户号为“示例”），导入时自动跳过，可以保留也可以删除。"),
        _(
            "5. 导入前系统会逐行校验：选择“全部成功才导入”时只要有一行有误就全部不导入；"
            "选择“导入有效行”时只导入无误的行。有误的行都会列在报告里（行号、列名、原因），报告可下载。"
        ),
        _("6. 列的顺序和名称可以与模板不同，上传后请在“确认表头”一步核对每列对应的内容。"),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    notes.column_dimensions["D"].width = 36
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    output = BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


# --- Reading sheets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetHeaders:
    sheet_name: str
    header_row: int  # 1-based
    headers: list[str]
    estimated_rows: int


def _sheet(workbook: Any) -> Any:
    names = workbook.sheetnames
    if not names:
        raise DomainError("roster_file_empty", _("该文件中没有工作表。"), field="file")
    return workbook["花名册"] if "花名册" in names else workbook[names[0]]


def sheet_headers_find(sheet: Any) -> SheetHeaders:
    """Find the header row of an open sheet: the first of the top ten rows naming at least two roster
    columns (village sheets often start with a title row such as “新华村花名册”); row 1 when none does."""
    top: list[list[str]] = []
    for values in sheet.iter_rows(min_row=1, max_row=10, values_only=True):
        top.append([cell_text(v) for v in values])
    if not any(any(v for v in row) for row in top):
        raise DomainError("roster_file_empty", _("工作表是空的：没有表头也没有数据。"), field="file")
    header_index = 0
    for index, row in enumerate(top):
        if len(header_mapping_guess(row)) >= 2:
            header_index = index
            break
    headers = top[header_index]
    while headers and not headers[-1]:
        headers.pop()
    max_row = sheet.max_row or 0
    return SheetHeaders(
        sheet_name=sheet.title,
        header_row=header_index + 1,
        headers=headers,
        estimated_rows=max(0, max_row - header_index - 1),
    )


# --- Creating a job -------------------------------------------------------------------------------------


def importer_region(actor: AnyUser) -> Region | None:
    """The region at which `actor` may import (the outermost of its personal-data roles), or None."""
    if not actor.is_authenticated:
        return None
    held = RoleAssignment.objects.filter(
        user_id=actor.pk, role__in=access.PERSONAL_DATA_ROLES
    ).select_related("region")
    regions = sorted((a.region for a in held), key=lambda r: (r.path.count("/"), r.path))
    return regions[0] if regions else None


def _enqueue(job: ImportJob) -> None:
    from governance.tasks import roster_import

    job_id = job.pk
    send_on_commit(roster_import, job_id)


@transaction.atomic
def roster_import_create(
    *,
    actor: AnyUser,
    upload: UploadedFile,
    mode: ImportMode,
    idempotency_key: str,
    mapping: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> ImportJob:
    """Store an uploaded roster as a queued job (the import task is enqueued after the commit) and return
    it; the same key again returns the same job.

    The task reads the header row first: when the headers are exactly the template's, or `mapping` is
    given, it goes on to validate and import; otherwise the job waits in MAPPING for the uploader to
    confirm the columns (`roster_import_map`). Reading the workbook once, in the task, keeps the upload
    request short however large the sheet.
    """
    region = importer_region(actor)
    if region is None:
        raise DomainError("roster_import_forbidden", _("您没有导入花名册的权限。"), status=403)
    actor_id = actor.pk
    assert actor_id is not None  # an importer region implies a signed-in user
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise DomainError("idempotency_key_missing", _("缺少防重复提交标识，请刷新页面后重新上传。"))
    existing = ImportJob.objects.filter(uploaded_by_id=actor.pk, idempotency_key=key).first()
    if existing is not None:
        return existing
    name = (upload.name or "").rsplit("/", 1)[-1]
    if not name.lower().endswith((".xlsx", ".xlsm")):
        raise DomainError(
            "roster_file_type",
            _("仅支持 .xlsx 文件；.xls 等旧格式请先在 Excel 中“另存为” .xlsx 再上传。"),
            field="file",
        )
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise DomainError("roster_file_too_large", _("文件不能超过 30 MB。"), field="file")
    xlsx_check(upload, code="roster_file_unreadable")
    if mapping is not None:
        unknown = sorted({key for key in mapping.values() if key and key not in FIELDS_BY_KEY})
        if unknown or not all(str(index).isdigit() for index in mapping):
            raise DomainError(
                "mapping_invalid", _("列对应关系有误：%s") % "、".join(unknown or mapping), field="mapping"
            )
    job = ImportJob(
        uploaded_by_id=actor_id,
        region=region,
        original_name=name[:200],
        mode=mode,
        idempotency_key=key,
        status=ImportStatus.QUEUED,
        # Given mappings are checked against the headers once the task has read them.
        column_mapping={str(k): v for k, v in (mapping or {}).items() if v},
    )
    job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # The same form submitted twice at once: the other request made the job.
        job.file.delete(save=False)
        return ImportJob.objects.get(uploaded_by_id=actor.pk, idempotency_key=key)
    _enqueue(job)
    return job


def mapping_validate(mapping: dict[str, str], headers: list[str]) -> dict[str, str]:
    """The mapping cleaned ({index: field}, unmapped columns dropped); DomainError naming what is wrong."""
    cleaned: dict[str, str] = {}
    seen: dict[str, str] = {}
    for index, key in mapping.items():
        if not key:
            continue
        if key not in FIELDS_BY_KEY:
            raise DomainError("mapping_unknown_field", _("无法识别的字段：%s") % key, field="mapping")
        try:
            position = int(index)
        except (TypeError, ValueError):
            raise DomainError("mapping_bad_column", _("列号无效：%s") % index, field="mapping") from None
        if not 0 <= position < len(headers):
            raise DomainError("mapping_bad_column", _("列号无效：%s") % index, field="mapping")
        if key in seen:
            raise DomainError(
                "mapping_duplicate",
                _("“%(field)s”同时对应了“%(a)s”和“%(b)s”两列，请只选一列。")
                % {"field": FIELDS_BY_KEY[key].header, "a": seen[key], "b": headers[position]},
                field="mapping",
            )
        seen[key] = headers[position] or get_column_letter(position + 1)
        cleaned[str(position)] = key
    missing = [FIELDS_BY_KEY[k].header for k in REQUIRED_FIELDS if k not in seen]
    if missing:
        raise DomainError(
            "mapping_missing_required",
            _("缺少必填列：%s。请为这些内容选择对应的列。") % "、".join(missing),
            field="mapping",
        )
    return cleaned


@transaction.atomic
def roster_import_map(*, actor: AnyUser, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    """Confirm the column mapping of a job waiting in MAPPING and queue it. Confirming a job that is
    already queued or further along returns it unchanged (a double-submitted form)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.uploaded_by_id != actor.pk:
        raise DomainError("roster_import_not_yours", _("只有上传人可以确认表头。"), status=403)
    if job.status != ImportStatus.MAPPING:
        return job
    job.column_mapping = mapping_validate(mapping, list(job.headers))
    job.status = ImportStatus.QUEUED
    job.save(update_fields=["column_mapping", "status"])
    _enqueue(job)
    return job


# --- Validating and importing ---------------------------------------------------------------------------


def progress_cache_key(job_id: int) -> str:
    return f"roster-import:{job_id}:written"


@dataclass(slots=True)
class _Row:
    number: int
    name: str = ""
    id_number: str = ""
    id_hash: str = ""
    gender: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    relation: str = ""
    grid_id: int = 0
    household_number: str = ""
    address: str = ""
    resident_tags: list[str] = field(default_factory=list)
    household_tags: list[str] = field(default_factory=list)
    ok: bool = True


class _Report:
    """The rejected rows: [{"row", "column", "value", "reason"}], in sheet and column order."""

    def __init__(self, headers: list[str], mapping: dict[str, str]) -> None:
        self.column_of = {key: int(index) for index, key in mapping.items()}
        self.headers = headers
        self.entries: list[tuple[int, int, dict[str, Any]]] = []
        self.rows: set[int] = set()

    def header(self, key: str) -> str:
        index = self.column_of.get(key)
        if index is None:
            return FIELDS_BY_KEY[key].header
        return (
            self.headers[index]
            if index < len(self.headers) and self.headers[index]
            else FIELDS_BY_KEY[key].header
        )

    def add(self, row: _Row, key: str, reason: str, value: str = "") -> None:
        row.ok = False
        self.rows.add(row.number)
        column = self.column_of.get(key, 99)
        self.entries.append(
            (
                row.number,
                column,
                {"row": row.number, "column": self.header(key), "value": value, "reason": reason},
            )
        )

    def sorted(self) -> list[dict[str, Any]]:
        return [entry for _r, _c, entry in sorted(self.entries, key=lambda e: (e[0], e[1]))]


def _masked_value(key: str, text: str) -> str:
    """What the report shows of a cell: ID numbers and phones masked (the report can be downloaded)."""
    if key == "id_number" and len(text) >= 8:
        return pii.mask_id_number(text)
    if key == "phone" and len(text) >= 7:
        return pii.mask_phone(text)
    return text[:60]


class _Grids:
    """Resolves the grid column: a 15-digit code, a grid name, or “村名/网格名” (also 村名网格名)."""

    def __init__(self, actor: AnyUser) -> None:
        rows = list(
            Region.objects.filter(level=RegionLevel.GRID).values_list("id", "name", "code", "parent__name")
        )
        self.in_scope = set(
            Region.objects.filter(level=RegionLevel.GRID)
            .filter(access.scope_q(actor, "path", access.PERSONAL_DATA_ROLES))
            .values_list("id", flat=True)
        )
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_full: dict[str, list[int]] = defaultdict(list)
        for grid_id, name, code, village in rows:
            if code:
                self.by_code[code] = grid_id
            self.by_name[name].append(grid_id)
            self.by_full[f"{village}/{name}"].append(grid_id)
            self.by_full[f"{village}{name}"].append(grid_id)
        self.cache: dict[str, tuple[int, str]] = {}

    def resolve(self, text: str) -> tuple[int, str]:
        """(grid id, "") or (0, the reason in Chinese)."""
        if text in self.cache:
            return self.cache[text]
        self.cache[text] = found = self._resolve(text)
        return found

    def _resolve(self, text: str) -> tuple[int, str]:
        if not text:
            return 0, _("网格不能为空。")
        if _GRID_CODE_RE.match(text):
            grid_id = self.by_code.get(text)
            candidates = [grid_id] if grid_id else []
        else:
            key = re.sub(r"\s*[/／\\-]\s*", "/", text.replace(" ", ""))
            candidates = self.by_full.get(key) or self.by_name.get(key) or []
        if not candidates:
            return 0, _("网格“%s”不存在，请填写正确的网格名称或15位网格编码。") % text
        mine = [c for c in candidates if c in self.in_scope]
        if not mine:
            return 0, _("网格“%s”不在您的管辖范围内。") % text
        if len(mine) > 1:
            return 0, _("网格名称“%s”对应多个网格，请填写“村名/网格名”或15位网格编码。") % text
        return mine[0], ""


def _birth_parts(value: Any) -> tuple[int, int, int | None] | None:
    if isinstance(value, dt.datetime | dt.date):
        return value.year, value.month, value.day
    text = cell_text(value)
    match = _DATE_RE.match(text) or _DATE_DIGITS_RE.match(text)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    day = int(match.group(3)) if match.group(3) else None
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return year, month, day


def _row_parse(row: _Row, cells: dict[str, Any], grids: _Grids, report: _Report) -> None:
    """Fill `row` from its cells, adding a report entry for every bad cell."""
    row.name = cell_text(cells.get("name"))[:50]
    if not row.name:
        report.add(row, "name", _("姓名不能为空。"))

    raw_id = cells.get("id_number")
    id_text = cell_text(raw_id)
    parsed: pii.IdNumber | None = None
    if not id_text:
        report.add(row, "id_number", _("身份证号不能为空。"))
    else:
        try:
            parsed = pii.id_number_parse(id_text)
        except DomainError as error:
            reason = str(error.message)
            if isinstance(raw_id, int | float):
                reason += _("（该单元格是数字格式，Excel 可能改动了号码，请把本列设为文本格式后重新填写。）")
            report.add(row, "id_number", reason, _masked_value("id_number", id_text))
    if parsed is not None:
        row.id_number = parsed.value
        row.id_hash = pii.lookup_hash(parsed.value)
        row.gender = parsed.gender
        row.birth_date = parsed.birth_date

    gender_text = cell_text(cells.get("gender"))
    if gender_text:
        gender = GENDERS.get(gender_text.upper() if len(gender_text) == 1 else gender_text)
        if gender is None:
            report.add(row, "gender", _("性别“%s”无法识别，请填写男或女。") % gender_text, gender_text)
        elif parsed is not None and gender != parsed.gender:
            report.add(
                row,
                "gender",
                _("性别与身份证号不符（身份证号显示为%s）。") % ("男" if parsed.gender == "M" else "女"),
                gender_text,
            )

    raw_birth = cells.get("birth_date")
    birth_text = cell_text(raw_birth)
    if birth_text:
        parts = _birth_parts(raw_birth)
        if parts is None:
            report.add(
                row, "birth_date", _("出生日期“%s”无法识别，请按 1980-01-02 填写。") % birth_text, birth_text
            )
        elif parsed is not None:
            year, month, day = parts
            born = parsed.birth_date
            if (year, month) != (born.year, born.month) or (day is not None and day != born.day):
                report.add(
                    row,
                    "birth_date",
                    _("出生日期与身份证号不符（身份证号显示为%s）。") % born.strftime("%Y-%m-%d"),
                    birth_text,
                )

    phone_text = cell_text(cells.get("phone"))
    if phone_text:
        try:
            row.phone = pii.phone_parse(phone_text)
        except DomainError as error:
            report.add(row, "phone", str(error.message), _masked_value("phone", phone_text))

    relation_text = cell_text(cells.get("relation")).replace(" ", "")
    if not relation_text:
        report.add(row, "relation", _("与户主关系不能为空。"))
    else:
        relation = RELATIONS.get(relation_text)
        if relation is None:
            report.add(
                row,
                "relation",
                _(
                    "与户主关系“%s”无法识别，可填：户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、儿媳/女婿、其他。"
                )
                % relation_text,
                relation_text,
            )
        else:
            row.relation = relation

    grid_text = cell_text(cells.get("grid"))
    grid_id, reason = grids.resolve(grid_text)
    if reason:
        report.add(row, "grid", reason, grid_text)
    row.grid_id = grid_id

    row.household_number = cell_text(cells.get("household_number"))[:30]
    if not row.household_number:
        report.add(row, "household_number", _("户号不能为空。"))
    row.address = cell_text(cells.get("address"))[:200]

    tags_text = cell_text(cells.get("tags"))
    if tags_text:
        unknown = []
        for tag in (t for t in _TAG_SPLIT.split(tags_text) if t):
            if tag in RESIDENT_TAGS:
                if RESIDENT_TAGS[tag] not in row.resident_tags:
                    row.resident_tags.append(RESIDENT_TAGS[tag])
            elif tag in HOUSEHOLD_TAGS:
                if HOUSEHOLD_TAGS[tag] not in row.household_tags:
                    row.household_tags.append(HOUSEHOLD_TAGS[tag])
            else:
                unknown.append(tag)
        if unknown:
            report.add(
                row,
                "tags",
                _(
                    "标签“%s”无法识别，可填：留守老人、留守妇女、留守儿童、低保、残疾、退役军人、党员、返乡人员、退休干部、低保户、脱贫户、军属户、五保户、文明家庭。"
                )
                % "、".join(unknown),
                tags_text,
            )


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _Household:
    key: tuple[int, str]
    rows: list[_Row] = field(default_factory=list)
    existing_id: int | None = None
    existing_head: bool = False


def _cross_checks(rows: list[_Row], report: _Report) -> None:
    """Checks across rows and against the database: duplicates, and one head per household."""
    first_seen: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.id_hash:
            first_seen[row.id_hash].append(row)
    for same in first_seen.values():
        if len(same) > 1:
            numbers = [r.number for r in same]
            for row in same:
                others = "、".join(str(n) for n in numbers if n != row.number)
                report.add(
                    row,
                    "id_number",
                    _("身份证号在表中重复出现（另见第%s行）。") % others,
                    _masked_value("id_number", row.id_number),
                )
    hashes = list(first_seen)
    known: set[str] = set()
    for chunk in _chunks(hashes):
        known.update(
            Resident.objects.filter(id_number_hash__in=chunk).values_list("id_number_hash", flat=True)
        )
    for id_hash in known:
        for row in first_seen[id_hash]:
            report.add(
                row,
                "id_number",
                _("该居民已在系统中登记（身份证号重复），不能重复导入。"),
                _masked_value("id_number", row.id_number),
            )

    households: dict[tuple[int, str], _Household] = {}
    for row in rows:
        if row.grid_id and row.household_number:
            key = (row.grid_id, row.household_number)
            households.setdefault(key, _Household(key)).rows.append(row)
    grid_ids = sorted({key[0] for key in households})
    for chunk in _chunks(grid_ids, 1_000):
        for household_id, grid_id, number, head_id in Household.objects.filter(grid_id__in=chunk).values_list(
            "id", "grid_id", "number", "head_id"
        ):
            found = households.get((grid_id, number))
            if found is not None:
                found.existing_id = household_id
                found.existing_head = head_id is not None

    for household in households.values():
        number = household.key[1]
        heads = [r for r in household.rows if r.relation == RelationToHead.SELF]
        if household.existing_head:
            for row in heads:
                report.add(row, "relation", _("户号“%s”在系统中已有户主，不能再导入户主。") % number, "户主")
            continue
        if not heads:
            for row in household.rows:
                report.add(row, "household_number", _("户号“%s”在表中没有户主行。") % number, number)
            continue
        if len(heads) > 1:
            head_rows = "、".join(str(r.number) for r in heads)
            for row in heads:
                report.add(
                    row,
                    "relation",
                    _("户号“%(number)s”有多个户主（第%(rows)s行）。") % {"number": number, "rows": head_rows},
                    "户主",
                )
        head = heads[0]
        if not head.ok:
            for row in household.rows:
                if row.ok:
                    report.add(
                        row,
                        "household_number",
                        _("本户户主行（第%(row)s行）有误，本户成员不能导入。") % {"row": head.number},
                        number,
                    )


def _set_progress(job_id: int, **fields: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(**fields)


def _headers_settle(job: ImportJob, sheet: Any) -> bool:
    """On the first run of a job, read its header row and settle the column mapping (the given one,
    checked against the headers, or the guess). True when the rows can be read now; False when the
    headers differ from the template's and the job now waits in MAPPING for the uploader."""
    if job.headers:
        return True
    found = sheet_headers_find(sheet)
    given = dict(job.column_mapping)
    job.sheet_name = found.sheet_name[:100]
    job.header_row = found.header_row
    job.headers = found.headers
    job.total_rows = found.estimated_rows
    job.column_mapping = (
        mapping_validate(given, found.headers) if given else header_mapping_guess(found.headers)
    )
    ready = bool(given) or headers_match_template(found.headers)
    if not ready:
        job.status = ImportStatus.MAPPING
    job.save(update_fields=["sheet_name", "header_row", "headers", "total_rows", "column_mapping", "status"])
    return ready


def _read_rows(job: ImportJob, sheet: Any, grids: _Grids, report: _Report) -> list[_Row]:
    """Every data row parsed (blank rows and the template's example row skipped)."""
    mapping = {int(index): key for index, key in job.column_mapping.items()}
    width = max(mapping) + 1 if mapping else 0
    household_column = next((i for i, k in mapping.items() if k == "household_number"), None)
    rows: list[_Row] = []
    estimate = max(0, (sheet.max_row or 0) - job.header_row)
    if estimate:
        _set_progress(job.pk, total_rows=estimate)
    number = job.header_row
    for values in sheet.iter_rows(min_row=job.header_row + 1, max_col=width, values_only=True):
        number += 1
        if not any(v is not None and str(v).strip() for v in values):
            continue
        if (
            household_column is not None
            and household_column < len(values)
            and cell_text(values[household_column]) == EXAMPLE_HOUSEHOLD_NUMBER
        ):
            continue
        cells = {key: values[i] if i < len(values) else None for i, key in mapping.items()}
        row = _Row(number=number)
        _row_parse(row, cells, grids, report)
        rows.append(row)
        if len(rows) % PROGRESS_EVERY == 0:
            _set_progress(job.pk, processed_rows=len(rows), total_rows=max(estimate, len(rows)))
    return rows


def _resident_pii(id_number: str, phone: str, id_hash: str = "") -> dict[str, str]:
    """The stored PII columns of one resident (`id_hash`, when the caller has it already, is
    pii.lookup_hash(id_number))."""
    return {**pii.id_number_columns(id_number, id_hash), **pii.phone_columns(phone)}


@dataclass
class ImportCounts:
    households: int = 0
    residents: int = 0


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


class _BulkInsert:
    """Inserts rows given as {attname: value} and returns their ids in order.

    On PostgreSQL: ids reserved from the table's own sequence (nextval, so concurrent writers never
    collide) and the rows sent with COPY, several times faster than INSERT ... RETURNING. Elsewhere
    (the SQLite demo): bulk_create. Columns a row leaves out take the field's default.
    """

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()

    def insert(self, model: type[Any], rows: list[dict[str, Any]], *, ids: bool = True) -> list[int]:
        if not rows:
            return []
        if not self.postgres:
            objects = [model(**row) for row in rows]
            model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
            return [obj.pk for obj in objects]
        reserved: list[int] = []
        with connection.cursor() as cursor:
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [model._meta.db_table, len(rows)],
                )
                reserved = [r[0] for r in cursor.fetchall()]
            plan = []
            for f in model._meta.concrete_fields:
                if f.primary_key and not ids:
                    continue
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    default: Any = self.now
                elif f.has_default():
                    default = f.get_default()
                else:
                    default = None
                plan.append((f.attname, f.column, default))
            buffer = io.StringIO()
            for index, row in enumerate(rows):
                values = []
                for attname, _column, default in plan:
                    value = reserved[index] if attname == "id" and ids else row.get(attname, default)
                    values.append(_copy_text(value))
                buffer.write("\t".join(values))
                buffer.write("\n")
            buffer.seek(0)
            quote = connection.ops.quote_name
            columns = ", ".join(quote(column) for _a, column, _d in plan)
            sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())
        return reserved


def _write(job: ImportJob, rows: list[_Row], on_progress: Callable[[int], None]) -> ImportCounts:
    """Insert the valid rows (call inside a transaction): new households, residents, heads, tags."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_LOCK])
    bulk = _BulkInsert()
    groups: dict[tuple[int, str], list[_Row]] = defaultdict(list)
    for row in rows:
        groups[(row.grid_id, row.household_number)].append(row)
    existing: dict[tuple[int, str], int] = {}
    for chunk in _chunks(sorted({k[0] for k in groups}), 1_000):
        for household_id, grid_id, number in Household.objects.filter(grid_id__in=chunk).values_list(
            "id", "grid_id", "number"
        ):
            if (grid_id, number) in groups:
                existing[(grid_id, number)] = household_id
    new_keys = [key for key in groups if key not in existing]
    new_households = []
    for key in new_keys:
        members = groups[key]
        head = next(r for r in members if r.relation == RelationToHead.SELF)
        address = head.address or next((r.address for r in members if r.address), "")
        new_households.append({"grid_id": key[0], "number": key[1], "address": address})
    household_ids = dict(existing)
    household_ids.update(zip(new_keys, bulk.insert(Household, new_households), strict=True))

    resident_ids: list[int] = []
    for batch in _chunks(rows, 10_000):
        resident_ids.extend(
            bulk.insert(
                Resident,
                [
                    {
                        "household_id": household_ids[(r.grid_id, r.household_number)],
                        "name": r.name,
                        "gender": r.gender,
                        "birth_date": r.birth_date,
                        "relation_to_head": r.relation,
                        **_resident_pii(r.id_number, r.phone, r.id_hash),
                    }
                    for r in batch
                ],
            )
        )
        on_progress(len(resident_ids))

    with_head = [
        household_ids[key]
        for key, members in groups.items()
        if any(r.relation == RelationToHead.SELF for r in members)
    ]
    first_head = (
        Resident.objects.filter(household=OuterRef("pk"), relation_to_head=RelationToHead.SELF)
        .order_by("pk")
        .values("pk")[:1]
    )
    for chunk in _chunks(with_head):
        Household.objects.filter(pk__in=chunk, head__isnull=True).update(head=Subquery(first_head))

    bulk.insert(
        ResidentTag,
        [
            {"resident_id": resident_id, "tag": tag}
            for row, resident_id in zip(rows, resident_ids, strict=True)
            for tag in row.resident_tags
        ],
        ids=False,
    )
    household_tags = {
        (household_ids[(r.grid_id, r.household_number)], tag) for r in rows for tag in r.household_tags
    }
    HouseholdTag.objects.bulk_create(
        [HouseholdTag(household_id=h, tag=t) for h, t in sorted(household_tags)],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    return ImportCounts(households=len(new_households), residents=len(resident_ids))


def _audit(job: ImportJob, actor: User, counts: ImportCounts, rejected: int, status: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=job,
        region_path=job.region.path,
        changes={
            "status": [None, status],
            "mode": [None, job.mode],
            "total_rows": [None, job.total_rows],
            "rejected_rows": [None, rejected],
            "imported_households": [None, counts.households],
            "imported_residents": [None, counts.residents],
        },
        detail=_(
            "导入花名册《%(file)s》：共%(total)d行，导入居民%(residents)d人、新建%(households)d户，有误%(rejected)d行"
        )
        % {
            "file": job.original_name,
            "total": job.total_rows,
            "residents": counts.residents,
            "households": counts.households,
            "rejected": rejected,
        },
    )


def _finish(
    job: ImportJob,
    *,
    status: ImportStatus,
    counts: ImportCounts,
    rows_total: int,
    valid: int,
    report: list[dict[str, Any]],
    rejected: int,
    message: str = "",
) -> None:
    job.status = status
    job.total_rows = rows_total
    job.processed_rows = rows_total
    job.valid_rows = valid
    job.rejected_rows = rejected
    job.imported_households = counts.households
    job.imported_residents = counts.residents
    job.errors = report
    job.failure_message = message[:300]
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "total_rows",
            "processed_rows",
            "valid_rows",
            "rejected_rows",
            "imported_households",
            "imported_residents",
            "errors",
            "failure_message",
            "finished_at",
        ]
    )
    _audit(job, job.uploaded_by, counts, rejected, status)


def roster_import_run(*, job_id: int) -> ImportJob:
    """Validate and import a queued job; return it finished (succeeded, rejected or failed), or waiting
    in MAPPING when its headers are not the template's and no mapping was given.

    Claims the job with a conditional UPDATE (queued → validating), so a task delivered twice runs it
    once; a job neither queued nor left stale by a dead worker is returned as it is. A database that
    goes away mid-run puts the job back in the queue and re-raises (the task retries); any other error
    ends the job as failed.
    """
    now = timezone.now()
    # A worker that died mid-run (the broker redelivers its task: acks_late) leaves the job validating
    # or importing, with its writes rolled back; after STALE_AFTER the job may be claimed again.
    stale = Q(status__in=[ImportStatus.VALIDATING, ImportStatus.IMPORTING], started_at__lt=now - STALE_AFTER)
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=ImportStatus.QUEUED) | stale)
        .update(status=ImportStatus.VALIDATING, started_at=now, processed_rows=0)
    )
    job = ImportJob.objects.select_related("uploaded_by", "region").get(pk=job_id)
    if not claimed:
        return job
    try:
        _run(job)
    except (OperationalError, InterfaceError):
        ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.QUEUED)
        raise
    except DomainError as error:
        _fail(job, str(error.message))
    except Exception:
        logger.exception("roster import %s failed", job_id)
        _fail(job, _("导入过程中发生意外错误，没有写入任何数据。请稍后重试或联系管理员。"))
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, message: str) -> None:
    job.refresh_from_db(fields=["processed_rows"])
    with transaction.atomic():
        _finish(
            job,
            status=ImportStatus.FAILED,
            counts=ImportCounts(),
            rows_total=job.processed_rows,
            valid=0,
            report=[],
            rejected=0,
            message=message,
        )


def _run(job: ImportJob) -> None:
    with job.file.open("rb") as source:
        workbook = workbook_open(source, code="roster_file_unreadable")
        try:
            sheet = workbook[job.sheet_name] if job.sheet_name in workbook.sheetnames else _sheet(workbook)
            if not _headers_settle(job, sheet):
                return
            report = _Report(list(job.headers), dict(job.column_mapping))
            rows = _read_rows(job, sheet, _Grids(job.uploaded_by), report)
        finally:
            workbook.close()
    if not rows:
        raise DomainError("roster_no_rows", _("表中没有数据行。"))
    _set_progress(job.pk, processed_rows=len(rows), total_rows=len(rows))
    _cross_checks(rows, report)
    valid = [r for r in rows if r.ok]
    rejected = len(rows) - len(valid)
    entries = report.sorted()
    if not valid or (rejected and job.mode == ImportMode.ALL_OR_NOTHING):
        with transaction.atomic():
            _finish(
                job,
                status=ImportStatus.REJECTED,
                counts=ImportCounts(),
                rows_total=len(rows),
                valid=len(valid),
                report=entries,
                rejected=rejected,
            )
        return

    _set_progress(job.pk, status=ImportStatus.IMPORTING, valid_rows=len(valid))
    key = progress_cache_key(job.pk)
    try:
        with transaction.atomic():
            counts = _write(job, valid, lambda n: cache.set(key, n, 3600))
            _finish(
                job,
                status=ImportStatus.SUCCEEDED,
                counts=counts,
                rows_total=len(rows),
                valid=len(valid),
                report=entries,
                rejected=rejected,
            )
    except IntegrityError:
        logger.warning("roster import %s hit a conflicting concurrent write", job.pk, exc_info=True)
        raise DomainError(
            "roster_conflict",
            _("导入时发现有人同时登记了相同的居民或户号，本次没有写入任何数据，请重新上传。"),
        ) from None
    finally:
        cache.delete(key)


def roster_report_rows(job: ImportJob) -> Iterable[list[Any]]:
    """The report as spreadsheet rows: 行号, 列, 填写内容, 原因."""
    for entry in job.errors:
        yield [entry["row"], entry["column"], entry.get("value", ""), entry["reason"]]


@transaction.atomic
def roster_report_export(*, actor: AnyUser, job: ImportJob, request: HttpRequest | None = None) -> None:
    """Record the download of a job's report (it names people, so it counts as an export)."""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=job,
        region_path=job.region.path,
        changes={"rows": [None, len(job.errors)]},
        detail=_("下载花名册导入报告《%s》") % job.original_name,
        request=request,
    )
