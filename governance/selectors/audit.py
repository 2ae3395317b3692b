"""Reads of the audit log: county admins see every entry, township admins the entries whose region path
lies in their subtree; nobody else sees any. The filters serve the pages, the export and the API alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import NotFound
from governance import access
from governance.models import AuditAction, AuditEvent
from governance.roles import Role

AnyUser = AbstractBaseUser | AnonymousUser
AUDIT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})


def audit_can_view(*, actor: AnyUser) -> bool:
    return bool(access.assignments(actor, AUDIT_ROLES))


def audit_event_list(*, actor: AnyUser) -> QuerySet[AuditEvent]:
    """The entries `actor` may read, newest first. County admins read the whole log, entries without a
    region (log-ins, county-wide actions) included; township admins read their subtree's entries."""
    events = AuditEvent.objects.order_by("-at", "-id")
    if access.is_county_admin(actor):
        return events
    return events.filter(access.scope_q(actor, "region_path", AUDIT_ROLES))


def audit_event_get(*, actor: AnyUser, event_id: int) -> AuditEvent:
    found = audit_event_list(actor=actor).filter(pk=event_id).first()
    if found is None:
        raise NotFound(_("未找到该审计记录，或者它不在您的管辖范围内。"))
    return found


def object_type_label(object_type: str) -> str:
    """“居民” for governance.resident; the raw type when it names no model."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def object_type_choices(*, actor: AnyUser) -> list[tuple[str, str]]:
    """The object types present in the actor's part of the log, labelled, for the filter's select."""
    types = audit_event_list(actor=actor).order_by().values_list("object_type", flat=True).distinct()
    return sorted(((t, object_type_label(t)) for t in types if t), key=lambda pair: pair[1])


def changes_rows(event: AuditEvent) -> list[dict[str, Any]]:
    """The entry's changes as table rows {field, before, after}; a value that is not a [before, after]
    pair is shown as “after”."""
    rows = []
    changes = event.changes if isinstance(event.changes, dict) else {"": event.changes}
    for name, value in changes.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            before, after = value
        else:
            before, after = None, value
        rows.append({"field": name, "before": before, "after": after})
    return rows


class AuditEventFilter(django_filters.FilterSet):
    """Search the log: actor, action, object type and id, date range and free text."""

    actor = django_filters.NumberFilter(field_name="actor_id", label=gettext_lazy("操作人编号"))
    actor_name = django_filters.CharFilter(method="filter_actor_name", label=gettext_lazy("操作人"))
    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices, label=gettext_lazy("操作"), empty_label=gettext_lazy("全部操作")
    )
    object_type = django_filters.CharFilter(field_name="object_type", label=gettext_lazy("对象类型"))
    object_id = django_filters.CharFilter(field_name="object_id", label=gettext_lazy("对象编号"))
    date_from = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label=gettext_lazy("起始日期")
    )
    date_to = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label=gettext_lazy("截止日期")
    )
    q = django_filters.CharFilter(method="filter_text", label=gettext_lazy("关键词"))

    class Meta:
        model = AuditEvent
        fields = ["actor", "actor_name", "action", "object_type", "object_id", "date_from", "date_to", "q"]

    def filter_actor_name(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.strip()
        return queryset.filter(actor_name__icontains=value) if value else queryset

    def filter_text(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(object_repr__icontains=value)
            | Q(detail__icontains=value)
            | Q(actor_name__icontains=value)
            | Q(object_id=value)
        )


def audit_scope_path(*, actor: AnyUser) -> str:
    """The outermost region path where `actor` reads the log ("" when nowhere)."""
    paths = access.outermost([path for _role, path in access.assignments(actor, AUDIT_ROLES)])
    return paths[0] if paths else ""
