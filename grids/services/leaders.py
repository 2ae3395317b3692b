"""Electing grid leaders (百户网格长): a new term ends the current one; past terms stay as history.

Keyword-only, one transaction, validation first, audited in the same transaction (design.md §2).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance import access
from governance.audit import audit_record
from governance.models import (
    AuditAction,
    AuditEvent,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    RoleAssignment,
)
from governance.roles import Role
from grids.models import GridLeader

AnyUser = AbstractBaseUser | AnonymousUser

# Who records an election: village staff and above (the grid leader does not elect their successor).
ELECTOR_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN})
# A grid leader's term under the county's rules is three years; longer is a typing mistake.
TERM_MAX_YEARS = 5
KEY_MAX = 64


def _add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _date(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def grid_leader_can_elect(*, user: AnyUser, grid: Region) -> bool:
    """Whether `user` may record a new election in `grid` (village staff or above over it)."""
    return grid.level == RegionLevel.GRID and access.covers(user, grid.path, ELECTOR_ROLES)


def _elector_check(actor: AnyUser, grid: Region) -> None:
    if not actor.is_authenticated or not access.covers(actor, grid.path):
        raise NotFound(_("未找到该网格，或者它不在您的管辖范围内。"))
    if grid.level != RegionLevel.GRID:
        raise DomainError(
            "grid_leader_not_a_grid",
            _("网格长只能在网格中选举：“%(name)s”不是网格。") % {"name": grid.name},
            field="grid",
        )
    if not access.covers(actor, grid.path, ELECTOR_ROLES):
        raise DomainError(
            "grid_leader_elect_forbidden",
            _("只有村（社区）及以上工作人员可以登记网格长换届。"),
            status=403,
        )


def _resident_check(resident: Resident, grid: Region) -> None:
    if resident.household.grid_id != grid.pk:
        raise DomainError(
            "grid_leader_resident_not_in_grid",
            _("网格长须是本网格（%(grid)s）的居民。") % {"grid": grid.name},
            field="resident",
        )
    if (
        resident.status not in (ResidentStatus.RESIDENT, ResidentStatus.AWAY)
        or not resident.household.is_active
    ):
        raise DomainError(
            "grid_leader_resident_inactive",
            _("%(name)s已不在本网格居住（%(status)s），不能当选网格长。")
            % {"name": resident.name, "status": resident.get_status_display()},
            field="resident",
        )


def _dates_check(elected_on: dt.date | None, term_end: dt.date | None) -> tuple[dt.date, dt.date]:
    if elected_on is None:
        raise DomainError("elected_on_required", _("请填写当选日期。"), field="elected_on")
    if term_end is None:
        raise DomainError("term_end_required", _("请填写任期届满日期。"), field="term_end")
    today = timezone.localdate()
    if elected_on > today:
        raise DomainError(
            "elected_on_future",
            _("当选日期不能晚于今天（%(today)s）。") % {"today": _date(today)},
            field="elected_on",
        )
    if term_end <= elected_on:
        raise DomainError("term_end_before_elected", _("任期届满日期须晚于当选日期。"), field="term_end")
    if term_end > _add_years(elected_on, TERM_MAX_YEARS):
        raise DomainError(
            "term_too_long",
            _("任期不能超过%(years)d年，请核对任期届满日期。") % {"years": TERM_MAX_YEARS},
            field="term_end",
        )
    return elected_on, term_end


def _user_check(user: AbstractBaseUser | None, grid: Region) -> None:
    """The log-in linked to the term must already hold the grid-leader role at this grid: granting roles
    belongs to the administrators (governance.services.roles), not to the election."""
    if user is None:
        return
    if not RoleAssignment.objects.filter(user_id=user.pk, role=Role.GRID_LEADER, region=grid).exists():
        raise DomainError(
            "grid_leader_user_without_role",
            _("该账号尚未被授予本网格的“百户网格长”角色，请先由乡镇或县管理员授权，或不关联账号。"),
            field="user",
        )


def _replayed(actor: AnyUser, key: str) -> GridLeader | None:
    if not key:
        return None
    entry = (
        AuditEvent.objects.filter(
            actor_id=actor.pk,
            action=AuditAction.CREATE,
            object_type=GridLeader._meta.label_lower,
            changes__idempotency_key=[None, key],
        )
        .order_by("pk")
        .first()
    )
    return GridLeader.objects.filter(pk=int(entry.object_id)).first() if entry is not None else None


@transaction.atomic
def grid_leader_elect(
    *,
    actor: AnyUser,
    grid: Region,
    resident: Resident,
    elected_on: dt.date | None,
    term_end: dt.date | None,
    user: AbstractBaseUser | None = None,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> GridLeader:
    """Record that `resident` was elected leader of `grid` on `elected_on` for a term ending `term_end`,
    and return the new term.

    The current term (if any) ends the day before `elected_on`, which must be later than the current
    term's election. The resident lives in the grid (in residence or working away); `user`, when given,
    is the log-in that already holds the grid-leader role there. Village staff and above only (out of
    scope: 404; in scope without the role: 403). Elections in one grid are serialised by a lock on the
    grid row; a replay with the same `idempotency_key` returns the term the first request created.
    """
    _elector_check(actor, grid)
    key = (idempotency_key or "").strip()
    if len(key) > KEY_MAX:
        raise DomainError("idempotency_key_too_long", _("防重复提交标识过长。"))
    # One election at a time per grid: the partial UNIQUE (one current term) would otherwise make the
    # loser of a race fail with an IntegrityError instead of a message.
    Region.objects.select_for_update().filter(pk=grid.pk).values_list("pk", flat=True).first()
    replay = _replayed(actor, key)
    if replay is not None:
        return replay
    resident = Resident.objects.select_related("household").get(pk=resident.pk)
    _resident_check(resident, grid)
    elected_on, term_end = _dates_check(elected_on, term_end)
    _user_check(user, grid)

    current = GridLeader.objects.filter(grid=grid, ended_on__isnull=True).select_related("resident").first()
    if current is not None:
        if elected_on <= current.elected_on:
            raise DomainError(
                "elected_on_not_after_current",
                _("新一届当选日期须晚于现任网格长%(name)s的当选日期（%(date)s）。")
                % {"name": current.resident.name, "date": _date(current.elected_on)},
                field="elected_on",
            )
        ended_on = elected_on - dt.timedelta(days=1)
        GridLeader.objects.filter(pk=current.pk).update(ended_on=ended_on)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=current,
            region_path=grid.path,
            changes={"ended_on": [None, ended_on.isoformat()]},
            detail=_("%(grid)s网格长%(name)s任期结束") % {"grid": grid.name, "name": current.resident.name},
            request=request,
        )
    term = GridLeader.objects.create(
        grid=grid,
        resident=resident,
        user_id=user.pk if user is not None else None,
        elected_on=elected_on,
        term_end=term_end,
    )
    changes: dict[str, list[object]] = {
        "resident": [None, resident.name],
        "elected_on": [None, elected_on.isoformat()],
        "term_end": [None, term_end.isoformat()],
        "user": [None, user.get_username() if user is not None else None],
    }
    if key:
        changes["idempotency_key"] = [None, key]
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=term,
        region_path=grid.path,
        changes=changes,
        detail=_("%(grid)s选举%(name)s为百户网格长") % {"grid": grid.name, "name": resident.name},
        request=request,
    )
    return term
