"""Awards: 申报 (propose) → 审核 (review) → 公示 (public notice) → 入账 (posted), and voiding.

The two phases (design.md §4.6): approving an award puts its points into the household account's
`pending` (visible, not spendable) and starts the notice period; when the period has ended with no open or
upheld objection, `award_post_due` (a beat task) moves them from pending to the balance with a ledger
transaction from the township's issuance account, exactly once: the award row is locked and its status
checked in the same transaction that writes the postings, so a rerun or a concurrent worker posts nothing
twice. An upheld objection voids the award and releases its pending points (points/services/objections.py).

Deductions (negative points) are not pending (an account's pending never goes below zero): they are shown
under notice like an award, and posted as a DEDUCTION into the issuance account. A deduction never
overdraws: **it takes what the balance holds, up to its points, and the rest is waived** — recorded in the
transaction's memo and the audit entry (`waived`). A deduction that finds a balance of zero has nothing to
post and is voided with that reason, so a voided deduction with "余额为零" is the record of it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.images import CleanImage, image_clean
from governance.audit import audit_record, idempotency_key_clean
from governance.models import AuditAction, Household, Region, Resident, ResidentStatus
from points.models import (
    AccountKind,
    Award,
    AwardPhoto,
    AwardStatus,
    CapPeriod,
    ObjectionStatus,
    Rule,
    TransactionKind,
)
from points.services.policy import policy_for, township_id_of

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser

# Statuses that count towards a cap: everything not refused or withdrawn.
COUNTED_STATUSES = (AwardStatus.PROPOSED, AwardStatus.NOTICE, AwardStatus.POSTED)
# An occurrence may be proposed up to a year after it happened (a year cap needs the whole year).
MAX_AGE_DAYS = 366
MAX_PHOTOS = 6
NOTE_MAX = 500
REASON_MAX = 300


# --- periods -------------------------------------------------------------------------------------


def period_key(cap_period: str, occurred_on: dt.date) -> str:
    """The cap period an occurrence falls in: "2026-11" (month), "2026-Q4" (quarter), "2026" (year)."""
    if cap_period == CapPeriod.MONTH:
        return f"{occurred_on:%Y-%m}"
    if cap_period == CapPeriod.QUARTER:
        return f"{occurred_on.year}-Q{(occurred_on.month - 1) // 3 + 1}"
    return f"{occurred_on.year}"


def _this_period_word(cap_period: str) -> str:
    return {
        CapPeriod.MONTH: _("本月"),
        CapPeriod.QUARTER: _("本季度"),
        CapPeriod.YEAR: _("本年度"),
    }.get(CapPeriod(cap_period), _("本月"))


def _each_period_word(cap_period: str) -> str:
    return {
        CapPeriod.MONTH: _("每月"),
        CapPeriod.QUARTER: _("每季度"),
        CapPeriod.YEAR: _("每年"),
    }.get(CapPeriod(cap_period), _("每月"))


def rule_applies_to(rule: Rule, grid_path: str) -> bool:
    """Whether the rule's region (county, or the township/village that added it) covers the grid."""
    return grid_path.startswith(rule.region.path)


def _township_region(household: Household) -> Region:
    return Region.objects.get(pk=township_id_of(household.grid.path))


# --- proposing -----------------------------------------------------------------------------------


def photos_clean(uploads: Sequence[Any]) -> list[CleanImage]:
    """Every upload cleaned (common/images.py); refuses more than MAX_PHOTOS. Writes nothing; raises
    DomainError(field="photos") naming the photo that failed."""
    items = [upload for upload in uploads if upload is not None]
    if len(items) > MAX_PHOTOS:
        raise DomainError(
            "award_photos_too_many",
            _("照片最多 %(max)s 张。") % {"max": MAX_PHOTOS},
            field="photos",
        )
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
                _("第 %(n)s 张照片：%(message)s") % {"n": position, "message": error.message},
                field="photos",
                position=position,
            ) from error
    return cleaned


def _advisory_lock(name: str) -> None:
    """A transaction-scoped PostgreSQL advisory lock: concurrent twins of the same decision queue here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


def award_propose(
    *,
    actor: AnyUser,
    idempotency_key: str,
    household: Household,
    rule: Rule,
    occurred_on: dt.date,
    resident: Resident | None = None,
    note: str = "",
    photos: Sequence[Any] = (),
    batch_key: str = "",
) -> Award:
    """A grid leader's (or village staff's) proposal of `rule` for `household`; returns the PROPOSED award.

    Exactly once: a replay by the same actor with the same `idempotency_key` and the same content returns
    the first award; the same key with other content is a Conflict (409). Refusals (DomainError with a
    Chinese message and the form field): household out of the actor's scope (NotFound), inactive household
    or rule, a rule that does not apply to the household's region, a resident of another household, a
    future or too old date, a missing photo where the rule requires one, a bad photo, and the cap: at most
    `rule.cap_count` (no cap set: one) proposed/notice/posted awards per household, rule and cap period.
    Concurrent proposals of the same household, rule and period are serialised, so two cannot pass the cap
    together.
    """
    from points import access

    key = idempotency_key_clean(idempotency_key, required=True)
    note = (note or "").strip()
    if not access.can_propose(actor, household):
        raise NotFound(_("未找到该户，或者它不在您的管辖范围内。"))
    cleaned = photos_clean(list(photos))

    written: list[str] = []
    try:
        with transaction.atomic():
            _advisory_lock(f"points-award-propose:{actor.pk}:{key}")
            existing = Award.objects.filter(proposed_by_id=actor.pk, idempotency_key=key).first()
            if existing is not None:
                same = (
                    existing.household_id == household.pk
                    and existing.rule_id == rule.pk
                    and existing.occurred_on == occurred_on
                    and existing.resident_id == (resident.pk if resident else None)
                    and existing.note == note
                )
                if not same:
                    raise Conflict(
                        "idempotency_key_reused",
                        _("该防重复提交标识已用于另一份申报，请刷新页面后重新填写。"),
                    )
                return existing
            award = _propose_checked(
                actor=actor,
                key=key,
                household=household,
                rule=rule,
                occurred_on=occurred_on,
                resident=resident,
                note=note,
                cleaned=cleaned,
                batch_key=batch_key,
                written=written,
            )
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    return award


def _propose_checked(
    *,
    actor: AnyUser,
    key: str,
    household: Household,
    rule: Rule,
    occurred_on: dt.date,
    resident: Resident | None,
    note: str,
    cleaned: list[CleanImage],
    batch_key: str,
    written: list[str],
) -> Award:
    """Validate and write one proposal inside the caller's transaction (names of stored files are
    appended to `written` so the caller can delete them if the transaction fails)."""
    grid = household.grid
    if not household.is_active:
        raise DomainError("household_inactive", _("该户已不在册，不能申报积分。"), field="household")
    if not rule.is_active:
        raise DomainError("rule_inactive", _("该条目已停用，不能申报。"), field="rule")
    if not rule_applies_to(rule, grid.path):
        raise DomainError("rule_not_applicable", _("该条目不适用于此户所在的村（社区）。"), field="rule")
    if resident is not None:
        if resident.household_id != household.pk:
            raise DomainError("resident_not_in_household", _("当事人不是该户成员。"), field="resident")
        if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT):
            raise DomainError("resident_not_current", _("当事人已不在册。"), field="resident")
    today = timezone.localdate()
    if occurred_on > today:
        raise DomainError("occurred_in_future", _("发生日期不能晚于今天。"), field="occurred_on")
    if occurred_on < today - dt.timedelta(days=MAX_AGE_DAYS):
        raise DomainError("occurred_too_old", _("只能申报一年以内发生的事项。"), field="occurred_on")
    if len(note) > NOTE_MAX:
        raise DomainError(
            "note_too_long", _("事迹说明不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="note"
        )
    if rule.is_evidence_required and not cleaned:
        raise DomainError("evidence_required", _("该条目须附现场照片，请至少上传 1 张。"), field="photos")

    period = period_key(rule.cap_period, occurred_on)
    # Two proposals of the same household, rule and period wait for each other here, so the count
    # below always sees the other's row (or its rollback).
    _advisory_lock(f"points-award-cap:{household.pk}:{rule.pk}:{period}")
    cap = rule.cap_count or 1
    count = Award.objects.filter(
        household_id=household.pk, rule_id=rule.pk, period=period, status__in=COUNTED_STATUSES
    ).count()
    if count >= cap:
        this_period = _this_period_word(rule.cap_period)
        if cap == 1:
            message = _("本户%(period)s已申报过该条目（%(rule)s），不能重复申报。") % {
                "period": this_period,
                "rule": rule.name,
            }
        else:
            message = _(
                "本户%(period)s已申报过该条目 %(count)s 次，已达上限（%(each)s最多 %(cap)s 次）。"
            ) % {
                "period": this_period,
                "count": count,
                "each": _each_period_word(rule.cap_period),
                "cap": cap,
            }
        raise DomainError("award_cap_reached", message, field="rule", period=period, cap=cap, count=count)

    award = Award.objects.create(
        household=household,
        resident=resident,
        rule=rule,
        points=rule.points,
        occurred_on=occurred_on,
        period=period,
        note=note,
        status=AwardStatus.PROPOSED,
        proposed_by_id=actor.pk,  # type: ignore[misc]
        proposed_at=timezone.now(),
        idempotency_key=key,
        batch_key=batch_key,
    )
    photos: list[AwardPhoto] = []
    for clean in cleaned:
        photo = AwardPhoto(
            award=award,
            width=clean.width,
            height=clean.height,
            size_bytes=clean.size_bytes,
            sha256=clean.sha256,
        )
        # A random name: the uploaded file name may carry personal data and is never kept.
        photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(clean.content), save=False)
        written.append(photo.image.name)
        photos.append(photo)
    AwardPhoto.objects.bulk_create(photos)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=award,
        region_path=grid.path,
        changes={
            "idempotency_key": [None, key],
            "rule": [None, rule.code],
            "points": [None, rule.points],
            "period": [None, period],
            "photos": [None, len(photos)],
        },
        detail=_("申报积分：%(rule)s") % {"rule": rule.name},
    )
    return award


@dataclass
class BatchRow:
    """One cell of the batch form: a household scored with a rule."""

    household: Household
    rule: Rule
    resident: Resident | None = None
    note: str = ""
    photos: Sequence[Any] = ()


class BatchErrors(DomainError):
    """The batch was refused: `rows` maps a row's index to {field: message} for every failing row."""

    def __init__(self, rows: dict[int, dict[str, str]]) -> None:
        self.rows = rows
        super().__init__(
            "award_batch_invalid",
            _("有 %(n)s 条申报未通过校验，整批未提交，请按提示修改。") % {"n": len(rows)},
            rows={str(index): errors for index, errors in rows.items()},
        )


def award_propose_batch(
    *,
    actor: AnyUser,
    batch_key: str,
    occurred_on: dt.date,
    rows: Sequence[BatchRow],
) -> list[Award]:
    """The batch form: propose every row (household × rule) for the same date in ONE transaction; returns
    the awards in row order. All or none: if any row is refused, nothing is written and BatchErrors
    carries each failing row's {field: message}. A replay with the same `batch_key` returns the awards
    of the first submission (in the order they were created)."""
    key = idempotency_key_clean(batch_key, required=True)
    if not rows:
        raise DomainError("award_batch_empty", _("请至少勾选一户的一个条目。"), field="rows")
    from points import access

    cleaned_rows: list[list[CleanImage] | None] = []
    errors: dict[int, dict[str, str]] = {}
    for index, row in enumerate(rows):
        if not access.can_propose(actor, row.household):
            raise NotFound(_("未找到该户，或者它不在您的管辖范围内。"))
        try:
            cleaned_rows.append(photos_clean(list(row.photos)))
        except DomainError as error:
            errors.setdefault(index, {})[error.field or "photos"] = str(error.message)
            cleaned_rows.append(None)

    written: list[str] = []
    try:
        with transaction.atomic():
            _advisory_lock(f"points-award-batch:{actor.pk}:{key}")
            replay = list(Award.objects.filter(proposed_by_id=actor.pk, batch_key=key).order_by("pk"))
            if replay:
                return replay
            awards: list[Award] = []
            for index, row in enumerate(rows):
                cleaned = cleaned_rows[index]
                if cleaned is None:
                    continue
                try:
                    with transaction.atomic():
                        awards.append(
                            _propose_checked(
                                actor=actor,
                                key=f"{key[:40]}-{index}",
                                household=row.household,
                                rule=row.rule,
                                occurred_on=occurred_on,
                                resident=row.resident,
                                note=(row.note or "").strip(),
                                cleaned=cleaned,
                                batch_key=key,
                                written=written,
                            )
                        )
                except DomainError as error:
                    errors.setdefault(index, {})[error.field or "rule"] = str(error.message)
            if errors:
                raise BatchErrors(errors)
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    return awards


# --- reviewing -----------------------------------------------------------------------------------


def _locked(award: Award) -> Award:
    return (
        Award.objects.select_for_update(of=("self",), no_key=True)
        .select_related("household__grid", "rule")
        .get(pk=award.pk)
    )


def award_review(
    *, actor: AnyUser, award: Award, approve: bool, reason: str = "", now: dt.datetime | None = None
) -> Award:
    """The village reviewer's decision on a PROPOSED award; returns it.

    Approve → NOTICE: the public notice runs `notice_days` of the township's policy (default 7) from now,
    and an award's points are added to the household's pending points. Reject → REJECTED with the
    reason (required). Refusals: out of the reviewer's scope (NotFound), already reviewed (Conflict 409),
    rejection without a reason (field "reason").
    """
    from points import access, ledger

    if not access.can_review(actor, award):
        raise NotFound(_("未找到该申报，或者它不在您的管辖范围内。"))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise DomainError("rejection_reason_required", _("不通过时请填写理由。"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(
            "reason_too_long", _("理由不能超过 %(max)s 字。") % {"max": REASON_MAX}, field="reason"
        )
    now = now or timezone.now()
    with transaction.atomic():
        award = _locked(award)
        if award.status != AwardStatus.PROPOSED:
            raise Conflict(
                "award_not_proposed",
                _("该申报已处理（当前状态：%(status)s），不能再审核。")
                % {"status": award.get_status_display()},
            )
        before = award.status
        award.reviewed_by_id = actor.pk
        award.reviewed_at = now
        if approve:
            township = _township_region(award.household)
            days = policy_for(township).notice_days
            award.status = AwardStatus.NOTICE
            award.notice_ends_at = now + dt.timedelta(days=days)
            if award.points > 0:
                account = ledger.account_for_household(award.household)
                ledger.pending_add(account, award.points)
        else:
            award.status = AwardStatus.REJECTED
            award.rejection_reason = reason
        award.save(
            update_fields=[
                "status",
                "reviewed_by",
                "reviewed_at",
                "notice_ends_at",
                "rejection_reason",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=award,
            region_path=award.household.grid.path,
            changes={"status": [before, award.status]},
            detail=_("审核通过，进入公示") if approve else _("审核不通过：%(reason)s") % {"reason": reason},
        )
    return award


def awards_approve_bulk(*, actor: AnyUser, award_ids: Sequence[int]) -> int:
    """Approve every listed award in one transaction; returns how many were approved. All or none: an
    award out of scope or already reviewed refuses the whole batch (NotFound / Conflict)."""
    if not award_ids:
        raise DomainError("bulk_empty", _("请先勾选要审核通过的申报。"), field="awards")
    now = timezone.now()
    with transaction.atomic():
        awards = list(Award.objects.filter(pk__in=set(award_ids)).order_by("pk"))
        if len(awards) != len(set(award_ids)):
            raise NotFound(_("未找到该申报，或者它不在您的管辖范围内。"))
        for award in awards:
            award_review(actor=actor, award=award, approve=True, now=now)
    return len(awards)


# --- posting -------------------------------------------------------------------------------------


def award_post_due(now: dt.datetime | None = None) -> int:
    """The beat task's body: post every NOTICE award whose notice period has ended and that has no open
    or upheld objection. Returns how many were posted by this run. Rerun-safe: each award is posted in its
    own transaction under a row lock after re-checking its status, so an award is posted exactly once
    however often (or however concurrently) this runs. One award that cannot be posted (logged) does not
    stop the others."""
    now = now or timezone.now()
    due = (
        Award.objects.filter(status=AwardStatus.NOTICE, notice_ends_at__lte=now)
        .exclude(objections__status__in=[ObjectionStatus.OPEN, ObjectionStatus.UPHELD])
        .order_by("notice_ends_at", "pk")
        .values_list("pk", flat=True)
    )
    posted = 0
    for award_id in list(due):
        try:
            if award_post(award_id=award_id, now=now):
                posted += 1
        except DomainError:
            logger.exception("award %s could not be posted", award_id)
    return posted


def award_post(*, award_id: int, now: dt.datetime | None = None) -> bool:
    """Post one award whose notice has ended; True if this call posted it, False if it was not due (not
    under notice any more, notice not ended, or an open/upheld objection). See the module docstring for
    deductions (never an overdraft: the part beyond the balance is waived)."""
    from points import ledger

    now = now or timezone.now()
    with transaction.atomic():
        award = (
            Award.objects.select_for_update(of=("self",), no_key=True)
            .select_related("household__grid", "rule")
            .filter(pk=award_id)
            .first()
        )
        if award is None or award.status != AwardStatus.NOTICE:
            return False
        if award.notice_ends_at is None or award.notice_ends_at > now:
            return False
        if award.objections.filter(status__in=[ObjectionStatus.OPEN, ObjectionStatus.UPHELD]).exists():
            return False
        township = _township_region(award.household)
        household_account = ledger.account_for_household(award.household)
        issuance = ledger.system_account(township, AccountKind.ISSUANCE)
        # Lock the household's account before reading the balance a deduction acts on (the issuance
        # account keeps no stored balance, so it is not locked: no row every posting queues on).
        household_account = ledger.accounts_lock({household_account.pk})[household_account.pk]
        rule_text = f"{award.rule.code} {award.rule.name}"
        waived = 0
        if award.points > 0:
            tx = ledger.ledger_post(
                township=township,
                kind=TransactionKind.AWARD,
                memo=(_("积分奖励：%(rule)s") % {"rule": rule_text})[:200],
                legs=[(issuance, -award.points), (household_account, award.points)],
                actor=None,
            )
            ledger.pending_release(household_account, award.points)
        else:
            due_points = -award.points
            taken = min(due_points, household_account.balance)
            waived = due_points - taken
            if taken == 0:
                award.status = AwardStatus.VOIDED
                award.void_reason = _("余额为零，扣分 %(n)s 分无可扣除，不透支。") % {"n": due_points}
                award.save(update_fields=["status", "void_reason", "updated_at"])
                audit_record(
                    actor=None,
                    action=AuditAction.UPDATE,
                    obj=award,
                    region_path=award.household.grid.path,
                    changes={"status": [AwardStatus.NOTICE, AwardStatus.VOIDED], "waived": [None, waived]},
                    detail=award.void_reason,
                )
                return True
            memo = _("积分扣减：%(rule)s") % {"rule": rule_text}
            if waived:
                memo += _("（应扣 %(due)s 分，余额仅 %(taken)s 分，实扣 %(taken)s 分）") % {
                    "due": due_points,
                    "taken": taken,
                }
            tx = ledger.ledger_post(
                township=township,
                kind=TransactionKind.DEDUCTION,
                memo=memo[:200],
                legs=[(household_account, -taken), (issuance, taken)],
                actor=None,
            )
        award.status = AwardStatus.POSTED
        award.posted_at = now
        award.transaction = tx
        award.save(update_fields=["status", "posted_at", "transaction", "updated_at"])
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            obj=award,
            region_path=award.household.grid.path,
            changes={
                "status": [AwardStatus.NOTICE, AwardStatus.POSTED],
                "transaction": [None, tx.pk],
                **({"waived": [None, waived]} if waived else {}),
            },
            detail=_("公示期满无异议，积分入账"),
        )
    return True


# --- voiding -------------------------------------------------------------------------------------


def award_void(*, actor: AnyUser | None, award: Award, reason: str, checked: bool = False) -> Award:
    """Void an award (作废); returns it. PROPOSED: just voided. NOTICE: its pending points are released.
    POSTED: its ledger transaction is reversed (refused with 409 if the household has spent the points).
    A reason is required. `checked=True` skips the gate for a caller that already checked it (an upheld
    objection decided by the village). Out of scope → NotFound; rejected or voided → Conflict."""
    from points import access, ledger

    if not checked and (actor is None or not access.can_review(actor, award)):
        raise NotFound(_("未找到该申报，或者它不在您的管辖范围内。"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("void_reason_required", _("请填写作废原因。"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(
            "reason_too_long", _("理由不能超过 %(max)s 字。") % {"max": REASON_MAX}, field="reason"
        )
    with transaction.atomic():
        award = _locked(award)
        before = award.status
        if award.status in (AwardStatus.REJECTED, AwardStatus.VOIDED):
            raise Conflict(
                "award_not_voidable",
                _("该申报已是“%(status)s”状态，不能作废。") % {"status": award.get_status_display()},
            )
        if award.status == AwardStatus.NOTICE and award.points > 0:
            ledger.pending_release(ledger.account_for_household(award.household), award.points)
        elif award.status == AwardStatus.POSTED and award.transaction is not None:
            ledger.ledger_reverse(
                transaction=award.transaction,
                actor=actor,
                memo=(_("作废积分申报：%(reason)s") % {"reason": reason})[:200],
            )
        award.status = AwardStatus.VOIDED
        award.void_reason = reason
        award.save(update_fields=["status", "void_reason", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=award,
            region_path=award.household.grid.path,
            changes={"status": [before, AwardStatus.VOIDED]},
            detail=_("作废：%(reason)s") % {"reason": reason},
        )
    return award
