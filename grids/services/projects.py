"""Writes of projects that come from residents' feedback (e.g. 花圃村's front-yard gardens): a case becomes
a village project, the project gets milestones, completing one moves the progress.

Every function is keyword-only, runs in one transaction, validates before it writes, raises DomainError
with a Chinese message (and the form field it belongs to) for every expected failure, and writes its audit
entry in the same transaction. The project row is locked (select_for_update) while its progress is
recomputed, so two milestones completed at the same moment both count.

Progress rule: progress_percent = the done milestones' share of the total milestone weight, rounded down
(so 100 means every milestone is done); status follows it: 筹备中 with nothing done, 实施中 once something
is done, 已完成 when all is done. 已暂停 is set by hand and stops milestones from being completed.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, AuditEvent, Region, RegionLevel
from governance.roles import Role
from grids.models import Case, FeedbackProject, ProjectMilestone, ProjectStatus

Actor = AbstractBaseUser | AnonymousUser

# Who may create and run a village's projects: the village Party secretary and the levels above.
PROJECT_MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.VILLAGE_SECRETARY})
MAX_MILESTONES = 50
# Cases that are not real problems of the village do not become projects.
NOT_PROJECT_STATES = frozenset({"duplicate", "withdrawn", "not_responsible"})


def _actor_id(actor: Actor) -> int:
    """The signed-in actor's id (the gates have already refused anyone else)."""
    assert actor.pk is not None
    return int(actor.pk)


def project_can_manage(*, user: Actor, village: Region) -> bool:
    """Whether `user` may create projects in `village` and change them."""
    return access.covers(user, village.path, PROJECT_MANAGER_ROLES)


def _require_manager(actor: Actor, project: FeedbackProject) -> None:
    if not access.covers(actor, project.village.path):
        raise NotFound(_("未找到该项目，或者它不在您的管辖范围内。"))
    if not project_can_manage(user=actor, village=project.village):
        raise DomainError(
            "project_forbidden", _("只有村党组织书记及乡镇、县管理员可以管理民情项目。"), status=403
        )


def _key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise DomainError("idempotency_key_missing", _("缺少防重复提交标识，请刷新页面后重新提交。"))
    if len(key) > 64:
        raise DomainError("idempotency_key_too_long", _("防重复提交标识过长。"))
    return key


def _text(value: str, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if len(value) > max_length:
        raise DomainError(
            f"{field}_too_long",
            _("%(label)s不能超过%(n)d个字。") % {"label": label, "n": max_length},
            field=field,
        )
    return value


@transaction.atomic
def project_create_from_case(
    *,
    actor: Actor,
    case: Case,
    title: str,
    description: str = "",
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> FeedbackProject:
    """Turn `case` into a project of the case's village and return it (status 筹备中, progress 0).

    The actor must be the village secretary (or township/county admin) over the case's village; the
    case must not be a duplicate, withdrawn or not-our-responsibility case. A replay with the same key and
    the same case and title returns the first project; the same key with another body is a Conflict.
    """
    key = _key(idempotency_key)
    title = _text(title, field="title", label=_("项目名称"), max_length=100)
    description = _text(
        description, field="description", label=_("项目内容"), max_length=4000, required=False
    )
    case = Case.objects.select_related("grid__parent").get(pk=case.pk)
    village = case.grid.parent
    if village is None or village.level != RegionLevel.VILLAGE:
        raise DomainError("project_no_village", _("该诉求所在网格不属于任何村（社区）。"), field="case")
    if not access.covers(actor, case.grid.path):
        raise NotFound(_("未找到该诉求，或者它不在您的管辖范围内。"))
    if not project_can_manage(user=actor, village=village):
        raise DomainError(
            "project_forbidden", _("只有村党组织书记及乡镇、县管理员可以管理民情项目。"), status=403
        )
    existing = FeedbackProject.objects.filter(created_by_id=actor.pk, idempotency_key=key).first()
    if existing is not None:
        if existing.title == title and existing.source_cases.filter(pk=case.pk).exists():
            return existing
        raise Conflict(
            "idempotency_key_reused",
            _("该防重复提交标识已用于另一个项目，请刷新页面后重新提交。"),
        )
    if case.status in NOT_PROJECT_STATES:
        raise DomainError(
            "project_case_closed",
            _("%(status)s的诉求不能转为项目。") % {"status": case.get_status_display()},
            field="case",
        )
    project = FeedbackProject.objects.create(
        village=village,
        title=title,
        description=description,
        created_by_id=_actor_id(actor),
        idempotency_key=key,
    )
    project.source_cases.add(case)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=project,
        region_path=village.path,
        changes={"title": [None, title], "case": [None, case.number], "idempotency_key": [None, key]},
        detail=_("由诉求 %(number)s 立项“%(title)s”") % {"number": case.number, "title": title},
        request=request,
    )
    return project


def _replayed(actor: Actor, key: str, object_type: str) -> AuditEvent | None:
    """The audit entry of the create `actor` already made with `key` (the milestone has no key column):
    a transaction-scoped advisory lock on (actor, key) makes a concurrent twin wait for the first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"xiangzhi.projects:{actor.pk}:{key}"],
            )
    return (
        AuditEvent.objects.filter(
            actor_id=actor.pk,
            action=AuditAction.CREATE,
            object_type=object_type,
            changes__idempotency_key=[None, key],
        )
        .order_by("pk")
        .first()
    )


def _progress_apply(project: FeedbackProject) -> tuple[int, str]:
    """Recompute and store progress and status from the milestones (the project row is locked)."""
    totals = project.milestones.aggregate(
        total=Sum("weight"), done=Sum("weight", filter=Q(done_on__isnull=False))
    )
    total = totals["total"] or 0
    done = totals["done"] or 0
    percent = (done * 100) // total if total else 0
    if project.status != ProjectStatus.SUSPENDED:
        if total and done == total:
            status = ProjectStatus.DONE
        elif done:
            status = ProjectStatus.ACTIVE
        else:
            status = ProjectStatus.PLANNED
    else:
        status = ProjectStatus.SUSPENDED
    FeedbackProject.objects.filter(pk=project.pk).update(
        progress_percent=percent, status=status, updated_at=timezone.now()
    )
    project.progress_percent = percent
    project.status = status
    return percent, status


@transaction.atomic
def project_milestone_add(
    *,
    actor: Actor,
    project: FeedbackProject,
    title: str,
    due_on: dt.date | None,
    weight: int = 1,
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> ProjectMilestone:
    """Add a milestone to `project` and return it; the progress is recomputed (a new milestone lowers the
    done share, and a finished project becomes 实施中 again). A replay with the same key returns the first
    milestone."""
    key = _key(idempotency_key)
    project = FeedbackProject.objects.select_for_update().select_related("village").get(pk=project.pk)
    _require_manager(actor, project)
    replay = _replayed(actor, key, ProjectMilestone._meta.label_lower)
    if replay is not None:
        return ProjectMilestone.objects.get(pk=int(replay.object_id))
    title = _text(title, field="title", label=_("节点名称"), max_length=100)
    if due_on is None:
        raise DomainError("due_on_required", _("请填写计划完成日期。"), field="due_on")
    if not isinstance(weight, int) or weight < 1 or weight > 100:
        raise DomainError("weight_range", _("权重应为1到100之间的整数。"), field="weight")
    if project.milestones.count() >= MAX_MILESTONES:
        raise DomainError(
            "milestones_too_many",
            _("一个项目最多设%(n)d个节点。") % {"n": MAX_MILESTONES},
            field="title",
        )
    milestone = ProjectMilestone.objects.create(project=project, title=title, due_on=due_on, weight=weight)
    before = project.progress_percent
    percent, _status = _progress_apply(project)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=milestone,
        region_path=project.village.path,
        changes={
            "title": [None, title],
            "due_on": [None, due_on.isoformat()],
            "weight": [None, weight],
            "progress_percent": [before, percent],
            "idempotency_key": [None, key],
        },
        detail=_("项目“%(project)s”新增节点“%(title)s”") % {"project": project.title, "title": title},
        request=request,
    )
    return milestone


@transaction.atomic
def project_milestone_complete(
    *,
    actor: Actor,
    milestone: ProjectMilestone,
    done_on: dt.date | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> FeedbackProject:
    """Mark `milestone` done (on `done_on`, default today) and return its project with the progress and
    status recomputed. Completing a done milestone again changes nothing (a double submit is harmless).
    A suspended project must be resumed first; a date in the future is refused."""
    project = (
        FeedbackProject.objects.select_for_update().select_related("village").get(pk=milestone.project_id)
    )
    _require_manager(actor, project)
    milestone = ProjectMilestone.objects.select_for_update().get(pk=milestone.pk)
    if milestone.done_on is not None:
        return project
    if project.status == ProjectStatus.SUSPENDED:
        raise DomainError("project_suspended", _("项目已暂停，请先恢复实施再完成节点。"), field="done_on")
    today = timezone.localdate()
    done_on = done_on or today
    if done_on > today:
        raise DomainError("done_on_future", _("完成日期不能晚于今天。"), field="done_on")
    note = _text(note, field="note", label=_("说明"), max_length=300, required=False)
    ProjectMilestone.objects.filter(pk=milestone.pk).update(done_on=done_on, note=note)
    before = (project.progress_percent, project.status)
    if project.started_on is None:
        FeedbackProject.objects.filter(pk=project.pk).update(started_on=done_on)
        project.started_on = done_on
    percent, status = _progress_apply(project)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=milestone,
        region_path=project.village.path,
        changes={
            "done_on": [None, done_on.isoformat()],
            "progress_percent": [before[0], percent],
            "status": [before[1], status],
        },
        detail=_("项目“%(project)s”完成节点“%(title)s”，进度%(percent)d%%")
        % {"project": project.title, "title": milestone.title, "percent": percent},
        request=request,
    )
    return project


@transaction.atomic
def project_suspend(
    *, actor: Actor, project: FeedbackProject, reason: str, request: HttpRequest | None = None
) -> FeedbackProject:
    """Pause a project that is not finished (reason required) and return it."""
    project = FeedbackProject.objects.select_for_update().select_related("village").get(pk=project.pk)
    _require_manager(actor, project)
    reason = _text(reason, field="reason", label=_("暂停原因"), max_length=200)
    if project.status in (ProjectStatus.DONE, ProjectStatus.SUSPENDED):
        raise DomainError(
            "project_not_suspendable",
            _("%(status)s的项目不能暂停。") % {"status": project.get_status_display()},
            field="reason",
        )
    before = project.status
    FeedbackProject.objects.filter(pk=project.pk).update(
        status=ProjectStatus.SUSPENDED, updated_at=timezone.now()
    )
    project.status = ProjectStatus.SUSPENDED
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=project,
        region_path=project.village.path,
        changes={"status": [before, ProjectStatus.SUSPENDED]},
        detail=_("暂停项目：%(reason)s") % {"reason": reason},
        request=request,
    )
    return project


@transaction.atomic
def project_resume(
    *, actor: Actor, project: FeedbackProject, request: HttpRequest | None = None
) -> FeedbackProject:
    """Resume a suspended project: its status follows its milestones again. Returns the project."""
    project = FeedbackProject.objects.select_for_update().select_related("village").get(pk=project.pk)
    _require_manager(actor, project)
    if project.status != ProjectStatus.SUSPENDED:
        raise DomainError("project_not_suspended", _("项目未暂停，无需恢复。"))
    project.status = ProjectStatus.PLANNED  # _progress_apply derives the real one
    _percent, status = _progress_apply(project)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=project,
        region_path=project.village.path,
        changes={"status": [ProjectStatus.SUSPENDED, status]},
        detail=_("恢复实施项目“%(title)s”") % {"title": project.title},
        request=request,
    )
    return project
