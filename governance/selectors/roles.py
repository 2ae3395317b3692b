"""Reads for role management: users and role assignments within the acting administrator's reach.

Only administering roles (county and township admins) reach these lists; anyone else sees nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from governance import access
from governance.models import Region, RegionLevel, RoleAssignment, User
from governance.roles import Role
from governance.selectors.regions import pinyin_order

AnyUser = AbstractBaseUser | AnonymousUser

# The roles that administer people: they see and manage the assignments in their subtree.
ADMIN_ROLES: frozenset[Role] = frozenset(access.GRANTABLE)

USER_SORTS = {
    "name": lambda: (pinyin_order("full_name"), "username"),
    "-name": lambda: (pinyin_order("full_name", descending=True), "-username"),
    "username": lambda: ("username",),
    "-username": lambda: ("-username",),
    "joined": lambda: ("date_joined", "id"),
    "-joined": lambda: ("-date_joined", "-id"),
}


def is_role_admin(*, actor: AnyUser) -> bool:
    """Whether the actor administers roles anywhere (a county or township admin)."""
    return bool(access.assignments(actor, ADMIN_ROLES))


def role_assignment_list(
    *,
    actor: AnyUser,
    role: str | None = None,
    user_id: int | None = None,
    region_id: int | None = None,
) -> QuerySet[RoleAssignment]:
    """Assignments held at regions inside the actor's administering scope, by region then user."""
    rows = RoleAssignment.objects.filter(access.scope_q(actor, "region__path", ADMIN_ROLES))
    if role:
        rows = rows.filter(role=role)
    if user_id:
        rows = rows.filter(user_id=user_id)
    if region_id:
        rows = rows.filter(region_id=region_id)
    return rows.select_related("user", "region", "granted_by").order_by(
        "region__path", "user__username", "role"
    )


def role_assignment_get(*, actor: AnyUser, assignment_id: int) -> RoleAssignment:
    """One assignment inside the actor's administering scope; NotFound (404) otherwise."""
    return access.get_in_scope(
        RoleAssignment.objects.select_related("user", "region", "granted_by").filter(
            access.scope_q(actor, "region__path", ADMIN_ROLES)
        ),
        actor,
        "region__path",
        pk=assignment_id,
    )


def user_list_visible(*, actor: AnyUser) -> QuerySet[User]:
    """Users the actor administers: those holding a role inside its administering scope; a county admin
    also sees accounts that hold no role at all (so they can be given one)."""
    in_scope = RoleAssignment.objects.filter(
        access.scope_q(actor, "region__path", ADMIN_ROLES), user_id=OuterRef("pk")
    )
    condition = Q(Exists(in_scope))
    if access.is_county_admin(actor):
        condition |= ~Q(Exists(RoleAssignment.objects.filter(user_id=OuterRef("pk"))))
    return User.objects.filter(condition)


def user_list_with_roles(
    *, actor: AnyUser, q: str = "", role: str = "", sort: str = "name"
) -> QuerySet[User]:
    """Visible users, each with `.scoped_assignments`: only the assignments inside the actor's scope."""
    users = user_list_visible(actor=actor)
    q = q.strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if role:
        users = users.filter(
            Exists(
                RoleAssignment.objects.filter(
                    access.scope_q(actor, "region__path", ADMIN_ROLES), user_id=OuterRef("pk"), role=role
                )
            )
        )
    assignments = role_assignment_list(actor=actor)
    return users.order_by(*USER_SORTS.get(sort, USER_SORTS["name"])()).prefetch_related(
        Prefetch("role_assignments", queryset=assignments, to_attr="scoped_assignments")
    )


def user_get_visible(*, actor: AnyUser, user_id: int) -> User:
    """One user the actor administers; NotFound (404) otherwise."""
    found = user_list_visible(actor=actor).filter(pk=user_id).first()
    if found is None:
        raise NotFound(_("未找到该用户，或者其不在您的管辖范围内。"))
    return found


def grant_region_choices(*, actor: AnyUser, include: Region | None = None) -> list[Region]:
    """Regions where the actor may grant, down to villages (grids are reached from the region browser),
    plus `include` when it is inside the actor's reach. Ordered by path: a tree in reading order."""
    regions = Region.objects.filter(access.scope_q(actor, "path", ADMIN_ROLES)).exclude(
        level=RegionLevel.GRID
    )
    if include is not None and access.covers(actor, include.path, ADMIN_ROLES):
        regions = regions | Region.objects.filter(pk=include.pk)
    return list(regions.order_by("path"))
