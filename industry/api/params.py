"""Query parameters of the industry API's lists: ids and years as typed in a URL.

Junk in a filter is ignored (the list is shown unfiltered), as the pages do; a year outside the range the
data can hold is refused with a Chinese message next to the parameter, because a silently ignored year
would show another year's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from common.errors import DomainError

# PostgreSQL's bigint: a larger id cannot be compared with a key column (the query would fail, a 500).
ID_MAX = 2**63 - 1
YEAR_MIN = 1900
YEAR_MAX = 2100


def query_id(value: Any, *, positive_only: bool = False) -> int | None:
    """The id in `value`, or None for a blank, non-numeric or out-of-range one (the filter is ignored)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if abs(number) > ID_MAX or (positive_only and number <= 0):
        return None
    return number


def query_text(params: Mapping[str, Any], name: str, *, max_length: int) -> str:
    """A text filter as typed, stripped and cut to `max_length`; NUL characters dropped (PostgreSQL cannot
    hold them in a string, so the query failed: a 500)."""
    return (params.get(name) or "").replace("\x00", "").strip()[:max_length]


def query_year(params: Mapping[str, Any], name: str = "year") -> int | None:
    """The year in `params[name]`, None when blank or not a number; DomainError bad_year (400) outside
    YEAR_MIN..YEAR_MAX."""
    try:
        year = int(params.get(name) or "")
    except (TypeError, ValueError):
        return None
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise DomainError(
            "bad_year",
            _("年份应在 %(first)s 到 %(last)s 之间。") % {"first": YEAR_MIN, "last": YEAR_MAX},
            field=name,
        )
    return year
