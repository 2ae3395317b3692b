"""Reads of the chains area, always for an acting user and within their scope (industry.access).

Chains and their links are the county's reference data: anyone holding a reading role sees them. A
chain's participants and every figure summed over them count only businesses in the reader's region
scope (a township admin's chain overview is their township's share of each chain).

Active on day d: a participation that joined on or before d (or on an unknown day) and has not left by
d; a project or an employment that started on or before d and has not ended by d. An end date is the
first day a record no longer counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access as region_access
from governance.models import Household, PartyOrganisation, Region, RegionLevel, Resident
from governance.models.party import PartyOrgKind
from governance.models.people import ResidentStatus
from industry import access
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    Employment,
    Exhibitor,
    HouseholdProject,
    IndustryChain,
    JointMember,
    Product,
)

WORKING_AGE_MIN = 16
WORKING_AGE_MAX = 59
WORKING_STATUSES = (ResidentStatus.RESIDENT, ResidentStatus.AWAY)
CHAIN_NOT_FOUND = gettext_lazy("未找到该产业链。")
PARTICIPATION_NOT_FOUND = gettext_lazy("未找到该参与记录，或者它不在您的管辖范围内。")
VILLAGE_NOT_FOUND = gettext_lazy("未找到该村（社区），或者它不在您的管辖范围内。")
HOUSEHOLD_NOT_FOUND = gettext_lazy("未找到该户，或者它不在您的管辖范围内。")
PROJECT_NOT_FOUND = gettext_lazy("未找到该项目，或者它不在您的管辖范围内。")
RESIDENT_NOT_FOUND = gettext_lazy("未找到该居民，或者其不在您的管辖范围内。")
EMPLOYMENT_NOT_FOUND = gettext_lazy("未找到该就业记录，或者它不在您的管辖范围内。")


# --- the rules, as Q objects --------------------------------------------------------------------------------


def participation_active_q(day: dt.date, prefix: str = "") -> Q:
    """Participations (at `prefix`, e.g. "participations__") active on `day`."""
    return (Q(**{f"{prefix}joined_on__isnull": True}) | Q(**{f"{prefix}joined_on__lte": day})) & (
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": day})
    )


def period_active_q(day: dt.date, prefix: str = "") -> Q:
    """Projects or employments (at `prefix`) active on `day`: started on or before it, not ended by it."""
    return Q(**{f"{prefix}started_on__lte": day}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": day})
    )


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def working_age_q(day: dt.date, prefix: str = "") -> Q:
    """Residents aged 16 to 59 in full years on `day`: born on or before the day 16 years earlier and
    after the day 60 years earlier."""
    return Q(**{f"{prefix}birth_date__lte": years_before(day, WORKING_AGE_MIN)}) & Q(
        **{f"{prefix}birth_date__gt": years_before(day, WORKING_AGE_MAX + 1)}
    )


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- who reads what -----------------------------------------------------------------------------------------


def require_reader(user: Any) -> None:
    """NotFound unless `user` may open the industry module."""
    if not access.can_read_industry(user):
        raise NotFound(CHAIN_NOT_FOUND)


def reader_paths(user: Any) -> list[str]:
    return region_access.outermost(
        [path for _role, path in region_access.assignments(user, access.READ_ROLES)]
    )


def reads_whole_county(user: Any) -> bool:
    """Whether `user` reads at the root of the region tree (then nothing is left out of a chain's sums)."""
    return any(path.count("/") == 1 for path in reader_paths(user))


def participants_scope_q(user: Any) -> Q:
    return region_access.scope_q(user, "business__region__path", access.READ_ROLES)


# --- chains -------------------------------------------------------------------------------------------------


@dataclass
class ChainFigures:
    participants: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    area_mu: Decimal = Decimal("0")
    output_value_fen: int = 0
    jobs: int = 0
    households_driven: int = 0


@dataclass
class ChainRow:
    chain: IndustryChain
    figures: ChainFigures


CHAIN_SORTS = {
    "order": lambda r: (r.chain.sort_order, r.chain.name),
    "name": lambda r: r.chain.name,
    "participants": lambda r: (-r.figures.participants, r.chain.sort_order),
    "area": lambda r: (-r.figures.area_mu, r.chain.sort_order),
    "output": lambda r: (-r.figures.output_value_fen, r.chain.sort_order),
    "jobs": lambda r: (-r.figures.jobs, r.chain.sort_order),
    "households": lambda r: (-r.figures.households_driven, r.chain.sort_order),
}


def chains_overview(
    user: Any,
    *,
    on: dt.date,
    active_only: bool = False,
    base_township_id: int | None = None,
    sort: str = "order",
) -> list[ChainRow]:
    """Every chain (or the active ones, or those based in a township) with the figures of its
    participants active on `on` that sit in `user`'s scope: the number per business kind, total area,
    output value, jobs and households driven. Two queries whatever the number of chains."""
    require_reader(user)
    chains = IndustryChain.objects.select_related("base_region", "party_branch")
    if active_only:
        chains = chains.filter(is_active=True)
    if base_township_id:
        chains = chains.filter(base_region_id=base_township_id)
    rows = {chain.pk: ChainRow(chain, ChainFigures()) for chain in chains}
    figures = (
        ChainParticipation.objects.filter(
            participation_active_q(on), participants_scope_q(user), chain_id__in=rows
        )
        .values("chain_id", "business__kind")
        .annotate(
            n=Count("id"),
            area=Coalesce(Sum("area_mu"), Decimal("0")),
            output=Coalesce(Sum("output_value_fen"), 0),
            jobs_sum=Coalesce(Sum("jobs"), 0),
            driven=Coalesce(Sum("households_driven"), 0),
        )
        .order_by()
    )
    for item in figures:
        target = rows[item["chain_id"]].figures
        target.participants += item["n"]
        target.by_kind[item["business__kind"]] = item["n"]
        target.area_mu += item["area"]
        target.output_value_fen += item["output"]
        target.jobs += item["jobs_sum"]
        target.households_driven += item["driven"]
    return sorted(rows.values(), key=CHAIN_SORTS.get(sort, CHAIN_SORTS["order"]))


def chains_total(rows: list[ChainRow]) -> ChainFigures:
    total = ChainFigures()
    for row in rows:
        total.participants += row.figures.participants
        for kind, n in row.figures.by_kind.items():
            total.by_kind[kind] = total.by_kind.get(kind, 0) + n
        total.area_mu += row.figures.area_mu
        total.output_value_fen += row.figures.output_value_fen
        total.jobs += row.figures.jobs
        total.households_driven += row.figures.households_driven
    return total


def chain_get(user: Any, chain_id: int | str) -> IndustryChain:
    """The chain (any reader); NotFound for a missing one or a user who reads nothing."""
    require_reader(user)
    found = IndustryChain.objects.select_related("base_region", "party_branch").filter(pk=chain_id).first()
    if found is None:
        raise NotFound(CHAIN_NOT_FOUND)
    return found


def chains_for_choice(*, active_only: bool = True) -> QuerySet[IndustryChain]:
    chains = IndustryChain.objects.all()
    return chains.filter(is_active=True) if active_only else chains


@dataclass
class LinkRow:
    link: ChainLink
    participants: int
    in_use: int  # participations naming it, active or not (a link in use cannot be removed)


def chain_links(user: Any, chain: IndustryChain, *, on: dt.date) -> list[LinkRow]:
    """The chain's links in order, each with its participants active on `on` in `user`'s scope."""
    links = ChainLink.objects.filter(chain=chain).order_by("sort_order", "id")
    counts = {
        row["link_id"]: row
        for row in ChainParticipation.objects.filter(chain=chain, link__isnull=False)
        .values("link_id")
        .annotate(
            total=Count("id"),
            active=Count("id", filter=participation_active_q(on) & participants_scope_q(user)),
        )
        .order_by()
    }
    return [
        LinkRow(link, counts.get(link.pk, {}).get("active", 0), counts.get(link.pk, {}).get("total", 0))
        for link in links
    ]


PARTICIPANT_SORTS = {
    "region": ("business__region__path", "business__name"),
    "name": ("business__name",),
    "link": ("link__sort_order", "business__name"),
    "area": ("-area_mu", "business__name"),
    "output": ("-output_value_fen", "business__name"),
    "jobs": ("-jobs", "business__name"),
    "households": ("-households_driven", "business__name"),
    "joined": ("-joined_on", "business__name"),
}


def chain_participants(
    user: Any,
    chain: IndustryChain,
    *,
    on: dt.date,
    kind: str = "",
    link_id: int | None = None,
    township_id: int | None = None,
    status: str = "active",
    sort: str = "region",
) -> QuerySet[ChainParticipation]:
    """The chain's participations of businesses in `user`'s scope, filtered by the business kind, the
    link, the township and status ("active" on `on`, "ended", or "all"), sorted by `sort`."""
    rows = ChainParticipation.objects.filter(participants_scope_q(user), chain=chain).select_related(
        "business__region__parent", "link"
    )
    if kind:
        rows = rows.filter(business__kind=kind)
    if link_id:
        rows = rows.filter(link_id=link_id)
    if township_id:
        rows = rows.filter(business__region__parent_id=township_id)
    if status == "active":
        rows = rows.filter(participation_active_q(on))
    elif status == "ended":
        rows = rows.filter(left_on__lte=on)
    return rows.order_by(*PARTICIPANT_SORTS.get(sort, PARTICIPANT_SORTS["region"]), "id")


def participations_list(
    user: Any,
    *,
    on: dt.date,
    chain_id: int | None = None,
    business_id: int | None = None,
    status: str = "all",
) -> QuerySet[ChainParticipation]:
    """Participations of businesses in `user`'s scope (the API's list)."""
    rows = ChainParticipation.objects.filter(participants_scope_q(user)).select_related(
        "business__region", "chain", "link"
    )
    if chain_id:
        rows = rows.filter(chain_id=chain_id)
    if business_id:
        rows = rows.filter(business_id=business_id)
    if status == "active":
        rows = rows.filter(participation_active_q(on))
    elif status == "ended":
        rows = rows.filter(left_on__lte=on)
    return rows.order_by("chain__sort_order", "business__region__path", "business__name", "id")


def participation_get_visible(user: Any, participation_id: int | str) -> ChainParticipation:
    found = (
        ChainParticipation.objects.filter(participants_scope_q(user), pk=participation_id)
        .select_related("business__region", "chain", "link")
        .first()
    )
    if found is None:
        raise NotFound(PARTICIPATION_NOT_FOUND)
    return found


def chain_products(chain: IndustryChain) -> QuerySet[Product]:
    return (
        Product.objects.filter(chain=chain)
        .select_related("origin_region", "producer")
        .order_by("category", "name")
    )


def chain_branches() -> QuerySet[PartyOrganisation]:
    """The industry-chain Party branches a chain may be given."""
    return PartyOrganisation.objects.filter(kind=PartyOrgKind.CHAIN_BRANCH).order_by("path")


def townships_all() -> QuerySet[Region]:
    return Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code", "name")


# --- regions the user works in ------------------------------------------------------------------------------


def townships_in_scope(user: Any, roles: frozenset[Any] = access.READ_ROLES) -> list[Region]:
    """The townships `user` reads in: those under their regions and the township of a village role."""
    paths = region_access.outermost([path for _role, path in region_access.assignments(user, roles)])
    condition = Q(pk__in=[])
    for path in paths:
        parts = path.strip("/").split("/")
        if len(parts) >= 2:
            condition |= Q(pk=int(parts[1]))
        else:
            condition |= Q(path__startswith=path)
    return list(Region.objects.filter(condition, level=RegionLevel.TOWNSHIP).order_by("code", "name"))


def villages_in_scope(user: Any, roles: frozenset[Any] = access.READ_ROLES) -> list[Region]:
    """The villages/communities under `user`'s regions (for `roles`), with their township, by path."""
    return list(
        Region.objects.filter(region_access.scope_q(user, "path", roles), level=RegionLevel.VILLAGE)
        .select_related("parent")
        .order_by("path")
    )


def village_get(user: Any, village_id: int | str | None, roles: frozenset[Any] = access.READ_ROLES) -> Region:
    found = (
        Region.objects.filter(
            region_access.scope_q(user, "path", roles), level=RegionLevel.VILLAGE, pk=village_id
        )
        .select_related("parent")
        .first()
        if village_id
        else None
    )
    if found is None:
        raise NotFound(VILLAGE_NOT_FOUND)
    return found


# --- businesses ---------------------------------------------------------------------------------------------

BUSINESS_SORTS = {
    "region": ("region__path", "kind", "name"),
    "name": ("name",),
    "kind": ("kind", "name"),
    "created": ("-created_at",),
}


def businesses_list(
    user: Any,
    *,
    kind: str = "",
    township_id: int | None = None,
    village_id: int | None = None,
    chain_id: int | None = None,
    active: str = "",
    q: str = "",
    sort: str = "region",
    on: dt.date | None = None,
) -> QuerySet[Business]:
    """The businesses `user` sees, filtered by kind, township, village, a chain they are active on (on
    `on`), operating or not ("1"/"0"), and a fragment of the name or credit code; with their number of
    active participations."""
    day = on or dt.date.today()
    rows = access.businesses_visible(user).select_related("region__parent", "household")
    if kind:
        rows = rows.filter(kind=kind)
    if village_id:
        rows = rows.filter(region_id=village_id)
    elif township_id:
        rows = rows.filter(region__parent_id=township_id)
    if chain_id:
        rows = rows.filter(
            pk__in=ChainParticipation.objects.filter(participation_active_q(day), chain_id=chain_id).values(
                "business_id"
            )
        )
    if active in ("1", "0"):
        rows = rows.filter(is_active=active == "1")
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()))
    return rows.annotate(
        chains_active=Count(
            "participations", filter=participation_active_q(day, "participations__"), distinct=True
        )
    ).order_by(*BUSINESS_SORTS.get(sort, BUSINESS_SORTS["region"]), "id")


@dataclass
class BusinessDetail:
    business: Business
    participations: list[ChainParticipation]
    exhibits: list[Exhibitor]
    joint: list[JointMember]
    products: list[Product]
    employees: int


def business_detail(user: Any, business: Business, *, on: dt.date) -> BusinessDetail:
    """What the business page shows: its chains (all, newest first), its exhibits at the events `user`
    sees, the joint communities `user` sees it in, its products and its employees working on `on`."""
    return BusinessDetail(
        business=business,
        participations=list(
            ChainParticipation.objects.filter(business=business)
            .select_related("chain", "link")
            .order_by("chain__sort_order", "chain__name")
        ),
        exhibits=list(
            Exhibitor.objects.filter(business=business, event__in=access.events_visible(user))
            .select_related("event__region")
            .order_by("-event__starts_on")
        ),
        joint=list(
            JointMember.objects.filter(
                business=business, community__in=access.joint_communities_visible(user)
            )
            .select_related("community")
            .order_by("community__name")
        ),
        products=list(Product.objects.filter(producer=business).order_by("category", "name")),
        employees=Employment.objects.filter(period_active_q(on), business=business).count(),
    )


def businesses_for_employer(user: Any, village: Region) -> QuerySet[Business]:
    """Operating businesses `user` sees that may employ a resident: those of the village's township
    first (ordered by path), which is where people of the village mostly work."""
    return (
        access.businesses_visible(user)
        .filter(is_active=True)
        .select_related("region")
        .order_by("region__path", "name")
    )


# --- households' projects and residents' work ---------------------------------------------------------------


def households_with_projects(
    user: Any, village: Region, *, on: dt.date, covered: str = "", q: str = ""
) -> QuerySet[Household]:
    """The village's active households (by grid and number), each annotated `has_project` (an active
    project on `on`) and `on_chain` (a household-kind business of theirs active on a chain), with their
    head and active projects prefetched; `covered` "1"/"0" keeps those with / without either; `q` a
    household number or a head's name."""
    households = (
        Household.objects.filter(grid__parent=village, is_active=True)
        .select_related("head", "grid")
        .annotate(
            has_project=Exists(
                HouseholdProject.objects.filter(period_active_q(on), household=OuterRef("pk"))
            ),
            on_chain=Exists(
                ChainParticipation.objects.filter(
                    participation_active_q(on),
                    business__household=OuterRef("pk"),
                    business__kind=BusinessKind.HOUSEHOLD,
                )
            ),
        )
        .prefetch_related(
            Prefetch(
                "projects",
                queryset=HouseholdProject.objects.filter(period_active_q(on))
                .select_related("chain")
                .order_by("started_on"),
                to_attr="active_projects",
            )
        )
    )
    if covered == "1":
        households = households.filter(Q(has_project=True) | Q(on_chain=True))
    elif covered == "0":
        households = households.filter(has_project=False, on_chain=False)
    if q:
        households = households.filter(Q(number__icontains=q) | Q(head__name__icontains=q))
    return households.order_by("grid__path", "number")


def household_get(user: Any, household_id: int | str, *, record: bool = False) -> Household:
    roles = access.RECORD_ROLES if record else access.READ_ROLES
    found = (
        Household.objects.filter(region_access.scope_q(user, "grid__path", roles), pk=household_id)
        .select_related("grid__parent", "head")
        .first()
    )
    if found is None:
        raise NotFound(HOUSEHOLD_NOT_FOUND)
    return found


def projects_list(
    user: Any,
    *,
    on: dt.date,
    village_id: int | None = None,
    household_id: int | None = None,
    status: str = "all",
) -> QuerySet[HouseholdProject]:
    """Projects of households in `user`'s scope (the API's list)."""
    rows = HouseholdProject.objects.filter(
        region_access.scope_q(user, "household__grid__path", access.READ_ROLES)
    ).select_related("household__grid", "chain")
    if village_id:
        rows = rows.filter(household__grid__parent_id=village_id)
    if household_id:
        rows = rows.filter(household_id=household_id)
    if status == "active":
        rows = rows.filter(period_active_q(on))
    elif status == "ended":
        rows = rows.filter(ended_on__lte=on)
    return rows.order_by("household__grid__path", "household__number", "started_on", "id")


def project_get(user: Any, project_id: int | str, *, record: bool = False) -> HouseholdProject:
    roles = access.RECORD_ROLES if record else access.READ_ROLES
    found = (
        HouseholdProject.objects.filter(
            region_access.scope_q(user, "household__grid__path", roles), pk=project_id
        )
        .select_related("household__grid__parent", "chain")
        .first()
    )
    if found is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return found


def residents_working_age(
    user: Any, village: Region, *, on: dt.date, work: str = "", q: str = ""
) -> QuerySet[Resident]:
    """The village's working-age residents on `on` (aged 16–59, living there or away for work), with
    `working` (an active employment, or away for work) annotated and active employments prefetched;
    `work` "1"/"0"/"away" keeps the working, the not working, those away; `q` a name fragment."""
    residents = (
        Resident.objects.filter(
            working_age_q(on), household__grid__parent=village, status__in=WORKING_STATUSES
        )
        .select_related("household__grid")
        .annotate(
            employed=Exists(Employment.objects.filter(period_active_q(on), resident=OuterRef("pk"))),
        )
        .prefetch_related(
            Prefetch(
                "employments",
                queryset=Employment.objects.filter(period_active_q(on))
                .select_related("business")
                .order_by("started_on"),
                to_attr="active_employments",
            )
        )
    )
    if work == "1":
        residents = residents.filter(Q(employed=True) | Q(status=ResidentStatus.AWAY))
    elif work == "0":
        residents = residents.filter(employed=False).exclude(status=ResidentStatus.AWAY)
    elif work == "away":
        residents = residents.filter(status=ResidentStatus.AWAY)
    if q:
        residents = residents.filter(name__icontains=q)
    return residents.order_by("household__grid__path", "household__number", "id")


def resident_get(user: Any, resident_id: int | str, *, record: bool = False) -> Resident:
    roles = access.RECORD_ROLES if record else access.READ_ROLES
    found = (
        Resident.objects.filter(region_access.scope_q(user, "household__grid__path", roles), pk=resident_id)
        .select_related("household__grid__parent")
        .first()
    )
    if found is None:
        raise NotFound(RESIDENT_NOT_FOUND)
    return found


def employments_list(
    user: Any,
    *,
    on: dt.date,
    village_id: int | None = None,
    resident_id: int | None = None,
    status: str = "all",
) -> QuerySet[Employment]:
    """Employments of residents in `user`'s scope (the API's list)."""
    rows = Employment.objects.filter(
        region_access.scope_q(user, "resident__household__grid__path", access.READ_ROLES)
    ).select_related("resident", "business")
    if village_id:
        rows = rows.filter(resident__household__grid__parent_id=village_id)
    if resident_id:
        rows = rows.filter(resident_id=resident_id)
    if status == "active":
        rows = rows.filter(period_active_q(on))
    elif status == "ended":
        rows = rows.filter(ended_on__lte=on)
    return rows.order_by("resident__household__grid__path", "resident_id", "started_on", "id")


def employment_get(user: Any, employment_id: int | str, *, record: bool = False) -> Employment:
    roles = access.RECORD_ROLES if record else access.READ_ROLES
    found = (
        Employment.objects.filter(
            region_access.scope_q(user, "resident__household__grid__path", roles), pk=employment_id
        )
        .select_related("resident__household__grid__parent", "business")
        .first()
    )
    if found is None:
        raise NotFound(EMPLOYMENT_NOT_FOUND)
    return found
