"""Monthly settlement of a canteen and the government subsidy claim (补贴申报) it becomes.

draft ⇄ (recompute) → submitted → approved (locked) | returned → (recompute, resubmit) → submitted …

- settlement_compute: the month's figures from the meal rows, corrections included (a reversal meal carries
  negated amounts and counts −1 person-time), by one GROUP BY (slot × tier) plus one COUNT(DISTINCT) of the
  elders who ate; written into the Settlement and its lines. Only a draft or returned settlement is
  recomputed: a submitted one waits for its decision, an approved one is locked (Conflict here, and the
  trigger of canteens 0002 in the database).
- settlement_submit: recomputes (so the claim always equals the meals when it goes out) and submits;
  refused while the month has open meal corrections, or before the month is over.
- settlement_approve / settlement_return (reason required): the township or county (can_approve_claims).

Every call that writes is exactly once per (actor, idempotency key) and writes its audit row in the same
transaction. Figures are integer fen; the settlement's CHECK holds them to
price = resident + county + township + community + donation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from canteens import access
from canteens.models import (
    ClaimStatus,
    CorrectionStatus,
    GovernmentLevel,
    Meal,
    MealCorrection,
    Settlement,
    SettlementLine,
    Site,
    SiteKind,
)
from canteens.services._common import AnyUser
from common.errors import Conflict, DomainError, NotFound
from common.services import begin, finish, text_clean
from governance.audit import audit_record
from governance.models import AuditAction

SCOPE_COMPUTE = "canteens.settlement_compute"
SCOPE_SUBMIT = "canteens.settlement_submit"
SCOPE_APPROVE = "canteens.settlement_approve"
SCOPE_RETURN = "canteens.settlement_return"
CLAIM_PREFIX = "BT"
REASON_MAX = 200
FIRST_YEAR = 2000
NOT_FOUND_MESSAGE = gettext_lazy("未找到该结算，或者它不在您的管辖范围内。")


def claim_number_for(site_id: int, year: int, month: int) -> str:
    """ "BT" + the site's id + yyyymm (e.g. BT12202503): unique per site and month, since the last six
    digits are always the period."""
    return f"{CLAIM_PREFIX}{site_id}{year:04d}{month:02d}"


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """[first day of the month, first day of the next month)."""
    start = dt.date(year, month, 1)
    end = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return start, end


def period_clean(year: Any, month: Any) -> tuple[int, int]:
    """(year, month) as ints; DomainError next to the field for a period that is not a month that has
    begun."""
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise DomainError("bad_period", _("请选择结算年月。"), field="month") from None
    today = timezone.localdate()
    if not FIRST_YEAR <= year <= today.year:
        raise DomainError(
            "bad_year", _("结算年度须在 %(first)s 年到今年之间。") % {"first": FIRST_YEAR}, field="year"
        )
    if not 1 <= month <= 12:
        raise DomainError("bad_month", _("月份须在 1 到 12 之间。"), field="month")
    if dt.date(year, month, 1) > today:
        raise DomainError("period_future", _("这个月还没有开始，不能结算。"), field="month")
    return year, month


# --- the figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFigures:
    slot: str
    tier_id: int | None
    meals: int
    price_fen: int
    resident_fen: int
    government_fen: int
    community_fen: int
    donation_fen: int


@dataclass(frozen=True)
class MonthFigures:
    """A month's figures from the meal rows: the lines and the totals of the settlement."""

    lines: list[LineFigures]
    meals: int
    guest_meals: int
    elders: int
    price_fen: int
    resident_fen: int
    government_county_fen: int
    government_township_fen: int
    community_fen: int
    donation_fen: int


# The month's meals by slot and tier (tier empty: guests). A reversal meal (reverses set) counts −1
# person-time and carries its negated amounts, so the original and its reversal in one month cancel.
_LINES_SQL = """
SELECT slot, tier_id,
       SUM(CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END),
       SUM(CASE WHEN is_guest = %s THEN (CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END) ELSE 0 END),
       SUM(price_fen), SUM(resident_fen), SUM(government_fen),
       SUM(CASE WHEN government_level = %s THEN government_fen ELSE 0 END),
       SUM(community_fen), SUM(donation_fen)
FROM {meal}
WHERE site_id = %s AND served_on >= %s AND served_on < %s
GROUP BY slot, tier_id
"""

# Elders served: residents with a meal of their own that stands (not a guest, not a reversal, not voided).
_ELDERS_SQL = """
SELECT COUNT(DISTINCT resident_id) FROM {meal}
WHERE site_id = %s AND served_on >= %s AND served_on < %s
  AND is_guest = %s AND reverses_id IS NULL AND voided_at IS NULL
"""

_SLOT_ORDER = {"breakfast": 0, "lunch": 1, "dinner": 2}


def month_figures(site_id: int, year: int, month: int) -> MonthFigures:
    """The figures of `site_id`'s meals served in year-month, corrections included. Two statements (the
    GROUP BY and the distinct count), whatever the number of meals."""
    start, end = month_bounds(year, month)
    table = Meal._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_LINES_SQL.format(meal=table), [True, GovernmentLevel.TOWNSHIP, site_id, start, end])
        rows = cursor.fetchall()
        cursor.execute(_ELDERS_SQL.format(meal=table), [site_id, start, end, False])
        elders_row = cursor.fetchone()
    lines: list[LineFigures] = []
    totals = dict.fromkeys(
        ("meals", "guest", "price", "resident", "gov", "township", "community", "donation"), 0
    )
    for slot, tier_id, meals, guest, price, resident, gov, township, community, donation in rows:
        lines.append(
            LineFigures(
                slot=str(slot),
                tier_id=tier_id,
                meals=int(meals),
                price_fen=int(price),
                resident_fen=int(resident),
                government_fen=int(gov),
                community_fen=int(community),
                donation_fen=int(donation),
            )
        )
        for name, value in zip(
            totals, (meals, guest, price, resident, gov, township, community, donation), strict=True
        ):
            totals[name] += int(value)
    lines.sort(key=lambda line: (_SLOT_ORDER.get(line.slot, 9), line.tier_id is None, line.tier_id or 0))
    return MonthFigures(
        lines=lines,
        meals=totals["meals"],
        guest_meals=totals["guest"],
        elders=int(elders_row[0]) if elders_row else 0,
        price_fen=totals["price"],
        resident_fen=totals["resident"],
        government_county_fen=totals["gov"] - totals["township"],
        government_township_fen=totals["township"],
        community_fen=totals["community"],
        donation_fen=totals["donation"],
    )


def _figures_write(settlement: Settlement, figures: MonthFigures) -> None:
    """Replace the (locked, not approved) settlement's lines and totals with `figures`."""
    SettlementLine.objects.filter(settlement_id=settlement.pk).delete()
    SettlementLine.objects.bulk_create(
        [
            SettlementLine(
                settlement_id=settlement.pk,
                slot=line.slot,
                tier_id=line.tier_id,
                meals=line.meals,
                price_fen=line.price_fen,
                resident_fen=line.resident_fen,
                government_fen=line.government_fen,
                community_fen=line.community_fen,
                donation_fen=line.donation_fen,
            )
            for line in figures.lines
        ]
    )
    settlement.meals = figures.meals
    settlement.guest_meals = figures.guest_meals
    settlement.elders = figures.elders
    settlement.price_fen = figures.price_fen
    settlement.resident_fen = figures.resident_fen
    settlement.government_county_fen = figures.government_county_fen
    settlement.government_township_fen = figures.government_township_fen
    settlement.community_fen = figures.community_fen
    settlement.donation_fen = figures.donation_fen
    settlement.computed_at = timezone.now()


_FIGURE_FIELDS = [
    "meals",
    "guest_meals",
    "elders",
    "price_fen",
    "resident_fen",
    "government_county_fen",
    "government_township_fen",
    "community_fen",
    "donation_fen",
    "computed_at",
]


def _locked(settlement_id: int) -> Settlement:
    found = (
        Settlement.objects.select_for_update(of=("self",))
        .select_related("site__region")
        .filter(pk=settlement_id)
        .first()
    )
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def _locked_or_created(site: Site, year: int, month: int) -> Settlement:
    """The site's settlement for the month, locked (FOR UPDATE); created as a draft when there is none.
    Two first computations of one month meet on the UNIQUE (site, year, month): the second reads the
    first's row once it commits."""
    existing = Settlement.objects.select_for_update().filter(site=site, year=year, month=month).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Settlement.objects.create(
                site=site, year=year, month=month, claim_number=claim_number_for(site.pk, year, month)
            )
    except IntegrityError:
        return Settlement.objects.select_for_update().get(site=site, year=year, month=month)


def _refuse_unless_open(settlement: Settlement) -> None:
    if settlement.status == ClaimStatus.APPROVED:
        raise Conflict("settlement_locked", _("该月结算已核准并锁定，不能再修改；更正将计入下一个结算期。"))
    if settlement.status == ClaimStatus.SUBMITTED:
        raise Conflict("settlement_submitted", _("该月结算已申报，正在等待审核，不能重新计算。"))


def _replayed(record: Any) -> Settlement | None:
    if record is None:
        return None
    return Settlement.objects.select_related("site__region").get(pk=record.response["id"])


def settlement_compute(
    *,
    site: Site,
    year: int,
    month: int,
    actor: AnyUser | None = None,
    idempotency_key: str = "",
) -> Settlement:
    """Compute (or recompute) the site's settlement for year-month from its meals and return it, with
    its lines replaced. A draft is created the first time; a returned settlement stays returned (its
    reason stays visible) until it is submitted again.

    `actor` None is the system (the demo, a scheduled job): no gate, no idempotency key. With an actor:
    NotFound unless they may run the site; exactly once per (actor, key) when a key is given.
    Conflict 409 for a submitted or approved settlement; DomainError for a period that is not a month that
    has begun or a site that is not a canteen."""
    year, month = period_clean(year, month)
    if actor is not None and not access.can_run_site(actor, site):
        raise NotFound(access.NOT_FOUND_MESSAGE)
    if site.kind != SiteKind.CANTEEN:
        raise DomainError("not_a_canteen", _("只有爱心食堂才有就餐结算。"), field="site")
    with transaction.atomic():
        if actor is not None and idempotency_key:
            body = {"site": site.pk, "year": year, "month": month}
            replay = _replayed(begin(actor=actor, scope=SCOPE_COMPUTE, key=idempotency_key, body=body))
            if replay is not None:
                return replay
        settlement = _locked_or_created(site, year, month)
        _refuse_unless_open(settlement)
        before = {"meals": settlement.meals, "price_fen": settlement.price_fen}
        _figures_write(settlement, month_figures(site.pk, year, month))
        settlement.save(update_fields=_FIGURE_FIELDS)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=settlement,
            region_path=site.region.path,
            changes={
                "meals": [before["meals"], settlement.meals],
                "price_fen": [before["price_fen"], settlement.price_fen],
                **({"idempotency_key": [None, idempotency_key]} if idempotency_key else {}),
            },
            detail=_("计算月度结算"),
        )
        if actor is not None and idempotency_key:
            finish(actor=actor, scope=SCOPE_COMPUTE, key=idempotency_key, object_id=settlement.pk)
    settlement.site = site
    return settlement


def open_corrections_count(site_id: int, year: int, month: int) -> int:
    """Open meal corrections (requested, not yet applied or rejected) on meals of the site's month."""
    start, end = month_bounds(year, month)
    return MealCorrection.objects.filter(
        status=CorrectionStatus.OPEN,
        meal__site_id=site_id,
        meal__served_on__gte=start,
        meal__served_on__lt=end,
    ).count()


def settlement_submit(*, actor: AnyUser, idempotency_key: str, settlement: Settlement) -> Settlement:
    """Submit the claim (draft or returned → submitted) with its figures recomputed from the meals; returns
    it. NotFound unless the actor may run the site. Conflict 409: already submitted or approved, the month
    not over yet, open meal corrections in the month (the message says how many). A replay returns the
    settlement as it is."""
    with transaction.atomic():
        body = {"settlement": settlement.pk}
        replay = _replayed(begin(actor=actor, scope=SCOPE_SUBMIT, key=idempotency_key, body=body))
        if replay is not None:
            return replay
        settlement = _locked(settlement.pk)
        site = settlement.site
        if not access.can_run_site(actor, site):
            raise NotFound(NOT_FOUND_MESSAGE)
        if settlement.status == ClaimStatus.SUBMITTED:
            raise Conflict("settlement_submitted", _("该月结算已申报，正在等待审核。"))
        _refuse_unless_open(settlement)
        _start, end = month_bounds(settlement.year, settlement.month)
        if timezone.localdate() < end:
            raise Conflict("period_not_over", _("本月还没有结束，月末之后才能申报补贴。"))
        open_count = open_corrections_count(site.pk, settlement.year, settlement.month)
        if open_count:
            raise Conflict(
                "open_corrections",
                _("该月还有 %(n)s 条就餐更正未处理，处理完后才能申报。") % {"n": open_count},
                open_corrections=open_count,
            )
        previous = settlement.status
        _figures_write(settlement, month_figures(site.pk, settlement.year, settlement.month))
        settlement.status = ClaimStatus.SUBMITTED
        settlement.submitted_by_id = actor.pk
        settlement.submitted_at = timezone.now()
        settlement.save(update_fields=[*_FIGURE_FIELDS, "status", "submitted_by", "submitted_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=settlement,
            region_path=site.region.path,
            changes={
                "status": [previous, ClaimStatus.SUBMITTED],
                "price_fen": [None, settlement.price_fen],
                "idempotency_key": [None, idempotency_key],
            },
            detail=_("提交补贴申报"),
        )
        finish(actor=actor, scope=SCOPE_SUBMIT, key=idempotency_key, object_id=settlement.pk)
    return settlement


def _decidable(actor: AnyUser, settlement_id: int) -> Settlement:
    settlement = _locked(settlement_id)
    site = settlement.site
    if not access.can_approve_claims(actor, site):
        if access.sites_visible(actor).filter(pk=site.pk).exists():
            raise DomainError("approve_forbidden", _("只有乡镇或县级管理员可以审核补贴申报。"), status=403)
        raise NotFound(NOT_FOUND_MESSAGE)
    if settlement.status == ClaimStatus.APPROVED:
        raise Conflict("settlement_locked", _("该月结算已核准并锁定。"))
    if settlement.status != ClaimStatus.SUBMITTED:
        raise Conflict("settlement_not_submitted", _("该月结算还没有申报，不能审核。"))
    return settlement


def settlement_approve(*, actor: AnyUser, idempotency_key: str, settlement: Settlement) -> Settlement:
    """Approve a submitted claim (submitted → approved): from then on it is locked. Returns it.
    NotFound out of scope; 403 for someone who may see but not approve; Conflict 409 unless submitted."""
    with transaction.atomic():
        body = {"settlement": settlement.pk}
        replay = _replayed(begin(actor=actor, scope=SCOPE_APPROVE, key=idempotency_key, body=body))
        if replay is not None:
            return replay
        settlement = _decidable(actor, settlement.pk)
        settlement.status = ClaimStatus.APPROVED
        settlement.decided_by_id = actor.pk
        settlement.decided_at = timezone.now()
        settlement.return_reason = ""
        settlement.save(update_fields=["status", "decided_by", "decided_at", "return_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=settlement,
            region_path=settlement.site.region.path,
            changes={
                "status": [ClaimStatus.SUBMITTED, ClaimStatus.APPROVED],
                "idempotency_key": [None, idempotency_key],
            },
            detail=_("核准补贴申报"),
        )
        finish(actor=actor, scope=SCOPE_APPROVE, key=idempotency_key, object_id=settlement.pk)
    return settlement


def settlement_return(
    *, actor: AnyUser, idempotency_key: str, settlement: Settlement, reason: str
) -> Settlement:
    """Return a submitted claim to the canteen (submitted → returned) with a reason; returns it. The
    canteen recomputes and submits again. Same refusals as settlement_approve, and DomainError next to
    `reason` when it is empty or too long."""
    reason = text_clean(reason, field="reason", maximum=REASON_MAX, required=_("请填写退回原因。"))
    with transaction.atomic():
        body = {"settlement": settlement.pk, "reason": reason}
        replay = _replayed(begin(actor=actor, scope=SCOPE_RETURN, key=idempotency_key, body=body))
        if replay is not None:
            return replay
        settlement = _decidable(actor, settlement.pk)
        settlement.status = ClaimStatus.RETURNED
        settlement.decided_by_id = actor.pk
        settlement.decided_at = timezone.now()
        settlement.return_reason = reason
        settlement.save(update_fields=["status", "decided_by", "decided_at", "return_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=settlement,
            region_path=settlement.site.region.path,
            changes={
                "status": [ClaimStatus.SUBMITTED, ClaimStatus.RETURNED],
                "return_reason": [None, reason],
                "idempotency_key": [None, idempotency_key],
            },
            detail=_("退回补贴申报"),
        )
        finish(actor=actor, scope=SCOPE_RETURN, key=idempotency_key, object_id=settlement.pk)
    return settlement
