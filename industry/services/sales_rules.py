"""The rules one sales record must keep, shared by the page, the API and the Excel import so the three
refuse exactly the same things with the same Chinese messages.

Each parser takes what a person typed (or a cell's value) and returns the clean value or raises
DomainError with a code, a message and the field it belongs to. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from common.xlsx import cell_text
from industry.models import SalesChannel

# One record above ten million yuan is a typo, not a sale at a farm-products expo.
AMOUNT_MAX_FEN = 10_000_000 * 100
QUANTITY_MAX = Decimal("100000000")
# Built once: the import checks 200,000 cells and a good row must not pay for the message it does not show.
AMOUNT_FORMAT = gettext_lazy("销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。")
QUANTITY_FORMAT = gettext_lazy("数量应为不小于 0 的数字，最多两位小数。")
DATE_FORMAT = gettext_lazy("日期格式不对，例如 2022-03-05 或 2022年3月5日。")
CHANNEL_WORDS = {
    "线上": SalesChannel.ONLINE,
    "网上": SalesChannel.ONLINE,
    "online": SalesChannel.ONLINE,
    "线下": SalesChannel.OFFLINE,
    "现场": SalesChannel.OFFLINE,
    "offline": SalesChannel.OFFLINE,
}


def amount_fen_parse(value: Any, *, field: str = "amount_yuan") -> int:
    """Fen for a yuan amount ("1200", "1,200.50", "¥88", 88.5 from a cell). Positive, at most two
    decimals, at most AMOUNT_MAX_FEN."""
    text = (
        cell_text(value)
        .replace("¥", "")
        .replace("￥", "")
        .replace(",", "")
        .replace("，", "")
        .replace("元", "")
    )
    if not text:
        raise DomainError("bad_amount", _("请填写销售额。"), field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_amount", AMOUNT_FORMAT, field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError("bad_amount", AMOUNT_FORMAT, field=field)
    # Compared before quantize(): a figure like 1e30 would overflow the decimal context there.
    if amount > Decimal(AMOUNT_MAX_FEN) / 100:
        raise DomainError("bad_amount", _("单条销售额不能超过 1000 万元，请核对。"), field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_amount", AMOUNT_FORMAT, field=field)
    return int(amount * 100)


def quantity_parse(value: Any, *, field: str = "quantity") -> Decimal:
    """A non-negative quantity with at most two decimals (blank is 0: some sheets only carry amounts)."""
    text = cell_text(value).replace(",", "")
    if not text:
        return Decimal("0")
    try:
        quantity = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_quantity", QUANTITY_FORMAT, field=field) from None
    # The range first: quantize() would overflow on a figure like 1e30.
    if not quantity.is_finite() or quantity < 0 or quantity > QUANTITY_MAX:
        raise DomainError("bad_quantity", QUANTITY_FORMAT, field=field)
    if quantity != quantity.quantize(Decimal("0.01")):
        raise DomainError("bad_quantity", QUANTITY_FORMAT, field=field)
    return quantity


def channel_parse(value: Any, *, field: str = "channel") -> SalesChannel:
    """线上/线下 (also online/offline, 网上, 现场)."""
    text = cell_text(value).lower()
    if text in CHANNEL_WORDS:
        return CHANNEL_WORDS[text]
    raise DomainError("bad_channel", _("渠道应为“线上”或“线下”。"), field=field)


def platform_clean(channel: SalesChannel, value: Any, *, field: str = "platform") -> str:
    """An online sale names its platform (抖音、淘宝、拼多多 …); an offline one has none."""
    platform = cell_text(value)
    if channel == SalesChannel.ONLINE and not platform:
        raise DomainError("platform_required", _("线上销售请填写销售平台，例如抖音、淘宝。"), field=field)
    if channel == SalesChannel.OFFLINE:
        return ""
    if len(platform) > 30:
        raise DomainError("bad_platform", _("销售平台名称不能超过 30 个字。"), field=field)
    return platform


def sold_on_check(
    sold_on: dt.date, *, starts_on: dt.date, ends_on: dt.date, today: dt.date, field: str = "sold_on"
) -> dt.date:
    """A sale is dated within its event's days and never in the future."""
    if sold_on > today:
        raise DomainError("future_date", _("销售日期不能晚于今天。"), field=field)
    if not starts_on <= sold_on <= ends_on:
        raise DomainError(
            "date_outside_event",
            _("销售日期应在展会节会举办期间（%(start)s 至 %(end)s）。")
            % {
                "start": f"{starts_on.year}年{starts_on.month}月{starts_on.day}日",
                "end": f"{ends_on.year}年{ends_on.month}月{ends_on.day}日",
            },
            field=field,
        )
    return sold_on


def date_parse(value: Any, *, field: str = "sold_on") -> dt.date:
    """A date from a cell or a form: a date, 2022-03-05, 2022/3/5, 2022.3.5, 2022年3月5日, 20220305."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        raise DomainError("bad_date", _("请填写日期。"), field=field)
    cleaned = text.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    if cleaned.isdigit() and len(cleaned) == 8:
        cleaned = f"{cleaned[:4]}-{cleaned[4:6]}-{cleaned[6:]}"
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise DomainError("bad_date", DATE_FORMAT, field=field)
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except (ValueError, OverflowError):  # 99999999999-1-1 overflows a C int before the range check
        raise DomainError("bad_date", DATE_FORMAT, field=field) from None
