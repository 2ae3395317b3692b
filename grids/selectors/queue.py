"""The triage queue: the cases a level's staff (the village Party secretary, the township and county admins,
a grid leader for cases kept in the grid) hold in their queues, by state tab, filtered, sorted, counted.

A constant number of queries whatever the number of cases: the scope is one path-prefix filter on the
handling region (indexed), the counts of every tab are one aggregate, the page is one query with its
related rows joined, and the paginator is given the tab's count instead of counting again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Paginator
from django.db.models import Case as When_
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy as _

from governance import access
from governance.models import Region, RegionLevel
from governance.roles import Role
from grids.models import (
    Case,
    CaseCategory,
    CaseStatus,
    CaseUserObjectPermission,
    HandlingLevel,
    HandlingUnit,
    Privacy,
    Urgency,
    WarningLevel,
)
from grids.workflow import LEVEL_ROLE

AnyUser = AbstractBaseUser | AnonymousUser
S = CaseStatus

# The roles whose holders have a queue: the staff of each handling level.
QUEUE_ROLES = frozenset(Role(role) for role in LEVEL_ROLE.values())


@dataclass(frozen=True)
class QueueTab:
    slug: str
    label: str | Promise
    statuses: frozenset[CaseStatus]


QUEUE_TABS: tuple[QueueTab, ...] = (
    QueueTab("submitted", _("待受理"), frozenset({S.SUBMITTED})),
    QueueTab("accepted", _("待派单"), frozenset({S.ACCEPTED})),
    QueueTab("assigned", _("已派单未签收"), frozenset({S.ASSIGNED})),
    QueueTab("handling", _("处置中"), frozenset({S.SIGNED, S.IN_PROGRESS})),
    QueueTab("resolved", _("待回访"), frozenset({S.RESOLVED})),
    # Followed up (satisfied) cases wait for the level to archive them.
    QueueTab("followed_up", _("待归档"), frozenset({S.FOLLOWED_UP})),
    QueueTab("returned", _("已退回/发回重办"), frozenset({S.RETURNED, S.REOPENED})),
)
TABS_BY_SLUG = {tab.slug: tab for tab in QUEUE_TABS}
DEFAULT_TAB = "submitted"

_URGENCY_RANK = When_(
    When(urgency=Urgency.CRITICAL, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
_WARNING_RANK = When_(
    When(warning=WarningLevel.RED, then=Value(0)),
    When(warning=WarningLevel.YELLOW, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
QUEUE_SORTS: dict[str, tuple[Any, ...]] = {
    "-filed": ("-filed_at", "-pk"),
    "filed": ("filed_at", "pk"),
    "deadline": (
        F("resolve_deadline").asc(nulls_last=True),
        F("sign_deadline").asc(nulls_last=True),
        "filed_at",
        "pk",
    ),
    "urgency": ("urgency_rank", "-filed_at", "-pk"),
    "warning": ("warning_rank", F("resolve_deadline").asc(nulls_last=True), "-filed_at", "-pk"),
}
DEFAULT_SORT = "-filed"
# A constant to count rows by (Django refuses COUNT(*) with a filter).
_ONE = Value(1)


@dataclass
class QueueFilters:
    """What the filter form keeps. Empty values filter nothing."""

    category_id: int | None = None
    urgency: str = ""
    warning: str = ""  # "yellow", "red" or "any" (yellow or red)
    region_id: int | None = None  # a grid, village or township in scope: cases filed under it
    level: str = ""
    filed_from: dt.date | None = None
    filed_to: dt.date | None = None
    number: str = ""


def queue_scope_q(user: AnyUser) -> Q:
    """Cases sitting in the queue of a region the user staffs (as grid leader, village secretary,
    township or county admin), or anywhere below it."""
    return access.scope_q(user, "handling_region__path", QUEUE_ROLES)


def queue_has_desk(user: AnyUser) -> bool:
    """Whether the user holds a role that has a queue at all (others get a 403 on the queue page)."""
    return bool(access.assignments(user, QUEUE_ROLES))


def _filtered(user: AnyUser, filters: QueueFilters, scope: Q) -> QuerySet[Case]:
    cases = Case.objects.filter(scope)
    if filters.category_id:
        cases = cases.filter(Q(category_id=filters.category_id) | Q(category__parent_id=filters.category_id))
    if filters.urgency:
        cases = cases.filter(urgency=filters.urgency)
    if filters.warning == "any":
        cases = cases.exclude(warning=WarningLevel.NONE)
    elif filters.warning:
        cases = cases.filter(warning=filters.warning)
    if filters.region_id:
        # One more query when the filter is set; the scope above still bounds what is shown.
        path = Region.objects.filter(pk=filters.region_id).values_list("path", flat=True).first()
        cases = cases.filter(grid__path__startswith=path) if path else cases.none()
    if filters.level:
        cases = cases.filter(level=filters.level)
    tz = timezone.get_current_timezone()
    if filters.filed_from:
        cases = cases.filter(filed_at__gte=dt.datetime.combine(filters.filed_from, dt.time.min, tzinfo=tz))
    if filters.filed_to:
        end = dt.datetime.combine(filters.filed_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        cases = cases.filter(filed_at__lt=end)
    if filters.number:
        cases = cases.filter(number__startswith=filters.number.strip().upper())
    return cases


@dataclass
class QueueResult:
    tab: QueueTab
    counts: dict[str, int]
    warning_counts: dict[str, int]
    cases: QuerySet[Case]
    sort: str
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def total(self) -> int:
        return self.counts[self.tab.slug]

    def page(self, number: Any, per_page: int) -> Any:
        """The requested page of the tab's cases, counted from the aggregate (no second COUNT)."""
        paginator = _KnownCountPaginator(self.cases, per_page, count=self.total)
        return paginator.get_page(number)


class _KnownCountPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def queue_cases(
    *, user: AnyUser, tab: str = DEFAULT_TAB, filters: QueueFilters | None = None, sort: str = DEFAULT_SORT
) -> QueueResult:
    """The user's queue: the counts of every tab (with the filters applied) and the cases of `tab`,
    sorted, with category, grid, village, handling region, unit, person and resident joined.

    Queries: the user's assignments, one aggregate of every tab and warning count, and the page's rows
    when it is read."""
    filters = filters or QueueFilters()
    chosen = TABS_BY_SLUG.get(tab) or TABS_BY_SLUG[DEFAULT_TAB]
    scope = queue_scope_q(user)
    base = _filtered(user, filters, scope)
    # COUNT(1), not COUNT(id): the partial covering index case_queue_open (migration grids 0004) holds
    # every column these read, so the counts come from the index alone.
    aggregates: dict[str, Any] = {t.slug: Count(_ONE, filter=Q(status__in=t.statuses)) for t in QUEUE_TABS}
    open_statuses = [s for t in QUEUE_TABS for s in t.statuses]
    aggregates["w_yellow"] = Count(_ONE, filter=Q(warning=WarningLevel.YELLOW))
    aggregates["w_red"] = Count(_ONE, filter=Q(warning=WarningLevel.RED))
    # Only the queue's states are counted: the closed cases (most of a year's) never enter the scan.
    totals = base.filter(status__in=open_statuses).aggregate(**aggregates)
    counts = {t.slug: totals[t.slug] for t in QUEUE_TABS}
    warning_counts = {WarningLevel.YELLOW.value: totals["w_yellow"], WarningLevel.RED.value: totals["w_red"]}
    sort = sort if sort in QUEUE_SORTS else DEFAULT_SORT
    cases = (
        base.filter(status__in=chosen.statuses)
        .select_related(
            "category",
            "category__parent",
            "grid",
            "grid__parent",
            "handling_region",
            "assigned_unit",
            "assigned_user",
            "resident",
            "reporter",
        )
        .annotate(urgency_rank=_URGENCY_RANK, warning_rank=_WARNING_RANK)
        .order_by(*QUEUE_SORTS[sort])
    )
    return QueueResult(tab=chosen, counts=counts, warning_counts=warning_counts, cases=cases, sort=sort)


def queue_export_rows(*, user: AnyUser, filters: QueueFilters, tab: str | None, sort: str) -> QuerySet[Case]:
    """Every case the export of the filtered list writes (one tab, or every tab when `tab` is None),
    with the same rows joined as the page."""
    base = _filtered(user, filters, queue_scope_q(user))
    statuses = (
        TABS_BY_SLUG[tab].statuses
        if tab in TABS_BY_SLUG
        else frozenset(s for t in QUEUE_TABS for s in t.statuses)
    )
    return (
        base.filter(status__in=statuses)
        .select_related(
            "category",
            "category__parent",
            "grid",
            "grid__parent",
            "handling_region",
            "assigned_unit",
            "assigned_user",
            "resident",
            "reporter",
        )
        .annotate(urgency_rank=_URGENCY_RANK, warning_rank=_WARNING_RANK)
        .order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS[DEFAULT_SORT]))
    )


def queue_category_choices() -> list[tuple[int, str]]:
    """The category tree as (id, indented name): the duties, each followed by its sub-categories."""
    rows = list(CaseCategory.objects.filter(is_active=True).order_by("duty", "sort_order", "code"))
    tops = [c for c in rows if c.parent_id is None]
    children: dict[int, list[CaseCategory]] = {}
    for c in rows:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    choices: list[tuple[int, str]] = []
    for top in tops:
        choices.append((top.pk, top.name))
        choices.extend((c.pk, f"　{c.name}") for c in children.get(top.pk, []))
    return choices


# The region filter lists villages and grids when that stays short, else townships and villages.
REGION_CHOICES_MAX = 300


def queue_region_choices(*, user: AnyUser) -> list[tuple[int, str]]:
    """Regions under the user's queue scope to filter by, as (id, indented name), in tree order."""
    scope = access.scope_q(user, "path", QUEUE_ROLES)
    regions = Region.objects.filter(scope).exclude(level=RegionLevel.COUNTY)
    rows = list(regions.order_by("path").values_list("pk", "name", "level")[: REGION_CHOICES_MAX + 1])
    if len(rows) > REGION_CHOICES_MAX:
        rows = list(
            regions.exclude(level=RegionLevel.GRID)
            .order_by("path")
            .values_list("pk", "name", "level")[: REGION_CHOICES_MAX * 2]
        )
    indent = {RegionLevel.TOWNSHIP: "", RegionLevel.VILLAGE: "　", RegionLevel.GRID: "　　"}
    return [(pk, f"{indent.get(RegionLevel(level), '')}{name}") for pk, name, level in rows]


def queue_levels() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in HandlingLevel.choices]


def queue_identity_visible(*, user: AnyUser, cases: list[Case]) -> set[int]:
    """The ids among `cases` whose resident the user may see named, in at most three queries for any
    number of cases. The rule is grids.access.case_sees_identity's (a test keeps the two equal): the
    reporter and the handler (the assigned person or a member of the assigned unit) always; for a public
    case also the roles that see personal data over its grid and the mediator granted it; an anonymous
    or confidential case nobody else."""
    if not cases or not user.is_authenticated:
        return set()
    personal = [path for _role, path in access.assignments(user, access.PERSONAL_DATA_ROLES)]
    unit_ids: set[int] = set()
    if any(c.assigned_unit_id for c in cases):
        unit_ids = set(HandlingUnit.objects.filter(members__pk=user.pk).values_list("pk", flat=True))
    mediated: set[int] = set()
    public_ids = [c.pk for c in cases if c.privacy == Privacy.PUBLIC]
    if public_ids:
        mediated = set(
            CaseUserObjectPermission.objects.filter(
                user_id=user.pk, content_object_id__in=public_ids, permission__codename="mediate_case"
            ).values_list("content_object_id", flat=True)
        )
    visible: set[int] = set()
    for case in cases:
        is_reporter = case.reporter_id == user.pk
        is_handler = case.assigned_user_id == user.pk or (
            case.assigned_unit_id is not None and case.assigned_unit_id in unit_ids
        )
        if (
            is_reporter
            or is_handler
            or (
                case.privacy == Privacy.PUBLIC
                and (any(case.grid.path.startswith(p) for p in personal) or case.pk in mediated)
            )
        ):
            visible.add(case.pk)
    return visible


def resident_label(case: Case, identity: set[int]) -> str:
    """What the queue shows for whom the case is filed: the resident's name when the user may see it,
    else the privacy ("匿名", "保密"); "网格长发现" when the grid leader filed their own observation."""
    if case.resident is None:
        return str(_("网格长发现"))
    if case.pk in identity:
        return case.resident.name
    return str(case.get_privacy_display()) if case.privacy != Privacy.PUBLIC else str(_("已隐藏"))
