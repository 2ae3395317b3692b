"""Writes about the audit log itself. The log is append-only: nothing here (or anywhere) edits or deletes
an entry; exporting it is recorded as one more entry."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.audit import audit_record
from governance.models import AuditAction, AuditEvent

AnyUser = AbstractBaseUser | AnonymousUser


@transaction.atomic
def audit_log_export_record(
    *,
    actor: AnyUser,
    count: int,
    filters: dict[str, str],
    region_path: str,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Record that `actor` exported `count` entries of the log selected by `filters`; return the entry."""
    shown = "；".join(f"{name}={value}" for name, value in sorted(filters.items()) if value)
    return audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="governance.auditevent",
        object_repr=_("审计日志"),
        region_path=region_path,
        changes={"rows": [None, count], "filters": [None, shown]},
        detail=_("导出审计日志 %(count)d 条%(filters)s")
        % {"count": count, "filters": _("（筛选：%s）") % shown if shown else ""},
        request=request,
    )
