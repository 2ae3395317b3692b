"""REST API for the audit log (mounted under /api/v1/governance/): read-only, scoped.

County admins read every entry; township admins the entries of their subtree; anyone else gets an empty
list, and an entry outside the caller's reach answers 404. There is no write method: the log is
append-only and services write it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import AuditEvent
from governance.selectors import audit as audit_selectors


class AuditEventOutputSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display")
    object_type_label = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_id",
            "actor_name",
            "action",
            "action_label",
            "object_type",
            "object_type_label",
            "object_id",
            "object_repr",
            "region_path",
            "changes",
            "detail",
            "ip_address",
        ]
        read_only_fields = fields

    def get_object_type_label(self, obj: AuditEvent) -> str:
        return audit_selectors.object_type_label(obj.object_type)


class AuditEventListApi(generics.ListAPIView):
    """Audit entries in the caller's scope, newest first; filter by actor, action, object, dates, text."""

    serializer_class = AuditEventOutputSerializer
    filterset_class = audit_selectors.AuditEventFilter
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return audit_selectors.audit_event_list(actor=self.request.user)

    @extend_schema(tags=["audit"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AuditEventDetailApi(generics.RetrieveAPIView):
    """One audit entry in the caller's scope."""

    serializer_class = AuditEventOutputSerializer
    queryset = AuditEvent.objects.none()  # only tells the schema what `id` is; reads go through the selector
    lookup_field = "id"
    http_method_names = ["get", "head", "options"]

    def get_object(self) -> AuditEvent:
        return audit_selectors.audit_event_get(actor=self.request.user, event_id=self.kwargs["id"])

    @extend_schema(tags=["audit"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


urlpatterns: list[URLPattern | URLResolver] = [
    path("audit-events/", AuditEventListApi.as_view(), name="audit_event_list"),
    path("audit-events/<int:id>/", AuditEventDetailApi.as_view(), name="audit_event_detail"),
]
