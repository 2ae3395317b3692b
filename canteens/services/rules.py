"""Price rules (餐价与分担规则): a canteen's meal price for a tier (or a guest: tier empty) and a slot (or
every slot), effective-dated, split among the four funders (FundingShare rows).

Every rule is checked with canteens.split.meal_split on its own price before it is saved: a rule whose
shares cannot add up is refused with SplitError's message next to the field. Rules are never edited in
place (meals point at them): a new price is a new rule from a later date; `price_rule_end` closes one.

Who: township and county admins over the canteen (subsidy money is theirs to commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import (
    Funder,
    FundingShare,
    GovernmentLevel,
    PriceRule,
    Site,
    SiteKind,
    SlotKind,
    SubsidyTier,
)
from canteens.services._common import AnyUser
from canteens.split import Share, SplitError, fallback_apply, meal_split
from common.errors import Conflict, DomainError, NotFound
from common.services import begin, finish
from governance.audit import audit_record
from governance.models import AuditAction

SCOPE_CREATE = "canteens.price_rule_create"
PRICE_MAX_FEN = 100_000

# Which form field a SplitError belongs next to.
SPLIT_ERROR_FIELDS = {
    "bad_price": "price",
    "bad_remainder_funder": "remainder_funder",
    "remainder_capped": "remainder_funder",
    "bad_fallback": "donation_fallback",
    "fixed_over_price": "shares",
    "fixed_not_price": "shares",
    "shares_not_100": "shares",
}


def split_error_to_domain(error: SplitError) -> DomainError:
    """The DomainError a service raises for `error`, next to the field it concerns."""
    return DomainError(error.code, error.message, field=SPLIT_ERROR_FIELDS.get(error.code, "shares"))


def split_preview(
    *,
    price_fen: int,
    shares: Sequence[Share],
    remainder_funder: str,
    donation_fallback: str,
    donation_available_fen: int | None = None,
) -> tuple[dict[str, int], int]:
    """({funder: fen}, shortfall) for one meal at `price_fen` under these shares; with
    `donation_available_fen`, after the donation fund gives at most that much. DomainError (from
    SplitError) when the rule cannot add up."""
    try:
        parts = meal_split(price_fen, list(shares), remainder_funder)
        # The fallback is checked even when the fund is not asked, so a bad fallback never gets saved.
        parts, shortfall = fallback_apply(
            parts,
            parts["donation"] if donation_available_fen is None else donation_available_fen,
            donation_fallback,
        )
    except SplitError as error:
        raise split_error_to_domain(error) from None
    return parts, shortfall


def price_rule_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    tier: SubsidyTier | None,
    slot: str,
    effective_from: dt.date,
    effective_to: dt.date | None,
    price_fen: int,
    shares: Sequence[Share],
    remainder_funder: str = Funder.COMMUNITY,
    donation_fallback: str = Funder.COMMUNITY,
    government_level: str = GovernmentLevel.COUNTY,
) -> PriceRule:
    """A new price rule at the canteen `site` (township or county admin over it). `tier` None is the
    guest price (the resident pays it all: a guest rule may have no other funder). `slot` "" means every
    slot. Exactly once per (actor, key). DomainError next to the field for a bad price, dates, or a split
    that does not add up (canteens.split's message); Conflict (409, next to
    effective_from) when a rule for the same tier (or guest) and slot already starts that day: checked
    here on every database, and by the UNIQUE on PostgreSQL."""
    body = {
        "site": site.pk,
        "tier": tier.pk if tier else None,
        "slot": slot,
        "effective_from": effective_from,
        "effective_to": effective_to,
        "price_fen": price_fen,
        "shares": [[s.funder, s.fixed_fen, s.share_bp, s.cap_fen] for s in shares],
        "remainder_funder": remainder_funder,
        "donation_fallback": donation_fallback,
        "government_level": government_level,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return PriceRule.objects.get(pk=replay.response["id"])
        # The canteen's row lock serialises its rule creations, so the duplicate check below cannot race.
        site = (
            Site.objects.select_for_update(of=("self",), no_key=True).select_related("region").get(pk=site.pk)
        )
        if not access.can_create_site(actor, site.region.path):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        if site.kind != SiteKind.CANTEEN:
            raise DomainError("not_canteen", _("只有爱心食堂设置餐价。"), field="site")
        if slot and slot not in SlotKind.values:
            raise DomainError("bad_slot", _("请选择餐次。"), field="slot")
        if government_level not in GovernmentLevel.values:
            raise DomainError("bad_government_level", _("请选择政府补贴级别。"), field="government_level")
        if effective_from is None:
            raise DomainError("effective_from_required", _("请填写生效日期。"), field="effective_from")
        if effective_to is not None and effective_to < effective_from:
            raise DomainError("rule_dates", _("失效日期不能早于生效日期。"), field="effective_to")
        if (
            isinstance(price_fen, bool)
            or not isinstance(price_fen, int)
            or not 1 <= price_fen <= PRICE_MAX_FEN
        ):
            raise DomainError("bad_price", _("餐价须在 0.01 元到 1000 元之间。"), field="price")
        if tier is not None and not tier.is_active:
            raise DomainError("tier_inactive", _("该补贴档次已停用。"), field="tier")
        if remainder_funder not in Funder.values:
            raise DomainError("bad_remainder_funder", _("请选择兜底方。"), field="remainder_funder")
        if donation_fallback not in Funder.values or donation_fallback == Funder.DONATION:
            raise DomainError(
                "bad_fallback", _("捐赠不足时的兜底方不能是社会捐赠。"), field="donation_fallback"
            )
        shares = [share for share in shares]
        if not shares:
            raise DomainError("shares_required", _("请至少设置一个出资方。"), field="shares")
        parts, _shortfall = split_preview(
            price_fen=price_fen,
            shares=shares,
            remainder_funder=remainder_funder,
            donation_fallback=donation_fallback,
        )
        if tier is None and parts["resident"] != price_fen:
            raise DomainError(
                "guest_subsidised", _("非登记就餐按全价由本人支付，不能设置补贴。"), field="shares"
            )
        # canteens_rule_unique_start treats the guest rule's empty tier as a value (nulls_distinct=False);
        # SQLite (make demo) ignores that option and would store a second guest rule for the same day, so
        # the service refuses it first on every database. The index still catches what slips past.
        if PriceRule.objects.filter(
            site=site, tier=tier, slot=slot or "", effective_from=effective_from
        ).exists():
            raise _same_start(tier, slot, effective_from)
        try:
            with transaction.atomic():
                rule = PriceRule.objects.create(
                    site=site,
                    tier=tier,
                    slot=slot or "",
                    effective_from=effective_from,
                    effective_to=effective_to,
                    price_fen=price_fen,
                    government_level=government_level,
                    remainder_funder=remainder_funder,
                    donation_fallback=donation_fallback,
                    created_by_id=cast(int, actor.pk),
                )
        except IntegrityError:
            raise _same_start(tier, slot, effective_from) from None
        FundingShare.objects.bulk_create(
            [
                FundingShare(
                    rule=rule, funder=s.funder, fixed_fen=s.fixed_fen, share_bp=s.share_bp, cap_fen=s.cap_fen
                )
                for s in shares
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=rule,
            region_path=site.region.path,
            changes={
                "price_fen": [None, price_fen],
                "tier": [None, tier.code if tier else None],
                "slot": [None, slot or None],
                "effective_from": [None, str(effective_from)],
                "shares": [None, body["shares"]],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, object_id=rule.pk)
    return rule


def _same_start(tier: SubsidyTier | None, slot: str, effective_from: dt.date) -> Conflict:
    return Conflict(
        "rule_same_start",
        _(
            "“%(tier)s · %(slot)s”在 %(date)s 已有一条餐价规则，不能重复设置；"
            "请换一个生效日期，或先结束原来的规则。"
        )
        % {
            "tier": tier.name if tier is not None else _("非登记就餐"),
            "slot": SlotKind(slot).label if slot else _("全部餐次"),
            "date": f"{effective_from:%Y-%m-%d}",
        },
        field="effective_from",
    )


def price_rule_end(*, actor: AnyUser, rule: PriceRule, effective_to: dt.date) -> PriceRule:
    """Close a rule after `effective_to` (inclusive), e.g. when a new price replaces it."""
    with transaction.atomic():
        rule = (
            PriceRule.objects.select_for_update(of=("self",), no_key=True)
            .select_related("site__region")
            .get(pk=rule.pk)
        )
        if not access.can_create_site(actor, rule.site.region.path):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        if effective_to is None or effective_to < rule.effective_from:
            raise DomainError("rule_dates", _("失效日期不能早于生效日期。"), field="effective_to")
        before = rule.effective_to
        rule.effective_to = effective_to
        rule.save(update_fields=["effective_to"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rule,
            region_path=rule.site.region.path,
            changes={"effective_to": [str(before) if before else None, str(effective_to)]},
        )
    return rule
