"""The gates of the case workflow: who sees which case, who may take which transition, who sees the
resident's identity, and where a user may file. One place, tested in tests/grids/test_case_access.py.

A case belongs to its grid: region scope is a path-prefix filter on `grid__path` (governance.access), widened
only by the sparse exceptions a case needs — the person or unit it is assigned to, the grid leader who
filed it, and a mediator granted that one case through django-guardian (`grids.mediate_case`, direct
foreign-key rows). Deny by default; out of scope answers 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import BooleanField, Expression, F, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access
from governance.models import Region, RegionLevel
from governance.roles import Role
from grids.models import (
    Case,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    HandlingLevel,
    HandlingUnit,
    Privacy,
)
from grids.workflow import LEVEL_ORDER, LEVEL_ROLE, TRANSITIONS, Actor

AnyUser = AbstractBaseUser | AnonymousUser

# Roles whose region reaches the cases filed in its grids. The mediator's role is deliberately absent (a
# mediator sees only the cases handed to them) and so is the canteen manager's (not their business).
CASE_SCOPE_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER, Role.VIEWER}
)
# Roles that may file a case in the grids under their region (the grid leader in their grid, the village
# secretary in their village's grids, and so on up).
FILING_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER})
# The rank of each staffing role among the levels (grid 0 … county 3): a role acts for its own level and
# every level below it, inside its subtree.
ROLE_RANK: dict[str, int] = {LEVEL_ROLE[level]: rank for rank, level in enumerate(LEVEL_ORDER)}

MEDIATE_CODENAME = "mediate_case"

NOT_FOUND_MESSAGE = gettext_lazy("未找到该诉求，或者它不在您的管辖范围内。")


def _unit_ids_of(user: AnyUser) -> QuerySet[Any, Any]:
    """The ids of the handling units `user` is a member of, as a subquery."""
    through: Any = HandlingUnit.members.through
    return through.objects.filter(user_id=user.pk).values("handlingunit_id")


class _AnyOf(Expression):
    """`column = ANY(ARRAY(subquery))` on PostgreSQL, `column IN (subquery)` elsewhere: true when the
    row's `column` is one of the ids the subquery selects.

    Why not `column__in=subquery`: case_scope_q ORs five conditions, and PostgreSQL cannot turn an
    `IN (SELECT ...)` inside an OR into an index scan, so it read every case of the county for a grid
    leader's list (seconds at county scale). `= ANY(ARRAY(SELECT ...))` runs the subquery once, first,
    and leaves a plain array condition each arm's index can answer, so the arms combine as a BitmapOr
    of index scans. Built from the ORM (not raw SQL), so the column follows the query's table alias.
    """

    output_field = BooleanField()

    def __init__(self, column: str, ids: QuerySet[Any, Any]) -> None:
        super().__init__(output_field=BooleanField())
        self.column: Any = F(column)
        self.ids: Any = Subquery(ids)

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.ids]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.ids = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, column_params = compiler.compile(self.column)
        ids, ids_params = compiler.compile(self.ids)  # "(SELECT ...)"
        return f"{column} IN {ids}", (*column_params, *ids_params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, column_params = compiler.compile(self.column)
        ids, ids_params = compiler.compile(self.ids)
        return f"{column} = ANY(ARRAY{ids})", (*column_params, *ids_params)


def _granted_rows(user: AnyUser) -> tuple[QuerySet[Any, Any], QuerySet[Any, Any]]:
    """The ids (as `content_object_id` subqueries) of the cases granted to `user` as mediator: by their own
    permission rows, and by their groups'. The same rows access.granted_ids reads through django-guardian
    (object-level only, no global permissions, no superuser shortcut), selected from the permission
    tables alone: guardian's query tests every case of the county against them."""
    permission = Q(
        permission__codename=MEDIATE_CODENAME,
        permission__content_type__app_label=Case._meta.app_label,
        permission__content_type__model=Case._meta.model_name,
    )
    assert user.pk is not None  # callers check is_authenticated first
    own = CaseUserObjectPermission.objects.filter(permission, user_id=user.pk).values("content_object_id")
    groups = CaseGroupObjectPermission.objects.filter(permission, group__user=user.pk).values(
        "content_object_id"
    )
    return own, groups


def _granted_arms(user: AnyUser) -> Q:
    own, groups = _granted_rows(user)
    return Q(_AnyOf("pk", own)) | Q(_AnyOf("pk", groups))


def _granted_ids(user: AnyUser) -> set[int]:
    """The ids of the cases granted to `user` as mediator, in one query."""
    own, groups = _granted_rows(user)
    ids = own.values_list("content_object_id", flat=True)
    return set(ids.union(groups.values_list("content_object_id", flat=True)))


def case_scope_q(user: AnyUser) -> Q:
    """A Q over Case keeping the cases `user` may see: filed in a grid under one of the user's case roles,
    assigned to the user or to a unit they are a member of, filed by the user, or granted to them as
    mediator. Matches nothing for an anonymous user or one with none of these.

    One query for the user's role assignments; everything else is a subquery of the caller's query. Every
    arm is a condition on a column of grids_case with an index (grid, assigned user, reporter, assigned
    unit, primary key), so PostgreSQL combines them as a BitmapOr (see _AnyOf)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    paths = access.outermost([path for _role, path in access.assignments(user, CASE_SCOPE_ROLES)])
    condition = Q(assigned_user_id=user.pk) | Q(reporter_id=user.pk)
    if paths:
        # The regions under the user's (path prefixes, as governance.access.scope_q on grid__path).
        under = Q()
        for path in paths:
            under |= Q(path__startswith=path)
        regions = Region.objects.filter(under).values("pk")
        condition = Q(_AnyOf("grid_id", regions)) | condition
    condition |= Q(_AnyOf("assigned_unit_id", _unit_ids_of(user)))
    condition |= _granted_arms(user)
    return condition


def cases_visible(user: AnyUser) -> QuerySet[Case]:
    """Every case `user` may see (case_scope_q), unordered beyond the model's default."""
    return Case.objects.filter(case_scope_q(user))


def case_get_visible(user: AnyUser, case: int | str | Case) -> Case:
    """The case with this primary key (an int or a Case) or number (a str) if `user` may see it, with its
    grid and handling region joined; NotFound (404) otherwise, the same answer as for a missing case."""
    if isinstance(case, Case):
        lookup: dict[str, object] = {"pk": case.pk}
    elif isinstance(case, int):
        lookup = {"pk": case}
    else:
        lookup = {"number": str(case)}
    found = cases_visible(user).select_related("grid", "handling_region").filter(**lookup).first()
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def _region_path(case: Case) -> str:
    region = case.handling_region if "handling_region" in case._state.fields_cache else None
    if region is None:
        region = Region.objects.only("path").get(pk=case.handling_region_id)
    return region.path


def _grid_path(case: Case) -> str:
    grid = case.grid if "grid" in case._state.fields_cache else None
    if grid is None:
        grid = Region.objects.only("path").get(pk=case.grid_id)
    return grid.path


def is_level_staff(user: AnyUser, case: Case) -> bool:
    """Whether `user` staffs the level whose queue holds the case: the role of that level (or of a level
    above it) held at the handling region or an ancestor of it."""
    if not user.is_authenticated:
        return False
    level_rank = LEVEL_ORDER.index(HandlingLevel(case.level))
    roles = frozenset(role for role, rank in ROLE_RANK.items() if rank >= level_rank)
    path = _region_path(case)
    return any(
        path.startswith(held) for role, held in access.assignments(user, frozenset(Role(r) for r in roles))
    )


def is_handler(user: AnyUser, case: Case) -> bool:
    """Whether `user` is the assigned person or a member of the assigned unit."""
    if not user.is_authenticated:
        return False
    if case.assigned_user_id is not None and case.assigned_user_id == user.pk:
        return True
    if case.assigned_unit_id is None:
        return False
    through: Any = HandlingUnit.members.through
    return bool(through.objects.filter(handlingunit_id=case.assigned_unit_id, user_id=user.pk).exists())


def is_mediator_of(user: AnyUser, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    return access.granted_ids(user, Case, MEDIATE_CODENAME).filter(pk=case.pk).exists()


def case_actor_roles(user: AnyUser, case: Case) -> set[Actor]:
    """The workflow actors `user` is for `case` (LEVEL, HANDLER, REPORTER; never SYSTEM)."""
    roles: set[Actor] = set()
    if not user.is_authenticated:
        return roles
    if is_level_staff(user, case):
        roles.add(Actor.LEVEL)
    if is_handler(user, case):
        roles.add(Actor.HANDLER)
    if case.reporter_id == user.pk:
        roles.add(Actor.REPORTER)
    return roles


def case_can(user: AnyUser, case: Case, transition_name: str) -> bool:
    """Whether `user` may take `transition_name` on `case` now: the table allows it from the case's status
    and the user is one of its actors. (The services check the rest: notes and parameters.)"""
    transition = TRANSITIONS.get(transition_name)
    if transition is None or case.status not in transition.sources:
        return False
    return bool(case_actor_roles(user, case) & transition.actors)


def case_identity_checker(user: AnyUser) -> Callable[[Case], bool]:
    """A predicate telling, case by case, whether `user` may see who the resident behind it is; it runs
    a fixed number of queries (three) up front, whatever the number of cases it is then asked about.

    The reporter and the handler always may. A confidential (保密) or anonymous case shows it to nobody
    else, on every page, API and export. A public case follows the personal-data rule of the region
    (governance.access.can_view_personal_data on the grid) and also shows it to the mediator granted the
    case, who must know the parties. Cases given to it need their grid joined (select_related("grid")).
    """
    if not user.is_authenticated:
        return lambda _case: False
    personal_paths = [path for _role, path in access.assignments(user, access.PERSONAL_DATA_ROLES)]
    unit_ids = set(_unit_ids_of(user).values_list("handlingunit_id", flat=True))
    granted = _granted_ids(user)

    def sees(case: Case) -> bool:
        if case.reporter_id == user.pk or (
            case.assigned_user_id is not None and case.assigned_user_id == user.pk
        ):
            return True
        if case.assigned_unit_id is not None and case.assigned_unit_id in unit_ids:
            return True
        if case.privacy != Privacy.PUBLIC:
            return False
        if case.pk in granted:
            return True
        grid_path = _grid_path(case)
        return any(grid_path.startswith(path) for path in personal_paths)

    return sees


def case_sees_identity(user: AnyUser, case: Case) -> bool:
    """Whether `user` may see who the resident behind `case` is (the rule of case_identity_checker)."""
    return case_identity_checker(user)(case)


def grid_leader_grids(user: AnyUser) -> QuerySet[Region]:
    """The grids `user` may file cases in: the grids under each region where they hold a filing role
    (grid leader: their grid; village secretary: their village's grids; and so on up)."""
    return Region.objects.filter(
        access.scope_q(user, "path", FILING_ROLES), level=RegionLevel.GRID, valid_to__isnull=True
    )
