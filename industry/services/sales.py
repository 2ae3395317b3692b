"""Sales records of an expo or festival: post one, reverse one, correct one (reverse + a new record).

The sales table is a ledger (industry/models/events.py, migration 0002): posted rows never change; a
reversal names the record it undoes and negates exactly its quantity and amount; a reversal is never
reversed. An event's sales total is therefore always the plain sum of its records.

Exactly once: every record carries its own UNIQUE `idempotency_key`. Sending a key again with the same
sale returns the first record and writes nothing; the same key with a different sale is Conflict 409
`idempotency_key_reused`. A concurrent twin waits on the UNIQUE index and then finds the first record.

Who: whoever runs the event (industry.access.can_run_event); anyone else gets NotFound (404). The rules
a sale must keep are industry/services/sales_rules.py's, shared with the page, the API and the import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import Conflict, DomainError, NotFound
from common.idempotency import idempotency_key_clean
from governance.audit import audit_record
from governance.models import AuditAction, User
from industry import access
from industry.access import AnyUser
from industry.models import Event, Exhibitor, Product, SalesChannel, SalesImportJob, SalesRecord, SalesSource
from industry.services import sales_rules

SALE_NOT_FOUND = gettext_lazy("未找到该销售记录，或者它不在您的管辖范围内。")
PRODUCT_NOT_FOUND = gettext_lazy("未找到该产品，请从农产品目录中选择。")
REASON_MAX = 200


@dataclass(frozen=True)
class SaleValues:
    """A sale's clean values, as the ledger stores them."""

    exhibitor: Exhibitor
    product: Product
    channel: str
    platform: str
    sold_on: dt.date
    quantity: Decimal
    amount_fen: int


def sale_values_check(
    *,
    event: Event,
    exhibitor: Exhibitor,
    product: Product,
    channel: str,
    platform: str,
    sold_on: dt.date,
    quantity: Decimal | str | int,
    amount_fen: int,
    today: dt.date | None = None,
) -> SaleValues:
    """The clean values of one sale at `event`, or DomainError with the field it belongs to: an exhibitor
    of another event, a channel other than 线上/线下, online without a platform, a date outside the event
    or in the future, an amount not above zero (or above ten million yuan), a bad quantity."""
    if exhibitor.event_id != event.pk:
        raise DomainError("exhibitor_not_in_event", _("该参展主体不属于本次展会节会。"), field="exhibitor")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise DomainError("bad_amount", _("请填写销售额。"), field="amount_yuan")
    # The same parser as page and import, so a wrong amount is refused with the same words.
    sales_rules.amount_fen_parse(Decimal(amount_fen) / 100)
    channel_value = sales_rules.channel_parse(channel)
    return SaleValues(
        exhibitor=exhibitor,
        product=product,
        channel=channel_value.value,
        platform=sales_rules.platform_clean(channel_value, platform),
        sold_on=sales_rules.sold_on_check(
            sold_on, starts_on=event.starts_on, ends_on=event.ends_on, today=today or timezone.localdate()
        ),
        quantity=sales_rules.quantity_parse(quantity),
        amount_fen=amount_fen,
    )


def _same_sale(record: SalesRecord, event: Event, values: SaleValues) -> bool:
    return (
        record.reverses_id is None
        and record.event_id == event.pk
        and record.exhibitor_id == values.exhibitor.pk
        and record.product_id == values.product.pk
        and record.channel == values.channel
        and record.platform == values.platform
        and record.sold_on == values.sold_on
        and Decimal(record.quantity) == values.quantity
        and record.amount_fen == values.amount_fen
    )


def _key_reused() -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        _("同一防重复提交标识已用于另一笔不同内容的提交，请刷新页面后重新提交。"),
    )


def _recorder(actor: AnyUser) -> User | None:
    return actor if isinstance(actor, User) else None


def _require_run(actor: AnyUser, event: Event) -> None:
    if not access.can_run_event(actor, event):
        raise NotFound(access.EVENT_NOT_FOUND)


def _insert(**fields: Any) -> SalesRecord | None:
    """Insert one record; None when its idempotency key was taken meanwhile (a concurrent twin)."""
    try:
        with transaction.atomic():
            return SalesRecord.objects.create(**fields)
    except IntegrityError:
        if SalesRecord.objects.filter(idempotency_key=fields["idempotency_key"]).exists():
            return None
        raise


def _post(
    *,
    actor: AnyUser,
    key: str,
    event: Event,
    values: SaleValues,
    source: str,
    import_job: SalesImportJob | None,
    audit: bool,
) -> SalesRecord:
    existing = SalesRecord.objects.filter(idempotency_key=key).first()
    if existing is None:
        existing = _insert(
            event=event,
            exhibitor=values.exhibitor,
            product=values.product,
            channel=values.channel,
            platform=values.platform,
            sold_on=values.sold_on,
            quantity=values.quantity,
            amount_fen=values.amount_fen,
            source=source,
            import_job=import_job,
            idempotency_key=key,
            recorded_by=_recorder(actor),
        )
        if existing is not None:
            if audit:
                audit_record(
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=existing,
                    object_repr=f"{event.name} · {values.product.name} · {values.amount_fen}",
                    region_path=event.region.path,
                    changes={
                        "exhibitor": [None, values.exhibitor.pk],
                        "product": [None, values.product.code],
                        "channel": [None, values.channel],
                        "platform": [None, values.platform],
                        "sold_on": [None, str(values.sold_on)],
                        "quantity": [None, str(values.quantity)],
                        "amount_fen": [None, values.amount_fen],
                        "source": [None, source],
                        "idempotency_key": [None, key],
                    },
                )
            return existing
        existing = SalesRecord.objects.get(idempotency_key=key)
    if not _same_sale(existing, event, values):
        raise _key_reused()
    return existing


def sales_record_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    event: Event,
    exhibitor: Exhibitor,
    product: Product,
    channel: str,
    platform: str,
    sold_on: dt.date,
    quantity: Decimal | str | int,
    amount_fen: int,
    source: str = SalesSource.PAGE,
    import_job: SalesImportJob | None = None,
    audit: bool = True,
    today: dt.date | None = None,
) -> SalesRecord:
    """Post one sale at `event` (whoever runs it). Returns the new record, or the first one for a replay
    of `idempotency_key`. DomainError per sale_values_check; Conflict 409 for a key reused with another
    sale. `audit=False` is for the Excel import, which audits once per job."""
    key = idempotency_key_clean(idempotency_key)
    if source not in SalesSource.values:
        raise DomainError("bad_source", _("来源不正确。"), field="source")
    with transaction.atomic():
        event = Event.objects.select_related("region").get(pk=event.pk)
        _require_run(actor, event)
        values = sale_values_check(
            event=event,
            exhibitor=exhibitor,
            product=product,
            channel=channel,
            platform=platform,
            sold_on=sold_on,
            quantity=quantity,
            amount_fen=amount_fen,
            today=today,
        )
        return _post(
            actor=actor,
            key=key,
            event=event,
            values=values,
            source=source,
            import_job=import_job,
            audit=audit,
        )


def _reason_clean(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise DomainError("reason_required", _("请填写更正原因。"), field="reason")
    if len(text) > REASON_MAX:
        raise DomainError("reason_too_long", _("更正原因最多 200 个字。"), field="reason")
    return text


def _reverse(*, actor: AnyUser, key: str, original: SalesRecord, reason: str, source: str) -> SalesRecord:
    """The reversal of `original` (locked by the caller) under `key`: the first one for a replay."""
    existing = SalesRecord.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.reverses_id != original.pk or existing.reason != reason:
            raise _key_reused()
        return existing
    if original.reverses_id is not None:
        raise Conflict("reversal_not_reversible", _("这是一条冲正记录，不能再冲正。"))
    if SalesRecord.objects.filter(reverses=original).exists():
        raise Conflict("already_reversed", _("这条销售记录已经冲正过了，不能重复冲正。"))
    try:
        with transaction.atomic():
            reversal = SalesRecord.objects.create(
                event_id=original.event_id,
                exhibitor_id=original.exhibitor_id,
                product_id=original.product_id,
                channel=original.channel,
                platform=original.platform,
                sold_on=original.sold_on,
                quantity=-original.quantity,
                amount_fen=-original.amount_fen,
                reverses=original,
                reason=reason,
                source=source,
                idempotency_key=key,
                recorded_by=_recorder(actor),
            )
    except IntegrityError:
        # A concurrent twin with this key, or another reversal of the same record, committed first.
        existing = SalesRecord.objects.filter(idempotency_key=key).first()
        if existing is not None and existing.reverses_id == original.pk and existing.reason == reason:
            return existing
        raise Conflict("already_reversed", _("这条销售记录已经冲正过了，不能重复冲正。")) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=reversal,
        object_repr=f"{original.event.name} · 冲正 #{original.pk}",
        region_path=original.event.region.path,
        changes={
            "reverses": [None, original.pk],
            "amount_fen": [None, reversal.amount_fen],
            "reason": [None, reason],
            "idempotency_key": [None, key],
        },
    )
    return reversal


def _locked(record: SalesRecord) -> SalesRecord:
    return (
        SalesRecord.objects.select_for_update(of=("self",)).select_related("event__region").get(pk=record.pk)
    )


def sale_get_runnable(actor: AnyUser, sale_id: int | str) -> SalesRecord:
    """The record if `actor` may run its event, else NotFound (404)."""
    found = (
        SalesRecord.objects.filter(event__in=access.events_runnable(actor))
        .select_related("event__region")
        .filter(pk=sale_id)
        .first()
    )
    if found is None:
        raise NotFound(SALE_NOT_FOUND)
    return found


def sales_record_reverse(
    *, actor: AnyUser, idempotency_key: str, record: SalesRecord, reason: str, source: str = SalesSource.PAGE
) -> SalesRecord:
    """Undo `record` with a reversal that negates it exactly (whoever runs its event); returns the
    reversal (the first one for a replay). Conflict 409 for a reversal, an already reversed record or a
    key reused; DomainError for a blank reason."""
    key = idempotency_key_clean(idempotency_key)
    with transaction.atomic():
        original = _locked(record)
        if not access.can_run_event(actor, original.event):
            raise NotFound(SALE_NOT_FOUND)
        return _reverse(actor=actor, key=key, original=original, reason=_reason_clean(reason), source=source)


def correction_key(key: str) -> str:
    """The idempotency key of a correction's new record, derived from the correction's own key (which
    its reversal carries), so a replay finds both."""
    return "c-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:48]


def sales_record_correct(
    *,
    actor: AnyUser,
    idempotency_key: str,
    record: SalesRecord,
    reason: str,
    exhibitor: Exhibitor,
    product: Product,
    channel: str,
    platform: str,
    sold_on: dt.date,
    quantity: Decimal | str | int,
    amount_fen: int,
    source: str = SalesSource.PAGE,
    today: dt.date | None = None,
) -> tuple[SalesRecord, SalesRecord]:
    """Correct `record`: reverse it and post the right figures as a new record at the same event, in one
    transaction (both or neither). Returns (reversal, new record); the first pair for a replay."""
    key = idempotency_key_clean(idempotency_key)
    with transaction.atomic():
        original = _locked(record)
        event = original.event
        if not access.can_run_event(actor, event):
            raise NotFound(SALE_NOT_FOUND)
        reason = _reason_clean(reason)
        values = sale_values_check(
            event=event,
            exhibitor=exhibitor,
            product=product,
            channel=channel,
            platform=platform,
            sold_on=sold_on,
            quantity=quantity,
            amount_fen=amount_fen,
            today=today,
        )
        reversal = _reverse(actor=actor, key=key, original=original, reason=reason, source=source)
        new = _post(
            actor=actor,
            key=correction_key(key),
            event=event,
            values=values,
            source=source,
            import_job=None,
            audit=True,
        )
    return reversal, new


def channel_label(channel: str) -> str:
    return str(SalesChannel(channel).label)
