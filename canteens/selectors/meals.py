"""Reads for the counter and the daily meal sheet: which slot it is now, finding an enrolled elder (name,
card QR code, last four of the ID number), who already ate in the slot, the day's meals and totals, and
the open corrections. Callers have passed the site's gate (canteens.access.site_get_runnable/visible)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from canteens.access import AnyUser, sites_visible
from canteens.models import (
    CorrectionStatus,
    Enrolment,
    Meal,
    MealCorrection,
    MealSlot,
    Site,
    SlotKind,
)
from common.errors import NotFound

SEARCH_LIMIT = 20


def site_slots(site: Site) -> list[MealSlot]:
    """The canteen's active slots in serving order."""
    return list(MealSlot.objects.filter(site=site, is_active=True).order_by("starts"))


def slot_now(slots: list[MealSlot], now: dt.time) -> str:
    """The slot the counter is serving at `now`: the one whose times contain it, else the next one to
    start, else the last of the day ("" when the canteen has no slot)."""
    if not slots:
        return ""
    for slot in slots:
        if slot.starts <= now <= slot.ends:
            return slot.kind
    for slot in slots:
        if now < slot.starts:
            return slot.kind
    return slots[-1].kind


def _open_on(day: dt.date) -> Q:
    return Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def checkin_search(site: Site, query: str, day: dt.date) -> list[Enrolment]:
    """The elders enrolled at `site` on `day` matching `query`: the exact card code (a scanner gun types
    it), four digits (the ID number's last four, as in the masked field) or part of the name. At most
    SEARCH_LIMIT, by name."""
    query = (query or "").strip()
    if not query:
        return []
    enrolments = Enrolment.objects.filter(_open_on(day), site=site).select_related("resident", "tier")
    by_card = list(enrolments.filter(card_code=query)[:1])
    if by_card:
        return by_card
    if len(query) == 4 and (query[:3].isdigit() and (query[3].isdigit() or query[3] in "Xx")):
        condition = Q(resident__id_number_masked__endswith=query.upper())
    else:
        condition = Q(resident__name__icontains=query)
    return list(enrolments.filter(condition).order_by("resident__name", "id")[:SEARCH_LIMIT])


def meals_in_slot(site: Site, day: dt.date, slot: str) -> list[Meal]:
    """The meals recorded at `site` in `slot` on `day` (voided ones and reversals aside), latest first."""
    return list(
        Meal.objects.filter(
            site=site, served_on=day, slot=slot, reverses__isnull=True, voided_at__isnull=True
        )
        .select_related("resident", "tier")
        .order_by("-id")
    )


def eaten_resident_ids(site: Site, day: dt.date, slot: str) -> set[int]:
    return set(
        Meal.objects.filter(
            site=site, served_on=day, slot=slot, is_guest=False, reverses__isnull=True, voided_at__isnull=True
        ).values_list("resident_id", flat=True)
    )


def day_count(site: Site, day: dt.date) -> int:
    """Meals served at `site` on `day` (person-times, 人次), voided ones and reversals aside."""
    return Meal.objects.filter(
        site=site, served_on=day, reverses__isnull=True, voided_at__isnull=True
    ).count()


@dataclass
class SheetTotals:
    meals: int = 0
    guests: int = 0
    price_fen: int = 0
    resident_fen: int = 0
    government_fen: int = 0
    community_fen: int = 0
    donation_fen: int = 0

    def add(self, meal: Meal) -> None:
        sign = -1 if meal.reverses_id else 1
        self.meals += sign
        self.guests += sign if meal.is_guest else 0
        self.price_fen += meal.price_fen
        self.resident_fen += meal.resident_fen
        self.government_fen += meal.government_fen
        self.community_fen += meal.community_fen
        self.donation_fen += meal.donation_fen


@dataclass
class MealSheet:
    """The daily meal sheet: every meal row of the day (reversals dated that day included, so the totals
    are what the settlement will count), by slot, with totals per slot and for the day."""

    site: Site
    day: dt.date
    rows: list[Meal]
    by_slot: list[tuple[str, str, list[Meal], SheetTotals]] = field(default_factory=list)
    totals: SheetTotals = field(default_factory=SheetTotals)


def meal_sheet(site: Site, day: dt.date) -> MealSheet:
    rows = list(
        Meal.objects.filter(site=site, served_on=day)
        .select_related("resident", "tier", "reverses")
        .order_by("id")
    )
    order = {kind: index for index, kind in enumerate(SlotKind.values)}
    rows.sort(key=lambda meal: (order.get(meal.slot, 9), meal.id))
    sheet = MealSheet(site=site, day=day, rows=rows)
    for kind, label in SlotKind.choices:
        in_slot = [meal for meal in rows if meal.slot == kind]
        if not in_slot:
            continue
        totals = SheetTotals()
        for meal in in_slot:
            totals.add(meal)
            sheet.totals.add(meal)
        sheet.by_slot.append((kind, str(label), in_slot, totals))
    return sheet


def meal_get_visible(user: AnyUser, meal_id: int | str) -> Meal:
    """A meal at a site `user` may see, else NotFound."""
    meal = Meal.objects.select_related("site__region", "resident", "tier").filter(pk=meal_id).first()
    if meal is None or not sites_visible(user).filter(pk=meal.site_id).exists():
        raise NotFound(_("未找到该就餐记录，或者它不在您的管辖范围内。"))
    return meal


def corrections_for_site(site: Site, *, open_only: bool = False) -> QuerySet[MealCorrection]:
    corrections = MealCorrection.objects.filter(meal__site=site).select_related(
        "meal__resident", "requested_by", "decided_by", "reversal"
    )
    if open_only:
        corrections = corrections.filter(status=CorrectionStatus.OPEN)
    return corrections.order_by("-requested_at")


def correction_get_visible(user: AnyUser, correction_id: int | str) -> MealCorrection:
    correction = MealCorrection.objects.select_related("meal__site__region").filter(pk=correction_id).first()
    if correction is None or not sites_visible(user).filter(pk=correction.meal.site_id).exists():
        raise NotFound(_("未找到该更正申请，或者它不在您的管辖范围内。"))
    return correction


def meals_list(
    user: AnyUser, *, site_id: Any = None, day: dt.date | None = None, slot: str = ""
) -> QuerySet[Meal]:
    """Meals at the sites `user` may see, filtered by site, day and slot, newest first."""
    meals = Meal.objects.filter(site__in=sites_visible(user)).select_related("resident")
    if site_id:
        meals = meals.filter(site_id=site_id)
    if day is not None:
        meals = meals.filter(served_on=day)
    if slot:
        meals = meals.filter(slot=slot)
    return meals.order_by("-served_on", "-id")
