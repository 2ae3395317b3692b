"""Reads of cases for an acting user: the filtered, sorted, paginated list with counts per status (in a
constant number of queries, whatever the number of cases), one case with its timeline (the full one for
staff, the public one otherwise), and the transitions the user may take now.

Everything is filtered by grids.access (case_scope_q); the resident's identity follows
grids.access.case_identity_checker on every row.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Case as When_
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError
from governance import access
from governance.models import Region
from grids import access as grids_access
from grids.models import Case, CaseEvent, CasePhoto, CaseStatus, Privacy, WarningLevel
from grids.workflow import LEVEL_ORDER, TRANSITIONS, Transition, transitions_from

AnyUser = AbstractBaseUser | AnonymousUser

PAGE_SIZE = 20
PAGE_SIZE_MAX = 100
SEARCH_MAX = 50

_WARNING_RANK = When_(
    When(warning=WarningLevel.RED, then=Value(0)),
    When(warning=WarningLevel.YELLOW, then=Value(1)),
    default=Value(2),
)
# Sort keys the list offers → the ordering (always ending in a unique key so pages never overlap).
SORTS: dict[str, tuple[Any, ...]] = {
    "-filed_at": ("-filed_at", "-pk"),
    "filed_at": ("filed_at", "pk"),
    "deadline": (F("resolve_deadline").asc(nulls_last=True), "-filed_at", "-pk"),
    "-deadline": (F("resolve_deadline").desc(nulls_last=True), "-filed_at", "-pk"),
    "number": ("number",),
    "-number": ("-number",),
    "warning": ("warning_rank", F("resolve_deadline").asc(nulls_last=True), "-pk"),
    "-updated_at": ("-updated_at", "-pk"),
}
DEFAULT_SORT = "-filed_at"
# The same orderings for a user who sees few cases (at most SMALL_SCOPE, which the counts query has just
# told): the first key is an expression of the indexed column (filed_at + 0, number || ''), the same
# order. Why: PostgreSQL cannot know how many rows the scope's arrays (grids.access.case_scope_q) select,
# so for a grid leader's 81 cases among the county's 300,000 it walked the filed_at index backwards,
# testing the whole year until it had a page (~100 ms); with no index to walk it reads the few rows
# through the scope's indexes and sorts them (~1 ms). For a wide scope the index walk is the fast plan
# and the plain orderings stay.
SMALL_SCOPE = 10_000
_ZERO = Value(dt.timedelta(0), output_field=DurationField())
SORTS_FEW: dict[str, tuple[Any, ...]] = {
    **SORTS,
    "-filed_at": (ExpressionWrapper(F("filed_at") + _ZERO, output_field=DateTimeField()).desc(), "-pk"),
    "filed_at": (ExpressionWrapper(F("filed_at") + _ZERO, output_field=DateTimeField()).asc(), "pk"),
    "number": (Concat(F("number"), Value("")).asc(),),
    "-number": (Concat(F("number"), Value("")).desc(),),
}
# What the list's "mine" filter narrows to.
MINE_CHOICES = ("queue", "assigned", "reported")


@dataclass(frozen=True)
class CaseFilters:
    """The list's filters; None (or empty) means "any". `region` keeps cases filed in a grid under that
    region (a grid, a village, a township); `category` keeps that category and its sub-categories;
    `filed_from`/`filed_to` are local dates, both inclusive; `q` searches the number and the description;
    `mine` narrows to the user's queue ("queue": cases at a level they staff), what is assigned to them
    ("assigned") or what they filed ("reported")."""

    status: tuple[str, ...] = ()
    level: str | None = None
    category: int | None = None
    urgency: str | None = None
    warning: str | None = None
    region: int | None = None
    privacy: str | None = None
    filed_from: dt.date | None = None
    filed_to: dt.date | None = None
    q: str = ""
    mine: str | None = None


@dataclass
class CaseListPage:
    """One page of the list. `rows` are cases with category, grid (and its village), handling region,
    resident, reporter and assignees joined, each with `sees_identity` and `resident_label` set.
    `status_counts` counts every status under all filters but the status filter (the tabs); `total`
    is the number of rows under all filters."""

    rows: list[Case]
    total: int
    page: int
    page_size: int
    pages: int
    sort: str
    status_counts: dict[str, int] = field(default_factory=dict)


def resident_label(case: Case, sees_identity: bool) -> str:
    """What a page shows for the resident behind a case: the name to those who may see it; otherwise
    匿名 / 保密, or the surname with the rest masked for a public case. Filed without a resident: 本人发现."""
    if case.resident_id is None:
        return _("网格员发现")
    resident = case.resident
    assert resident is not None
    if sees_identity:
        return resident.name
    if case.privacy == Privacy.ANONYMOUS:
        return _("匿名")
    if case.privacy == Privacy.CONFIDENTIAL:
        return _("保密")
    name = resident.name
    return name[:1] + "*" * max(len(name) - 1, 1)


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(user: AnyUser, filters: CaseFilters) -> QuerySet[Case]:
    cases = grids_access.cases_visible(user)
    if filters.level:
        cases = cases.filter(level=filters.level)
    if filters.category:
        cases = cases.filter(Q(category_id=filters.category) | Q(category__parent_id=filters.category))
    if filters.urgency:
        cases = cases.filter(urgency=filters.urgency)
    if filters.warning:
        cases = cases.filter(warning=filters.warning)
    if filters.privacy:
        cases = cases.filter(privacy=filters.privacy)
    if filters.region:
        # A subquery, not a look-up first: the list's query count stays fixed.
        region_path = Region.objects.filter(pk=filters.region).values("path")[:1]
        cases = cases.filter(grid__path__startswith=region_path)
    if filters.filed_from:
        cases = cases.filter(filed_at__gte=_local_start(filters.filed_from))
    if filters.filed_to:
        cases = cases.filter(filed_at__lt=_local_start(filters.filed_to + dt.timedelta(days=1)))
    text = filters.q.strip()[:SEARCH_MAX]
    if text:
        cases = cases.filter(Q(number__icontains=text) | Q(description__icontains=text))
    if filters.mine == "queue":
        cases = cases.filter(_queue_q(user))
    elif filters.mine == "assigned":
        cases = cases.filter(
            Q(assigned_user_id=user.pk) | Q(assigned_unit__members=user.pk, assigned_user__isnull=True)
        )
    elif filters.mine == "reported":
        cases = cases.filter(reporter_id=user.pk)
    return cases


def _queue_q(user: AnyUser) -> Q:
    """Cases held at the user's own level: for each staffing role they hold at a region, the cases of
    that role's level whose handling region lies under it (a township admin's queue is the township-level
    cases, not every village's)."""
    condition = Q(pk__in=[])
    for role, path in access.assignments(user, frozenset(access.Role(r) for r in grids_access.ROLE_RANK)):
        level = LEVEL_ORDER[grids_access.ROLE_RANK[role]]
        condition |= Q(handling_region__path__startswith=path, level=level)
    return condition


def case_list(
    *,
    user: AnyUser,
    filters: CaseFilters | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> CaseListPage:
    """The cases `user` may see under `filters`, sorted by `sort` (a key of SORTS), page `page` (from 1;
    past the end gives the last page). Six queries whatever the number of cases: the user's scope, the
    counts per status, the page of rows, and the three the identity rule needs."""
    filters = filters or CaseFilters()
    if sort not in SORTS:
        raise DomainError("case_sort_invalid", _("不支持的排序方式。"), field="sort")
    page_size = max(1, min(page_size, PAGE_SIZE_MAX))
    base = _filtered(user, filters)
    counts = {
        status: count
        for status, count in base.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    }
    status_counts = {status: counts.get(status, 0) for status in CaseStatus.values}
    chosen = [s for s in filters.status if s in CaseStatus.values]
    total = sum(status_counts[s] for s in chosen) if filters.status else sum(status_counts.values())
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(page, pages))
    cases = base.filter(status__in=chosen) if filters.status else base
    if sort == "warning":
        cases = cases.annotate(warning_rank=_WARNING_RANK)
    start = (page - 1) * page_size
    few = total <= SMALL_SCOPE and connection.vendor == "postgresql"
    orderings = SORTS_FEW if few else SORTS
    rows = list(
        cases.select_related(
            "category",
            "grid",
            "grid__parent",
            "handling_region",
            "resident",
            "reporter",
            "assigned_unit",
            "assigned_user",
        ).order_by(*orderings[sort])[start : start + page_size]
    )
    sees = grids_access.case_identity_checker(user)
    for row in rows:
        row.sees_identity = sees(row)  # type: ignore[attr-defined]
        row.resident_label = resident_label(row, row.sees_identity)  # type: ignore[attr-defined]
    return CaseListPage(
        rows=rows,
        total=total,
        page=page,
        page_size=page_size,
        pages=pages,
        sort=sort,
        status_counts=status_counts,
    )


# ---------------------------------------------------------------------------------------------------------
# One case


@dataclass
class TimelineEntry:
    """One line of a timeline as shown. In the public view `actor` and the note of a transition are
    empty (a note on a transition may name people); only notes staff marked public keep their text."""

    id: int
    kind: str
    label: str
    from_status: str
    to_status: str
    at: dt.datetime
    actor: str
    note: str
    is_public: bool
    data: dict[str, Any]
    photos: list[CasePhoto]


@dataclass
class CaseDetail:
    case: Case
    sees_identity: bool
    resident_label: str
    # Full timeline (staff) or the public one.
    staff_view: bool
    timeline: list[TimelineEntry]
    photos: list[CasePhoto]
    actions: list[Transition]


# Non-transition timeline entries and their labels.
EVENT_LABELS: dict[str, Promise] = {
    "file": gettext_lazy("上报"),
    "note": gettext_lazy("办理记录"),
    "me_too": gettext_lazy("附议"),
    "warning": gettext_lazy("预警"),
    "supervise": gettext_lazy("督办"),
    "extension_request": gettext_lazy("申请延期"),
    "extension_decide": gettext_lazy("延期审批"),
    "mediation_hand_over": gettext_lazy("移交调解"),
    "mediation_session": gettext_lazy("调解记录"),
    "mediation_agreement": gettext_lazy("调解协议"),
    "mediation_revoke": gettext_lazy("收回调解"),
}
# Data keys a public timeline entry may show (nothing that names a person).
PUBLIC_DATA_KEYS = frozenset({"to_level", "to_region", "original", "satisfaction", "automatic", "on_time"})


def event_label(kind: str) -> str:
    transition = TRANSITIONS.get(kind)
    if transition is not None:
        return str(transition.label)
    return str(EVENT_LABELS[kind]) if kind in EVENT_LABELS else kind


def case_staff_view(user: AnyUser, case: Case) -> bool:
    """Whether `user` gets the case's full timeline (notes, who did what): its actors (level staff,
    handler, reporter), staff whose roles reach the grid (not the read-only viewer), and the mediator
    granted the case. Everyone else who may see the case gets the public timeline."""
    if grids_access.case_actor_roles(user, case):
        return True
    staff_roles = frozenset(grids_access.CASE_SCOPE_ROLES - {access.Role.VIEWER})
    return access.covers(user, case.grid.path, staff_roles) or grids_access.is_mediator_of(user, case)


def case_timeline(*, case: Case, staff_view: bool) -> list[TimelineEntry]:
    """The case's timeline in order (two queries: the entries with their actors, their photos). The public
    view keeps only entries marked public and strips actors, transition notes and personal data."""
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "pk")
    if not staff_view:
        events = events.filter(is_public=True)
    events = events.prefetch_related(
        Prefetch("photos", queryset=CasePhoto.objects.order_by("created_at", "pk"))
    )
    entries = []
    for event in events:
        if staff_view:
            actor = str(event.actor) if event.actor is not None else _("系统")
            note, data = event.note, dict(event.data)
        else:
            actor = ""
            note = event.note if event.kind == "note" else ""
            data = {key: value for key, value in event.data.items() if key in PUBLIC_DATA_KEYS}
        entries.append(
            TimelineEntry(
                id=event.pk,
                kind=event.kind,
                label=event_label(event.kind),
                from_status=event.from_status,
                to_status=event.to_status,
                at=event.at,
                actor=actor,
                note=note,
                is_public=event.is_public,
                data=data,
                photos=list(event.photos.all()) if staff_view or case.privacy == Privacy.PUBLIC else [],
            )
        )
    return entries


def case_actions_for(user: AnyUser, case: Case) -> list[Transition]:
    """The transitions `user` may take on `case` now, in table order (the pages' buttons)."""
    roles = grids_access.case_actor_roles(user, case)
    return [t for t in transitions_from(case.status) if roles & t.actors]


def case_detail(*, user: AnyUser, case: int | str | Case) -> CaseDetail:
    """The case (by id, number or instance) if `user` may see it — NotFound otherwise — with its related
    rows joined, its timeline in the view the user gets, its photos and the user's actions."""
    visible = grids_access.case_get_visible(user, case)
    row = Case.objects.select_related(
        "category",
        "category__parent",
        "grid",
        "grid__parent",
        "handling_region",
        "resident",
        "reporter",
        "assigned_unit",
        "assigned_user",
        "duplicate_of",
    ).get(pk=visible.pk)
    sees = grids_access.case_sees_identity(user, row)
    staff_view = case_staff_view(user, row)
    photos = list(CasePhoto.objects.filter(case=row).order_by("created_at", "pk"))
    if not staff_view and row.privacy != Privacy.PUBLIC:
        photos = []
    return CaseDetail(
        case=row,
        sees_identity=sees,
        resident_label=resident_label(row, sees),
        staff_view=staff_view,
        timeline=case_timeline(case=row, staff_view=staff_view),
        photos=photos,
        actions=case_actions_for(user, row),
    )
