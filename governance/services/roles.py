"""Users and role assignments: creating accounts, granting and revoking roles (audited)."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Region, RegionLevel, RoleAssignment, User
from governance.roles import Role
from governance.selectors.roles import ADMIN_ROLES, user_list_visible

AnyUser = AbstractBaseUser | AnonymousUser

# Where each role may be held: a role is about a level of the tree (a grid leader leads a grid).
ROLE_LEVELS: dict[Role, frozenset[RegionLevel]] = {
    Role.COUNTY_ADMIN: frozenset({RegionLevel.COUNTY}),
    Role.TOWNSHIP_ADMIN: frozenset({RegionLevel.TOWNSHIP}),
    Role.VILLAGE_SECRETARY: frozenset({RegionLevel.VILLAGE}),
    Role.GRID_LEADER: frozenset({RegionLevel.GRID}),
    Role.CANTEEN_MANAGER: frozenset({RegionLevel.TOWNSHIP, RegionLevel.VILLAGE}),
    Role.MEDIATOR: frozenset({RegionLevel.TOWNSHIP, RegionLevel.VILLAGE}),
    Role.VIEWER: frozenset(RegionLevel),
}
_USERNAME_RE = re.compile(r"^[\w.@+-]{3,150}$")


def _region_out_of_reach() -> DomainError:
    return DomainError("not_found", _("未找到该区域，或者它不在您的管辖范围内。"), status=404, field="region")


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
    """Give `user` the `role` over `region`'s subtree. Assigning an existing pair returns it unchanged.

    Unchecked and unaudited: for seeding only. People act through role_grant.
    """
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, region=region)
    return assignment


def _grant_check(*, actor: AnyUser, user: User, role: Role, region: Region) -> None:
    if not access.covers(actor, region.path, ADMIN_ROLES):
        raise _region_out_of_reach()
    if role not in access.grantable_roles(actor, region.path):
        raise DomainError(
            "role_not_grantable",
            _("您不能授予“%(role)s”角色：只能授予不高于您本人所持有的角色。") % {"role": role.label},
            status=403,
            field="role",
        )
    if RegionLevel(region.level) not in ROLE_LEVELS[role]:
        # Translators: separator between the names of region levels in a list.
        separator = _("、")
        levels = separator.join(str(level.label) for level in RegionLevel if level in ROLE_LEVELS[role])
        raise DomainError(
            "role_level_mismatch",
            _("“%(role)s”只能在%(levels)s一级授予。") % {"role": role.label, "levels": levels},
            field="region",
        )
    if actor.is_authenticated and user.pk == actor.pk:
        raise DomainError("role_grant_self", _("不能给自己授予角色。"), status=403, field="user")


def _grant_write(
    *, actor: AnyUser, user: User, role: Role, region: Region, request: HttpRequest | None
) -> RoleAssignment:
    if RoleAssignment.objects.filter(user=user, role=role, region=region).exists():
        raise Conflict(
            "role_already_held",
            _("%(user)s已在“%(region)s”担任“%(role)s”。")
            % {"user": user, "region": region.name, "role": role.label},
        )
    assignment = RoleAssignment.objects.create(
        user=user, role=role, region=region, granted_by_id=actor.pk if actor.is_authenticated else None
    )
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=assignment,
        region_path=region.path,
        changes={"user": [None, user.username], "role": [None, role.value], "region": [None, region.name]},
        detail=_("授予%(user)s“%(role)s”角色，范围：%(region)s")
        % {"user": user, "role": role.label, "region": region.name},
        request=request,
    )
    return assignment


@transaction.atomic
def role_grant(
    *,
    actor: AnyUser,
    user: User,
    role: Role,
    region: Region,
    request: HttpRequest | None = None,
) -> RoleAssignment:
    """Give `user` the `role` over `region`'s subtree on behalf of `actor`; return the new assignment.

    The actor must hold an administering role at `region` or above it, and may grant only roles its
    own roles there allow (access.grantable_roles: never more than it holds). The grant is audited.
    """
    if not user_list_visible(actor=actor).filter(pk=user.pk).exists():
        raise DomainError(
            "not_found", _("未找到该用户，或者其不在您的管辖范围内。"), status=404, field="user"
        )
    _grant_check(actor=actor, user=user, role=role, region=region)
    return _grant_write(actor=actor, user=user, role=role, region=region, request=request)


@transaction.atomic
def user_create_with_role(
    *,
    actor: AnyUser,
    username: str,
    password: str,
    full_name: str,
    role: Role,
    region: Region,
    request: HttpRequest | None = None,
) -> RoleAssignment:
    """Open an account and grant its first role in one step (so the new user is at once in the actor's
    scope); return the assignment. The same rules as role_grant apply; both writes are audited."""
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    if not _USERNAME_RE.match(username):
        raise DomainError(
            "username_format",
            _("用户名为3至150个字符，只能包含字母、数字和 @ . + - _。"),
            field="username",
        )
    if not full_name:
        raise DomainError("full_name_required", _("请填写姓名。"), field="full_name")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("username_taken", _("用户名“%s”已被使用。") % username, field="username")
    candidate = User(username=username, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise DomainError("password_weak", " ".join(error.messages), field="password") from None
    if not access.covers(actor, region.path, ADMIN_ROLES):
        raise _region_out_of_reach()
    user = user_create(username=username, password=password, full_name=full_name)
    _grant_check(actor=actor, user=user, role=role, region=region)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=user,
        region_path=region.path,
        changes={"username": [None, username], "full_name": [None, full_name]},
        request=request,
    )
    return _grant_write(actor=actor, user=user, role=role, region=region, request=request)


@transaction.atomic
def role_revoke(*, actor: AnyUser, assignment: RoleAssignment, request: HttpRequest | None = None) -> None:
    """Take a role assignment away. The actor must be able to grant that role at that region; nobody
    revokes their own role (a county admin could otherwise lock the county out). Audited."""
    locked = (
        RoleAssignment.objects.select_for_update()
        .select_related("user", "region")
        .filter(pk=assignment.pk)
        .first()
    )
    if locked is None or not access.covers(actor, locked.region.path, ADMIN_ROLES):
        raise DomainError("not_found", _("未找到该角色分配，或者它不在您的管辖范围内。"), status=404)
    role = Role(locked.role)
    if role not in access.grantable_roles(actor, locked.region.path):
        raise DomainError(
            "role_not_revocable",
            _("您不能撤销“%(role)s”角色：只能撤销您有权授予的角色。") % {"role": role.label},
            status=403,
        )
    if actor.is_authenticated and locked.user_id == actor.pk:
        raise DomainError("role_revoke_self", _("不能撤销您自己的角色。"), status=403)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=locked,
        region_path=locked.region.path,
        changes={
            "user": [locked.user.username, None],
            "role": [role.value, None],
            "region": [locked.region.name, None],
        },
        detail=_("撤销%(user)s的“%(role)s”角色，范围：%(region)s")
        % {"user": locked.user, "role": role.label, "region": locked.region.name},
        request=request,
    )
    locked.delete()
