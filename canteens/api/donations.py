"""REST API of the donations area of canteens (mounted under /api/v1/canteens/).

The donation funds a caller may see (their canteens' and their townships'), a fund's movements with the
running balance, and recording a donation to a fund (exactly once per caller and key: body
`idempotency_key` or the `Idempotency-Key` header). Anything out of scope answers 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canteens.models import DonationKind, DonorKind
from canteens.selectors import funds as selectors
from canteens.services import funds as services
from common.idempotency import idempotency_key_from

TAGS = ["canteens-donations"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class FundOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    site = serializers.IntegerField(source="site_id", allow_null=True)
    township = serializers.IntegerField(source="township_id", allow_null=True)
    balance_fen = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class MovementOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    amount_fen = serializers.IntegerField()
    balance_fen = serializers.IntegerField(help_text="该笔之后的余额（分）")
    memo = serializers.CharField()
    donation = serializers.IntegerField(source="donation_id", allow_null=True)
    meal = serializers.IntegerField(source="meal_id", allow_null=True)
    created_at = serializers.DateTimeField()


class DonationIn(serializers.Serializer):
    donor_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    donor_kind = serializers.ChoiceField(choices=DonorKind.choices)
    kind = serializers.ChoiceField(choices=DonationKind.choices)
    amount_fen = serializers.IntegerField()
    received_on = serializers.DateField()
    receipt_number = serializers.CharField(max_length=30, allow_blank=True)
    purpose = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    goods_description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_public = serializers.BooleanField(required=False, default=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class DonationOut(serializers.Serializer):
    id = serializers.IntegerField()
    fund = serializers.IntegerField(source="fund_id")
    donor_name = serializers.CharField()
    donor_kind = serializers.CharField()
    kind = serializers.CharField()
    amount_fen = serializers.IntegerField()
    goods_description = serializers.CharField()
    received_on = serializers.DateField()
    purpose = serializers.CharField()
    receipt_number = serializers.CharField()
    is_public = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class FundsApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="canteens_funds_list", responses={200: FundOut(many=True)}, summary="捐赠资金"
    )
    def get(self, request: Request) -> Response:
        return Response(FundOut(selectors.funds_visible(request.user).order_by("id"), many=True).data)


class FundDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_fund_detail", responses={200: FundOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(FundOut(selectors.fund_get_visible(request.user, id)).data)


class FundMovementsApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_fund_movements",
        responses={200: MovementOut(many=True)},
        summary="资金流水（最新 200 笔，含每笔后的余额）",
    )
    def get(self, request: Request, id: int) -> Response:
        fund = selectors.fund_get_visible(request.user, id)
        return Response(MovementOut(selectors.fund_movements(fund), many=True).data)


class FundDonationsApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_fund_donation_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=DonationIn,
        responses={201: DonationOut},
        summary="登记捐赠（资金或物资），计入该捐赠资金",
    )
    def post(self, request: Request, id: int) -> Response:
        fund = selectors.fund_get_visible(request.user, id)
        data = _valid(DonationIn, request.data)
        donation = services.donation_record(
            actor=request.user,
            idempotency_key=data["idempotency_key"] or idempotency_key_from(request),
            fund=fund,
            donor_name=data["donor_name"],
            donor_kind=data["donor_kind"],
            kind=data["kind"],
            amount_fen=data["amount_fen"],
            received_on=data["received_on"],
            receipt_number=data["receipt_number"],
            purpose=data["purpose"],
            goods_description=data["goods_description"],
            is_public=data["is_public"],
        )
        return Response(DonationOut(donation).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern | URLResolver] = [
    path("donation-funds/", FundsApi.as_view(), name="funds"),
    path("donation-funds/<int:id>/", FundDetailApi.as_view(), name="fund_detail"),
    path("donation-funds/<int:id>/movements/", FundMovementsApi.as_view(), name="fund_movements"),
    path("donation-funds/<int:id>/donations/", FundDonationsApi.as_view(), name="fund_donations"),
]
