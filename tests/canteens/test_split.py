"""canteens.split: the four-way split of a meal's price. Property tests (hypothesis) over random prices
0–100,000 fen and random valid rules, plus exact examples and refusals."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canteens.split import FULL_BP, FUNDERS, Share, SplitError, fallback_apply, meal_split

PRICES = st.integers(min_value=0, max_value=100_000)


def _bp_partition(draw, count: int) -> list[int]:
    """`count` basis-point shares (each 0–10,000) adding up to exactly 10,000."""
    cuts = sorted(draw(st.lists(st.integers(0, FULL_BP), min_size=count - 1, max_size=count - 1)))
    edges = [0, *cuts, FULL_BP]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def valid_rules(draw):
    """(price, shares, remainder funder) that meal_split must accept."""
    price = draw(PRICES)
    funders = draw(st.permutations(FUNDERS))
    n_rule = draw(st.integers(1, 4))
    in_rule = list(funders[:n_rule])
    n_share = draw(st.integers(0, n_rule))
    share_funders, fixed_funders = in_rule[:n_share], in_rule[n_share:]
    shares: list[Share] = []
    if not share_funders:
        # Only fixed amounts: they must add up to the price exactly.
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(0, price), min_size=len(fixed_funders) - 1, max_size=len(fixed_funders) - 1
                )
            )
        )
        amounts = [b - a for a, b in itertools.pairwise([0, *cuts, price])]
        shares = [Share(f, fixed_fen=a) for f, a in zip(fixed_funders, amounts, strict=True)]
        remainder = draw(st.sampled_from(FUNDERS))
        return price, shares, remainder
    fixed_total_max = price
    for funder in fixed_funders:
        amount = draw(st.integers(0, fixed_total_max))
        fixed_total_max -= amount
        shares.append(Share(funder, fixed_fen=amount))
    bps = _bp_partition(draw, len(share_funders))
    # At least one funder outside the capped shares carries what the caps cut off.
    uncapped = draw(st.sampled_from(share_funders))
    for funder, bp in zip(share_funders, bps, strict=True):
        cap = None if funder == uncapped else draw(st.none() | st.integers(0, 100_000))
        shares.append(Share(funder, share_bp=bp, cap_fen=cap))
    capped = {s.funder for s in shares if s.cap_fen is not None}
    remainder = draw(st.sampled_from([f for f in FUNDERS if f not in capped]))
    order = draw(st.permutations(shares))
    return price, list(order), remainder


@settings(max_examples=600, deadline=None)
@given(valid_rules())
def test_split_sums_exactly_respects_caps_and_is_deterministic(rule):
    price, shares, remainder = rule
    parts = meal_split(price, shares, remainder)
    assert set(parts) == set(FUNDERS)
    assert sum(parts.values()) == price
    assert all(value >= 0 for value in parts.values())
    assert meal_split(price, shares, remainder) == parts
    assert meal_split(price, list(reversed(shares)), remainder) == parts
    fixed_total = sum(s.fixed_fen or 0 for s in shares)
    rest = price - fixed_total
    for share in shares:
        if share.fixed_fen is not None and share.funder != remainder:
            assert parts[share.funder] == share.fixed_fen
        if share.cap_fen is not None:
            assert parts[share.funder] <= share.cap_fen
        if share.share_bp is not None and share.cap_fen is None and share.funder != remainder:
            # Largest remainder: within one fen of the exact part, never further.
            exact_times_bp = rest * share.share_bp
            assert exact_times_bp // FULL_BP <= parts[share.funder] <= -(-exact_times_bp // FULL_BP)
    for funder in FUNDERS:
        if funder not in {s.funder for s in shares} and funder != remainder:
            assert parts[funder] == 0


@st.composite
def bad_share_rules(draw):
    """Rules with shares that do not total 100 % (and something left to divide)."""
    price = draw(st.integers(1, 100_000))
    funders = draw(st.lists(st.sampled_from(FUNDERS), min_size=1, max_size=4, unique=True))
    bps = draw(st.lists(st.integers(0, FULL_BP), min_size=len(funders), max_size=len(funders)))
    if sum(bps) == FULL_BP:
        bps[0] = bps[0] + 1 if bps[0] < FULL_BP else bps[0] - 1
    return price, [Share(f, share_bp=bp) for f, bp in zip(funders, bps, strict=True)]


@settings(max_examples=300, deadline=None)
@given(bad_share_rules())
def test_shares_not_100_percent_are_refused(rule):
    price, shares = rule
    with pytest.raises(SplitError) as raised:
        meal_split(price, shares, "community")
    assert raised.value.code == "shares_not_100"
    assert "应为 100%" in raised.value.message


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 100_000), st.integers(0, 100_000), st.sampled_from(["government", "community", "resident"])
)
def test_fallback_moves_exactly_the_shortfall(donation, available, fallback):
    parts = {"government": 100, "community": 50, "donation": donation, "resident": 150}
    after, shortfall = fallback_apply(parts, available, fallback)
    assert sum(after.values()) == sum(parts.values())
    assert after["donation"] == min(donation, available)
    assert shortfall == max(0, donation - available)
    assert after[fallback] == parts[fallback] + shortfall


# --- exact examples -------------------------------------------------------------------------------------


def test_the_brief_example_70_to_79():
    shares = [
        Share("resident", fixed_fen=150),
        Share("government", share_bp=6000),
        Share("community", share_bp=3000),
        Share("donation", share_bp=1000),
    ]
    assert meal_split(400, shares, "community") == {
        "government": 150,
        "community": 75,
        "donation": 25,
        "resident": 150,
    }


def test_odd_fen_go_to_the_largest_fractions_ties_in_funder_order():
    # 100 fen as 33.34 / 33.33 / 33.33: the one leftover fen goes to the largest fraction (resident).
    thirds = [
        Share("resident", share_bp=3334),
        Share("community", share_bp=3333),
        Share("government", share_bp=3333),
    ]
    assert meal_split(100, thirds, "community") == {
        "government": 33,
        "community": 33,
        "donation": 0,
        "resident": 34,
    }
    # 7 fen at 50/50: 3.5 each, the odd fen goes to government (listed first), not community.
    halves = [Share("community", share_bp=5000), Share("government", share_bp=5000)]
    assert meal_split(7, halves, "community") == {
        "government": 4,
        "community": 3,
        "donation": 0,
        "resident": 0,
    }


def test_a_cap_cuts_to_the_remainder_funder():
    shares = [
        Share("resident", fixed_fen=50),
        Share("government", share_bp=7000, cap_fen=200),
        Share("community", share_bp=2000),
        Share("donation", share_bp=1000),
    ]
    assert meal_split(400, shares, "community") == {
        "government": 200,
        "community": 115,
        "donation": 35,
        "resident": 50,
    }


def test_fixed_only_rule_must_equal_the_price():
    assert meal_split(600, [Share("resident", fixed_fen=600)], "community")["resident"] == 600
    with pytest.raises(SplitError) as raised:
        meal_split(600, [Share("resident", fixed_fen=500)], "community")
    assert raised.value.code == "fixed_not_price"
    assert raised.value.message == "各方固定金额合计 5.00 元，与餐价 6.00 元不符。"


@pytest.mark.parametrize(
    ("shares", "remainder", "code", "message"),
    [
        (
            [Share("resident", fixed_fen=500), Share("government", share_bp=10_000)],
            "community",
            "fixed_over_price",
            "固定金额合计 5.00 元，超过餐价 4.00 元。",
        ),
        (
            [Share("government", share_bp=6000), Share("community", share_bp=3000)],
            "community",
            "shares_not_100",
            "各方分担比例合计 90%，应为 100%。",
        ),
        (
            [Share("government", share_bp=6000), Share("government", share_bp=4000)],
            "community",
            "duplicate_funder",
            "政府补贴重复设置。",
        ),
        (
            [Share("government", fixed_fen=100, share_bp=6000)],
            "community",
            "fixed_or_share",
            "政府补贴须设固定金额或比例之一。",
        ),
        (
            [Share("government", fixed_fen=400, cap_fen=100)],
            "community",
            "cap_on_fixed",
            "封顶只适用于按比例分担的出资方。",
        ),
        (
            [Share("government", share_bp=10_000, cap_fen=100)],
            "government",
            "remainder_capped",
            "兜底方政府补贴自身有封顶，无法承担封顶截下的部分。",
        ),
        ([Share("government", share_bp=10_000)], "nobody", "bad_remainder_funder", "请选择兜底方。"),
    ],
)
def test_bad_rules_are_refused_with_a_message(shares, remainder, code, message):
    with pytest.raises(SplitError) as raised:
        meal_split(400, shares, remainder)
    assert (raised.value.code, raised.value.message) == (code, message)


def test_fallback_cannot_be_the_donation_fund():
    with pytest.raises(SplitError) as raised:
        fallback_apply({"government": 0, "community": 0, "donation": 10, "resident": 0}, 0, "donation")
    assert raised.value.code == "bad_fallback"


def test_fallback_example():
    parts = {"government": 150, "community": 75, "donation": 25, "resident": 150}
    assert fallback_apply(parts, 10, "community") == (
        {"government": 150, "community": 90, "donation": 10, "resident": 150},
        15,
    )
    assert fallback_apply(parts, 25, "community") == (parts, 0)
