"""Users and role assignments."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import DomainError
from governance.models import Region, RoleAssignment, User
from governance.roles import Role


@transaction.atomic
def user_create(*, username: str, password: str, full_name: str = "") -> User:
    if User.objects.filter(username=username).exists():
        raise DomainError("username_taken", _("用户名“%s”已被使用。") % username, field="username")
    user = User(username=username, full_name=full_name)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def role_assign(*, user: User, role: Role, region: Region) -> RoleAssignment:
    """Give `user` the `role` over `region`'s subtree. Assigning an existing pair returns it unchanged."""
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, region=region)
    return assignment
