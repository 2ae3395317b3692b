"""REST API of the assessment area of grids (mounted under /api/v1/grids/): the assessment table of a
region one level down, its total and the heat map by grid, inside the caller's scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from grids.selectors import assessment as selectors

TAGS = ["grids-assessment"]


@extend_schema_field({"type": "string", "enum": list(selectors.HEAT_MODES)})
class HeatModeField(serializers.ChoiceField):
    pass


@extend_schema_field({"type": "string", "enum": list(selectors.HEAT_GRAINS)})
class GrainField(serializers.ChoiceField):
    pass


@extend_schema_field({"type": "string", "enum": list(selectors.SORTS)})
class SortField(serializers.ChoiceField):
    pass


class AssessmentQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=_("开始日期（含），默认今年1月1日"))
    date_to = serializers.DateField(required=False, help_text=_("结束日期（含），默认今天"))
    region = serializers.IntegerField(required=False, help_text=_("查看的区域编号，默认本人管辖区域"))
    category = serializers.IntegerField(required=False, help_text=_("类别编号（含其子类）"))
    heat = HeatModeField(choices=list(selectors.HEAT_MODES), required=False, default="count")
    grain = GrainField(choices=list(selectors.HEAT_GRAINS), required=False, default="")
    sort = SortField(choices=list(selectors.SORTS), required=False, default="name")


class TallySerializer(serializers.Serializer):
    filed = serializers.IntegerField(help_text=_("上报件数"))
    signed = serializers.IntegerField(help_text=_("已签收（有签收期限）"))
    signed_on_time = serializers.IntegerField(help_text=_("按时签收"))
    sign_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        coerce_to_string=False,
        help_text=_("按时签收率（%）"),
    )
    resolved = serializers.IntegerField(help_text=_("已办结（有办结期限）"))
    resolved_on_time = serializers.IntegerField(help_text=_("按时办结"))
    resolve_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        coerce_to_string=False,
        help_text=_("按时办结率（%）"),
    )
    followed_up = serializers.IntegerField(help_text=_("已回访"))
    satisfied = serializers.IntegerField(help_text=_("满意及基本满意"))
    satisfaction_rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, coerce_to_string=False, help_text=_("满意率（%）")
    )
    rehandle_base = serializers.IntegerField(help_text=_("办结过的诉求"))
    rehandled = serializers.IntegerField(help_text=_("发回重办过的诉求"))
    rehandle_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        coerce_to_string=False,
        help_text=_("发回重办率（%）"),
    )
    overdue = serializers.IntegerField(help_text=_("超期件数"))


class AssessmentRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("区域编号"))
    name = serializers.CharField()
    level = serializers.CharField()
    leader = serializers.CharField(help_text=_("现任网格长（网格行）"))
    tally = TallySerializer()


class HeatCellSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("网格（或村）编号"))
    name = serializers.CharField()
    level = serializers.CharField()
    filed = serializers.IntegerField()
    overdue = serializers.IntegerField()
    step = serializers.IntegerField(allow_null=True, help_text=_("颜色档位 0–5；无诉求为空"))


class HeatBlockSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("村（或乡镇）编号"))
    name = serializers.CharField()
    township = serializers.CharField(help_text=_("所属乡镇（村的格块）"))
    cells = HeatCellSerializer(many=True)


class AssessmentRootSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()


class AssessmentOutputSerializer(serializers.Serializer):
    root = AssessmentRootSerializer(allow_null=True)
    level = serializers.CharField(allow_null=True, help_text=_("各行的区域层级"))
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    total = TallySerializer()
    results = AssessmentRowSerializer(many=True)
    heat_mode = serializers.CharField()
    heat_grain = serializers.CharField(help_text=_("grid：每网格一格；village：每村一格"))
    heat_max = serializers.IntegerField()
    heat = HeatBlockSerializer(many=True)


def _tally_data(tally: selectors.Tally) -> dict[str, int | Decimal | None]:
    return {
        "filed": tally.filed,
        "signed": tally.signed,
        "signed_on_time": tally.signed_on_time,
        "sign_rate": tally.sign_rate,
        "resolved": tally.resolved,
        "resolved_on_time": tally.resolved_on_time,
        "resolve_rate": tally.resolve_rate,
        "followed_up": tally.followed_up,
        "satisfied": tally.satisfied,
        "satisfaction_rate": tally.satisfaction_rate,
        "rehandle_base": tally.rehandle_base,
        "rehandled": tally.rehandled,
        "rehandle_rate": tally.rehandle_rate,
        "overdue": tally.overdue,
    }


class AssessmentApi(APIView):
    """The assessment of a region one level down (county → townships → villages → grids with their grid
    leaders): cases filed and the four rates per row, the total, and the heat map by grid. Rates are
    percentages with one decimal, null when nothing can be rated. A role that does not assess case
    handling (a canteen manager, a mediator) gets an empty report: deny by default."""

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
            OpenApiParameter("region", int),
            OpenApiParameter("category", int),
            OpenApiParameter("heat", str, enum=list(selectors.HEAT_MODES)),
            OpenApiParameter(
                "grain",
                str,
                enum=list(selectors.HEAT_GRAINS),
                description="默认：全县每村一格，其下每网格一格",
            ),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
        ],
        responses=AssessmentOutputSerializer,
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        given = AssessmentQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        default_from, default_to = selectors.default_range()
        category = None
        if data.get("category"):
            category = selectors.assessment_category_get(category_id=data["category"])
            if category is None:
                raise DomainError("category_not_found", _("没有这个类别。"), field="category")
        report = selectors.assessment_report(
            user=request.user,
            filters=selectors.AssessmentFilters(
                date_from=data.get("date_from") or default_from,
                date_to=data.get("date_to") or default_to,
                region_id=data.get("region"),
                category=category,
                heat_mode=data["heat"],
                heat_grain=data["grain"],
                sort=data["sort"],
            ),
        )
        body: dict[str, Any] = {
            "root": (
                {"id": report.root.pk, "name": report.root.name, "level": report.root.level}
                if report.root is not None
                else None
            ),
            "level": report.child_level,
            "date_from": report.date_from,
            "date_to": report.date_to,
            "total": _tally_data(report.total),
            "results": [
                {
                    "id": row.region_id,
                    "name": row.name,
                    "level": row.level,
                    "leader": row.leader,
                    "tally": _tally_data(row.tally),
                }
                for row in report.rows
            ],
            "heat_mode": report.heat_mode,
            "heat_grain": report.heat_grain,
            "heat_max": report.heat_max,
            "heat": [
                {
                    "id": block.region_id,
                    "name": block.name,
                    "township": block.parent,
                    "cells": [
                        {
                            "id": cell.region_id,
                            "name": cell.name,
                            "level": cell.level,
                            "filed": cell.tally.filed,
                            "overdue": cell.tally.overdue,
                            "step": cell.step,
                        }
                        for cell in block.cells
                    ],
                }
                for block in report.heat
            ],
        }
        return Response(AssessmentOutputSerializer(body).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("assessment/", AssessmentApi.as_view(), name="assessment"),
]
