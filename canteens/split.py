"""How a meal's price is split among the four funders (政府补一点、社会捐一点、社区贴一点、居民出一点).

The stated rule, in integer fen, applied to every meal and checked when a price rule is saved:

1. Fixed amounts are taken first. They may not exceed the price.
2. What remains is divided by the shares, in basis points (1 % = 100 bp), which must total exactly
   10,000 (100 %) whenever there is anything left to divide; with no share at all, the fixed amounts must
   add up to the price exactly.
3. Odd fen: each share gets the whole fen of its exact part, and the fen left over go one each to the
   shares with the largest fractional parts (largest remainder); a tie goes to the funder listed first in
   the order government, community, donation, resident (Funder's order).
4. A cap limits a share; what a cap cuts off goes to the rule's remainder funder (兜底方), which must not
   itself be capped below what it then has to carry (else the rule is refused for that price).
5. At a meal, the donation part is drawn from the donation fund; when the fund holds less, it gives what
   it has and the rule's fallback funder pays the shortfall (fallback_apply). The manager is told.

The parts always add up to the price exactly; `meal_split` raises SplitError (with a Chinese message)
for a rule that cannot, and nothing else in the project computes a split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Funder order (tie-breaks, display): government, community, donation, resident.
FUNDERS: tuple[str, ...] = ("government", "community", "donation", "resident")
FULL_BP = 10_000


class SplitError(ValueError):
    """A rule whose parts cannot add up to the price; `message` says why, in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Share:
    funder: str
    fixed_fen: int | None = None
    share_bp: int | None = None
    cap_fen: int | None = None


def _label(funder: str) -> str:
    from canteens.models import Funder

    return str(Funder(funder).label)


def meal_split(price_fen: int, shares: Sequence[Share], remainder_funder: str) -> dict[str, int]:
    """{funder: fen} for every one of the four funders (0 for those not in the rule), summing exactly to
    `price_fen`. Raises SplitError when the rule cannot add up (see the module's rule)."""
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen < 0:
        raise SplitError("bad_price", _("餐价必须是不小于零的整数（分）。"))
    if remainder_funder not in FUNDERS:
        raise SplitError("bad_remainder_funder", _("请选择兜底方。"))
    seen: set[str] = set()
    for share in shares:
        if share.funder not in FUNDERS:
            raise SplitError("bad_funder", _("未知的出资方。"))
        if share.funder in seen:
            raise SplitError("duplicate_funder", _("%(funder)s重复设置。") % {"funder": _label(share.funder)})
        seen.add(share.funder)
        if (share.fixed_fen is None) == (share.share_bp is None):
            raise SplitError(
                "fixed_or_share", _("%(funder)s须设固定金额或比例之一。") % {"funder": _label(share.funder)}
            )
        for value in (share.fixed_fen, share.share_bp, share.cap_fen):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise SplitError("negative", _("金额和比例不能为负数。"))
        if share.share_bp is not None and share.share_bp > FULL_BP:
            raise SplitError("share_over_100", _("单个出资方的比例不能超过 100%。"))
        if share.cap_fen is not None and share.share_bp is None:
            raise SplitError("cap_on_fixed", _("封顶只适用于按比例分担的出资方。"))

    parts = dict.fromkeys(FUNDERS, 0)
    fixed_total = sum(share.fixed_fen or 0 for share in shares)
    if fixed_total > price_fen:
        raise SplitError(
            "fixed_over_price",
            _("固定金额合计 %(fixed)s 元，超过餐价 %(price)s 元。")
            % {"fixed": _yuan(fixed_total), "price": _yuan(price_fen)},
        )
    for share in shares:
        if share.fixed_fen is not None:
            parts[share.funder] += share.fixed_fen
    rest = price_fen - fixed_total
    by_share = [share for share in shares if share.share_bp is not None]
    total_bp = sum(share.share_bp or 0 for share in by_share)
    if not by_share:
        if rest != 0:
            raise SplitError(
                "fixed_not_price",
                _("各方固定金额合计 %(fixed)s 元，与餐价 %(price)s 元不符。")
                % {"fixed": _yuan(fixed_total), "price": _yuan(price_fen)},
            )
        return parts
    if total_bp != FULL_BP:
        raise SplitError(
            "shares_not_100",
            _("各方分担比例合计 %(total)s%%，应为 100%%。") % {"total": _percent(total_bp)},
        )

    # Largest remainder: whole fen first, then the leftover fen one by one.
    exact = {share.funder: rest * (share.share_bp or 0) for share in by_share}  # in fen × 10,000
    base = {funder: value // FULL_BP for funder, value in exact.items()}
    leftover = rest - sum(base.values())
    order = sorted(exact, key=lambda funder: (-(exact[funder] % FULL_BP), FUNDERS.index(funder)))
    for funder in order[:leftover]:
        base[funder] += 1

    cut = 0
    for share in by_share:
        amount = base[share.funder]
        if share.cap_fen is not None and amount > share.cap_fen:
            cut += amount - share.cap_fen
            amount = share.cap_fen
        parts[share.funder] += amount
    if cut:
        parts[remainder_funder] += cut
        carrier = next((s for s in by_share if s.funder == remainder_funder), None)
        if (
            carrier is not None
            and carrier.cap_fen is not None
            and parts[remainder_funder] > carrier.cap_fen + (carrier.fixed_fen or 0)
        ):
            raise SplitError(
                "remainder_capped",
                _("兜底方%(funder)s自身有封顶，无法承担封顶截下的部分。")
                % {"funder": _label(remainder_funder)},
            )
    assert sum(parts.values()) == price_fen
    return parts


def fallback_apply(
    parts: Mapping[str, int], available_fen: int, fallback_funder: str
) -> tuple[dict[str, int], int]:
    """The parts after the donation fund gives at most `available_fen`: returns (new parts, shortfall);
    the shortfall moves from the donation part to `fallback_funder`. The sum is unchanged."""
    if fallback_funder not in FUNDERS or fallback_funder == "donation":
        raise SplitError("bad_fallback", _("捐赠不足时的兜底方不能是社会捐赠。"))
    result = dict(parts)
    shortfall = max(0, result["donation"] - max(0, available_fen))
    if shortfall:
        result["donation"] -= shortfall
        result[fallback_funder] += shortfall
    return result, shortfall


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _percent(bp: int) -> str:
    whole, part = divmod(bp, 100)
    return f"{whole}" if part == 0 else f"{whole}.{part:02d}".rstrip("0")
