"""Objections (异议) to awards under public notice: filed by anyone on the public board, decided by the
village. An upheld objection voids the award and releases its pending points; a dismissed one lets the
award be posted when its notice period has ended (the beat task skips awards with an open objection)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance import pii
from governance.audit import audit_record
from governance.models import AuditAction
from points.models import Award, AwardStatus, Objection, ObjectionStatus
from points.services.awards import award_void

AnyUser = AbstractBaseUser | AnonymousUser

REASON_MIN, REASON_MAX = 5, 500
NOTE_MAX = 500
# One open objection per award and client address is enough for the village to look into it; more from
# the same place would only flood the queue.
OPEN_PER_ADDRESS = 1


def objection_file(
    *,
    award: Award,
    reason: str,
    contact_name: str = "",
    contact_phone: str = "",
    client_ip: str | None = None,
    now: dt.datetime | None = None,
) -> Objection:
    """File an objection to an award under notice (no login needed: it comes from the public board);
    returns the OPEN objection. The optional phone is stored encrypted and shown masked.

    Refusals: the award is not under notice or its notice has ended (Conflict 409 `notice_closed`), a
    reason shorter than 5 characters (field "reason"), a bad phone (field "contact_phone"), a second open
    objection to the same award from the same address (Conflict `objection_already_open`). The award row
    is locked, so an objection and the posting task never cross: either the task posted first (and this
    is refused) or the objection is in and the task skips the award."""
    reason = (reason or "").strip()
    contact_name = (contact_name or "").strip()
    if len(reason) < REASON_MIN:
        raise DomainError(
            "objection_reason_short",
            _("请写明异议理由（至少 %(min)s 个字）。") % {"min": REASON_MIN},
            field="reason",
        )
    if len(reason) > REASON_MAX:
        raise DomainError(
            "objection_reason_long",
            _("异议理由不能超过 %(max)s 字。") % {"max": REASON_MAX},
            field="reason",
        )
    if len(contact_name) > 30:
        raise DomainError("contact_name_long", _("联系人不能超过 30 字。"), field="contact_name")
    phone = ""
    if (contact_phone or "").strip():
        try:
            phone = pii.phone_parse(contact_phone)
        except DomainError as error:
            raise DomainError(error.code, error.message, field="contact_phone") from error
    now = now or timezone.now()
    with transaction.atomic():
        award = (
            Award.objects.select_for_update(of=("self",), no_key=True)
            .select_related("household__grid")
            .get(pk=award.pk)
        )
        if award.status != AwardStatus.NOTICE or award.notice_ends_at is None or award.notice_ends_at <= now:
            raise Conflict("notice_closed", _("该条积分已不在公示期内，不能再提出异议。"))
        if (
            client_ip
            and award.objections.filter(status=ObjectionStatus.OPEN, client_ip=client_ip).count()
            >= OPEN_PER_ADDRESS
        ):
            raise Conflict(
                "objection_already_open", _("您对该条积分的异议已提交，村里正在核实，请耐心等待。")
            )
        objection = Objection.objects.create(
            award=award,
            reason=reason,
            contact_name=contact_name,
            contact_phone_encrypted=pii.encrypt(phone) if phone else "",
            contact_phone_masked=pii.mask_phone(phone) if phone else "",
            status=ObjectionStatus.OPEN,
            created_at=now,
            client_ip=client_ip,
        )
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            obj=objection,
            region_path=award.household.grid.path,
            changes={"award": [None, award.pk]},
            detail=_("公示异议：%(reason)s") % {"reason": reason[:100]},
        )
    return objection


def objection_decide(*, actor: AnyUser, objection: Objection, upheld: bool, note: str) -> Objection:
    """The village's decision on an OPEN objection; returns it. Upheld: the award is voided and its
    pending points released (in the same transaction). Dismissed: the award stays under notice and is
    posted by the task once its period has ended and no other objection is open. A note is required.
    Refusals: out of scope (NotFound), already decided (Conflict `objection_decided`)."""
    from points import access

    award = Award.objects.select_related("household__grid").get(pk=objection.award_id)
    if not access.can_review(actor, award):
        raise NotFound(_("未找到该异议，或者它不在您的管辖范围内。"))
    note = (note or "").strip()
    if not note:
        raise DomainError("objection_note_required", _("请填写处理意见。"), field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(
            "objection_note_long", _("处理意见不能超过 %(max)s 字。") % {"max": NOTE_MAX}, field="note"
        )
    with transaction.atomic():
        # The award first, then the objection: the same order as objection_file and the posting task.
        Award.objects.select_for_update(of=("self",), no_key=True).filter(pk=award.pk).values_list(
            "pk", flat=True
        ).first()
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.status != ObjectionStatus.OPEN:
            raise Conflict("objection_decided", _("该异议已处理，不能重复处理。"))
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.decided_by_id = actor.pk
        objection.decided_at = timezone.now()
        objection.decision_note = note
        objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=objection,
            region_path=award.household.grid.path,
            changes={"status": [ObjectionStatus.OPEN, objection.status]},
            detail=(_("异议成立：%(note)s") if upheld else _("异议不成立：%(note)s")) % {"note": note},
        )
        if upheld and award.status in (AwardStatus.PROPOSED, AwardStatus.NOTICE):
            award_void(
                actor=actor,
                award=award,
                reason=(_("公示异议成立：%(note)s") % {"note": note})[:300],
                checked=True,
            )
    return objection
