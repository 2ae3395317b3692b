"""Meal check-in at the counter (就餐登记) and meal corrections (更正冲正).

A check-in, in one transaction (the counter's hot path: seven plain statements, no ORM query building):
1. the idempotency record first (common.idempotency): a double tap or a retried POST with the same key
   waits for the first and gets its meal back;
2. one read of the whole context by ids (a prepared statement on PostgreSQL): the canteen (its region for
   the gate, the slot it serves), the elder's enrolment open on the day, a meal already recorded in the
   slot, the period's claim if approved, the donation fund (the canteen's, else its township's), the
   deliverer, and the price rule in force for the enrolment's tier (a guest: the guest rule, tier empty;
   chosen by canteens.selectors.rules.price_rule_pick_sql) with its shares;
3. the gate (canteens.access.can_run_site: one statement), then the checks: an elder not enrolled is
   refused the subsidised meal (a guest pays the full price by the guest rule), no rule in force is
   refused; canteens.split.meal_split;
4. when the split has a donation part: one conditional UPDATE draws it from the fund if the balance holds
   it (and locks the fund's row). When it does not, the row is locked (FOR NO KEY UPDATE) and its balance
   read, fallback_apply moves the shortfall to the rule's fallback funder (and the manager is told), and
   what the fund holds is drawn;
5. the meal row: INSERT … ON CONFLICT DO NOTHING against the partial UNIQUE (one subsidised meal per
   elder, slot and day); a concurrent twin waits on the index and then inserts nothing → Conflict 409,
   and the whole transaction (the draw too) rolls back;
6. the fund movement (meal_draw), the audit row, the idempotency record's answer.

Lock order: the idempotency key's index entry → the fund row → the meal's UNIQUE index entry. Two
check-ins never wait on each other in a cycle.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canteens.access import NOT_FOUND_MESSAGE, can_run_site
from canteens.models import (
    ClaimStatus,
    CorrectionStatus,
    DonationFund,
    Enrolment,
    FundingShare,
    FundMovement,
    FundMovementKind,
    Meal,
    MealCorrection,
    MealSlot,
    PriceRule,
    ServiceMode,
    Settlement,
    Site,
    SiteKind,
    SlotKind,
    VerifyMethod,
)
from canteens.selectors.rules import price_rule_pick_sql, shares_in_order
from canteens.services.funds import _fund_lock, fund_move
from canteens.split import Share, SplitError, fallback_apply, meal_split
from common.db import execute_prepared
from common.errors import Conflict, DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish, idempotency_key_clean
from governance.audit import audit_record
from governance.models import AuditAction, Region, Resident
from governance.models import User as UserModel

AnyUser = AbstractBaseUser | AnonymousUser

SCOPE_MEAL = "canteens.meal"
SCOPE_CORRECTION = "canteens.meal_correction"
NAME_MAX = 50
REASON_MAX = 200
# The choices' values once (TextChoices.values builds a new list at every access).
_SLOTS = frozenset(SlotKind.values)
_MODES = frozenset(ServiceMode.values)
_VERIFY_METHODS = frozenset(VerifyMethod.values)


@dataclass(frozen=True)
class MealResult:
    """What the counter answers: the meal as written, its split, and a warning for the manager when the
    donation fund could not cover its share."""

    id: int
    site_id: int
    served_on: dt.date
    slot: str
    resident_id: int | None
    resident_name: str
    is_guest: bool
    guest_name: str
    tier_id: int | None
    rule_id: int | None
    verified_by: str
    mode: str
    price_fen: int
    resident_fen: int
    government_fen: int
    government_level: str
    community_fen: int
    donation_fen: int
    donation_shortfall_fen: int
    fallback_funder: str
    fund_id: int | None
    created_at: dt.datetime
    warning: str = ""
    replayed: bool = False

    @property
    def parts(self) -> dict[str, int]:
        return {
            "government": self.government_fen,
            "community": self.community_fen,
            "donation": self.donation_fen,
            "resident": self.resident_fen,
        }


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def shortfall_warning(shortfall_fen: int, fallback_funder: str) -> str:
    """The manager's warning when the donation fund could not cover its share ("" when it could)."""
    if shortfall_fen <= 0:
        return ""
    from canteens.models import Funder

    return _("捐赠资金余额不足，本餐有 %(amount)s 元改由%(funder)s承担。") % {
        "amount": _yuan(shortfall_fen),
        "funder": Funder(fallback_funder).label if fallback_funder in Funder.values else fallback_funder,
    }


def meal_result_of(meal: Meal, *, replayed: bool = True) -> MealResult:
    """The MealResult of a stored meal (what a replay answers)."""
    fallback = ""
    if meal.donation_shortfall_fen and meal.rule_id:
        fallback = (
            PriceRule.objects.filter(pk=meal.rule_id).values_list("donation_fallback", flat=True).first()
            or ""
        )
    movement = FundMovement.objects.filter(meal=meal, kind=FundMovementKind.MEAL_DRAW).values_list(
        "fund_id", flat=True
    )
    resident_name = ""
    if meal.resident_id:
        resident_name = (
            Resident.objects.filter(pk=meal.resident_id).values_list("name", flat=True).first() or ""
        )
    return MealResult(
        id=meal.pk,
        site_id=meal.site_id,
        served_on=meal.served_on,
        slot=meal.slot,
        resident_id=meal.resident_id,
        resident_name=resident_name,
        is_guest=meal.is_guest,
        guest_name=meal.guest_name,
        tier_id=meal.tier_id,
        rule_id=meal.rule_id,
        verified_by=meal.verified_by,
        mode=meal.mode,
        price_fen=meal.price_fen,
        resident_fen=meal.resident_fen,
        government_fen=meal.government_fen,
        government_level=meal.government_level,
        community_fen=meal.community_fen,
        donation_fen=meal.donation_fen,
        donation_shortfall_fen=meal.donation_shortfall_fen,
        fallback_funder=fallback,
        fund_id=movement.first(),
        created_at=meal.created_at,
        warning=shortfall_warning(meal.donation_shortfall_fen, fallback),
        replayed=replayed,
    )


# --- the statements ------------------------------------------------------------------------------------

# The context of a check-in in one read, by ids: the canteen and its region (the gate), the elder's
# enrolment open on the day and the resident, a meal already recorded in the slot, the period's claim if
# approved, the slot served, the donation fund (the canteen's, else its township's), the deliverer, and the
# price rule in force for the enrolment's tier (a guest: the guest rule, tier empty) with its shares, one
# row per share (the rule's choice is canteens.selectors.rules.price_rule_pick_sql, the one definition).
# The meal already there is looked up by the partial UNIQUE index's own condition (NOT is_guest …, as
# literals, so a prepared statement's generic plan still uses that index). Parameters, in order: resident,
# day, day (enrolment), resident (row), resident, day, slot (meal already there), year, month, approved
# (claim), slot (served), deliverer, slot, day, day (rule), site.
_CONTEXT_SQL = """
SELECT s.kind, s.is_active, s.name, r.id, r.path,
       e.id, e.tier_id, res.id, res.name, m.id, st.id, sl.is_active,
       COALESCE(fs.id, ft.id), d.id,
       rule.id, rule.price_fen, rule.government_level, rule.remainder_funder, rule.donation_fallback,
       sh.funder, sh.fixed_fen, sh.share_bp, sh.cap_fen
FROM {site} s
JOIN {region} r ON r.id = s.region_id
LEFT JOIN {enrolment} e ON e.id = (
    SELECT e2.id FROM {enrolment} e2
    WHERE e2.site_id = s.id AND e2.resident_id = %s AND e2.starts_on <= %s
      AND (e2.ends_on IS NULL OR e2.ends_on >= %s)
    ORDER BY e2.starts_on DESC LIMIT 1)
LEFT JOIN {resident} res ON res.id = %s
LEFT JOIN {meal} m ON m.resident_id = %s AND m.served_on = %s AND m.slot = %s
    AND NOT m.is_guest AND m.reverses_id IS NULL AND m.voided_at IS NULL
LEFT JOIN {settlement} st ON st.site_id = s.id AND st.year = %s AND st.month = %s AND st.status = %s
LEFT JOIN {slot} sl ON sl.site_id = s.id AND sl.kind = %s
LEFT JOIN {fund} fs ON fs.site_id = s.id
LEFT JOIN {fund} ft ON ft.township_id = CASE WHEN r.level = 'township' THEN r.id ELSE r.parent_id END
LEFT JOIN {user} d ON d.id = %s AND d.is_active
LEFT JOIN {rule} rule ON rule.id = ({pick})
LEFT JOIN {share} sh ON sh.rule_id = rule.id
WHERE s.id = %s
"""

_MEAL_COLUMNS = (
    "site_id, served_on, slot, resident_id, enrolment_id, tier_id, is_guest, guest_name, verified_by, mode, "
    "deliverer_id, deliverer_name, rule_id, price_fen, resident_fen, government_fen, government_level, "
    "community_fen, donation_fen, donation_shortfall_fen, reverses_id, voided_at, created_by_id, created_at"
)


@functools.cache
def _context_sql(*, guest: bool) -> str:
    """The context statement's text; an elder's rule is their enrolment's tier's, a guest's the guest
    rule (two texts, so each is planned with its own index condition)."""
    return _CONTEXT_SQL.format(
        site=Site._meta.db_table,
        region=Region._meta.db_table,
        enrolment=Enrolment._meta.db_table,
        resident=Resident._meta.db_table,
        meal=Meal._meta.db_table,
        settlement=Settlement._meta.db_table,
        slot=MealSlot._meta.db_table,
        fund=DonationFund._meta.db_table,
        user=UserModel._meta.db_table,
        rule=PriceRule._meta.db_table,
        share=FundingShare._meta.db_table,
        pick=price_rule_pick_sql(site="s.id", tier=None if guest else "e.tier_id", slot="%s", day="%s"),
    )


def _fund_draw(fund_id: int, amount_fen: int) -> bool:
    """Take `amount_fen` from the fund when its balance holds it: one conditional UPDATE, which also takes
    the fund's row lock for the rest of the transaction (a concurrent draw waits for it and then checks the
    balance this one left). False, nothing drawn, when the balance is short."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DonationFund._meta.db_table} SET balance_fen = balance_fen - %s "  # noqa: S608
            "WHERE id = %s AND balance_fen >= %s RETURNING balance_fen",
            [amount_fen, fund_id, amount_fen],
        )
        return cursor.fetchone() is not None


def _validate_checkin(
    *,
    slot: str,
    served_on: dt.date,
    resident_id: int | None,
    verified_by: str,
    mode: str,
    deliverer_id: int | None,
    deliverer_name: str,
    guest_name: str,
    is_guest: bool,
) -> tuple[str, str, str]:
    """(verified_by, deliverer_name, guest_name) cleaned; DomainError 400 next to the field otherwise."""
    if slot not in _SLOTS:
        raise DomainError("bad_slot", _("请选择餐次。"), field="slot")
    if not isinstance(served_on, dt.date) or isinstance(served_on, dt.datetime):
        raise DomainError("bad_date", _("请填写就餐日期。"), field="served_on")
    if served_on > timezone.localdate():
        raise DomainError("future_date", _("就餐日期不能晚于今天。"), field="served_on")
    if mode not in _MODES:
        raise DomainError("bad_mode", _("请选择就餐方式。"), field="mode")
    if is_guest:
        verified_by = verified_by or VerifyMethod.GUEST
    elif resident_id is None:
        raise DomainError("resident_required", _("请先找到就餐的老人。"), field="resident")
    if verified_by not in _VERIFY_METHODS:
        raise DomainError("bad_verified_by", _("请选择核验方式。"), field="verified_by")
    if not is_guest and verified_by == VerifyMethod.GUEST:
        raise DomainError("bad_verified_by", _("登记老人的核验方式不能是“非登记就餐”。"), field="verified_by")
    deliverer_name = (deliverer_name or "").strip()
    guest_name = (guest_name or "").strip()
    if len(deliverer_name) > NAME_MAX:
        raise DomainError("name_too_long", _("送餐人姓名最多 50 字。"), field="deliverer_name")
    if len(guest_name) > NAME_MAX:
        raise DomainError("name_too_long", _("就餐人姓名最多 50 字。"), field="guest_name")
    if mode == ServiceMode.DELIVERY and deliverer_id is None and not deliverer_name:
        raise DomainError("deliverer_required", _("送餐上门请填写送餐人。"), field="deliverer_name")
    if mode == ServiceMode.DINE_IN:
        deliverer_name = ""
    return verified_by, deliverer_name, guest_name


def meal_checkin(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site_id: int,
    slot: str,
    served_on: dt.date,
    resident_id: int | None = None,
    verified_by: str = "",
    mode: str = ServiceMode.DINE_IN,
    deliverer_id: int | None = None,
    deliverer_name: str = "",
    guest_name: str = "",
    is_guest: bool = False,
) -> MealResult:
    """Record a meal served at the canteen `site_id` in `slot` on `served_on` and post its split.

    An enrolled elder (`resident_id`) gets the price rule of their tier; a guest (`is_guest`, resident
    optional) pays the full price of the canteen's guest rule. Exactly once per (actor, key): a replay
    returns the first meal (`replayed`). Returns the MealResult with the parts and, when the donation fund
    fell short, a `warning` naming who pays instead.

    Refusals, nothing written: NotFound 404 when the canteen does not exist or the actor may not run it,
    or the resident does not exist; DomainError 400 for a bad slot, mode or verification, a future date,
    a delivery without deliverer, a deliverer who is not an active user, a slot the canteen does not
    serve; Conflict 409 for a closed canteen, an elder not enrolled on the day, no price rule in force (or
    no guest rule), a meal already recorded in the slot, a month whose claim is approved, a rule whose
    shares do not add up.
    """
    key = idempotency_key_clean(idempotency_key)
    verified_by, deliverer_name, guest_name = _validate_checkin(
        slot=slot,
        served_on=served_on,
        resident_id=resident_id,
        verified_by=verified_by,
        mode=mode,
        deliverer_id=deliverer_id,
        deliverer_name=deliverer_name,
        guest_name=guest_name,
        is_guest=is_guest,
    )
    body = {
        "site": site_id,
        "slot": slot,
        "served_on": served_on.isoformat(),
        "resident": resident_id,
        "verified_by": verified_by,
        "mode": mode,
        "deliverer": deliverer_id,
        "deliverer_name": deliverer_name,
        "guest_name": guest_name,
        "is_guest": bool(is_guest),
    }
    with transaction.atomic():
        replay = idempotency_begin(actor=actor, scope=SCOPE_MEAL, key=key, fingerprint=body_fingerprint(body))
        if replay is not None:
            return meal_result_of(Meal.objects.get(pk=replay.response["meal_id"]))
        with connection.cursor() as cursor:
            execute_prepared(
                cursor,
                "canteens_checkin_guest" if is_guest else "canteens_checkin_context",
                _context_sql(guest=bool(is_guest)),
                [
                    resident_id,
                    served_on,
                    served_on,
                    resident_id,
                    resident_id,
                    served_on,
                    slot,
                    served_on.year,
                    served_on.month,
                    ClaimStatus.APPROVED,
                    slot,
                    deliverer_id,
                    slot,
                    served_on,
                    served_on,
                    site_id,
                ],
            )
            rows = cursor.fetchall()
        if not rows:
            raise NotFound(NOT_FOUND_MESSAGE)
        context = rows[0]
        (kind, site_active, site_name, region_id, region_path, enrolment_id, tier_id) = context[:7]
        (found_resident, resident_name, existing_meal, approved_claim, slot_active, fund_id) = context[7:13]
        (found_deliverer, rule_id, price_fen, government_level) = context[13:17]
        (remainder_funder, fallback_funder) = context[17:19]
        site = Site(pk=site_id, kind=kind, name=site_name, region_id=region_id)
        site.region = Region(pk=region_id, path=region_path)
        if kind != SiteKind.CANTEEN or not can_run_site(actor, site):
            raise NotFound(NOT_FOUND_MESSAGE)
        if not site_active:
            raise Conflict("site_closed", _("%(site)s已停止运行，不能登记就餐。") % {"site": site_name})
        slot_label = str(SlotKind(slot).label)
        if not slot_active:
            raise DomainError(
                "slot_not_served", _("本食堂不供应%(slot)s。") % {"slot": slot_label}, field="slot"
            )
        if approved_claim is not None:
            raise Conflict(
                "period_locked",
                _("%(year)s年%(month)s月的补贴申报已审核锁定，不能再登记该月就餐。")
                % {"year": served_on.year, "month": served_on.month},
            )
        if resident_id is not None and found_resident is None:
            raise NotFound(_("未找到该老人。"))
        if deliverer_id is not None and found_deliverer is None:
            raise DomainError("bad_deliverer", _("未找到该送餐人。"), field="deliverer")
        if not is_guest:
            if enrolment_id is None:
                raise Conflict(
                    "not_enrolled",
                    _(
                        "%(name)s在%(date)s没有本食堂的有效就餐登记，不能按补贴价就餐；可按非登记就餐全价收费。"
                    )
                    % {"name": resident_name, "date": f"{served_on.month}月{served_on.day}日"},
                    field="resident",
                )
            if existing_meal is not None:
                raise _already(resident_name, served_on, slot_label, existing_meal)
        else:
            enrolment_id, tier_id = None, None
        if rule_id is None:
            if is_guest:
                raise Conflict("no_guest_rule", _("本食堂没有设置非登记就餐的价格，不能接待非登记就餐。"))
            raise Conflict(
                "no_rule",
                _("%(date)s的%(slot)s没有适用于该老人补贴档次的价格规则，请先设置餐价。")
                % {"date": f"{served_on.month}月{served_on.day}日", "slot": slot_label},
            )
        shortfall = 0
        if is_guest:
            parts = {"government": 0, "community": 0, "donation": 0, "resident": int(price_fen)}
        else:
            shares = shares_in_order(Share(row[19], row[20], row[21], row[22]) for row in rows if row[19])
            try:
                parts = meal_split(int(price_fen), shares, remainder_funder)
                if parts["donation"] > 0:
                    # The draw, when the fund holds the donation part: one conditional UPDATE that also
                    # locks the fund's row, so concurrent check-ins drawing from one fund queue here and each
                    # sees what the previous left. When it does not, the row locked and its balance read,
                    # fallback_apply moves the shortfall to the rule's fallback funder and what the fund
                    # still holds is drawn (the fund never goes below zero: this, and the CHECK).
                    drawn = fund_id is not None and _fund_draw(int(fund_id), parts["donation"])
                    if drawn:
                        available = parts["donation"]
                    elif fund_id is not None:
                        available = _fund_lock(int(fund_id))
                    else:
                        available = 0
                    parts, shortfall = fallback_apply(parts, available, fallback_funder)
                    if not drawn and parts["donation"] > 0:
                        # What the fund still holds, under the lock just taken: this draw cannot fail.
                        drawn = _fund_draw(int(fund_id), parts["donation"])
                        assert drawn, "the fund's balance changed under its row lock"
            except SplitError as error:
                raise Conflict(error.code, error.message, field="rule") from None
        created_at = timezone.now()
        now = connection.ops.adapt_datetimefield_value(created_at)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Meal._meta.db_table} ({_MEAL_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "NULL, NULL, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                [
                    site_id,
                    served_on,
                    slot,
                    resident_id,
                    enrolment_id,
                    tier_id,
                    bool(is_guest),
                    guest_name,
                    verified_by,
                    mode,
                    deliverer_id,
                    deliverer_name,
                    rule_id,
                    price_fen,
                    parts["resident"],
                    parts["government"],
                    government_level,
                    parts["community"],
                    parts["donation"],
                    shortfall,
                    actor.pk,
                    now,
                ],
            )
            inserted = cursor.fetchone()
            if inserted is None:
                # A concurrent check-in of the same elder and slot committed first (its row won the
                # UNIQUE); raising rolls this one back whole, the draw too.
                raise _already(resident_name, served_on, slot_label, None)
            meal_id = int(inserted[0])
            drawn_from: int | None = None
            if parts["donation"] > 0:
                drawn_from = int(fund_id)
                cursor.execute(
                    f"INSERT INTO {FundMovement._meta.db_table} "  # noqa: S608
                    "(fund_id, kind, amount_fen, donation_id, meal_id, memo, created_by_id, created_at) "
                    "VALUES (%s, %s, %s, NULL, %s, %s, %s, %s)",
                    [
                        drawn_from,
                        FundMovementKind.MEAL_DRAW,
                        -parts["donation"],
                        meal_id,
                        _("%(date)s %(slot)s就餐") % {"date": served_on.isoformat(), "slot": slot_label},
                        actor.pk,
                        now,
                    ],
                )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="canteens.meal",
            object_id=str(meal_id),
            object_repr=f"{served_on} {slot_label} {resident_name or guest_name or _('非登记就餐')}"[:200],
            region_path=str(region_path),
            changes={
                "price_fen": [None, price_fen],
                "parts": [None, parts],
                "donation_shortfall_fen": [None, shortfall],
                "idempotency_key": [None, key],
            },
        )
        idempotency_finish(
            actor=actor, scope=SCOPE_MEAL, key=key, status_code=201, response={"meal_id": meal_id}
        )
    return MealResult(
        id=meal_id,
        site_id=site_id,
        served_on=served_on,
        slot=slot,
        resident_id=resident_id,
        resident_name=str(resident_name or ""),
        is_guest=bool(is_guest),
        guest_name=guest_name,
        tier_id=tier_id,
        rule_id=rule_id,
        verified_by=verified_by,
        mode=mode,
        price_fen=int(price_fen),
        resident_fen=parts["resident"],
        government_fen=parts["government"],
        government_level=str(government_level),
        community_fen=parts["community"],
        donation_fen=parts["donation"],
        donation_shortfall_fen=shortfall,
        fallback_funder=str(fallback_funder),
        fund_id=drawn_from,
        created_at=created_at,
        warning=shortfall_warning(shortfall, str(fallback_funder)),
    )


def _already(name: str | None, served_on: dt.date, slot_label: str, meal_id: int | None) -> Conflict:
    today = timezone.localdate()
    when = _("今天") if served_on == today else f"{served_on.month}月{served_on.day}日"
    return Conflict(
        "meal_exists",
        _("%(name)s%(when)s的%(slot)s已登记，不能重复登记。")
        % {"name": name or _("该老人"), "when": when, "slot": slot_label},
        meal=meal_id,
    )


# --- corrections ---------------------------------------------------------------------------------------


def meal_correction_request(
    *, actor: AnyUser, meal: Meal, reason: str, idempotency_key: str = ""
) -> MealCorrection:
    """Ask to take back a wrongly recorded meal; the correction stays open (and its period's claim cannot
    be submitted) until applied or rejected. Exactly once per (actor, key) when a key is given.

    Refusals: NotFound when `actor` may not run the meal's canteen; DomainError 400 without a reason;
    Conflict 409 for a correction (reversal) meal, a meal already voided or with a correction open."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("请填写更正原因。"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", _("更正原因最多 200 字。"), field="reason")
    site = Site.objects.select_related("region").get(pk=meal.site_id)
    if not can_run_site(actor, site):
        raise NotFound(_("未找到该就餐记录，或者它不在您的管辖范围内。"))
    key = idempotency_key_clean(idempotency_key) if idempotency_key else ""
    with transaction.atomic():
        if key:
            replay = idempotency_begin(
                actor=actor,
                scope=SCOPE_CORRECTION,
                key=key,
                fingerprint=body_fingerprint({"meal": meal.pk, "reason": reason}),
            )
            if replay is not None:
                return MealCorrection.objects.get(pk=replay.response["correction_id"])
        locked = Meal.objects.select_for_update(no_key=True).get(pk=meal.pk)
        if locked.reverses_id is not None:
            raise Conflict("is_reversal", _("这是一条冲正记录，不能再更正。"))
        if locked.voided_at is not None:
            raise Conflict("already_voided", _("该就餐记录已冲正。"))
        if MealCorrection.objects.filter(meal=locked, status=CorrectionStatus.OPEN).exists():
            raise Conflict("correction_open", _("该就餐记录已有待处理的更正申请。"))
        correction = MealCorrection.objects.create(
            meal=locked, reason=reason, requested_by_id=cast(int, actor.pk)
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=correction,
            region_path=site.region.path,
            changes={"meal": [None, meal.pk], "idempotency_key": [None, key]},
            detail=reason,
        )
        if key:
            idempotency_finish(
                actor=actor,
                scope=SCOPE_CORRECTION,
                key=key,
                status_code=201,
                response={"correction_id": correction.pk},
            )
    return correction


def correction_date(site_id: int, served_on: dt.date) -> dt.date:
    """The day a reversal of a meal served on `served_on` is dated: that day if its month's claim is not
    approved, else the first day of the first later month whose claim is not approved (corrections of a
    locked period land in the next open one)."""
    approved = set(
        Settlement.objects.filter(
            site_id=site_id, status=ClaimStatus.APPROVED, year__gte=served_on.year
        ).values_list("year", "month")
    )
    year, month = served_on.year, served_on.month
    if (year, month) not in approved:
        return served_on
    while (year, month) in approved:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, 1)


def _correction_locked(actor: AnyUser, correction: MealCorrection) -> tuple[MealCorrection, Site]:
    site = Site.objects.select_related("region").get(pk=correction.meal.site_id)
    if not can_run_site(actor, site):
        raise NotFound(_("未找到该更正申请，或者它不在您的管辖范围内。"))
    locked = MealCorrection.objects.select_for_update().select_related("meal").get(pk=correction.pk)
    if locked.status != CorrectionStatus.OPEN:
        raise Conflict("correction_decided", _("该更正申请已处理过。"))
    return locked, site


def meal_correction_apply(*, actor: AnyUser, correction: MealCorrection) -> Meal:
    """Apply an open correction: write the reversal meal (amounts negated, `reverses` the original, dated by
    correction_date), set `voided_at` on the original, give its donation draw back to the fund it came from
    (FundMovement meal_return), close the correction. Returns the reversal meal.

    Refusals: NotFound when `actor` may not run the canteen; Conflict 409 when already decided."""
    with transaction.atomic():
        correction, site = _correction_locked(actor, correction)
        original = Meal.objects.select_for_update(no_key=True).get(pk=correction.meal_id)
        if original.voided_at is not None:
            raise Conflict("already_voided", _("该就餐记录已冲正。"))
        now = timezone.now()
        reversal = Meal.objects.create(
            site_id=original.site_id,
            served_on=correction_date(original.site_id, original.served_on),
            slot=original.slot,
            resident_id=original.resident_id,
            enrolment_id=original.enrolment_id,
            tier_id=original.tier_id,
            is_guest=original.is_guest,
            guest_name=original.guest_name,
            verified_by=original.verified_by,
            mode=original.mode,
            deliverer_id=original.deliverer_id,
            deliverer_name=original.deliverer_name,
            rule_id=original.rule_id,
            price_fen=-original.price_fen,
            resident_fen=-original.resident_fen,
            government_fen=-original.government_fen,
            government_level=original.government_level,
            community_fen=-original.community_fen,
            donation_fen=-original.donation_fen,
            donation_shortfall_fen=-original.donation_shortfall_fen,
            reverses=original,
            created_by_id=cast(int, actor.pk),
        )
        Meal.objects.filter(pk=original.pk).update(voided_at=now)
        if original.donation_fen > 0:
            draw = FundMovement.objects.filter(meal=original, kind=FundMovementKind.MEAL_DRAW).first()
            if draw is not None:
                _fund_lock(draw.fund_id)
                fund_move(
                    fund_id=draw.fund_id,
                    kind=FundMovementKind.MEAL_RETURN,
                    amount_fen=original.donation_fen,
                    actor_id=cast(int, actor.pk),
                    meal_id=reversal.pk,
                    memo=_("更正退回：%(date)s 就餐记录 #%(id)s")
                    % {"date": original.served_on, "id": original.pk},
                )
        MealCorrection.objects.filter(pk=correction.pk).update(
            status=CorrectionStatus.APPLIED, reversal=reversal, decided_by_id=actor.pk, decided_at=now
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=correction,
            region_path=site.region.path,
            changes={
                "status": [CorrectionStatus.OPEN, CorrectionStatus.APPLIED],
                "reversal": [None, reversal.pk],
            },
        )
    return reversal


def meal_correction_reject(*, actor: AnyUser, correction: MealCorrection, reason: str = "") -> MealCorrection:
    """Close an open correction without changing the meal. NotFound / Conflict as meal_correction_apply."""
    reason = (reason or "").strip()[:REASON_MAX]
    with transaction.atomic():
        correction, site = _correction_locked(actor, correction)
        now = timezone.now()
        MealCorrection.objects.filter(pk=correction.pk).update(
            status=CorrectionStatus.REJECTED, decided_by_id=actor.pk, decided_at=now
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=correction,
            region_path=site.region.path,
            changes={"status": [CorrectionStatus.OPEN, CorrectionStatus.REJECTED]},
            detail=reason,
        )
    correction.refresh_from_db()
    return correction
