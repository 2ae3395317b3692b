"""REST API for the roles area of the spine (mounted under /api/v1/governance/).

County and township admins list, grant and revoke role assignments inside their subtree; anyone else
sees an empty list, and an assignment outside the caller's reach answers 404.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import Region, RoleAssignment
from governance.roles import Role
from governance.selectors import regions as region_selectors
from governance.selectors import roles as role_selectors
from governance.services import roles as role_services


class RoleUserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()


class RoleRegionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()
    path = serializers.CharField()


class RoleAssignmentRowOutputSerializer(serializers.ModelSerializer):
    user = RoleUserOutputSerializer()
    role_label = serializers.CharField(source="get_role_display")
    region = RoleRegionOutputSerializer()
    granted_by = serializers.SerializerMethodField()

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role", "role_label", "region", "granted_by", "created_at"]
        read_only_fields = fields

    def get_granted_by(self, obj: RoleAssignment) -> str:
        return str(obj.granted_by) if obj.granted_by else ""


class RoleAssignmentFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, label=_("角色"))
    user = django_filters.NumberFilter(field_name="user_id", label=_("用户编号"))
    region = django_filters.NumberFilter(field_name="region_id", label=_("区域编号（仅该区域本身）"))

    class Meta:
        model = RoleAssignment
        fields = ["role", "user", "region"]


class RoleAssignmentListApi(generics.ListCreateAPIView):
    """Role assignments at regions inside the caller's administering scope; POST grants a role."""

    class RoleGrantInputSerializer(serializers.Serializer):
        user = serializers.IntegerField(help_text=_("被授权用户的编号"))
        role = serializers.ChoiceField(choices=Role.choices)
        region = serializers.IntegerField(help_text=_("管辖区域的编号：角色覆盖该区域及其全部下级"))

    serializer_class = RoleAssignmentRowOutputSerializer
    filterset_class = RoleAssignmentFilter

    def get_queryset(self) -> QuerySet[RoleAssignment]:
        return role_selectors.role_assignment_list(actor=self.request.user)

    @extend_schema(tags=["roles"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RoleGrantInputSerializer, responses={201: RoleAssignmentRowOutputSerializer}, tags=["roles"]
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = self.RoleGrantInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = role_selectors.user_get_visible(actor=request.user, user_id=given.validated_data["user"])
        region = _region_for_grant(request, given.validated_data["region"])
        assignment = role_services.role_grant(
            actor=request.user,
            user=user,
            role=Role(given.validated_data["role"]),
            region=region,
            request=request._request,
        )
        return Response(RoleAssignmentRowOutputSerializer(assignment).data, status=status.HTTP_201_CREATED)


def _region_for_grant(request: Request, region_id: int) -> Region:
    """The region to grant at, if the caller can see it (role_grant then checks it may grant there)."""
    return region_selectors.region_get(user=request.user, region_id=region_id)


class RoleAssignmentDetailApi(generics.RetrieveDestroyAPIView):
    """One role assignment in the caller's administering scope; DELETE revokes it (audited)."""

    serializer_class = RoleAssignmentRowOutputSerializer
    lookup_field = "id"

    def get_queryset(self) -> QuerySet[RoleAssignment]:
        return RoleAssignment.objects.none()  # only tells the schema what `id` is

    def get_object(self) -> RoleAssignment:
        return role_selectors.role_assignment_get(actor=self.request.user, assignment_id=self.kwargs["id"])

    @extend_schema(tags=["roles"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={204: None}, tags=["roles"])
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        role_services.role_revoke(actor=request.user, assignment=self.get_object(), request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern | URLResolver] = [
    path("role-assignments/", RoleAssignmentListApi.as_view(), name="roles_assignment_list"),
    path("role-assignments/<int:id>/", RoleAssignmentDetailApi.as_view(), name="roles_assignment_detail"),
]
