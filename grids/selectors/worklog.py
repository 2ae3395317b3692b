"""Reads of the grid work log and of grid leaders' terms. Every selector takes the acting user and filters
to their region scope (a path-prefix filter on the grid); out of scope answers NotFound (404).

Lists return querysets with what a row shows already joined or annotated, so a page costs a fixed number
of queries whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from common.errors import DomainError
from governance import access
from governance.models import Household, Region, RegionLevel, Resident, RoleAssignment, User
from governance.roles import Role
from grids.models import Case, GridLeader, WorkKind, WorkLogEntry, WorkLogPhoto
from grids.services.worklog import WORK_LOG_WRITER_ROLES

AnyUser = AbstractBaseUser | AnonymousUser

ENTRY_PATH = "grid__path"
# How many recent cases the meeting form offers to link (the most recent of the village first).
CASE_CHOICES_MAX = 60


def _region_prefix_q(region_id: int, path_field: str) -> Q:
    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
    return Q(**{f"{path_field}__startswith": path}) if path else Q(pk__in=[])


def _count_of(model: type[Any], field: str) -> Coalesce:
    """A correlated COUNT of `model` rows pointing at the outer row through `field` (0 when none):
    unlike two Count() joins it does not multiply rows."""
    counted = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class WorkLogFilter(django_filters.FilterSet):
    grid = django_filters.NumberFilter(field_name="grid_id", label=_("网格编号"))
    village = django_filters.NumberFilter(field_name="grid__parent_id", label=_("村（社区）编号"))
    township = django_filters.NumberFilter(field_name="grid__parent__parent_id", label=_("乡镇编号"))
    region = django_filters.NumberFilter(method="in_region", label=_("区域编号（任一层级，含全部下级）"))
    kind = django_filters.ChoiceFilter(
        choices=WorkKind.choices, method="of_kind", label=_("工作类型"), empty_label=_("全部类型")
    )
    date_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte", label=_("开始日期"))
    date_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte", label=_("结束日期"))
    q = django_filters.CharFilter(method="search", label=_("主题或内容"))

    class Meta:
        model = WorkLogEntry
        fields = ["grid", "village", "township", "region", "kind", "date_from", "date_to", "q"]

    def in_region(self, queryset: QuerySet[WorkLogEntry], name: str, value: int) -> QuerySet[WorkLogEntry]:
        return queryset.filter(_region_prefix_q(int(value), ENTRY_PATH))

    # Written inline in the API schema: "kind" names other choice sets elsewhere (regions, Party).
    @extend_schema_field({"type": "string", "enum": WorkKind.values})
    def of_kind(self, queryset: QuerySet[WorkLogEntry], name: str, value: str) -> QuerySet[WorkLogEntry]:
        return queryset.filter(kind=value)

    def search(self, queryset: QuerySet[WorkLogEntry], name: str, value: str) -> QuerySet[WorkLogEntry]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(topic__icontains=value) | Q(summary__icontains=value))


def work_log_base(*, user: AnyUser) -> QuerySet[WorkLogEntry]:
    """Entries of grids in the user's scope, newest first, with grid, village, author and household
    joined and the numbers of photos and linked cases annotated (photos_count, cases_count)."""
    queryset = (
        WorkLogEntry.objects.select_related("grid", "grid__parent", "author", "household", "household__head")
        .annotate(
            photos_count=_count_of(WorkLogPhoto, "entry"),
            cases_count=_count_of(WorkLogEntry.cases.through, "worklogentry"),
        )
        .order_by("-occurred_on", "-id")
    )
    return access.scoped(queryset, user, ENTRY_PATH)


def work_log_filterset(*, user: AnyUser, filters: Mapping[str, Any] | None) -> WorkLogFilter:
    """The bound filter set (its form renders the filter bar); `.qs` is work_log_list's answer."""
    return WorkLogFilter(filters or None, queryset=work_log_base(user=user))


def work_log_list(*, user: AnyUser, filters: Mapping[str, Any] | None = None) -> QuerySet[WorkLogEntry]:
    """A grid's, village's (or any region's) work log in the user's scope, filtered by WorkLogFilter's
    fields (grid, village, township, region, kind, date_from, date_to, q); invalid filters match nothing."""
    filterset = work_log_filterset(user=user, filters=filters)
    if not filters:
        return filterset.queryset
    if not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def work_log_detail(*, user: AnyUser, entry_id: int) -> WorkLogEntry:
    """One entry in the user's scope with its photos prefetched; NotFound (404) otherwise."""
    queryset = work_log_base(user=user).prefetch_related("photos")
    return access.get_in_scope(queryset, user, ENTRY_PATH, pk=entry_id)


def work_log_cases_visible(*, user: AnyUser, entry: WorkLogEntry) -> tuple[list[Case], int]:
    """The entry's linked cases the user may see (number order), and how many others it links that the
    user may not (a case handed to a mediator, say, is not shown to a colleague of the grid)."""
    from grids.access import cases_visible

    linked = entry.cases.all()
    visible = list(
        cases_visible(user).filter(pk__in=linked.values("pk")).select_related("category").order_by("number")
    )
    return visible, linked.count() - len(visible)


def work_log_photo_get(*, user: AnyUser, photo_id: int) -> WorkLogPhoto:
    """One work-log photo whose entry lies in the user's scope; NotFound (404) otherwise."""
    return access.get_in_scope(WorkLogPhoto.objects.all(), user, "entry__grid__path", pk=photo_id)


def month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of `today`'s month."""
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def work_log_month_counts(
    *, user: AnyUser, region: Region | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """This month's entries per kind (every kind present, zeros included) in the user's scope, under
    `region` when given. One GROUP BY query."""
    first, last = month_bounds(today or timezone.localdate())
    entries = access.scoped(WorkLogEntry.objects.all(), user, ENTRY_PATH).filter(
        occurred_on__gte=first, occurred_on__lte=last
    )
    if region is not None:
        entries = entries.filter(grid__path__startswith=region.path)
    counts = dict.fromkeys(WorkKind.values, 0)
    for kind, number in entries.order_by().values_list("kind").annotate(n=Count("pk")):
        counts[kind] = number
    return counts


# ---------------------------------------------------------------------------------------------------------
# What the form offers


def work_log_grid_choices(*, user: AnyUser, village: Region | None = None) -> QuerySet[Region]:
    """The grids whose log the user may write, in reading order, village joined (under `village`)."""
    grids = Region.objects.filter(level=RegionLevel.GRID, valid_to__isnull=True).filter(
        access.scope_q(user, "path", WORK_LOG_WRITER_ROLES)
    )
    if village is not None:
        grids = grids.filter(parent=village)
    return grids.select_related("parent").order_by("path")


def work_log_village_choices(*, user: AnyUser) -> QuerySet[Region]:
    """Villages with a grid whose log the user may write: the first step of the form for staff whose
    scope holds too many grids for one list."""
    villages = Region.objects.filter(level=RegionLevel.VILLAGE).filter(
        access.scope_q(user, "path", WORK_LOG_WRITER_ROLES)
        | Q(pk__in=work_log_grid_choices(user=user).values("parent_id"))
    )
    return villages.select_related("parent").order_by("path")


def work_log_village_list(*, user: AnyUser) -> QuerySet[Region]:
    """Villages in the user's scope (what a work-log list can be narrowed to), reading order."""
    villages = Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent")
    return access.scoped(villages, user).order_by("path")


def work_log_grid_list(*, user: AnyUser, village_id: int) -> QuerySet[Region]:
    """The grids of a village that lie in the user's scope, reading order."""
    grids = Region.objects.filter(level=RegionLevel.GRID, parent_id=village_id)
    return access.scoped(grids, user).order_by("path")


def work_log_grid_get(*, user: AnyUser, grid_id: int) -> Region:
    """A region in the user's scope by id (the service checks it is a grid the user may write in)."""
    return access.get_in_scope(Region.objects.select_related("parent"), user, "path", pk=grid_id)


def work_log_household_choices(*, user: AnyUser, grid: Region) -> QuerySet[Household]:
    """The grid's households on the register, by number, head joined (what a visit may name)."""
    households = Household.objects.filter(grid=grid, is_active=True).select_related("head")
    return access.scoped(households, user, "grid__path").order_by("number")


def work_log_case_choices(*, user: AnyUser, grid: Region) -> QuerySet[Case]:
    """Cases of the grid's village the user can see, most recent first (what minutes may link)."""
    from grids.access import cases_visible

    cases = cases_visible(user).filter(grid__parent_id=grid.parent_id).select_related("category", "grid")
    return cases.order_by("-filed_at", "-id")[:CASE_CHOICES_MAX]


# ---------------------------------------------------------------------------------------------------------
# Grid leaders' terms


def grid_get_visible(*, user: AnyUser, grid_id: int) -> Region:
    """A grid in the user's scope, its village and township joined; NotFound (404) otherwise."""
    return access.get_in_scope(
        Region.objects.select_related("parent", "parent__parent"),
        user,
        "path",
        pk=grid_id,
        level=RegionLevel.GRID,
    )


def grid_leader_terms(*, user: AnyUser, grid: Region) -> list[GridLeader]:
    """The grid's leaders past and present, the current (or latest) term first, resident, household and
    linked log-in joined. `grid` must come from grid_get_visible (it is re-checked against the scope)."""
    terms = GridLeader.objects.filter(grid=grid).select_related("resident", "resident__household", "user")
    return list(access.scoped(terms, user, "grid__path").order_by("-elected_on", "-id"))


def grid_leader_list(*, user: AnyUser, region_id: int) -> QuerySet[GridLeader]:
    """Every term (current and past) of the grids under a region in the user's scope, grid by grid with
    the latest term first; NotFound (404) when the region is out of scope."""
    region = access.get_in_scope(Region.objects.all(), user, "path", pk=region_id)
    terms = GridLeader.objects.filter(grid__path__startswith=region.path).select_related(
        "grid", "grid__parent", "resident", "user"
    )
    return access.scoped(terms, user, "grid__path").order_by("grid__path", "-elected_on", "-id")


def grid_leader_resident_choices(*, user: AnyUser, grid: Region) -> QuerySet[Resident]:
    """Residents of the grid who may be elected (living there or working away), household joined."""
    residents = Resident.objects.filter(
        household__grid=grid, household__is_active=True, status__in=["resident", "away"]
    ).select_related("household")
    return access.scoped(residents, user, "household__grid__path").order_by("household__number", "id")


def grid_leader_resident_get(*, user: AnyUser, grid: Region, resident_id: int) -> Resident:
    """A resident of `grid` (in the user's scope) by id; a resident elsewhere and a missing id both
    raise the same DomainError (field "resident"), so nothing outside the grid leaks."""
    resident = (
        access.scoped(Resident.objects.select_related("household"), user, "household__grid__path")
        .filter(pk=resident_id, household__grid=grid)
        .first()
    )
    if resident is None:
        raise DomainError(
            "grid_leader_resident_not_in_grid",
            _("网格长须是本网格（%(grid)s）的居民。") % {"grid": grid.name},
            field="resident",
        )
    return resident


def grid_leader_user_choices(*, grid: Region) -> QuerySet[User]:
    """Log-ins holding the grid-leader role at this grid: the accounts a term may be linked to."""
    holders = RoleAssignment.objects.filter(region=grid, role=Role.GRID_LEADER).values("user_id")
    return User.objects.filter(pk__in=holders).order_by("username")
