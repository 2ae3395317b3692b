"""Small helpers shared by the canteens services: exactly-once bracketing, text and number cleaning."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from common.models import IdempotencyRecord

AnyUser = AbstractBaseUser | AnonymousUser

MONEY_MAX_FEN = 100_000  # ¥1,000 a meal: beyond it the figure is a typing mistake


def begin(*, actor: AnyUser, scope: str, key: str, body: dict[str, Any]) -> IdempotencyRecord | None:
    """The stored record for a replay of `key` with this body; None for a first request (the placeholder
    now holds the key). Conflict 409 for the same key with another body."""
    return idempotency_begin(actor=actor, scope=scope, key=key, fingerprint=body_fingerprint(body))


def finish(*, actor: AnyUser, scope: str, key: str, object_id: int) -> None:
    idempotency_finish(actor=actor, scope=scope, key=key, status_code=201, response={"id": object_id})


def text_clean(value: Any, *, field: str, maximum: int, required: str | None = None) -> str:
    """`value` stripped; DomainError `<field>_required` (when `required` is a message) or
    `<field>_too_long` next to `field`."""
    text = str(value or "").strip()
    if not text and required is not None:
        raise DomainError(f"{field}_required", required, field=field)
    if len(text) > maximum:
        raise DomainError(f"{field}_too_long", _("最多 %(max)s 个字。") % {"max": maximum}, field=field)
    return text


def yuan_to_fen(
    value: Any, *, field: str, maximum: int = MONEY_MAX_FEN, allow_blank: bool = False
) -> int | None:
    """Fen for a yuan figure typed as "4", "4.5" or "¥4.50"; None for a blank one when `allow_blank`.
    DomainError `bad_amount` next to `field` for anything else, a negative figure, more than two decimals
    or more than `maximum` fen."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_blank:
            return None
        raise DomainError("amount_required", _("请填写金额。"), field=field)
    cleaned = str(value).strip().replace("¥", "").replace("￥", "").replace(",", "").replace("，", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError("bad_amount", _("金额格式不对，例如 4.50。"), field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_amount", _("金额格式不对，例如 4.50。"), field=field)
    fen = int(amount * 100)
    if fen > maximum:
        raise DomainError(
            "amount_too_large",
            _("金额不能超过 %(max)s 元。") % {"max": f"{maximum / 100:.2f}"},
            field=field,
        )
    return fen


def percent_to_bp(value: Any, *, field: str) -> int | None:
    """Basis points for a percentage typed as "60" or "33.33"; None for blank. DomainError `bad_percent`
    for anything else, below 0, above 100 or more than two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    cleaned = str(value).strip().rstrip("%％").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError("bad_percent", _("比例格式不对，例如 60 或 33.33。"), field=field) from None
    if not amount.is_finite() or amount < 0 or amount > 100 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_percent", _("比例须在 0 到 100 之间，最多两位小数。"), field=field)
    return int(amount * 100)
