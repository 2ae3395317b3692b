"""Small helpers every app's services share: exactly-once bracketing of a create around the idempotency
record (common/idempotency.py) and the cleaning of a typed text field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from common.errors import DomainError
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from common.models import IdempotencyRecord

AnyUser = AbstractBaseUser | AnonymousUser


def begin(*, actor: AnyUser, scope: str, key: str, body: dict[str, Any]) -> IdempotencyRecord | None:
    """The stored record for a replay of `key` with this body; None for a first request (the placeholder
    now holds the key). Conflict 409 for the same key with another body."""
    return idempotency_begin(actor=actor, scope=scope, key=key, fingerprint=body_fingerprint(body))


def replay_id(*, actor: AnyUser, scope: str, key: str, body: dict[str, Any]) -> int | None:
    """The id of the object a replay of `key` created first; None for a first request (see begin)."""
    replay = begin(actor=actor, scope=scope, key=key, body=body)
    return int(replay.response["id"]) if replay is not None else None


def finish(*, actor: AnyUser, scope: str, key: str, object_id: int) -> None:
    """Record that `key` created `object_id` (201), in the same transaction as the create."""
    idempotency_finish(actor=actor, scope=scope, key=key, status_code=201, response={"id": object_id})


def text_clean(value: Any, *, field: str, maximum: int, required: str | None = None) -> str:
    """`value` stripped; DomainError `<field>_required` (when `required` is a message) or
    `<field>_too_long` next to `field`."""
    text = str(value or "").strip()
    if not text and required is not None:
        raise DomainError(f"{field}_required", required, field=field)
    if len(text) > maximum:
        raise DomainError(f"{field}_too_long", _("最多 %(max)s 个字。") % {"max": maximum}, field=field)
    return text
