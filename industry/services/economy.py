"""Writes of the village collective economy (村级集体经济): a village's income by source for a year, set as
a whole by whoever may record for the village (industry.access.can_record_for_region), and the county's
yearly thresholds (county admin, industry.access.can_manage_chains).

Amounts arrive as typed in 元 (e.g. "120000", "¥12,000.50") or as integer fen from the API; they are
stored in fen. A blank amount means "no income from that source" and removes the row; "0" keeps a row of
0, so a village that reported nothing is told apart from one that has not reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel
from industry import access
from industry.models import CollectiveIncome, CollectiveThreshold, IncomeSource

AnyUser = AbstractBaseUser | AnonymousUser

SCOPE_INCOME = "industry.collective_income_set"
SCOPE_THRESHOLD = "industry.threshold_set"
FIRST_YEAR = 2000
# One source above 1 亿元 in a village's year is a typing mistake, not income.
SOURCE_MAX_FEN = 100_000_000 * 100
THRESHOLD_MAX_FEN = 100_000_000 * 100
VILLAGE_NOT_FOUND = gettext_lazy("未找到该村（社区），或者它不在您的管辖范围内。")


@dataclass(frozen=True)
class YearIncome:
    """What a village holds for a year after a write: amounts in fen per source (only sources with a
    row), and their total."""

    village: Region
    year: int
    amounts_fen: dict[str, int]

    @property
    def total_fen(self) -> int:
        return sum(self.amounts_fen.values())


def year_clean(value: Any, *, field: str = "year", allow_next: bool = False) -> int:
    """The year as an int between 2000 and this year (next year too when `allow_next`: a threshold may be
    set ahead). DomainError `bad_year` next to `field` otherwise."""
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("bad_year", _("请选择年度。"), field=field) from None
    last = timezone.localdate().year + (1 if allow_next else 0)
    if not FIRST_YEAR <= year <= last:
        raise DomainError(
            "bad_year",
            _("年度须在 %(first)s 年到 %(last)s 年之间。") % {"first": FIRST_YEAR, "last": last},
            field=field,
        )
    return year


def yuan_to_fen(value: Any, *, field: str, maximum: int, allow_blank: bool = True) -> int | None:
    """Fen for a yuan figure typed as "4", "4.5", "¥12,000.50" or "3000元"; None for a blank one when
    `allow_blank`. DomainError `bad_amount` next to `field` for anything else, a negative figure or more
    than two decimals; `amount_too_large` above `maximum` fen."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_blank:
            return None
        raise DomainError("amount_required", _("请填写金额。"), field=field)
    cleaned = (
        str(value)
        .strip()
        .replace("¥", "")
        .replace("￥", "")
        .replace(",", "")
        .replace("，", "")
        .replace("元", "")
    )
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError(
            "bad_amount", _("金额应为不小于 0 的数字（元），最多两位小数。"), field=field
        ) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("bad_amount", _("金额应为不小于 0 的数字（元），最多两位小数。"), field=field)
    # The range before quantize(): a figure like 1e30 would overflow the decimal context there.
    if amount > Decimal(maximum) / 100:
        raise DomainError(
            "amount_too_large",
            _("金额不能超过 %(max)s 万元，请核对。") % {"max": f"{maximum // 1_000_000:,}"},
            field=field,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_amount", _("金额应为不小于 0 的数字（元），最多两位小数。"), field=field)
    return int(amount * 100)


def _fen_clean(value: Any, *, field: str, maximum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DomainError("bad_amount", _("金额（分）须是不小于 0 的整数。"), field=field)
    if value > maximum:
        raise DomainError("amount_too_large", _("金额过大，请核对。"), field=field)
    return value


def amounts_clean(
    *, amounts_yuan: Mapping[str, Any] | None, amounts_fen: Mapping[str, Any] | None
) -> dict[str, int | None]:
    """Every IncomeSource → fen or None (no income from it), from what was typed in yuan or sent in fen.
    DomainError next to the source's field (`amount_<source>`) for a bad figure, `bad_source` for a source
    that does not exist."""
    given: Mapping[str, Any] = amounts_fen if amounts_fen is not None else (amounts_yuan or {})
    unknown = sorted(set(given) - set(IncomeSource.values))
    if unknown:
        raise DomainError(
            "bad_source",
            _("没有这个收入来源：%(source)s。") % {"source": "、".join(unknown)},
            field="amounts",
        )
    cleaned: dict[str, int | None] = {}
    for source in IncomeSource.values:
        field = f"amount_{source}"
        if amounts_fen is not None:
            cleaned[source] = _fen_clean(given.get(source), field=field, maximum=SOURCE_MAX_FEN)
        else:
            cleaned[source] = yuan_to_fen(given.get(source), field=field, maximum=SOURCE_MAX_FEN)
    return cleaned


def _village_runnable(actor: AnyUser, village: Region) -> Region:
    if not access.can_record_for_region(actor, village.path):
        raise NotFound(VILLAGE_NOT_FOUND)
    if village.level != RegionLevel.VILLAGE:
        raise DomainError("not_a_village", _("只能为村（社区）填报集体经济收入。"), field="village")
    return village


def collective_income_set(
    *,
    actor: AnyUser,
    idempotency_key: str,
    village: Region,
    year: Any,
    amounts_yuan: Mapping[str, Any] | None = None,
    amounts_fen: Mapping[str, Any] | None = None,
) -> YearIncome:
    """Set `village`'s collective income for `year`, source by source: each source's row is created,
    changed or (blank) removed so the village holds exactly what was given. Returns what it holds after.

    NotFound (404) unless `actor` may record for the village; DomainError next to the field for a bad
    year or amount. Exactly once per (actor, key): a replay writes nothing and returns the current figures.
    Concurrent writes for the same village queue on the village's row."""
    _village_runnable(actor, village)
    year = year_clean(year)
    cleaned = amounts_clean(amounts_yuan=amounts_yuan, amounts_fen=amounts_fen)
    body = {"village": village.pk, "year": year, "amounts_fen": cleaned}
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_INCOME, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is None:
            Region.objects.select_for_update().filter(pk=village.pk).first()
            existing = {
                row.source: row for row in CollectiveIncome.objects.filter(village=village, year=year)
            }
            changes: dict[str, list[Any]] = {}
            for source, fen in cleaned.items():
                row = existing.get(source)
                before = row.amount_fen if row is not None else None
                if fen is None and row is not None:
                    row.delete()
                elif fen is not None and row is None:
                    CollectiveIncome.objects.create(
                        village=village, year=year, source=source, amount_fen=fen, recorded_by_id=actor.pk
                    )
                elif fen is not None and row is not None and row.amount_fen != fen:
                    row.amount_fen = fen
                    row.recorded_by_id = actor.pk
                    row.save(update_fields=["amount_fen", "recorded_by", "updated_at"])
                if before != fen:
                    changes[source] = [before, fen]
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE if existing else AuditAction.CREATE,
                object_type="industry.collectiveincome",
                object_id=f"{village.pk}/{year}",
                object_repr=_("%(village)s %(year)s 年集体经济收入")
                % {"village": village.name, "year": year},
                region_path=village.path,
                changes={**changes, "idempotency_key": [None, idempotency_key]},
            )
            idempotency_finish(
                actor=actor,
                scope=SCOPE_INCOME,
                key=idempotency_key,
                status_code=200,
                response={"id": village.pk},
            )
    amounts = dict(
        CollectiveIncome.objects.filter(village=village, year=year).values_list("source", "amount_fen")
    )
    return YearIncome(village=village, year=year, amounts_fen=amounts)


def threshold_set(
    *,
    actor: AnyUser,
    idempotency_key: str,
    year: Any,
    weak_below_yuan: Any = None,
    strong_from_yuan: Any = None,
    weak_below_fen: int | None = None,
    strong_from_fen: int | None = None,
) -> CollectiveThreshold:
    """Set the county's lines for `year` (county admin): a village below `weak_below` is weak (薄弱村), at
    or above `strong_from` (optional) strong. Amounts in yuan as typed, or in fen from the API.
    NotFound for anyone else; DomainError for a missing or non-positive weak line, or a strong line not
    above it. Exactly once per (actor, key)."""
    if not access.can_manage_chains(actor):
        raise NotFound(_("未找到该页面，或者您没有权限。"))
    year = year_clean(year, allow_next=True)
    if weak_below_fen is None:
        weak_below_fen = yuan_to_fen(
            weak_below_yuan, field="weak_below_yuan", maximum=THRESHOLD_MAX_FEN, allow_blank=False
        )
    else:
        weak_below_fen = _fen_clean(weak_below_fen, field="weak_below_yuan", maximum=THRESHOLD_MAX_FEN)
    if strong_from_fen is None:
        strong_from_fen = yuan_to_fen(strong_from_yuan, field="strong_from_yuan", maximum=THRESHOLD_MAX_FEN)
    else:
        strong_from_fen = _fen_clean(strong_from_fen, field="strong_from_yuan", maximum=THRESHOLD_MAX_FEN)
    if not weak_below_fen:
        raise DomainError("bad_threshold", _("薄弱村标准须大于 0。"), field="weak_below_yuan")
    if strong_from_fen is not None and strong_from_fen <= weak_below_fen:
        raise DomainError("threshold_order", _("强村标准须高于薄弱村标准。"), field="strong_from_yuan")
    body = {"year": year, "weak_below_fen": weak_below_fen, "strong_from_fen": strong_from_fen}
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_THRESHOLD, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is not None:
            return CollectiveThreshold.objects.get(pk=replay.response["id"])
        threshold = CollectiveThreshold.objects.select_for_update().filter(year=year).first()
        before = (
            {"weak_below_fen": threshold.weak_below_fen, "strong_from_fen": threshold.strong_from_fen}
            if threshold is not None
            else {"weak_below_fen": None, "strong_from_fen": None}
        )
        if threshold is None:
            threshold = CollectiveThreshold.objects.create(
                year=year, weak_below_fen=weak_below_fen, strong_from_fen=strong_from_fen
            )
        else:
            threshold.weak_below_fen = weak_below_fen
            threshold.strong_from_fen = strong_from_fen
            threshold.save(update_fields=["weak_below_fen", "strong_from_fen", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before["weak_below_fen"] is not None else AuditAction.CREATE,
            obj=threshold,
            changes={
                "weak_below_fen": [before["weak_below_fen"], weak_below_fen],
                "strong_from_fen": [before["strong_from_fen"], strong_from_fen],
                "idempotency_key": [None, idempotency_key],
            },
        )
        idempotency_finish(
            actor=actor,
            scope=SCOPE_THRESHOLD,
            key=idempotency_key,
            status_code=200,
            response={"id": threshold.pk},
        )
    return threshold
