"""Writes of the grid work log: a grid leader's work that is not a case (outreach sessions, household
visits, mediation sessions, Party-branch meetings whose minutes link the cases they discussed).

Every function is keyword-only, runs in one transaction, validates (photos included) before it writes,
raises DomainError with a Chinese message and the form field it belongs to, and writes its audit entry
in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.images import CleanImage, image_clean
from governance import access
from governance.audit import audit_record
from governance.models import AuditAction, Household, Region, RegionLevel
from governance.roles import Role
from grids.models import Case, WorkKind, WorkLogEntry, WorkLogPhoto

AnyUser = AbstractBaseUser | AnonymousUser

# Who may write a grid's work log: its grid leader, and the village, township and county staff above it
# (a role held at a region reaches its subtree, so "the grid leader of that grid" is a grid_leader
# assignment at that grid or, never in practice, above it).
WORK_LOG_WRITER_ROLES = frozenset(
    {Role.GRID_LEADER, Role.VILLAGE_SECRETARY, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}
)
# Kinds whose record says how many people took part.
ATTENDEES_REQUIRED = frozenset({WorkKind.OUTREACH, WorkKind.MEETING})
TOPIC_MAX = 100
SUMMARY_MAX = 4000
ATTENDEES_MAX = 10_000
# A phone's worth of photos of one session; each is cleaned and shrunk (common/images.py).
MAX_PHOTOS = 9
# The cases one meeting's minutes can name.
MAX_CASES = 30
KEY_MAX = 64


def _not_found() -> NotFound:
    return NotFound(_("未找到该网格，或者它不在您的管辖范围内。"), field="grid")


def work_log_can_write(*, user: AnyUser, grid: Region) -> bool:
    """Whether `user` may record work in `grid`'s log: its grid leader or village staff and above."""
    return grid.level == RegionLevel.GRID and access.covers(user, grid.path, WORK_LOG_WRITER_ROLES)


def _writer_check(actor: AnyUser, grid: Region) -> None:
    """Out of scope answers 404 like a missing grid; in scope without a writing role answers 403."""
    if not actor.is_authenticated or not access.covers(actor, grid.path):
        raise _not_found()
    if grid.level != RegionLevel.GRID:
        raise DomainError(
            "work_log_not_a_grid",
            _("工作记录只能记在网格下：“%(name)s”不是网格。") % {"name": grid.name},
            field="grid",
        )
    if not access.covers(actor, grid.path, WORK_LOG_WRITER_ROLES):
        raise DomainError(
            "work_log_forbidden",
            _("只有本网格的百户网格长或村（社区）及以上工作人员可以记录网格工作。"),
            status=403,
            field="grid",
        )


def _key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key:
        raise DomainError("idempotency_key_missing", _("缺少防重复提交标识，请刷新页面后重新提交。"))
    if len(key) > KEY_MAX:
        raise DomainError("idempotency_key_too_long", _("防重复提交标识过长。"))
    return key


def _text(value: str | None, *, field: str, label: str, max_length: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"{field}_required", _("请填写%(label)s。") % {"label": label}, field=field)
    if len(value) > max_length:
        raise DomainError(
            f"{field}_too_long",
            _("%(label)s不能超过%(max)d个字。") % {"label": label, "max": max_length},
            field=field,
        )
    return value


def _occurred_on(value: dt.date | None) -> dt.date:
    if value is None:
        raise DomainError("occurred_on_required", _("请填写日期。"), field="occurred_on")
    today = timezone.localdate()
    if value > today:
        raise DomainError(
            "occurred_on_future",
            _("日期不能晚于今天（%(today)s）：只能记录已经开展的工作。")
            % {"today": f"{today.year}年{today.month}月{today.day}日"},
            field="occurred_on",
        )
    return value


def _attendees(kind: str, value: int | None) -> int | None:
    if value is None:
        if kind in ATTENDEES_REQUIRED:
            raise DomainError(
                "attendees_count_required",
                _("%(kind)s请填写参加人数。") % {"kind": WorkKind(kind).label},
                field="attendees_count",
            )
        return None
    if value < 1 or value > ATTENDEES_MAX:
        raise DomainError(
            "attendees_count_range",
            _("参加人数应在1到%(max)d之间。") % {"max": ATTENDEES_MAX},
            field="attendees_count",
        )
    return value


def _household_not_in_grid(grid: Region) -> DomainError:
    return DomainError(
        "household_not_in_grid",
        _("走访户须是本网格（%(grid)s）的户。") % {"grid": grid.name},
        field="household",
    )


def _household(kind: str, household: Household | int | None, grid: Region) -> Household | None:
    if household is None:
        if kind == WorkKind.VISIT:
            raise DomainError("household_required", _("入户走访请选择走访的户。"), field="household")
        return None
    if not isinstance(household, Household):
        # An id from the API: a household elsewhere and one that does not exist get the same answer.
        found = Household.objects.filter(pk=household, grid=grid).first()
        if found is None:
            raise _household_not_in_grid(grid)
        household = found
    if household.grid_id != grid.pk:
        raise _household_not_in_grid(grid)
    if not household.is_active:
        raise DomainError("household_inactive", _("该户已注销，不能记录走访。"), field="household")
    return household


def _cases(actor: AnyUser, grid: Region, cases: Iterable[Case | int]) -> list[Case]:
    """The linked cases: each must be a case of the grid's village that the actor can see. A case that
    is missing and one the actor cannot see get the same answer, so existence does not leak."""
    from grids.access import cases_visible

    ids = sorted({c.pk if isinstance(c, Case) else int(c) for c in cases})
    if not ids:
        return []
    if len(ids) > MAX_CASES:
        raise DomainError(
            "cases_too_many", _("一次最多关联%(max)d件诉求。") % {"max": MAX_CASES}, field="cases"
        )
    found = list(cases_visible(actor).filter(pk__in=ids, grid__parent_id=grid.parent_id).order_by("pk"))
    if len(found) != len(ids):
        raise DomainError(
            "cases_not_in_village",
            _("只能关联本村（社区）中您有权查看的诉求，请重新选择。"),
            field="cases",
        )
    return found


def _photos(uploads: Sequence[Any]) -> list[CleanImage]:
    """Every photo checked and re-encoded before anything is written; the one that fails is named."""
    items = [upload for upload in uploads if upload is not None]
    if len(items) > MAX_PHOTOS:
        raise DomainError("photos_too_many", _("照片最多%(max)d张。") % {"max": MAX_PHOTOS}, field="photos")
    cleaned: list[CleanImage] = []
    for position, upload in enumerate(items, start=1):
        if isinstance(upload, CleanImage):
            cleaned.append(upload)
            continue
        try:
            cleaned.append(image_clean(upload))
        except DomainError as error:
            raise DomainError(
                error.code,
                _("第%(n)d张照片：%(message)s") % {"n": position, "message": error.message},
                field="photos",
                position=position,
            ) from error
    return cleaned


def _same_request(entry: WorkLogEntry, *, grid: Region, kind: str, occurred_on: dt.date, topic: str) -> bool:
    return (entry.grid_id, entry.kind, entry.occurred_on, entry.topic) == (
        grid.pk,
        kind,
        occurred_on,
        topic,
    )


def _replay(actor: AnyUser, key: str, **body: Any) -> WorkLogEntry | None:
    """The entry this actor already recorded with `key`; Conflict when the key was used for another."""
    entry = WorkLogEntry.objects.filter(author_id=actor.pk, idempotency_key=key).first()
    if entry is None:
        return None
    if not _same_request(entry, **body):
        raise Conflict(
            "idempotency_key_reused",
            _("该防重复提交标识已用于另一条工作记录，请刷新页面后重新提交。"),
        )
    return entry


def work_log_record(
    *,
    actor: AnyUser,
    idempotency_key: str,
    grid: Region,
    kind: str,
    occurred_on: dt.date | None,
    topic: str,
    summary: str = "",
    attendees_count: int | None = None,
    household: Household | int | None = None,
    cases: Iterable[Case | int] = (),
    photos: Sequence[Any] = (),
    request: HttpRequest | None = None,
) -> WorkLogEntry:
    """Record one piece of grid work and return the entry.

    Only the grid's leader or village staff and above may write (out of scope: 404; in scope without
    the role: 403). A household visit names an active household of that grid (an
    instance or an id); linked cases (instances or ids) must be cases
    of the grid's village the actor can see; the date is not in the future; photos are cleaned
    (common.images.image_clean: content checked, re-encoded as JPEG, metadata stripped) before anything
    is written. A replay by the same actor with the same `idempotency_key` and the same grid, kind, date
    and topic returns the first entry and writes nothing; the same key with another body is a Conflict.
    """
    _writer_check(actor, grid)
    key = _key(idempotency_key)
    topic = _text(topic, field="topic", label=_("主题"), max_length=TOPIC_MAX, required=True)
    if kind not in WorkKind.values:
        raise DomainError("kind_invalid", _("请选择工作类型。"), field="kind")
    occurred_on = _occurred_on(occurred_on)
    replay = _replay(actor, key, grid=grid, kind=kind, occurred_on=occurred_on, topic=topic)
    if replay is not None:
        return replay
    summary = _text(summary, field="summary", label=_("内容"), max_length=SUMMARY_MAX, required=False)
    attendees = _attendees(kind, attendees_count)
    visited = _household(kind, household, grid)
    linked = _cases(actor, grid, cases)
    cleaned = _photos(photos)

    written: list[str] = []
    try:
        with transaction.atomic():
            try:
                # A savepoint: a concurrent twin with the same key loses the UNIQUE race here.
                with transaction.atomic():
                    entry = WorkLogEntry.objects.create(
                        grid=grid,
                        author_id=cast(int, actor.pk),
                        kind=kind,
                        occurred_on=occurred_on,
                        topic=topic,
                        summary=summary,
                        attendees_count=attendees,
                        household=visited,
                        idempotency_key=key,
                    )
            except IntegrityError:
                twin = _replay(actor, key, grid=grid, kind=kind, occurred_on=occurred_on, topic=topic)
                if twin is None:
                    raise
                return twin
            if linked:
                entry.cases.set(linked)
            rows: list[WorkLogPhoto] = []
            for clean in cleaned:
                photo = WorkLogPhoto(
                    entry=entry,
                    width=clean.width,
                    height=clean.height,
                    size_bytes=clean.size_bytes,
                    sha256=clean.sha256,
                )
                # A random name: the file name a phone gives may carry personal data.
                photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(clean.content), save=False)
                written.append(photo.image.name)
                rows.append(photo)
            WorkLogPhoto.objects.bulk_create(rows)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=entry,
                region_path=grid.path,
                changes={
                    "grid": [None, grid.name],
                    "kind": [None, kind],
                    "occurred_on": [None, occurred_on.isoformat()],
                    "topic": [None, topic],
                    "attendees_count": [None, attendees],
                    "household": [None, visited.pk if visited else None],
                    "cases": [None, [c.number for c in linked]],
                    "photos": [None, len(rows)],
                },
                detail=_("%(grid)s记录%(kind)s：%(topic)s")
                % {"grid": grid.name, "kind": WorkKind(kind).label, "topic": topic},
                request=request,
            )
    except BaseException:
        # The rows rolled back: do not leave their files behind.
        for name in written:
            default_storage.delete(name)
        raise
    return entry
