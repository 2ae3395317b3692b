"""Writing the audit log. Services call audit_record inside their transaction, so the entry and the
change it describes commit together or not at all.

The log also makes retried writes happen exactly once (design.md §4.5). A create (or any write a client
may send twice: a double tap, a retried POST after a dropped connection) carries an idempotency key, and
its audit entry records it as `changes["idempotency_key"] = [None, key]` (changes_with_key). Before
writing, the service asks audit_replayed for the entry the same actor already wrote with that key for
that action and object type, and returns that entry's object instead of writing again. The key then
needs no column or table of its own: it commits, or rolls back, with the write it describes.

A concurrent twin must wait for the first request rather than miss its uncommitted entry. A service
gets that either from a row lock it takes before the look-up in every request (the parent region, the
region being changed: pass lock_namespace=None), or by passing a lock_namespace, which takes a
transaction-scoped PostgreSQL advisory lock on (namespace, actor, key) before the look-up.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError
from governance.models import AuditAction, AuditEvent

IDEMPOTENCY_KEY_MAX = 64


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the web server saw it. Behind the county's proxy, gunicorn is started
    with --forwarded-allow-ips so REMOTE_ADDR is already the real client."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field whose value changed (values as JSON-safe strings)."""
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: AuditAction,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    region_path: str = "",
    changes: dict[str, Any] | None = None,
    detail: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one entry. `obj`, when given, fills the object's type, id and text."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    authenticated = actor is not None and actor.is_authenticated
    event = AuditEvent(
        at=timezone.now(),
        actor_id=actor.pk if authenticated and actor is not None else None,
        actor_name=(getattr(actor, "full_name", "") or actor.get_username())
        if authenticated and actor
        else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        region_path=region_path,
        changes=changes or {},
        detail=detail[:300],
        ip_address=client_ip(request),
    )
    _audit_insert(event)
    return event


@functools.cache
def _audit_insert_sql() -> tuple[list[Any], str]:
    """The audit table's fields (all but the id) and its INSERT, built once per process."""
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {AuditEvent._meta.db_table} ({columns}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
    return fields, sql


def _audit_insert(event: AuditEvent) -> None:
    """One plain INSERT … RETURNING id, each value prepared by its model field (so JSON, dates and IP
    addresses are stored exactly as the ORM would): every write of the platform audits, and the ORM's
    insert compiler cost more than the insert itself on the till's hot path."""
    fields, sql = _audit_insert_sql()
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    assert row is not None
    event.pk = int(row[0])
    event._state.adding = False
    event._state.db = connection.alias


# --- exactly once ---------------------------------------------------------------------------------


def idempotency_key_clean(key: str | None, *, required: bool) -> str:
    """The key stripped of surrounding spaces ("" when none was sent and none is `required`).

    Raises DomainError idempotency_key_missing when `required` and empty, idempotency_key_too_long past
    64 characters."""
    key = (key or "").strip()
    if not key and required:
        raise DomainError("idempotency_key_missing", _("缺少防重复提交标识，请刷新页面后重新提交。"))
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise DomainError("idempotency_key_too_long", _("防重复提交标识过长。"))
    return key


def audit_replayed(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    key: str,
    action: AuditAction,
    object_type: str,
    lock_namespace: str | None,
) -> AuditEvent | None:
    """The first audit entry `actor` wrote for `action` on `object_type` (a model's label_lower) with
    idempotency `key`; None for a first request, when no key was sent, or for an anonymous actor.

    Call it inside the service's transaction, before any write. With a `lock_namespace` on PostgreSQL,
    it first takes a transaction-scoped advisory lock on (namespace, actor, key), so a concurrent twin
    waits until the first request commits (or rolls back) and then finds (or does not find) its entry.
    Without one, the caller must already hold a row lock that every request with this key takes first.
    """
    if not key or actor is None or not actor.is_authenticated:
        return None
    if lock_namespace is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"{lock_namespace}:{actor.pk}:{key}"],
            )
    return (
        AuditEvent.objects.filter(
            actor_id=actor.pk,
            action=action,
            object_type=object_type,
            changes__idempotency_key=[None, key],
        )
        .order_by("pk")
        .first()
    )


def changes_with_key(changes: dict[str, Any], key: str) -> dict[str, Any]:
    """`changes` with the idempotency key recorded as `[None, key]` when one was sent (in place, and
    returned for use inline)."""
    if key:
        changes["idempotency_key"] = [None, key]
    return changes
