"""REST API of the board area of points (mounted under /api/v1/points/): the public 积分公示榜, no log-in.

    GET  board/{code}/                                the board of the village with statistical code
                                                      `code` (?month=YYYY-MM, ?page=N of the ranking)
    POST board/objections/                            {village_code, award_id, reason, contact_name,
                                                      contact_phone, idempotency_key}: file an
                                                      objection (异议) to an award on that board

No personal data: households by number and the head's masked name (张*明). The objection is limited per
client address and award; a replay with the same idempotency key answers the first objection.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.audit import client_ip
from points.selectors import board as board_selectors
from points.services import board as board_services

TAGS = ["points-board"]


class BoardHouseholdOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text=_("名次（积分相同名次相同）"))
    number = serializers.CharField(help_text=_("户号"))
    name = serializers.CharField(help_text=_("户主姓名（部分遮挡）"))
    grid = serializers.CharField()
    balance = serializers.IntegerField(help_text=_("可用积分"))
    pending = serializers.IntegerField(help_text=_("公示中积分"))


class BoardAwardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household_number = serializers.CharField()
    household_name = serializers.CharField(help_text=_("户主姓名（部分遮挡）"))
    resident_name = serializers.CharField(help_text=_("当事人姓名（部分遮挡）"))
    grid = serializers.CharField()
    rule_code = serializers.CharField()
    rule_name = serializers.CharField()
    category = serializers.CharField()
    points = serializers.IntegerField()
    occurred_on = serializers.DateField()
    notice_ends_at = serializers.DateTimeField(allow_null=True)
    posted_at = serializers.DateTimeField(allow_null=True)
    open_objections = serializers.IntegerField()


class BoardHonourOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    grid = serializers.CharField()
    points = serializers.IntegerField()


class BoardOutputSerializer(serializers.Serializer):
    village = serializers.CharField(source="village.name")
    village_code = serializers.CharField(source="village.code")
    township = serializers.CharField(source="township_name")
    month = serializers.DateField(help_text=_("所示月份的第一天"))
    household_count = serializers.IntegerField()
    page = serializers.IntegerField(source="households.number")
    pages = serializers.IntegerField(source="households.paginator.num_pages")
    households = BoardHouseholdOutputSerializer(many=True, source="households.object_list")
    pending = BoardAwardOutputSerializer(many=True)
    posted = BoardAwardOutputSerializer(many=True)
    posted_count = serializers.IntegerField()
    posted_points = serializers.IntegerField()
    honour = BoardHonourOutputSerializer(many=True)


class BoardGetApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        tags=TAGS,
        operation_id="points_board_get",
        parameters=[
            OpenApiParameter("month", str, description=_("月份，如 2026-05；默认本月")),
            OpenApiParameter("page", int, description=_("排行榜页码")),
        ],
        responses={200: BoardOutputSerializer},
        summary=_("村（社区）积分公示榜（公开，无需登录）"),
    )
    def get(self, request: Request, code: str) -> Response:
        board = board_selectors.board_get(
            code=code,
            month=board_selectors.board_month_parse(request.query_params.get("month")),
            page=request.query_params.get("page") or 1,
        )
        return Response(BoardOutputSerializer(board).data)


class ObjectionFileInputSerializer(serializers.Serializer):
    village_code = serializers.CharField(label=_("村（社区）统计用区划代码"), max_length=15)
    award_id = serializers.IntegerField(label=_("公示中的积分编号"))
    reason = serializers.CharField(label=_("异议理由"), max_length=500, allow_blank=True)
    contact_name = serializers.CharField(label=_("联系人"), max_length=30, required=False, allow_blank=True)
    contact_phone = serializers.CharField(
        label=_("联系电话"), max_length=20, required=False, allow_blank=True
    )
    idempotency_key = serializers.CharField(label=_("防重复提交标识"), max_length=64)


class ObjectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    award_id = serializers.IntegerField()
    status = serializers.CharField()
    contact_phone = serializers.CharField(source="contact_phone_masked", help_text=_("联系电话（已遮挡）"))
    created_at = serializers.DateTimeField()


class BoardObjectionFileApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        tags=TAGS,
        operation_id="points_board_objection_file",
        request=ObjectionFileInputSerializer,
        responses={201: ObjectionOutputSerializer},
        summary=_("对公示中的积分提出异议（公开，无需登录）"),
    )
    def post(self, request: Request) -> Response:
        data = ObjectionFileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = board_services.board_objection_file(
            village_code=data.validated_data["village_code"],
            award_id=data.validated_data["award_id"],
            reason=data.validated_data["reason"],
            contact_name=data.validated_data.get("contact_name", ""),
            contact_phone=data.validated_data.get("contact_phone", ""),
            client_ip=client_ip(request._request),
            idempotency_key=data.validated_data["idempotency_key"],
        )
        return Response(ObjectionOutputSerializer(objection).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    # Before board/<code>/: "objections" is not a village code.
    path("board/objections/", BoardObjectionFileApi.as_view(), name="board_objection_file"),
    path("board/<str:code>/", BoardGetApi.as_view(), name="board"),
]
