"""Small helpers shared by the canteens services: money and share cleaning (exactly-once bracketing and text
cleaning are every app's: common/services.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from common.errors import DomainError

AnyUser = AbstractBaseUser | AnonymousUser

MONEY_MAX_FEN = 100_000  # ¥1,000 a meal: beyond it the figure is a typing mistake


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
    if not amount.is_finite() or amount < 0:
        raise DomainError("bad_amount", _("金额格式不对，例如 4.50。"), field=field)
    # The range before quantize(): a figure like 1e30 would overflow the decimal context there.
    if amount > Decimal(maximum) / 100:
        raise DomainError(
            "amount_too_large",
            _("金额不能超过 %(max)s 元。") % {"max": f"{maximum / 100:.2f}"},
            field=field,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_amount", _("金额格式不对，例如 4.50。"), field=field)
    return int(amount * 100)


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
