"""Writing the audit log. Services call audit_record inside their transaction, so the entry and the
change it describes commit together or not at all."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.http import HttpRequest

from governance.models import AuditAction, AuditEvent


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
    return AuditEvent.objects.create(
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
