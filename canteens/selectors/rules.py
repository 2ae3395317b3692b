"""Reading price rules: the rule in force for a meal (C2's check-in calls it), and a canteen's rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Prefetch, QuerySet

from canteens import access
from canteens.models import Funder, FundingShare, PriceRule, Site
from canteens.split import Share

_FUNDER_ORDER = {funder: index for index, funder in enumerate(Funder.values)}


def price_rule_pick_sql(*, site: str, tier: str | None, slot: str, day: str) -> str:
    """The choice of the rule in force as SQL: a scalar subquery giving the id of the rule that prices a
    meal at canteen `site` for tier `tier` (None: a guest's rule, tier empty) in `slot` on `day`, or NULL.
    Each argument is an SQL expression (a column of the enclosing statement, or a `%s` placeholder, whose
    parameters then follow in the order site, tier, slot, day, day).

    The one definition of "in force", shared by price_rule_in_force and the check-in's single read
    (canteens.services.meals): a rule for that very slot beats a rule for every slot (slot ""); among those,
    the latest `effective_from` ≤ the day that has not expired (`effective_to` empty or ≥ the day)."""
    table = PriceRule._meta.db_table
    tier_condition = "pr.tier_id IS NULL" if tier is None else f"pr.tier_id = {tier}"
    return (
        f"SELECT pr.id FROM {table} pr WHERE pr.site_id = {site} AND {tier_condition} "  # noqa: S608
        f"AND (pr.slot = {slot} OR pr.slot = '') AND pr.effective_from <= {day} "
        f"AND (pr.effective_to IS NULL OR pr.effective_to >= {day}) "
        "ORDER BY CASE WHEN pr.slot = '' THEN 1 ELSE 0 END, pr.effective_from DESC LIMIT 1"
    )


def shares_in_order(shares: Iterable[Share]) -> list[Share]:
    """`shares` in the funders' order (the order canteens.split and the forms show them in)."""
    return sorted(shares, key=lambda share: _FUNDER_ORDER.get(share.funder, 99))


def price_rule_in_force(site_id: int, tier_id: int | None, slot: str, on_date: dt.date) -> PriceRule | None:
    """The rule that prices a meal at canteen `site_id` for tier `tier_id` (None: a guest) in `slot` on
    `on_date`, or None when there is none.

    A rule for that very slot beats a rule for every slot (slot ""); among those, the one with the latest
    `effective_from` ≤ `on_date` that has not expired (`effective_to` empty or ≥ `on_date`): see
    price_rule_pick_sql. One plain statement; the returned rule carries its shares, read by
    price_rule_shares(rule) without another query."""
    table, shares = PriceRule._meta.db_table, FundingShare._meta.db_table
    params: list[Any] = [site_id]
    if tier_id is not None:
        params.append(tier_id)
    params += [slot, on_date, on_date]
    pick = price_rule_pick_sql(site="%s", tier=None if tier_id is None else "%s", slot="%s", day="%s")
    sql = (
        "SELECT r.id, r.tier_id, r.slot, r.effective_from, r.effective_to, r.price_fen, "  # noqa: S608
        "r.government_level, r.remainder_funder, r.donation_fallback, r.created_by_id, "
        "s.funder, s.fixed_fen, s.share_bp, s.cap_fen "
        f"FROM {table} r LEFT JOIN {shares} s ON s.rule_id = r.id WHERE r.id = ({pick})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    rule = PriceRule(
        id=first[0],
        site_id=site_id,
        tier_id=first[1],
        slot=first[2],
        effective_from=first[3],
        effective_to=first[4],
        price_fen=first[5],
        government_level=first[6],
        remainder_funder=first[7],
        donation_fallback=first[8],
        created_by_id=first[9],
    )
    rule._state.adding = False
    rule._state.db = connection.alias
    rule._split_shares = shares_in_order(  # type: ignore[attr-defined]
        Share(row[10], row[11], row[12], row[13]) for row in rows if row[10] is not None
    )
    return rule


def price_rule_shares(rule: PriceRule) -> list[Share]:
    """The rule's shares as canteens.split.Share values in the funders' order (from price_rule_in_force's
    cache when there, else read)."""
    cached = getattr(rule, "_split_shares", None)
    if cached is not None:
        return list(cached)
    rows = rule.shares.all()
    return shares_in_order(Share(row.funder, row.fixed_fen, row.share_bp, row.cap_fen) for row in rows)


def price_rules_for_site(site: Site) -> QuerySet[PriceRule]:
    """A canteen's rules, newest first within tier and slot, with their shares."""
    return (
        PriceRule.objects.filter(site=site)
        .select_related("tier")
        .prefetch_related(Prefetch("shares", queryset=FundingShare.objects.order_by("id")))
        .order_by("tier__sort_order", "tier_id", "slot", "-effective_from")
    )


def price_rule_get(user: Any, rule_id: int | str) -> PriceRule:
    """A rule of a canteen `user` may see, else NotFound."""
    from common.errors import NotFound

    rule = PriceRule.objects.select_related("site__region", "tier").filter(pk=rule_id).first()
    if rule is None or not access.sites_visible(user).filter(pk=rule.site_id).exists():
        raise NotFound(access.NOT_FOUND_MESSAGE)
    return rule
