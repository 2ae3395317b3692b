"""Meal rows written directly in bulk for the settlement and report tests, each split with canteens.split so
the CHECKs hold (C2's check-in service is tested on its own); reversals written as C2's correction writes
them (negated amounts naming the original, the original's voided_at set)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from canteens.models import GovernmentLevel, Meal, Settlement, Site, SlotKind, VerifyMethod
from canteens.services.settlements import month_bounds, settlement_compute
from canteens.split import Share, meal_split
from tests.canteens.factories import CanteenWorld

SLOTS = (SlotKind.BREAKFAST, SlotKind.LUNCH, SlotKind.DINNER)


def last_month() -> tuple[int, int]:
    first = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def meal_row(
    world: CanteenWorld,
    *,
    served_on: dt.date,
    slot: str,
    parts: dict[str, int],
    elder: str | None = None,
    level: str = GovernmentLevel.COUNTY,
    site_id: int | None = None,
) -> Meal:
    resident = world.elders[elder] if elder else None
    enrolment = world.enrolments.get(elder) if elder else None
    return Meal(
        site_id=site_id or world.site.pk,
        served_on=served_on,
        slot=slot,
        resident=resident,
        enrolment=enrolment,
        tier_id=enrolment.tier_id if enrolment else None,
        is_guest=elder is None,
        guest_name="" if elder else "过路客",
        verified_by=VerifyMethod.NAME if elder else VerifyMethod.GUEST,
        price_fen=sum(parts.values()),
        resident_fen=parts["resident"],
        government_fen=parts["government"],
        government_level=level,
        community_fen=parts["community"],
        donation_fen=parts["donation"],
        created_by=world.manager,
    )


def reversal_write(original: Meal, actor_id: int, served_on: dt.date | None = None) -> Meal:
    reversal = Meal.objects.create(
        site_id=original.site_id,
        served_on=served_on or original.served_on,
        slot=original.slot,
        resident_id=original.resident_id,
        enrolment_id=original.enrolment_id,
        tier_id=original.tier_id,
        is_guest=original.is_guest,
        verified_by=original.verified_by,
        price_fen=-original.price_fen,
        resident_fen=-original.resident_fen,
        government_fen=-original.government_fen,
        government_level=original.government_level,
        community_fen=-original.community_fen,
        donation_fen=-original.donation_fen,
        reverses=original,
        created_by_id=actor_id,
    )
    Meal.objects.filter(pk=original.pk).update(voided_at=timezone.now())
    return reversal


def random_rule(rng: random.Random) -> tuple[list[Share], str]:
    """A random valid rule: the resident a fixed amount, the rest by shares (some capped) adding to 100 %."""
    cut = sorted(rng.sample(range(1, 10_000), 2))
    bps = [cut[0], cut[1] - cut[0], 10_000 - cut[1]]
    shares = [Share("resident", fixed_fen=rng.randint(0, 200))]
    for funder, bp in zip(("government", "community", "donation"), bps, strict=True):
        cap = rng.choice([None, None, rng.randint(50, 500)]) if funder != "community" else None
        shares.append(Share(funder, share_bp=bp, cap_fen=cap))
    return shares, "community"


@dataclass
class Written:
    meals: list[Meal]
    reversals: list[Meal]

    @property
    def rows(self) -> list[Meal]:
        return self.meals + self.reversals


def random_month(world: CanteenWorld, year: int, month: int, *, seed: int, count: int = 120) -> Written:
    """`count` meals on distinct (elder or guest, day, slot) of the month with random prices and rules,
    a few of them reversed; returns the rows written."""
    rng = random.Random(seed)
    start, end = month_bounds(year, month)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    elders = list(world.enrolments)
    combos = [(e, d, s) for e in [*elders, None] for d in days for s in SLOTS]
    rows = []
    for elder, day, slot in rng.sample(combos, count):
        price = rng.randint(1, 2000)
        if elder is None:
            parts = {"resident": price, "government": 0, "community": 0, "donation": 0}
        else:
            shares, remainder = random_rule(rng)
            try:
                parts = meal_split(price, shares, remainder)
            except Exception:  # a fixed part over the price: the resident pays it all
                parts = meal_split(price, [Share("resident", fixed_fen=price)], remainder)
        level = rng.choice([GovernmentLevel.COUNTY, GovernmentLevel.TOWNSHIP])
        rows.append(meal_row(world, served_on=day, slot=slot, parts=parts, elder=elder, level=level))
    meals = Meal.objects.bulk_create(rows)
    reversals = [reversal_write(meal, world.manager.pk) for meal in rng.sample(meals, count // 10)]
    return Written(meals=list(Meal.objects.filter(pk__in=[m.pk for m in meals])), reversals=reversals)


def settlement_scope_data(sites: dict[str, Site]) -> dict[str, Settlement]:
    """For tests/test_api_scope.py: last month's (empty, draft) settlement of each canteen, computed by the
    system (no actor), so each subtree holds a settlement."""
    year, month = last_month()
    return {name: settlement_compute(site=site, year=year, month=month) for name, site in sites.items()}
