"""Reads of the Party area. Every selector takes the acting user and filters to their scope.

An organisation is in a user's scope when the region it sits at (`region.path`) lies under one of the
user's regions; a member, through their organisation (`organisation__region__path`); a sages' group,
through its village; a talent or role model, through the grid of the resident's household. Out of scope
reads raise NotFound (404), so that existence does not leak.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import access
from governance.models import (
    MemberCategory,
    MembershipStage,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    RoleModelSelection,
    SagesGroup,
    SagesMember,
    SagesMemberKind,
    ShennongGathering,
    Talent,
    TalentCategory,
)
from governance.roles import Role

AnyUser = AbstractBaseUser | AnonymousUser

ORG_PATH = "region__path"
MEMBER_PATH = "organisation__region__path"
# An organisation granted with django-guardian (e.g. an enterprise branch to its secretary, who holds
# no region) is visible with its members, in addition to everything in region scope.
ORG_GRANT = (PartyOrganisation, "view_partyorganisation", "pk")
MEMBER_GRANT = (PartyOrganisation, "view_partyorganisation", "organisation")
RESIDENT_PATH = "resident__household__grid__path"
# Who may write in the Party area (advance members, add sages), within their scope.
PARTY_MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})

MEMBER_SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "name": ("resident__name", "pk"),
    "-name": ("-resident__name", "-pk"),
    "joined": (F("joined_on").asc(nulls_last=True), "resident__name", "pk"),
    "-joined": (F("joined_on").desc(nulls_last=True), "resident__name", "pk"),
    "stage": ("stage_rank", "resident__name", "pk"),
    "-stage": ("-stage_rank", "resident__name", "pk"),
    "organisation": ("organisation__path", "resident__name", "pk"),
    "-organisation": ("-organisation__path", "resident__name", "pk"),
}
DEFAULT_MEMBER_SORT = "organisation"


def party_can_manage(*, user: AnyUser, region_path: str) -> bool:
    """Whether `user` may write Party records sitting at the region with `region_path`."""
    return access.covers(user, region_path, PARTY_MANAGER_ROLES)


# --- organisations ------------------------------------------------------------------------------


def party_org_list(*, user: AnyUser, kind: str | None = None) -> QuerySet[PartyOrganisation]:
    """Organisations in scope, in tree order, each with `member_count` (its own members, every stage)."""
    orgs = access.scoped(PartyOrganisation.objects.all(), user, ORG_PATH, ORG_GRANT)
    if kind:
        orgs = orgs.filter(kind=kind)
    return (
        orgs.select_related("region", "parent")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("path")
    )


def party_org_get(*, user: AnyUser, org_id: int) -> PartyOrganisation:
    """The organisation with `member_count` (its own members), if in scope; NotFound otherwise."""
    return access.get_in_scope(
        PartyOrganisation.objects.select_related("region", "parent__region").annotate(
            member_count=Count("members")
        ),
        user,
        ORG_PATH,
        ORG_GRANT,
        pk=org_id,
    )


@dataclass
class OrgNode:
    org: PartyOrganisation
    members: int = 0  # own members, every stage
    party_members: int = 0  # own probationary and full members
    subtree_members: int = 0  # own and every descendant's members, every stage
    subtree_party_members: int = 0
    children: list[OrgNode] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.org.path.count("/") - 1

    @property
    def region_in_name(self) -> bool:
        """Whether the name already says where it sits (中共城关镇委员会 at 城关镇)."""
        return self.org.region.name in self.org.name

    @property
    def subtree_in_pipeline(self) -> int:
        """People still on the way in (applicants, activists, candidates) in the subtree."""
        return self.subtree_members - self.subtree_party_members


def party_org_tree(*, user: AnyUser) -> list[OrgNode]:
    """The user's part of the organisation tree: roots are the visible organisations whose parent is not
    visible (for a township admin, the township committee). Counts come from one GROUP BY."""
    orgs = list(
        access.scoped(PartyOrganisation.objects.all(), user, ORG_PATH, ORG_GRANT)
        .select_related("region")
        .order_by("path")
    )
    nodes = {org.pk: OrgNode(org=org) for org in orgs}
    counts = (
        PartyMember.objects.filter(organisation_id__in=nodes)
        .values("organisation_id")
        .annotate(
            total=Count("id"),
            in_party=Count("id", filter=Q(stage__in=[MembershipStage.PROBATIONARY, MembershipStage.FULL])),
        )
        .order_by()
    )
    for row in counts:
        node = nodes[row["organisation_id"]]
        node.members, node.party_members = row["total"], row["in_party"]
    roots: list[OrgNode] = []
    for org in orgs:  # path order: parents come before their children
        node = nodes[org.pk]
        parent = nodes.get(org.parent_id) if org.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)

    def total(node: OrgNode) -> None:
        node.subtree_members, node.subtree_party_members = node.members, node.party_members
        for child in node.children:
            total(child)
            node.subtree_members += child.subtree_members
            node.subtree_party_members += child.subtree_party_members

    kind_rank = {kind.value: rank for rank, kind in enumerate(PartyOrgKind)}

    def arrange(node: OrgNode) -> None:
        node.children.sort(key=lambda c: (kind_rank[c.org.kind], c.org.region.code, c.org.name))
        for child in node.children:
            arrange(child)

    for root in roots:
        total(root)
        arrange(root)
    return roots


@dataclass
class CountRow:
    value: str
    label: str
    count: int


@dataclass
class OrgDetail:
    org: PartyOrganisation
    current_leaders: list[PartyLeadership]
    past_leaders: list[PartyLeadership]
    stage_counts: list[CountRow]
    category_counts: list[CountRow]
    total_members: int
    children: Sequence[PartyOrganisation]
    villages: list[Region]
    can_manage: bool
    parent_in_scope: bool


def _counts(rows: dict[str, int], choices: type[MembershipStage] | type[MemberCategory]) -> list[CountRow]:
    return [CountRow(c.value, str(c.label), rows.get(c.value, 0)) for c in choices]


def party_org_detail(*, user: AnyUser, org_id: int) -> OrgDetail:
    """An organisation with its leadership (current and past terms), its own members counted by stage and
    by category, its visible sub-organisations and (a joint committee) the villages it spans."""
    org = party_org_get(user=user, org_id=org_id)
    today = timezone.localdate()
    leaders = list(
        PartyLeadership.objects.filter(organisation=org)
        .select_related("member__resident")
        .order_by("position", "-term_start")
    )
    rank = {p: i for i, p in enumerate(["secretary", "deputy_secretary", "committee_member"])}
    leaders.sort(key=lambda lead: (rank[lead.position], -lead.term_start.toordinal()))
    current = [
        lead
        for lead in leaders
        if lead.term_start <= today and (lead.term_end is None or lead.term_end > today)
    ]
    past = [lead for lead in leaders if lead not in current]
    by_stage: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for row in (
        PartyMember.objects.filter(organisation=org)
        .values("stage", "category")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_stage[row["stage"]] = by_stage.get(row["stage"], 0) + row["n"]
        by_category[row["category"]] = by_category.get(row["category"], 0) + row["n"]
    children = list(
        access.scoped(PartyOrganisation.objects.filter(parent=org), user, ORG_PATH)
        .select_related("region")
        .annotate(member_count=Count("members"))
        .order_by("path")
    )
    return OrgDetail(
        org=org,
        current_leaders=current,
        past_leaders=past,
        stage_counts=_counts(by_stage, MembershipStage),
        category_counts=_counts(by_category, MemberCategory),
        total_members=sum(by_stage.values()),
        children=children,
        villages=list(org.villages.order_by("path")),
        can_manage=party_can_manage(user=user, region_path=org.region.path),
        parent_in_scope=org.parent is not None and access.covers(user, org.parent.region.path),
    )


# --- members ------------------------------------------------------------------------------------


def _step_date(stage: MembershipStage) -> Subquery:
    return Subquery(
        MembershipStep.objects.filter(member=OuterRef("pk"), stage=stage).values("occurred_on")[:1]
    )


def party_member_list(
    *,
    user: AnyUser,
    stage: str | None = None,
    category: str | None = None,
    organisation_id: int | None = None,
    year_joined: int | None = None,
    search: str = "",
    sort: str = DEFAULT_MEMBER_SORT,
) -> QuerySet[PartyMember]:
    """Members in scope, filtered, each with `joined_on` (the day they became probationary members, i.e.
    joined the Party; None before that), `applied_on` and `stage_rank` (pipeline position).

    `organisation_id` keeps that organisation's whole subtree; `year_joined` keeps members who joined in
    that year; `sort` is one of MEMBER_SORTS.
    """
    members = access.scoped(PartyMember.objects.all(), user, MEMBER_PATH, MEMBER_GRANT)
    if stage:
        members = members.filter(stage=stage)
    if category:
        members = members.filter(category=category)
    if organisation_id:
        org = party_org_get(user=user, org_id=organisation_id)
        members = members.filter(organisation__path__startswith=org.path)
    if search.strip():
        members = members.filter(resident__name__contains=search.strip())
    stage_rank = Case(
        *[When(stage=value, then=Value(rank)) for rank, value in enumerate(MembershipStage.values)],
        output_field=IntegerField(),
    )
    members = members.annotate(
        joined_on=_step_date(MembershipStage.PROBATIONARY),
        applied_on=_step_date(MembershipStage.APPLICANT),
        stage_rank=stage_rank,
    )
    if year_joined:
        members = members.filter(
            pk__in=MembershipStep.objects.filter(
                stage=MembershipStage.PROBATIONARY, occurred_on__year=year_joined
            ).values("member_id")
        )
    order = MEMBER_SORTS.get(sort, MEMBER_SORTS[DEFAULT_MEMBER_SORT])
    return members.select_related("resident", "organisation__region").order_by(*order)


def party_member_get(*, user: AnyUser, member_id: int) -> PartyMember:
    return access.get_in_scope(
        PartyMember.objects.select_related(
            "resident__household__grid",
            "organisation__region",
            "sponsor_1__resident",
            "sponsor_2__resident",
            "sponsor_1__organisation",
            "sponsor_2__organisation",
        ),
        user,
        MEMBER_PATH,
        MEMBER_GRANT,
        pk=member_id,
    )


def party_member_years(*, user: AnyUser) -> list[int]:
    """The years in which members in scope joined the Party, newest first (for the year filter)."""
    years = (
        MembershipStep.objects.filter(
            access.scope_q(user, f"member__{MEMBER_PATH}"), stage=MembershipStage.PROBATIONARY
        )
        .annotate(year=ExtractYear("occurred_on"))
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return list(years)


@dataclass
class TimelineEntry:
    stage: str
    label: str
    occurred_on: dt.date | None
    note: str
    is_reached: bool
    is_current: bool


@dataclass
class MemberDetail:
    member: PartyMember
    timeline: list[TimelineEntry]
    next_stage: MembershipStage | None
    transfers: list[MemberTransfer]
    positions: list[PartyLeadership]
    can_manage: bool
    age: int


def party_member_detail(*, user: AnyUser, member_id: int) -> MemberDetail:
    """A member with the pipeline as a timeline (every stage, reached or still ahead), the two sponsors,
    the transfer history (newest first) and the leadership positions they hold or held."""
    member = party_member_get(user=user, member_id=member_id)
    steps = {s.stage: s for s in MembershipStep.objects.filter(member=member)}
    timeline = []
    for stage in MembershipStage:
        step = steps.get(stage.value)
        timeline.append(
            TimelineEntry(
                stage=stage.value,
                label=str(stage.label),
                occurred_on=step.occurred_on if step else None,
                note=step.note if step else "",
                is_reached=step is not None,
                is_current=stage.value == member.stage,
            )
        )
    order = list(MembershipStage)
    position = order.index(MembershipStage(member.stage))
    transfers = list(
        MemberTransfer.objects.filter(member=member)
        .select_related("from_organisation", "to_organisation")
        .order_by("-transferred_on", "-pk")
    )
    positions = list(
        PartyLeadership.objects.filter(member=member).select_related("organisation").order_by("-term_start")
    )
    today = timezone.localdate()
    birth = member.resident.birth_date
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return MemberDetail(
        member=member,
        timeline=timeline,
        next_stage=order[position + 1] if position + 1 < len(order) else None,
        transfers=transfers,
        positions=positions,
        can_manage=party_can_manage(user=user, region_path=member.organisation.region.path),
        age=age,
    )


def party_sponsor_choices(*, user: AnyUser, member: PartyMember) -> QuerySet[PartyMember]:
    """Full members who could sponsor `member`: those of the same organisation, in the user's scope."""
    return (
        access.scoped(PartyMember.objects.all(), user, MEMBER_PATH)
        .filter(organisation_id=member.organisation_id, stage=MembershipStage.FULL)
        .exclude(pk=member.pk)
        .select_related("resident")
        .order_by("resident__name", "pk")
    )


# --- the county view of young farmer members ----------------------------------------------------


@dataclass
class YoungFarmerRow:
    township_id: int | None  # None: organisations directly under the county committee
    township: str
    counts: list[int]
    total: int


@dataclass
class YoungFarmerReport:
    years: list[int]
    rows: list[YoungFarmerRow]
    year_totals: list[int]
    total: int


def young_farmer_members_by_year(*, user: AnyUser) -> YoungFarmerReport:
    """Young farmer members developed per year per township: members of category young_farmer counted
    by the year of their probationary step, grouped by the township of their (current) organisation.

    One GROUP BY over the pipeline steps; the township is the second id of the organisation's region
    path ("county/township/..."), so no join to the region tree is needed. Every township in scope
    gets a row (zeros included); years run from the first to the last with a member, without gaps.
    """
    township_id = Func(
        F(f"member__{MEMBER_PATH}"),
        Value("/"),
        Value(2),
        function="split_part",
        output_field=CharField(),
    )
    grouped = (
        MembershipStep.objects.filter(
            access.scope_q(user, f"member__{MEMBER_PATH}"),
            stage=MembershipStage.PROBATIONARY,
            member__category=MemberCategory.YOUNG_FARMER,
        )
        .annotate(township=township_id, year=ExtractYear("occurred_on"))
        .values("township", "year")
        .annotate(n=Count("id"))
        .order_by()
    )
    cells: dict[tuple[int | None, int], int] = defaultdict(int)
    for row in grouped:
        key = int(row["township"]) if row["township"] else None
        cells[(key, row["year"])] += row["n"]
    # The townships in scope, and those of a smaller scope's members (a village secretary's township).
    township_ids = {key for key, _y in cells if key is not None}
    townships = list(
        Region.objects.filter(level=RegionLevel.TOWNSHIP)
        .filter(access.scope_q(user) | Q(pk__in=township_ids))
        .order_by("code", "name")
    )
    years = list(range(min(y for _t, y in cells), max(y for _t, y in cells) + 1)) if cells else []
    rows = [
        YoungFarmerRow(
            township_id=t.pk,
            township=t.name,
            counts=[cells.get((t.pk, y), 0) for y in years],
            total=sum(cells.get((t.pk, y), 0) for y in years),
        )
        for t in townships
    ]
    if any(key is None for key, _y in cells):
        counts = [cells.get((None, y), 0) for y in years]
        rows.append(YoungFarmerRow(None, _("县直党组织"), counts, sum(counts)))
    year_totals = [sum(row.counts[i] for row in rows) for i in range(len(years))]
    return YoungFarmerReport(years=years, rows=rows, year_totals=year_totals, total=sum(year_totals))


# --- sages' groups ------------------------------------------------------------------------------


def sages_group_list(*, user: AnyUser) -> QuerySet[SagesGroup]:
    """Groups of the villages in scope, each with active member counts in total and per kind."""
    active = Q(members__is_active=True)
    return (
        access.scoped(SagesGroup.objects.all(), user, "village__path")
        .select_related("village__parent")
        .annotate(
            member_count=Count("members", filter=active),
            veteran_count=Count("members", filter=active & Q(members__kind=SagesMemberKind.VETERAN_MEMBER)),
            cadre_count=Count("members", filter=active & Q(members__kind=SagesMemberKind.RETIRED_CADRE)),
            villager_count=Count(
                "members", filter=active & Q(members__kind=SagesMemberKind.RESPECTED_VILLAGER)
            ),
        )
        .order_by("village__parent__code", "village__code", "village__name")
    )


def sages_group_get(*, user: AnyUser, group_id: int) -> SagesGroup:
    return access.get_in_scope(
        SagesGroup.objects.select_related("village__parent"), user, "village__path", pk=group_id
    )


def sages_member_list(*, group: SagesGroup) -> QuerySet[SagesMember]:
    """The group's members (active first, then by joining date); the group was already scope-checked."""
    return (
        SagesMember.objects.filter(group=group)
        .select_related("resident__household__grid")
        .order_by("-is_active", "joined_on", "pk")
    )


def village_resident_find(*, group: SagesGroup, name: str, id_last4: str = "") -> list[Resident]:
    """Residents of the group's village (the group was already scope-checked) with this exact name, and
    with an ID number ending in `id_last4` if given; at most 10."""
    residents = Resident.objects.filter(
        household__grid__path__startswith=group.village.path, name=name.strip()
    ).exclude(status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT])
    if id_last4:
        residents = residents.filter(id_number_masked__endswith=id_last4.upper())
    return list(residents.order_by("pk")[:10])


# --- talent and honours -------------------------------------------------------------------------


def talent_list(*, user: AnyUser, category: str | None = None, search: str = "") -> QuerySet[Talent]:
    """Talents of residents in scope with `training_count` and `training_hours`, by category then name."""
    talents = access.scoped(Talent.objects.all(), user, RESIDENT_PATH)
    if category:
        talents = talents.filter(category=category)
    if search.strip():
        talents = talents.filter(
            Q(resident__name__contains=search.strip()) | Q(speciality__contains=search.strip())
        )
    category_rank = Case(
        *[When(category=value, then=Value(rank)) for rank, value in enumerate(TalentCategory.values)],
        output_field=IntegerField(),
    )
    return (
        talents.select_related("resident__household__grid__parent__parent")
        .annotate(
            training_count=Count("trainings"),
            training_hours=Coalesce(Sum("trainings__hours"), 0),
            category_rank=category_rank,
        )
        .order_by("category_rank", "resident__name", "pk")
    )


def talent_category_counts(*, user: AnyUser) -> list[CountRow]:
    """The seven "七个一百" categories with how many talents in scope each has (zeros included)."""
    rows = dict(
        access.scoped(Talent.objects.all(), user, RESIDENT_PATH)
        .values("category")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("category", "n")
    )
    return [CountRow(c.value, str(c.label), rows.get(c.value, 0)) for c in TalentCategory]


@dataclass
class GatheringView:
    gathering: ShennongGathering
    total_selected: int  # every role model selected at the gathering, county-wide
    selections: list[RoleModelSelection]  # those whose resident is in the user's scope


def shennong_gathering_list(*, user: AnyUser) -> list[GatheringView]:
    """The gatherings (county-wide events, listed to anyone with a role) with the role models selected at
    each: the county-wide count, and the role models whose resident lives in the user's scope."""
    if not access.assignments(user):
        return []
    in_scope = (
        access.scoped(RoleModelSelection.objects.all(), user, f"role_model__{RESIDENT_PATH}")
        .select_related("role_model__resident__household__grid__parent__parent")
        .order_by("pk")
    )
    gatherings = (
        ShennongGathering.objects.annotate(total_selected=Count("selections"))
        .prefetch_related(Prefetch("selections", queryset=in_scope, to_attr="visible_selections"))
        .order_by("session")
    )
    return [
        GatheringView(gathering=g, total_selected=g.total_selected, selections=g.visible_selections)
        for g in gatherings
    ]
