"""Reading enrolments and finding residents to enrol, for whoever runs the canteen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import Enrolment, Site, SubsidyTier
from canteens.selectors.sites import township_of
from canteens.services.enrolments import ACTIVE_STATUSES, age_on, tiers_eligible
from common.errors import NotFound
from governance.models import Resident

SEARCH_LIMIT = 20


def enrolments_list(
    site: Site,
    *,
    status: str = "open",
    tier_id: int | None = None,
    q: str = "",
    on_date: dt.date | None = None,
) -> QuerySet[Enrolment]:
    """The canteen's enrolments: status "open" (no end date), "ended", or "" for all; by tier; by a name
    fragment or the last 4 characters of the (masked) ID number. Ordered by name."""
    rows = Enrolment.objects.filter(site=site).select_related("resident", "resident__household", "tier")
    if status == "open":
        rows = rows.filter(ends_on__isnull=True)
    elif status == "ended":
        rows = rows.filter(ends_on__isnull=False)
    if tier_id:
        rows = rows.filter(tier_id=tier_id)
    q = (q or "").strip()
    if q:
        condition = Q(resident__name__icontains=q)
        if len(q) == 4 and q[:3].isdigit():
            condition |= Q(resident__id_number_masked__endswith=q.upper())
        rows = rows.filter(condition)
    return rows.order_by("resident__name", "-starts_on", "id")


def enrolment_get_runnable(user: Any, enrolment_id: int | str) -> Enrolment:
    """The enrolment at a canteen `user` runs, else NotFound (404)."""
    enrolment = (
        Enrolment.objects.select_related("site__region", "resident__household__grid", "tier")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None or not access.can_run_site(user, enrolment.site):
        raise NotFound(_not_found())
    return enrolment


def _not_found() -> str:
    return str(access.NOT_FOUND_MESSAGE)


@dataclass(frozen=True)
class Candidate:
    resident: Resident
    age: int
    tiers: list[tuple[SubsidyTier, str]]  # eligible on the day, with the basis
    enrolment: Enrolment | None  # the open enrolment at this canteen, if any


def residents_search(site: Site, q: str, on_date: dt.date) -> list[Candidate]:
    """Residents on the register in the canteen's township matching `q` (a name fragment, or the last 4
    characters of the ID number), oldest first, at most SEARCH_LIMIT; each with their age and eligible
    tiers on `on_date` and any open enrolment here."""
    q = (q or "").strip()
    if not q:
        return []
    condition = Q(name__icontains=q)
    if len(q) == 4 and q[:3].isdigit():
        condition |= Q(id_number_masked__endswith=q.upper())
    residents = list(
        Resident.objects.filter(
            condition,
            household__grid__path__startswith=township_of(site.region.path),
            status__in=ACTIVE_STATUSES,
        )
        .select_related("household__grid")
        .order_by("birth_date", "name")[:SEARCH_LIMIT]
    )
    open_here = {
        e.resident_id: e
        for e in Enrolment.objects.filter(
            site=site, ends_on__isnull=True, resident__in=residents
        ).select_related("tier")
    }
    return [
        Candidate(r, age_on(r.birth_date, on_date), tiers_eligible(r, on_date), open_here.get(r.pk))
        for r in residents
    ]


def resident_for_enrolment(site: Site, resident_id: int | str) -> Resident:
    """A resident of the canteen's township, else NotFound."""
    resident = (
        Resident.objects.filter(
            pk=resident_id, household__grid__path__startswith=township_of(site.region.path)
        )
        .select_related("household__grid")
        .first()
    )
    if resident is None:
        raise NotFound(_("未找到该居民，或者他不在本食堂所在乡镇。"))
    return resident
