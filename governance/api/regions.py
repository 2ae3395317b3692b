"""REST API for the regions area of the spine (mounted under /api/v1/governance/).

Every answer is inside the caller's scope; a region outside it answers 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import Region, RegionLevel
from governance.selectors import regions as region_selectors
from governance.selectors.regions import RegionCounts


class RegionOutputSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display")
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Region
        fields = ["id", "name", "level", "level_label", "kind", "kind_label", "code", "parent_id", "path"]
        read_only_fields = fields


class RegionCountsOutputSerializer(serializers.Serializer):
    households = serializers.IntegerField(help_text=_("在册户数"))
    residents = serializers.IntegerField(help_text=_("在籍居民数（含外出务工）"))
    party_members = serializers.IntegerField(help_text=_("党员数（正式党员和预备党员）"))
    grid_leaders = serializers.IntegerField(help_text=_("在任百户网格长数"))


class RegionAncestorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()


class RegionDetailOutputSerializer(RegionOutputSerializer):
    counts = RegionCountsOutputSerializer(help_text=_("该区域全部下级范围内的合计"))
    ancestors = RegionAncestorOutputSerializer(many=True, help_text=_("管辖范围内的上级区域，自上而下"))
    children_count = serializers.IntegerField()

    class Meta(RegionOutputSerializer.Meta):
        fields = [*RegionOutputSerializer.Meta.fields, "counts", "ancestors", "children_count"]
        read_only_fields = fields


class RegionChildOutputSerializer(RegionOutputSerializer):
    counts = RegionCountsOutputSerializer()

    class Meta(RegionOutputSerializer.Meta):
        fields = [*RegionOutputSerializer.Meta.fields, "counts"]
        read_only_fields = fields


class RegionFilter(django_filters.FilterSet):
    parent = django_filters.NumberFilter(field_name="parent_id", label=_("上级区域编号：只列其直接下级"))
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label=_("层级"))
    q = django_filters.CharFilter(method="search", label=_("按名称或统计用区划代码前缀查找"))

    class Meta:
        model = Region
        fields = ["parent", "level", "q"]

    def search(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        return queryset.filter(region_selectors.region_search_q(q=value)) if value.strip() else queryset


class RegionListApi(generics.ListAPIView):
    """Regions in the caller's scope in reading order (by path); filter by parent, level or a search."""

    serializer_class = RegionOutputSerializer
    filterset_class = RegionFilter

    def get_queryset(self) -> QuerySet[Region]:
        return region_selectors.region_list_visible(user=self.request.user).order_by("path")

    @extend_schema(tags=["regions"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _counts(counts: RegionCounts) -> dict[str, int]:
    return {
        "households": counts.households,
        "residents": counts.residents,
        "party_members": counts.party_members,
        "grid_leaders": counts.grid_leaders,
    }


class RegionDetailApi(generics.RetrieveAPIView):
    """One region with the counts of its whole subtree and its in-scope ancestors."""

    serializer_class = RegionDetailOutputSerializer
    queryset = Region.objects.none()  # only tells the schema what `id` is; reads go through the selector
    lookup_field = "id"

    @extend_schema(tags=["regions"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = region_selectors.region_node(user=request.user, region_id=kwargs["id"])
        region: Any = node.region
        region.counts = _counts(node.counts)
        region.ancestors = [{"id": a.pk, "name": a.name, "level": a.level} for a in node.ancestors]
        region.children_count = len(node.children)
        return Response(self.get_serializer(region).data)


class RegionChildrenApi(generics.ListAPIView):
    """The direct children of a region (by statistical code), each with the counts of its subtree."""

    serializer_class = RegionChildOutputSerializer
    queryset = Region.objects.none()  # only tells the schema what `id` is; reads go through the selector
    filter_backends: list[Any] = []

    @extend_schema(tags=["regions"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = region_selectors.region_node(user=request.user, region_id=kwargs["id"])
        children: list[Any] = []
        for child in node.children:
            region: Any = child.region
            region.counts = _counts(child.counts)
            children.append(region)
        page = self.paginate_queryset(cast(Any, children))  # a list pages like a queryset
        assert page is not None
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("regions/", RegionListApi.as_view(), name="regions_list"),
    path("regions/<int:id>/", RegionDetailApi.as_view(), name="regions_detail"),
    path("regions/<int:id>/children/", RegionChildrenApi.as_view(), name="regions_children"),
]
