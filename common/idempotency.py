"""Exactly-once writes with an idempotency key (design.md §4.5), stored in common.IdempotencyRecord.

A service that a client may send twice (a double tap, a retried POST after a dropped connection) does,
inside its own `transaction.atomic()`:

    fingerprint = body_fingerprint({"store": store.pk, "household": household.pk, "lines": [...]})
    replay = idempotency_begin(actor=actor, scope="points.redemption", key=key, fingerprint=fingerprint)
    if replay is not None:
        return Redemption.objects.get(pk=replay.response["id"])     # the first result, nothing written
    ... the write ...
    idempotency_finish(actor=actor, scope="points.redemption", key=key, status_code=201,
                       response={"id": redemption.pk})

Why it is exactly once, also under concurrency: idempotency_begin inserts the record FIRST, as a
placeholder (status_code 0), with INSERT … ON CONFLICT DO NOTHING on the UNIQUE (actor, scope, key) index.
A concurrent twin's insert blocks on that index until the first transaction ends: if the first commits,
the twin's insert does nothing and it reads the finished record (a replay); if the first rolls back (its
write failed), the twin's insert goes ahead and the twin does the write itself. The placeholder and the
write commit together or not at all, so a failed request leaves the key free for a retry.

The same key with a different body is a client error: Conflict 409 `idempotency_key_reused`.

For the API, `idempotent_api_call` wraps a view body: it reads the key (body `idempotency_key` or the
`Idempotency-Key` header), fingerprints the body and answers a replay with the stored response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import Conflict, DomainError
from common.models import IdempotencyRecord

AnyUser = AbstractBaseUser | AnonymousUser

KEY_MAX = 64
# Body fields that are not part of what the request asks for: the key itself and Django's CSRF token.
_NOT_FINGERPRINTED = frozenset({"idempotency_key", "csrfmiddlewaretoken"})
# A placeholder's status code: the first request holding the key has not finished yet.
IN_PROGRESS = 0
REPLAY_HEADER = "Idempotent-Replayed"


def body_fingerprint(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of `body` in canonical JSON (sorted keys, no spaces), without the key itself and
    the CSRF token. Values that JSON cannot hold (dates, Decimals, model instances) count as str();
    a multi-valued form field (QueryDict) counts as its list of values."""
    getlist = getattr(body, "getlist", None)
    plain: dict[str, Any] = {}
    for name in body:
        if name in _NOT_FINGERPRINTED:
            continue
        if getlist is not None:
            values = getlist(name)
            plain[name] = values[0] if len(values) == 1 else values
        else:
            plain[name] = body[name]
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key_clean(key: str | None) -> str:
    """The key without surrounding spaces. DomainError `idempotency_key_missing` when empty,
    `idempotency_key_too_long` past 64 characters (both on the `idempotency_key` field)."""
    key = (key or "").strip()
    if not key:
        raise DomainError(
            "idempotency_key_missing",
            _("缺少防重复提交标识，请刷新页面后重新提交。"),
            field="idempotency_key",
        )
    if len(key) > KEY_MAX:
        raise DomainError("idempotency_key_too_long", _("防重复提交标识过长。"), field="idempotency_key")
    return key


def idempotency_begin(*, actor: AnyUser, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Claim `key` for `actor` and `scope`. Call it inside the caller's transaction.atomic(), before any
    other write.

    Returns None for a first request: a placeholder is now held (it commits or rolls back with the
    caller's transaction; finish it with idempotency_finish). Returns the stored, finished record for a
    replay with the same fingerprint: the caller answers with its `response` and writes nothing.
    Raises Conflict 409 `idempotency_key_reused` when the key came before with another body,
    `idempotency_in_progress` if the record is still a placeholder (the same transaction claimed it
    twice), and DomainError for a missing key or an anonymous actor (a key belongs to a signed-in user).
    """
    key = idempotency_key_clean(key)
    if actor is None or not actor.is_authenticated:
        raise DomainError("login_required", _("请先登录。"), status=403)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency_begin must run inside the caller's transaction.atomic()")
    inserted = _placeholder_insert(actor_id=actor.pk, scope=scope, key=key, fingerprint=fingerprint)
    if inserted:
        return None
    record = IdempotencyRecord.objects.get(actor_id=actor.pk, scope=scope, key=key)
    if record.fingerprint != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            _("同一防重复提交标识已用于另一笔不同内容的提交，请刷新页面后重新提交。"),
        )
    if record.status_code == IN_PROGRESS:
        raise Conflict("idempotency_in_progress", _("该提交正在处理中，请稍后刷新查看结果。"))
    return record


def _placeholder_insert(*, actor_id: int, scope: str, key: str, fingerprint: str) -> bool:
    """Insert the placeholder; False when a (committed) record with this key already exists. On
    PostgreSQL a concurrent twin's insert waits here for the first transaction to end."""
    if connection.vendor == "postgresql":
        table = IdempotencyRecord._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (actor_id, scope, key, fingerprint, status_code, response, created_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, '{}'::jsonb, %s) "
                "ON CONFLICT (actor_id, scope, key) DO NOTHING RETURNING id",
                [actor_id, scope, key, fingerprint, IN_PROGRESS, timezone.now()],
            )
            return cursor.fetchone() is not None
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                actor_id=actor_id, scope=scope, key=key, fingerprint=fingerprint, status_code=IN_PROGRESS
            )
    except IntegrityError:
        return False
    return True


def idempotency_finish(
    record: IdempotencyRecord | None = None,
    *,
    actor: AnyUser | None = None,
    scope: str = "",
    key: str = "",
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the first request's answer on its placeholder, in the same transaction as the write.

    The placeholder is named either by `record` or by (`actor`, `scope`, `key`) as given to
    idempotency_begin (which returns None, not the placeholder, for a first request).
    `response` must be JSON-safe; `status_code` is the HTTP status a replay answers with (≥ 100)."""
    if status_code < 100:
        raise ValueError("status_code must be an HTTP status")
    # One plain UPDATE (no ORM query building: the till finishes a record per receipt). The response
    # goes in as JSON text, which both PostgreSQL's jsonb and SQLite's text column take.
    table = IdempotencyRecord._meta.db_table
    params: list[Any]
    if record is not None:
        where, params = "id = %s", [record.pk]
    else:
        if actor is None or not scope or not key:
            raise TypeError("idempotency_finish needs `record` or actor, scope and key")
        where, params = "actor_id = %s AND scope = %s AND key = %s", [actor.pk, scope, key.strip()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status_code = %s, response = %s "  # noqa: S608
            f"WHERE {where} AND status_code = %s",
            [status_code, json.dumps(response, ensure_ascii=False), *params, IN_PROGRESS],
        )
        updated = cursor.rowcount
    if updated != 1:
        raise RuntimeError("no idempotency placeholder to finish (idempotency_begin was not called?)")


# --- the API side ----------------------------------------------------------------------------------


def idempotency_key_from(request: Request) -> str:
    """The key a client sent: the body's `idempotency_key`, else the `Idempotency-Key` header ("" if
    neither)."""
    data = request.data if isinstance(request.data, Mapping) else {}
    key = data.get("idempotency_key") or request.headers.get("Idempotency-Key") or ""
    return str(key).strip()


def idempotent_api_call(
    request: Request,
    *,
    scope: str,
    call: Callable[[str], tuple[int, dict[str, Any]]],
    body: Mapping[str, Any] | None = None,
) -> Response:
    """Run `call(key)` exactly once per (user, `scope`, key) and answer with its (status, data).

    A replay with the same body answers the stored status and data, with the header
    `Idempotent-Replayed: true`; the same key with another body answers 409 (raised as Conflict, which
    the API exception handler renders). `body` defaults to the request's data. A DomainError raised by
    `call` rolls everything back (the key stays free for a corrected retry) and propagates."""
    key = idempotency_key_from(request)
    fingerprint = body_fingerprint(body if body is not None else _request_body(request))
    with transaction.atomic():
        replay = idempotency_begin(actor=request.user, scope=scope, key=key, fingerprint=fingerprint)
        if replay is not None:
            return Response(replay.response, status=replay.status_code, headers={REPLAY_HEADER: "true"})
        status_code, data = call(idempotency_key_clean(key))
        idempotency_finish(
            actor=request.user, scope=scope, key=key, status_code=status_code, response=_json_safe(data)
        )
    return Response(data, status=status_code)


def _request_body(request: Request) -> Mapping[str, Any]:
    return request.data if isinstance(request.data, Mapping) else {}


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as plain JSON types (what a replay will get back), e.g. dates and Decimals as strings."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return loaded
