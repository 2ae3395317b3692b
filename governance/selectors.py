"""Reads of the spine. Every selector takes the acting user; scope is a path-prefix filter."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from governance.models import Region, RoleAssignment
from governance.roles import Role


def role_assignment_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> list[RoleAssignment]:
    """The user's role assignments, highest region first (county before township before village)."""
    if not user.is_authenticated:
        return []
    assignments = RoleAssignment.objects.filter(user_id=user.pk).select_related("region")
    return sorted(assignments, key=lambda a: (a.region.path.count("/"), a.role))


def region_scope_q(*, user: AbstractBaseUser | AnonymousUser, path_field: str = "path") -> Q:
    """A Q that keeps rows whose region path lies under one of the user's assigned regions.

    Deny by default: a user with no assignment gets a Q that matches nothing.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    paths = list(RoleAssignment.objects.filter(user_id=user.pk).values_list("region__path", flat=True))
    if not paths:
        return Q(pk__in=[])
    scope = Q()
    for path in _outermost(paths):
        scope |= Q(**{f"{path_field}__startswith": path})
    return scope


def region_list_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Region]:
    return Region.objects.filter(region_scope_q(user=user))


def user_has_role(*, user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    return user.is_authenticated and RoleAssignment.objects.filter(user_id=user.pk, role=role).exists()


def _outermost(paths: list[str]) -> list[str]:
    """Drop paths that lie under another path in the list: their subtree is already covered."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept
