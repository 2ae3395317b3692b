"""Reads of the spine. Every selector takes the acting user; scope is a path-prefix filter."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from governance import access
from governance.models import Region, RoleAssignment
from governance.roles import Role


def role_assignment_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> list[RoleAssignment]:
    """The user's role assignments, highest region first (county before township before village)."""
    if not user.is_authenticated:
        return []
    assignments = RoleAssignment.objects.filter(user_id=user.pk).select_related("region")
    return sorted(assignments, key=lambda a: (a.region.path.count("/"), a.role))


def region_list_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Region]:
    return access.scoped(Region.objects.all(), user)


def user_has_role(*, user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    return user.is_authenticated and RoleAssignment.objects.filter(user_id=user.pk, role=role).exists()
