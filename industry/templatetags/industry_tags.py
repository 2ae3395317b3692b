"""Money and count filters every industry page may use. Money is integer fen everywhere; these only
format it.

    {{ fen|yuan }}       ¥1,234.50   (negative: -¥1,234.50)
    {{ fen|yuan_wan }}   12.35 万元   (two decimals, rounded half up)
    {{ fen|yuan_yi }}    3.20 亿元
    {{ fen|yuan_big }}   3.2 亿元 / 1,234.5 万元 / ¥980.00 — the unit picked by size (≥ 1 亿元, ≥ 1 万元)
    In English the three read ¥320.0 million / ¥3.2 billion / ¥12,345.00 (thousands grouping, not 万/亿).
    {{ n|count_cn }}     1,234
    {% industry_url "industry:chains" %}   the URL, or "" when that page is not (yet) defined
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()

WAN_FEN = 10_000 * 100
YI_FEN = 100_000_000 * 100
MILLION_FEN = 1_000_000 * 100
BILLION_FEN = 1_000_000_000 * 100


def _chinese_units() -> bool:
    """万 and 亿 are how Chinese readers group large sums; English readers group by thousands (million,
    billion), and "12.35 ten thousand yuan" reads as a mistake."""
    return (get_language() or "zh-hans").startswith("zh")


def _western_big(fen: int, places: int) -> str:
    if abs(fen) >= BILLION_FEN:
        return _("¥%(n)s billion") % {"n": _grouped(Decimal(fen) / BILLION_FEN, places)}
    if abs(fen) >= MILLION_FEN:
        return _("¥%(n)s million") % {"n": _grouped(Decimal(fen) / MILLION_FEN, places)}
    return yuan(fen)


def _fen(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _grouped(amount: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{amount.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


@register.filter
def yuan(value: Any) -> str:
    """¥1,234.50 for 123450 fen; "—" for nothing."""
    fen = _fen(value)
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{_grouped(Decimal(abs(fen)) / 100, 2)}"


@register.filter
def yuan_wan(value: Any) -> str:
    """12.35 万元 for 123,450,00 fen (two decimals)."""
    fen = _fen(value)
    if fen is None:
        return "—"
    if not _chinese_units():
        return _western_big(fen, 2)
    return _("%(n)s 万元") % {"n": _grouped(Decimal(fen) / WAN_FEN, 2)}


@register.filter
def yuan_yi(value: Any) -> str:
    """3.20 亿元 (two decimals)."""
    fen = _fen(value)
    if fen is None:
        return "—"
    if not _chinese_units():
        return _western_big(fen, 2)
    return _("%(n)s 亿元") % {"n": _grouped(Decimal(fen) / YI_FEN, 2)}


@register.filter
def yuan_big(value: Any) -> str:
    """A large total in the unit that reads best: 3.2 亿元 at a hundred million yuan or more, 1,234.5 万元
    at ten thousand or more (one decimal, trailing .0 kept), else ¥980.00."""
    fen = _fen(value)
    if fen is None:
        return "—"
    if not _chinese_units():
        return _western_big(fen, 1)
    if abs(fen) >= YI_FEN:
        return _("%(n)s 亿元") % {"n": _grouped(Decimal(fen) / YI_FEN, 1)}
    if abs(fen) >= WAN_FEN:
        return _("%(n)s 万元") % {"n": _grouped(Decimal(fen) / WAN_FEN, 1)}
    return yuan(fen)


@register.filter
def count_cn(value: Any) -> str:
    """1,234 (thousands grouped); a Decimal keeps up to two decimals without trailing zeros."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value.normalize():,f}"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def url_or_blank(name: str, *args: Any) -> str:
    """reverse(name, args) or "" when the name is not defined (another area's page not built yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def industry_url(name: str, *args: Any) -> str:
    return url_or_blank(name, *args)
