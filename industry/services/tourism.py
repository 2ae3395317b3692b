"""Tourism figures (旅游统计): visitor trips (游客接待量) and tourism income (旅游综合收入) per month, for
a village or town, or for a joint community's brand (exactly one of the two).

Who records: for a region, whoever may record for it (industry.access.can_record_for_region: the county,
the township admin, the village secretary); for a brand, whoever may manage its joint community
(can_manage_joint over its lead village). Anyone else gets NotFound, like a subject that does not exist.

A month is upserted: the first entry creates its row, a later one changes it (the row is not a ledger:
the audit log keeps every change with its before and after). Every write is exactly once per
(actor, key) and writes one audit entry per month it changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from common.xlsx import cell_text
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel
from industry import access
from industry.access import AnyUser
from industry.models import JointCommunity, TourismRecord

SCOPE_MONTH = "industry.tourism_month"
SCOPE_YEAR = "industry.tourism_year"
FIRST_YEAR = 2000
# Per subject and month: the 500,000-visit brand has ~40,000 a month; past these it is a typing mistake.
VISITS_MAX = 10_000_000
INCOME_MAX_FEN = 1_000_000_000 * 100  # ¥10 亿 in one month
NOTE_MAX = 200
SUBJECT_NOT_FOUND = gettext_lazy("未找到该村镇或联建品牌，或者您无权填报它的旅游统计。")
SUBJECT_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)


@dataclass(frozen=True)
class TourismSubject:
    """What a tourism figure is about: a region (township or village) or a joint community's brand."""

    region: Region | None = None
    community: JointCommunity | None = None

    @property
    def kind(self) -> str:
        return "region" if self.region is not None else "community"

    @property
    def pk(self) -> int:
        found = self.region if self.region is not None else self.community
        assert found is not None
        return int(found.pk)

    @property
    def name(self) -> str:
        if self.region is not None:
            return self.region.name
        assert self.community is not None
        return self.community.brand or self.community.name

    @property
    def scope_path(self) -> str:
        """The region path that scopes the subject: the region's, or the brand's lead village's."""
        if self.region is not None:
            return str(self.region.path)
        assert self.community is not None
        return str(self.community.lead_region.path)

    def lookup(self) -> dict[str, Any]:
        return {"region": self.region} if self.region is not None else {"community": self.community}


def tourism_subject(
    *, region: Region | None = None, community: JointCommunity | None = None
) -> TourismSubject:
    """The subject for exactly one of `region` / `community`; DomainError otherwise, or when the region
    is not a township or village."""
    if (region is None) == (community is None):
        raise DomainError("subject_required", _("请选择一个村镇或一个联建品牌（二选一）。"), field="subject")
    if region is not None and region.level not in SUBJECT_LEVELS:
        raise DomainError("bad_subject", _("旅游统计按乡镇或村（社区）填报。"), field="subject")
    return TourismSubject(region=region, community=community)


def can_record_tourism(user: AnyUser, subject: TourismSubject) -> bool:
    """Whether `user` may record `subject`'s figures (see the module docstring)."""
    if subject.region is not None:
        return access.can_record_for_region(user, subject.scope_path)
    return access.can_manage_joint(user, subject.scope_path)


def visits_parse(value: Any, *, field: str = "visits") -> int:
    """Visitor trips: a whole number from 0 to VISITS_MAX ("12000", "12,000", 12000.0 from a cell)."""
    text = cell_text(value).replace(",", "").replace("，", "").replace("人次", "").strip()
    message = _("游客接待量应为不小于 0 的整数（人次）。")
    if not text:
        raise DomainError("visits_required", _("请填写游客接待量。"), field=field)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_visits", message, field=field) from None
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        raise DomainError("bad_visits", message, field=field)
    if number > VISITS_MAX:
        raise DomainError(
            "bad_visits",
            _("一个月的游客接待量不超过 %(max)s 人次，请核对。") % {"max": f"{VISITS_MAX:,}"},
            field=field,
        )
    return int(number)


def income_fen_parse(value: Any, *, field: str = "income_yuan") -> int:
    """Tourism income typed in yuan ("350000", "35,000.50", "¥88") as fen: 0 or more, two decimals."""
    text = cell_text(value)
    for mark in ("¥", "￥", ",", "，", "元"):
        text = text.replace(mark, "")
    message = _("旅游综合收入应为不小于 0 的金额（元），最多两位小数，例如 350000.50。")
    if not text:
        raise DomainError("income_required", _("请填写旅游综合收入。"), field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_income", message, field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_income", message, field=field)
    fen = int(amount * 100)
    if fen > INCOME_MAX_FEN:
        raise DomainError("bad_income", _("一个月的旅游综合收入不超过 10 亿元，请核对。"), field=field)
    return fen


def month_clean(value: Any, *, field: str = "month") -> dt.date:
    """The first day of a month given as a date or "2024-05" / "2024-05-01"; not before FIRST_YEAR and
    not after the current month."""
    message = _("月份格式不对，例如 2024-05。")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        month = value.replace(day=1)
    else:
        parts = cell_text(value).replace("/", "-").replace("年", "-").replace("月", "").strip("-").split("-")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise DomainError("bad_month", message, field=field)
        try:
            month = dt.date(int(parts[0]), int(parts[1]), 1)
        except ValueError:
            raise DomainError("bad_month", message, field=field) from None
    if month.year < FIRST_YEAR:
        raise DomainError("bad_month", _("月份不能早于 %(y)s 年。") % {"y": FIRST_YEAR}, field=field)
    if month > timezone.localdate().replace(day=1):
        raise DomainError("future_month", _("不能填报未来月份的旅游统计。"), field=field)
    return month


def year_clean(value: Any, *, field: str = "year") -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise DomainError("bad_year", _("请选择年度。"), field=field) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise DomainError(
            "bad_year", _("年度须在 %(first)s 年到今年之间。") % {"first": FIRST_YEAR}, field=field
        )
    return year


def tourism_month_set(
    *,
    actor: AnyUser,
    idempotency_key: str,
    subject: TourismSubject,
    month: Any,
    visits: Any,
    income_yuan: Any = None,
    income_fen: int | None = None,
    note: str = "",
) -> TourismRecord:
    """Create or change `subject`'s figures for `month`; returns the record. Income comes in yuan as
    typed (`income_yuan`) or in fen (`income_fen`). NotFound unless the actor may record for the
    subject; DomainError next to the field for a bad month, visits, income or note."""
    if not can_record_tourism(actor, subject):
        raise NotFound(SUBJECT_NOT_FOUND)
    month = month_clean(month)
    visits = visits_parse(visits)
    income_fen = _income(income_yuan, income_fen)
    note = _note(note)
    with transaction.atomic():
        body = {"subject": [subject.kind, subject.pk], "month": month, "visits": visits, "income": income_fen}
        replay = idempotency_begin(
            actor=actor,
            scope=SCOPE_MONTH,
            key=idempotency_key,
            fingerprint=body_fingerprint(body | {"note": note}),
        )
        if replay is not None:
            return TourismRecord.objects.get(pk=replay.response["id"])
        _subject_lock(subject)
        record = _month_write(
            actor=actor,
            key=idempotency_key,
            subject=subject,
            month=month,
            visits=visits,
            income_fen=income_fen,
            note=note,
        )
        idempotency_finish(
            actor=actor, scope=SCOPE_MONTH, key=idempotency_key, status_code=200, response={"id": record.pk}
        )
    return record


def tourism_record_update(
    *,
    actor: AnyUser,
    idempotency_key: str,
    record: TourismRecord,
    visits: Any,
    income_fen: int,
    note: str = "",
) -> TourismRecord:
    """Change one existing month's figures (the API's PUT); as tourism_month_set for that month."""
    subject = TourismSubject(region=record.region, community=record.community)
    return tourism_month_set(
        actor=actor,
        idempotency_key=idempotency_key,
        subject=subject,
        month=record.month,
        visits=visits,
        income_fen=income_fen,
        note=note,
    )


def tourism_year_save(
    *,
    actor: AnyUser,
    idempotency_key: str,
    subject: TourismSubject,
    year: Any,
    rows: Mapping[int, tuple[Any, Any]],
) -> list[TourismRecord]:
    """Save the month grid of `year` for `subject`: `rows` maps a month number (1–12) to what was typed
    as (visits, income in yuan). A row left wholly blank is left as it is; a half-filled row, bad
    figures or a future month are refused — all of them at once: DomainError `bad_rows` whose
    `extra["errors"]` maps `visits_<m>` / `income_<m>` to the message. Nothing is written unless every
    row is right. Returns the year's records, by month."""
    if not can_record_tourism(actor, subject):
        raise NotFound(SUBJECT_NOT_FOUND)
    year = year_clean(year)
    clean: dict[int, tuple[int, int]] = {}
    errors: dict[str, str] = {}
    for number in range(1, 13):
        visits_text, income_text = rows.get(number, ("", ""))
        if not cell_text(visits_text) and not cell_text(income_text):
            continue
        visits = income = None
        try:
            month_clean(dt.date(year, number, 1), field=f"visits_{number}")
        except DomainError as error:
            errors[f"visits_{number}"] = str(error.message)
            continue
        try:
            visits = visits_parse(visits_text, field=f"visits_{number}")
        except DomainError as error:
            errors[f"visits_{number}"] = str(error.message)
        try:
            income = income_fen_parse(income_text, field=f"income_{number}")
        except DomainError as error:
            errors[f"income_{number}"] = str(error.message)
        if visits is not None and income is not None:
            clean[number] = (visits, income)
    if errors:
        raise DomainError(
            "bad_rows",
            _("有 %(n)s 处填写有误，请按提示改正后再保存。") % {"n": len(errors)},
            field="rows",
            errors=errors,
        )
    with transaction.atomic():
        body = {"subject": [subject.kind, subject.pk], "year": year, "rows": sorted(clean.items())}
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_YEAR, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is None:
            _subject_lock(subject)
            for number, (visits, income) in sorted(clean.items()):
                _month_write(
                    actor=actor,
                    key=idempotency_key,
                    subject=subject,
                    month=dt.date(year, number, 1),
                    visits=visits,
                    income_fen=income,
                    note=None,
                )
            idempotency_finish(
                actor=actor, scope=SCOPE_YEAR, key=idempotency_key, status_code=200, response={"year": year}
            )
    return list(TourismRecord.objects.filter(**subject.lookup(), month__year=year).order_by("month"))


# --- inside the transaction -----------------------------------------------------------------------------


def _subject_lock(subject: TourismSubject) -> None:
    """Lock the subject's row: two first entries of the same month then cannot both insert (the second
    waits and finds the first's row)."""
    if subject.region is not None:
        Region.objects.select_for_update().filter(pk=subject.region.pk).exists()
    else:
        assert subject.community is not None
        JointCommunity.objects.select_for_update().filter(pk=subject.community.pk).exists()


def _month_write(
    *,
    actor: AnyUser,
    key: str,
    subject: TourismSubject,
    month: dt.date,
    visits: int,
    income_fen: int,
    note: str | None,
) -> TourismRecord:
    """Upsert one month (`note` None keeps the stored note) and audit it when anything changed."""
    record = TourismRecord.objects.filter(**subject.lookup(), month=month).first()
    if record is None:
        record = TourismRecord.objects.create(
            **subject.lookup(),
            month=month,
            visits=visits,
            income_fen=income_fen,
            note=note or "",
            recorded_by_id=actor.pk,
        )
        changes: dict[str, Any] = {"visits": [None, visits], "income_fen": [None, income_fen]}
        action = AuditAction.CREATE
    else:
        changes = {}
        if record.visits != visits:
            changes["visits"] = [record.visits, visits]
        if record.income_fen != income_fen:
            changes["income_fen"] = [record.income_fen, income_fen]
        if note is not None and record.note != note:
            changes["note"] = [record.note, note]
        if not changes:
            return record
        record.visits, record.income_fen = visits, income_fen
        if note is not None:
            record.note = note
        record.recorded_by_id = actor.pk
        record.save(update_fields=["visits", "income_fen", "note", "recorded_by", "updated_at"])
        action = AuditAction.UPDATE
    audit_record(
        actor=actor,
        action=action,
        obj=record,
        object_repr=f"{subject.name} {month:%Y-%m}",
        region_path=subject.scope_path,
        changes=changes | {"idempotency_key": [None, key]},
    )
    return record


def _income(income_yuan: Any, income_fen: int | None) -> int:
    if income_fen is None:
        return income_fen_parse(income_yuan)
    if isinstance(income_fen, bool) or not isinstance(income_fen, int) or income_fen < 0:
        raise DomainError("bad_income", _("旅游综合收入不能为负数。"), field="income_fen")
    if income_fen > INCOME_MAX_FEN:
        raise DomainError("bad_income", _("一个月的旅游综合收入不超过 10 亿元，请核对。"), field="income_fen")
    return income_fen


def _note(note: Any) -> str:
    text = cell_text(note)
    if len(text) > NOTE_MAX:
        raise DomainError("note_too_long", _("说明最多 %(max)s 个字。") % {"max": NOTE_MAX}, field="note")
    return text
