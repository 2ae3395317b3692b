"""REST API of designations (mounted under /api/v1/industry/).

- GET designations/ (?kind=, ?theme=, ?region= a region id: its designations and those under it): the
  featured towns, featured villages and development types in the caller's scope, paginated. POST adds one
  (county admin): {region, kind, theme, designated_year, note}; a development type's theme is one of the
  five values (red_beautiful …) or their Chinese names, anything else is refused with a Chinese message.
- GET designations/{id}/, DELETE removes it (county admin).
Creates are exactly once per (caller, key). Out of scope answers 404, like a missing id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from common.idempotency import idempotency_key_from
from governance import access as governance_access
from governance.models import Region
from industry import access
from industry.api.economy import IDEMPOTENCY_HEADER
from industry.api.params import query_id, query_text
from industry.models import DesignationKind, RegionDesignation
from industry.selectors import places as selectors
from industry.services import places as services

TAGS = ["industry-places"]


class DesignationOut(serializers.Serializer):
    id = serializers.IntegerField()
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    region_level = serializers.CharField(source="region.level")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    theme = serializers.CharField(help_text="主题；发展类型为其代码")
    label = serializers.SerializerMethodField(help_text="显示名称（发展类型为中文名）")  # type: ignore[assignment]
    designated_year = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()

    def get_label(self, obj: RegionDesignation) -> str:
        return services.designation_label(obj)


class DesignationIn(serializers.Serializer):
    region = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DesignationKind.choices)
    theme = serializers.CharField(max_length=40)
    designated_year = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def _int(value: Any) -> int | None:
    return query_id(value)


class DesignationListApi(generics.ListAPIView):
    serializer_class = DesignationOut
    queryset = RegionDesignation.objects.none()  # for the schema

    def get_queryset(self) -> QuerySet[RegionDesignation]:
        params = self.request.query_params
        rows = selectors.designations_visible(self.request.user)
        if params.get("kind") in DesignationKind.values:
            rows = rows.filter(kind=params["kind"])
        theme = query_text(params, "theme", max_length=60)
        if theme:
            rows = rows.filter(theme=theme)
        region_id = _int(params.get("region"))
        if region_id is not None:
            region = Region.objects.filter(pk=region_id).first()
            rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
        return rows.order_by("kind", "region__path", "theme")

    @extend_schema(
        tags=TAGS,
        operation_id="industry_designation_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=DesignationKind.values),
            OpenApiParameter("theme", OpenApiTypes.STR, description="主题或发展类型代码"),
            OpenApiParameter("region", OpenApiTypes.INT, description="区域 id（含其下级）"),
        ],
        summary="特色乡镇、特色村与村庄发展类型",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_designation_add",
        parameters=[IDEMPOTENCY_HEADER],
        request=DesignationIn,
        responses={201: DesignationOut},
        summary="新增命名（县管理员）",
    )
    def post(self, request: Request) -> Response:
        if not access.can_manage_chains(request.user):
            raise NotFound(_("未找到该页面，或者您没有权限。"))
        serializer = DesignationIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        region = Region.objects.filter(
            governance_access.scope_q(request.user, "path", access.COUNTY_ROLES), pk=data["region"]
        ).first()
        if region is None:
            raise DomainError("region_required", _("请选择区域。"), field="region")
        designation = services.designation_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            region=region,
            kind=data["kind"],
            theme=data["theme"],
            designated_year=data["designated_year"],
            note=data["note"],
        )
        return Response(DesignationOut(designation).data, status=status.HTTP_201_CREATED)


class DesignationDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_designation_detail", responses={200: DesignationOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(DesignationOut(selectors.designation_get_visible(request.user, id)).data)

    @extend_schema(
        tags=TAGS, operation_id="industry_designation_remove", responses={204: None}, summary="取消命名"
    )
    def delete(self, request: Request, id: int) -> Response:
        designation = selectors.designation_get_visible(request.user, id)
        if not access.can_manage_chains(request.user):
            raise NotFound(selectors.DESIGNATION_NOT_FOUND)
        services.designation_remove(actor=request.user, designation=designation)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern] = [
    path("designations/", DesignationListApi.as_view(), name="designation_list"),
    path("designations/<int:id>/", DesignationDetailApi.as_view(), name="designation_detail"),
]
