"""Telling people about cases: in-app notifications to users (Notification) and SMS to residents
(ResidentMessage, an outbox sent after the commit by grids.tasks.resident_messages_send through the
gateway named by settings.GRIDS_SMS_GATEWAY — docs/grids.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from grids.models import Case, MessageStatus, Notification, ResidentMessage

logger = logging.getLogger(__name__)

_TEXT_MAX = 300
_SMS_MAX = 500


def notify(*, users: Iterable[Any], case: Case | None, text: str) -> int:
    """One unread Notification per distinct active user in `users` (None entries skipped) about `case`;
    returns how many were written. Writes in the caller's transaction, so a refused action tells nobody."""
    seen: set[int] = set()
    rows: list[Notification] = []
    body = str(text)[:_TEXT_MAX]
    for user in users:
        if user is None or user.pk is None or user.pk in seen or not getattr(user, "is_active", True):
            continue
        seen.add(user.pk)
        rows.append(Notification(user_id=user.pk, case=case, text=body))
    Notification.objects.bulk_create(rows)
    return len(rows)


def notification_mark_read(*, user: AbstractBaseUser, notification_ids: Sequence[int] | None = None) -> int:
    """Marks the user's unread notifications read (only those in `notification_ids` when given; another
    user's ids are ignored); returns how many changed."""
    rows = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=timezone.now())


def resident_message_queue(*, case: Case, transition: str) -> ResidentMessage | None:
    """Puts the SMS for `transition` of `case` in the outbox when the county's template for it is active
    and marked "sent to the resident" and the case has a resident with a phone; returns the row or None.
    Call it inside the transition's transaction: the message commits with the event, and the send task
    is queued only after the commit."""
    from grids.services.config import template_for, template_render_text

    if case.resident_id is None:
        return None
    template = template_for(transition, case.category)
    if template is None or not template.is_sent_to_resident:
        return None
    resident = case.resident
    if resident is None or not _resident_phone(resident):
        return None
    message = ResidentMessage.objects.create(
        case=case, resident=resident, text=template_render_text(template.text, case)[:_SMS_MAX]
    )
    transaction.on_commit(_queue_send)
    return message


def _resident_phone(resident: Any) -> str:
    """The resident's phone in clear (decrypted only here, to hand it to the gateway), or ""."""
    from governance import pii

    token = getattr(resident, "phone_encrypted", "") or ""
    return pii.decrypt(token) if token else ""


def _queue_send() -> None:
    from grids.tasks import resident_messages_send

    try:
        resident_messages_send.delay()
    except Exception:  # the broker being down must not fail the request; beat sweeps the outbox too
        logger.exception("could not queue the SMS outbox task")


# ---------------------------------------------------------------------------------------------------------
# The SMS gateway


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str) -> bool:
        """Hands one SMS to the carrier; True when accepted."""


class LoggingGateway:
    """The default gateway: writes each SMS to the log (logger grids.sms) and reports it sent. The county
    replaces it with its carrier's client in GRIDS_SMS_GATEWAY."""

    def send(self, *, phone: str, text: str) -> bool:
        masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
        logging.getLogger("grids.sms").info("SMS to %s: %s", masked, text)
        return True


def sms_gateway() -> SmsGateway:
    """The gateway instance named by settings.GRIDS_SMS_GATEWAY (a dotted path to a class with
    send(*, phone, text) -> bool); LoggingGateway when unset."""
    path = getattr(settings, "GRIDS_SMS_GATEWAY", "") or "grids.services.notifications.LoggingGateway"
    gateway: SmsGateway = import_string(path)()
    return gateway


def resident_messages_send(*, limit: int = 200) -> dict[str, int]:
    """Sends up to `limit` queued messages, oldest first, each claimed under a row lock (SKIP LOCKED, so
    two workers never send one twice) and marked sent or failed; returns {"sent": n, "failed": m}."""
    gateway = sms_gateway()
    counts = {"sent": 0, "failed": 0}
    for _i in range(limit):
        with transaction.atomic():
            message = (
                ResidentMessage.objects.select_for_update(skip_locked=True)
                .filter(status=MessageStatus.QUEUED)
                .select_related("resident")
                .order_by("created_at", "pk")
                .first()
            )
            if message is None:
                break
            phone = _resident_phone(message.resident)
            try:
                accepted = bool(phone) and gateway.send(phone=phone, text=message.text)
            except Exception:  # a carrier outage must not stop the rest of the outbox
                logger.exception("SMS gateway failed for message %s", message.pk)
                accepted = False
            if accepted:
                message.status = MessageStatus.SENT
                message.sent_at = timezone.now()
                counts["sent"] += 1
            else:
                message.status = MessageStatus.FAILED
                counts["failed"] += 1
            message.save(update_fields=["status", "sent_at"])
    return counts
