"""Reading settlements and subsidy claims, always through the acting user's scope (canteens.access):
a canteen's monthly settlements, one settlement with its lines, and the approvers' claim list (a township
admin sees every canteen of the township, the county admin every canteen)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from canteens import access
from canteens.models import ClaimStatus, Funder, Settlement, SlotKind, SubsidyTier
from canteens.services.settlements import NOT_FOUND_MESSAGE, open_corrections_count
from common.errors import NotFound
from governance import access as governance_access
from governance.access import AnyUser


def fen_to_yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals and thousands separators ("1,234.50"), exact."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def settlements_for_site(user: AnyUser, site_id: int | str) -> QuerySet[Settlement]:
    """The settlements of a site the user may see, newest month first; NotFound otherwise."""
    site = access.site_get_visible(user, site_id)
    return Settlement.objects.filter(site=site).select_related("site__region").order_by("-year", "-month")


def settlement_get_visible(user: AnyUser, settlement_id: int | str) -> Settlement:
    """The settlement if its site is visible to the user; NotFound (404) otherwise, as for a missing id."""
    try:
        pk = int(settlement_id)
    except (TypeError, ValueError):
        raise NotFound(NOT_FOUND_MESSAGE) from None
    found = (
        Settlement.objects.select_related("site__region__parent", "submitted_by", "decided_by")
        .filter(pk=pk, site__in=access.sites_visible(user))
        .first()
    )
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def settlements_visible(
    user: AnyUser,
    *,
    site_id: int | None = None,
    status: str = "",
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[Settlement]:
    """The settlements of every canteen the user may see (optionally one site's), filtered by status,
    year and month; newest month first."""
    rows = Settlement.objects.filter(site__in=access.sites_visible(user)).select_related("site__region")
    if site_id is not None:
        rows = rows.filter(site_id=site_id)
    if status in ClaimStatus.values:
        rows = rows.filter(status=status)
    if year:
        rows = rows.filter(year=year)
    if month:
        rows = rows.filter(month=month)
    return rows.order_by("-year", "-month", "site__region__path", "site__name", "pk")


def claims_for_approval(
    user: AnyUser, *, status: str = "", year: int | None = None, month: int | None = None
) -> QuerySet[Settlement]:
    """The claims of every canteen the user may approve for (township/county admins), filtered by status
    (default all but drafts), year and month; submitted first, then newest."""
    scope = governance_access.scope_q(user, "site__region__path", access.APPROVER_ROLES)
    rows = Settlement.objects.filter(scope).select_related("site__region__parent", "submitted_by")
    if status in ClaimStatus.values:
        rows = rows.filter(status=status)
    else:
        rows = rows.exclude(status=ClaimStatus.DRAFT)
    if year:
        rows = rows.filter(year=year)
    if month:
        rows = rows.filter(month=month)
    return rows.order_by("-year", "-month", "site__region__path", "site__name")


@dataclass(frozen=True)
class LineRow:
    slot: str
    slot_label: str
    tier_id: int | None
    tier_label: str
    meals: int
    price_fen: int
    resident_fen: int
    government_fen: int
    community_fen: int
    donation_fen: int

    @property
    def price_yuan(self) -> str:
        return fen_to_yuan(self.price_fen)

    @property
    def resident_yuan(self) -> str:
        return fen_to_yuan(self.resident_fen)

    @property
    def government_yuan(self) -> str:
        return fen_to_yuan(self.government_fen)

    @property
    def community_yuan(self) -> str:
        return fen_to_yuan(self.community_fen)

    @property
    def donation_yuan(self) -> str:
        return fen_to_yuan(self.donation_fen)


def settlement_lines(settlement: Settlement) -> list[LineRow]:
    """The settlement's lines by slot (breakfast, lunch, dinner) and tier (the tiers' order, guests
    last), with Chinese labels."""
    tiers = {tier.pk: tier for tier in SubsidyTier.objects.all()}
    slot_order = {value: index for index, value in enumerate(SlotKind.values)}
    lines = sorted(
        settlement.lines.all(),
        key=lambda line: (
            slot_order.get(line.slot, 9),
            line.tier_id is None,
            (tiers[line.tier_id].sort_order, tiers[line.tier_id].code) if line.tier_id in tiers else (0, ""),
        ),
    )
    guest_label = str(_guest_label())
    return [
        LineRow(
            slot=line.slot,
            slot_label=str(SlotKind(line.slot).label),
            tier_id=line.tier_id,
            tier_label=tiers[line.tier_id].name if line.tier_id in tiers else guest_label,
            meals=line.meals,
            price_fen=line.price_fen,
            resident_fen=line.resident_fen,
            government_fen=line.government_fen,
            community_fen=line.community_fen,
            donation_fen=line.donation_fen,
        )
        for line in lines
    ]


def _guest_label() -> str:
    from django.utils.translation import gettext

    return gettext("非登记就餐")


@dataclass(frozen=True)
class FunderTotal:
    funder: str
    label: str
    fen: int

    @property
    def yuan(self) -> str:
        return fen_to_yuan(self.fen)


def settlement_funder_totals(settlement: Settlement) -> list[FunderTotal]:
    """What each funder owes for the month, government split into county and township: the 补贴申报表's
    table, in Funder order."""
    from django.utils.translation import gettext

    return [
        FunderTotal("government_county", gettext("政府补贴（县级）"), settlement.government_county_fen),
        FunderTotal("government_township", gettext("政府补贴（乡镇级）"), settlement.government_township_fen),
        FunderTotal(Funder.COMMUNITY, str(Funder.COMMUNITY.label), settlement.community_fen),
        FunderTotal(Funder.DONATION, str(Funder.DONATION.label), settlement.donation_fen),
        FunderTotal(Funder.RESIDENT, str(Funder.RESIDENT.label), settlement.resident_fen),
    ]


def settlement_open_corrections(settlement: Settlement) -> int:
    return open_corrections_count(settlement.site_id, settlement.year, settlement.month)
