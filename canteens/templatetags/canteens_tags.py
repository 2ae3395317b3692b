"""Money and shares as the canteens pages show them: {% load canteens_tags %}

{{ 1250|yuan }}        ¥12.50        (¥1,200.00 with thousands separators; negative: -¥3.00)
{{ 1250|yuan_text }}   12.50 元
{{ 6000|percent_bp }}  60%           (3333 → 33.33%)
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _fen(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def yuan_format(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


@register.filter
def yuan(value: Any) -> str:
    """¥12.50 for 1250 fen; "" for None or a non-number."""
    fen = _fen(value)
    return "" if fen is None else yuan_format(fen)


@register.filter
def yuan_text(value: Any) -> str:
    """12.50 元 for 1250 fen; "" for None."""
    fen = _fen(value)
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d} 元"


@register.filter
def yuan_input(value: Any) -> str:
    """12.50 for 1250 fen (what a form field shows back); "" for None."""
    fen = _fen(value)
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


@register.filter
def percent_bp(value: Any) -> str:
    """60% for 6000 basis points, 33.33% for 3333; "" for None."""
    bp = _fen(value)
    if bp is None:
        return ""
    whole, part = divmod(bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"
