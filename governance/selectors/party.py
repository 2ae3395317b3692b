"""Reads of the Party area. Every selector takes the acting user and filters to their scope.

An organisation is in a user's scope when the region it sits at (`region.path`) lies under one of the
user's regions; a member, through their organisation (`organisation__region__path`); a sages' group,
through its village; a talent or role model, through the grid of the resident's household. Out of scope
reads raise NotFound (404), so that existence does not leak.
"""

from __future__ import annotations

import datetime as dt
import re
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
    Max,
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

from common.errors import NotFound
from governance import access, pii
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
    RoleModel,
    RoleModelSelection,
    SagesGroup,
    SagesMember,
    SagesMemberKind,
    ShennongGathering,
    Talent,
    TalentCategory,
    TalentTraining,
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


def party_manager_paths(*, user: AnyUser) -> list[str]:
    """The outermost region paths at which `user` may write Party records ([] for lookers)."""
    return access.outermost([path for _role, path in access.assignments(user, PARTY_MANAGER_ROLES)])


def party_can_manage_county(*, user: AnyUser) -> bool:
    """Whether `user` may write county-wide Party records (the Shennong heroes gatherings)."""
    county = Region.objects.filter(level=RegionLevel.COUNTY).values_list("path", flat=True).first()
    return county is not None and party_can_manage(user=user, region_path=county)


def _manage_q(user: AnyUser, path_field: str) -> Q:
    return access.scope_q(user, path_field, PARTY_MANAGER_ROLES)


# --- organisations ------------------------------------------------------------------------------


def party_org_scope_q(*, user: AnyUser) -> Q:
    """The organisations in the user's region scope: those sitting there, and a joint Party committee
    spanning a village there (it sits at its lead village, but the secretary of each of its villages
    sees it and its leadership; members stay scoped by where their organisation sits). One read of
    the user's assignments; the villages are a subquery, so no row is repeated."""
    sits = access.scope_q(user, ORG_PATH)
    # The M2M rows have a `region` too: the same Q keeps those whose village is in scope.
    spans = PartyOrganisation.villages.through.objects.filter(sits).values("partyorganisation_id")
    return sits | Q(pk__in=spans)


def party_org_list(*, user: AnyUser, kind: str | None = None) -> QuerySet[PartyOrganisation]:
    """Organisations in scope (party_org_scope_q, or granted), in tree order, each with `member_count`
    (its own members, every stage)."""
    orgs = access.scoped(
        PartyOrganisation.objects.all(), user, ORG_PATH, ORG_GRANT, scope=party_org_scope_q(user=user)
    )
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
        scope=party_org_scope_q(user=user),
        pk=org_id,
    )


def party_org_manageable(*, user: AnyUser) -> QuerySet[PartyOrganisation]:
    """Organisations at regions where `user` may write Party records, in tree order: the parents a new
    organisation may be placed under, the organisations a member may be registered in or moved to."""
    return (
        PartyOrganisation.objects.filter(_manage_q(user, ORG_PATH)).select_related("region").order_by("path")
    )


def party_org_can_create(*, user: AnyUser) -> bool:
    """Whether `user` may found an organisation anywhere: every kind but the county committee sits
    under a county or township committee, so they need one they manage (or the county, for its root)."""
    parents = party_org_manageable(user=user).filter(
        kind__in=[PartyOrgKind.COUNTY_COMMITTEE, PartyOrgKind.TOWNSHIP_COMMITTEE]
    )
    return parents.exists() or party_can_manage_county(user=user)


def party_org_region_choices(*, user: AnyUser) -> QuerySet[Region]:
    """The county, townships and villages (communities) where `user` may place a new organisation,
    in tree order (a township's villages follow it)."""
    return (
        Region.objects.filter(
            _manage_q(user, "path"),
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE],
        )
        .select_related("parent")
        .order_by("path")
    )


def party_leadership_get(
    *, user: AnyUser, organisation: PartyOrganisation, leadership_id: int
) -> PartyLeadership:
    """A leadership term of `organisation` (already scope-checked); NotFound if it is another's."""
    lead = (
        PartyLeadership.objects.filter(organisation=organisation, pk=leadership_id)
        .select_related("member__resident", "organisation__region")
        .first()
    )
    if lead is None:
        raise NotFound(_("未找到该记录，或者它不在您的管辖范围内。"))
    return lead


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
        access.scoped(
            PartyOrganisation.objects.all(), user, ORG_PATH, ORG_GRANT, scope=party_org_scope_q(user=user)
        )
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
    upcoming_leaders: list[PartyLeadership]  # appointed, term not yet begun
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
    """An organisation with its leadership (current, upcoming and past terms), its own members counted
    by stage and by category, its visible sub-organisations and (a joint committee) the villages it
    spans."""
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
    upcoming = [lead for lead in leaders if lead.term_start > today]
    past = [lead for lead in leaders if lead.term_end is not None and lead.term_end <= today]
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
        upcoming_leaders=upcoming,
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


def party_transfer_targets(*, user: AnyUser, member: PartyMember) -> QuerySet[PartyOrganisation]:
    """Organisations `member` may be moved to by `user`: those where the user may write Party records,
    except the one the member belongs to now."""
    return party_org_manageable(user=user).exclude(pk=member.organisation_id)


# --- finding people for the forms ---------------------------------------------------------------

PICK_LIMIT = 20
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_NAME_AND_LAST4 = re.compile(r"^(?P<name>.*?)\s*(?P<last4>\d{3}[\dX])?$")


@dataclass
class PickQuery:
    """What someone typed into a picker: an exact name, optionally the ID number's last four
    characters, or a whole ID number."""

    name: str = ""
    last4: str = ""
    id_number: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.id_number)


def pick_query_parse(text: str) -> PickQuery:
    """ "张伟", "张伟 1234", "张伟1234" or an 18-character ID number (spaces ignored)."""
    value = re.sub(r"\s+", " ", (text or "").strip().upper())[:60]
    compact = value.replace(" ", "")
    if _ID_NUMBER.match(compact):
        return PickQuery(id_number=compact)
    match = _NAME_AND_LAST4.match(value)
    if match is None:  # pragma: no cover - the pattern matches every string
        return PickQuery(name=value)
    name, last4 = match.group("name").strip(), match.group("last4") or ""
    if not name:  # only digits: not a name
        return PickQuery()
    return PickQuery(name=name, last4=last4)


def _pick_filter(query: PickQuery, prefix: str = "") -> Q:
    if query.id_number:
        return Q(**{f"{prefix}id_number_hash": pii.lookup_hash(query.id_number)})
    condition = Q(**{f"{prefix}name": query.name})  # exact: the name index answers it at county scale
    if query.last4:
        condition &= Q(**{f"{prefix}id_number_masked__endswith": query.last4})
    return condition


def party_resident_choices(*, user: AnyUser) -> QuerySet[Resident]:
    """Residents `user` may enter in Party records (members, talents, role models): those living (not
    deceased, not moved out) in a region where the user may write Party records."""
    return Resident.objects.filter(_manage_q(user, "household__grid__path")).exclude(
        status__in=[ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT]
    )


def party_resident_search(*, user: AnyUser, text: str, selected_id: int | None = None) -> list[Resident]:
    """Residents among party_resident_choices matching `text` (see pick_query_parse), at most
    PICK_LIMIT, preceded by the one already chosen (`selected_id`) if it is a choice and not a match;
    each with their grid, village and township joined and `party_stage` (their membership stage, or
    None) annotated."""
    query = pick_query_parse(text)
    condition = Q(pk__in=[]) if query.is_empty else _pick_filter(query)
    rows = (
        party_resident_choices(user=user)
        .select_related("household__grid__parent__parent")
        .annotate(party_stage=F("party_member__stage"))
    )
    found: list[Resident] = (
        []
        if query.is_empty
        else list(rows.filter(condition).order_by("household__grid__path", "pk")[:PICK_LIMIT])
    )
    if selected_id is not None and all(r.pk != selected_id for r in found):
        found = [*rows.filter(pk=selected_id), *found]
    return found


def party_leader_choices(*, user: AnyUser) -> QuerySet[PartyMember]:
    """Full members `user` may appoint to a leadership position: those of organisations where the
    user may write Party records."""
    return PartyMember.objects.filter(_manage_q(user, MEMBER_PATH), stage=MembershipStage.FULL)


def party_leader_search(*, user: AnyUser, text: str, selected_id: int | None = None) -> list[PartyMember]:
    """Full members among party_leader_choices whose resident matches `text`, at most PICK_LIMIT,
    preceded by the one already chosen (`selected_id`) if it is a choice and not a match."""
    query = pick_query_parse(text)
    rows = party_leader_choices(user=user).select_related("resident", "organisation")
    found = (
        []
        if query.is_empty
        else list(
            rows.filter(_pick_filter(query, "resident__")).order_by("organisation__path", "pk")[:PICK_LIMIT]
        )
    )
    if selected_id is not None and all(m.pk != selected_id for m in found):
        found = [*rows.filter(pk=selected_id), *found]
    return found


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


def shennong_gathering_get(*, user: AnyUser, gathering_id: int) -> GatheringView:
    """One gathering (a county-wide event: visible to anyone with a role, NotFound otherwise) with its
    county-wide selection count and the selections whose role model lives in the user's scope."""
    gathering = (
        ShennongGathering.objects.annotate(total_selected=Count("selections")).filter(pk=gathering_id).first()
        if access.assignments(user)
        else None
    )
    if gathering is None:
        raise NotFound(_("未找到该记录，或者它不在您的管辖范围内。"))
    selections = list(
        access.scoped(
            RoleModelSelection.objects.filter(gathering=gathering), user, f"role_model__{RESIDENT_PATH}"
        )
        .select_related("role_model__resident__household__grid__parent__parent")
        .order_by("pk")
    )
    return GatheringView(gathering=gathering, total_selected=gathering.total_selected, selections=selections)


def shennong_next_session() -> int:
    """The session number the next gathering would have (one after the latest recorded)."""
    latest = ShennongGathering.objects.aggregate(latest=Max("session"))["latest"]
    return (latest or 0) + 1


def role_model_list(*, user: AnyUser) -> QuerySet[RoleModel]:
    """Role models whose resident lives in the user's scope, newest first, each with the gatherings
    they were selected at prefetched (`selected_at`, by session)."""
    return (
        access.scoped(RoleModel.objects.all(), user, RESIDENT_PATH)
        .select_related("resident__household__grid__parent__parent")
        .prefetch_related(
            Prefetch(
                "selections",
                queryset=RoleModelSelection.objects.select_related("gathering").order_by(
                    "gathering__session"
                ),
                to_attr="selected_at",
            )
        )
        .order_by("-pk")
    )


def role_model_choices(*, user: AnyUser, gathering: ShennongGathering | None = None) -> QuerySet[RoleModel]:
    """Role models in the user's scope (and not yet selected at `gathering`, if given), by village
    then name."""
    models = access.scoped(RoleModel.objects.all(), user, RESIDENT_PATH)
    if gathering is not None:
        models = models.exclude(selections__gathering=gathering)
    return models.select_related("resident__household__grid__parent").order_by(
        "resident__household__grid__path", "resident__name", "pk"
    )


@dataclass
class TalentDetail:
    talent: Talent
    trainings: list[TalentTraining]
    other_categories: list[Talent]  # the same resident's entries under other categories
    can_manage: bool


def talent_detail(*, user: AnyUser, talent_id: int) -> TalentDetail:
    """A talent in the user's scope (NotFound otherwise) with every training record, newest first,
    and the resident's entries under other categories."""
    talent = access.get_in_scope(
        Talent.objects.select_related("resident__household__grid__parent__parent").annotate(
            training_count=Count("trainings"), training_hours=Coalesce(Sum("trainings__hours"), 0)
        ),
        user,
        RESIDENT_PATH,
        pk=talent_id,
    )
    return TalentDetail(
        talent=talent,
        trainings=list(talent.trainings.order_by("-held_on", "-pk")),
        other_categories=list(
            Talent.objects.filter(resident_id=talent.resident_id).exclude(pk=talent.pk).order_by("pk")
        ),
        can_manage=party_can_manage(user=user, region_path=talent.resident.household.grid.path),
    )
