"""The gates: who may see or act on which part of the county. One place, tested exhaustively.

A role held at a region reaches that region's whole subtree (design.md §3). Scope is always a
path-prefix filter in the database, never a Python loop over objects; deny by default; objects out of
scope answer 404 so that their existence does not leak.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from common.db import execute_prepared
from common.errors import NotFound
from governance.models import Region, RoleAssignment
from governance.roles import Role

AnyUser = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=Model)

# Roles that see residents' ID numbers, phones and addresses unmasked, within their scope.
PERSONAL_DATA_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY, Role.GRID_LEADER}
)
# Who may change the region tree (add regions, change statistical codes, move grids), in their subtree.
REGION_EDITOR_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})
# Who may grant roles, and the roles each may grant (never more than it holds).
GRANTABLE = {
    Role.COUNTY_ADMIN: frozenset(Role),
    Role.TOWNSHIP_ADMIN: frozenset(
        {
            Role.TOWNSHIP_ADMIN,
            Role.VILLAGE_SECRETARY,
            Role.GRID_LEADER,
            Role.CANTEEN_MANAGER,
            Role.MEDIATOR,
            Role.VIEWER,
        }
    ),
}


def assignments(user: AnyUser, roles: frozenset[Role] | None = None) -> list[tuple[str, str]]:
    """(role, region path) pairs the user holds, optionally only for `roles`."""
    if not user.is_authenticated:
        return []
    if roles is not None and not roles:
        return []
    # A plain statement: every gate of every request asks this, and the ORM's query building cost more
    # than the indexed lookup itself.
    sql = (
        f"SELECT a.role, r.path FROM {RoleAssignment._meta.db_table} a "  # noqa: S608
        f"JOIN {Region._meta.db_table} r ON r.id = a.region_id WHERE a.user_id = %s"
    )
    params: list[Any] = [user.pk]
    if roles is not None:
        ordered = sorted(str(role) for role in roles)
        sql += f" AND a.role IN ({', '.join(['%s'] * len(ordered))})"
        params += ordered
    with connection.cursor() as cursor:
        # Prepared (one per number of roles asked), planned once per connection.
        execute_prepared(cursor, "governance_assignments", sql, params)
        return [(str(role), str(path)) for role, path in cursor.fetchall()]


def outermost(paths: list[str]) -> list[str]:
    """Drop paths that lie under another path in the list: their subtree is already covered."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def scope_q(user: AnyUser, path_field: str = "path", roles: frozenset[Role] | None = None) -> Q:
    """A Q keeping rows whose region path (at `path_field`) lies under one of the user's regions.

    `path_field` is a lookup path to a materialized region path, e.g. "grid__path" for a household.
    A user with no (matching) assignment gets a Q that matches nothing.
    """
    paths = outermost([path for _role, path in assignments(user, roles)])
    if not paths:
        return Q(pk__in=[])
    scope = Q()
    for path in paths:
        scope |= Q(**{f"{path_field}__startswith": path})
    return scope


def granted_ids(user: AnyUser, model: type[Model], codename: str) -> QuerySet[Model, dict[str, Any]]:
    """Primary keys of the `model` objects granted to the user (or their groups) with `codename`
    through django-guardian's direct foreign-key rows: the sparse exceptions to region scope.

    Only object-level rows count: global permissions and superuser status never widen a scope.
    """
    from guardian.shortcuts import get_objects_for_user

    if not user.is_authenticated:
        return model._default_manager.none().values("pk")
    return get_objects_for_user(
        user,
        f"{model._meta.app_label}.{codename}",
        klass=model,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")


def scoped(
    queryset: QuerySet[M],
    user: AnyUser,
    path_field: str = "path",
    grant: tuple[type[Model], str, str] | None = None,
    scope: Q | None = None,
) -> QuerySet[M]:
    """The rows of `queryset` in the user's scope.

    `grant` = (model, codename, lookup) also admits rows whose `lookup` (e.g. "pk", "organisation")
    is among the `model` objects granted to the user with `codename` (see granted_ids).
    `scope`, when given, is the region condition to use instead of scope_q(user, path_field): a
    selector that widens it (a joint Party committee is also where its villages are) builds it there.
    """
    condition = scope if scope is not None else scope_q(user, path_field)
    if grant is not None:
        model, codename, lookup = grant
        condition |= Q(**{f"{lookup}__in": granted_ids(user, model, codename)})
    return queryset.filter(condition)


def get_in_scope(
    queryset: QuerySet[M],
    user: AnyUser,
    path_field: str = "path",
    grant: tuple[type[Model], str, str] | None = None,
    scope: Q | None = None,
    **lookup: object,
) -> M:
    """The one object matching `lookup` inside the user's scope (or grants); NotFound (404) otherwise.

    `scope` replaces the region condition as in scoped()."""
    found = scoped(queryset, user, path_field, grant, scope).filter(**lookup).first()
    if found is None:
        raise NotFound(_("未找到该记录，或者它不在您的管辖范围内。"))
    return found


def covers(user: AnyUser, region_path: str, roles: frozenset[Role] | None = None) -> bool:
    """Whether the user holds (one of) `roles` at `region_path` or an ancestor of it."""
    return any(region_path.startswith(path) for _role, path in assignments(user, roles))


def can_edit_regions(user: AnyUser, region_path: str) -> bool:
    """Whether `user` may change the region tree at `region_path`: add regions under it, change its
    statistical code, move it (a grid). The services' gate, and what the pages offer."""
    return covers(user, region_path, REGION_EDITOR_ROLES)


def can_view_personal_data(user: AnyUser, region_path: str) -> bool:
    return covers(user, region_path, PERSONAL_DATA_ROLES)


def grantable_roles(user: AnyUser, region_path: str) -> frozenset[Role]:
    """The roles `user` may grant at the region with `region_path`: what its own roles there allow."""
    allowed: set[Role] = set()
    for role, path in assignments(user, frozenset(GRANTABLE)):
        if region_path.startswith(path):
            allowed |= GRANTABLE[Role(role)]
    return frozenset(allowed)


def is_county_admin(user: AnyUser) -> bool:
    return bool(assignments(user, frozenset({Role.COUNTY_ADMIN})))
