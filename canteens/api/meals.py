"""REST API of the meals area of canteens (mounted under /api/v1/canteens/).

POST meals/ is the counter's check-in, exactly once per (caller, key): the key in the body
(`idempotency_key`) or the `Idempotency-Key` header; a replay answers the first meal, another body 409.
It answers from the service's result, without another query. Meals are readable by whoever may see the
canteen; corrections are asked for and decided on the meal (one open correction per meal).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canteens.models import CorrectionStatus, Meal, MealCorrection, ServiceMode, SlotKind, VerifyMethod
from canteens.selectors import meals as selectors
from canteens.services import meals as services
from common.errors import Conflict, DomainError
from common.idempotency import idempotency_key_from

TAGS = ["canteens-meals"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


class MealIn(serializers.Serializer):
    site = serializers.IntegerField(min_value=1)
    slot = serializers.ChoiceField(choices=SlotKind.choices)
    served_on = serializers.DateField()
    resident = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    verified_by = serializers.ChoiceField(choices=VerifyMethod.choices, required=False, default="")
    mode = serializers.ChoiceField(choices=ServiceMode.choices, required=False, default=ServiceMode.DINE_IN)
    deliverer = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    deliverer_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    is_guest = serializers.BooleanField(required=False, default=False)
    guest_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class MealOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField()
    served_on = serializers.DateField()
    slot = serializers.CharField()
    resident = serializers.IntegerField(allow_null=True)
    resident_name = serializers.CharField()
    is_guest = serializers.BooleanField()
    guest_name = serializers.CharField()
    tier = serializers.IntegerField(allow_null=True)
    verified_by = serializers.CharField()
    mode = serializers.CharField()
    price_fen = serializers.IntegerField()
    resident_fen = serializers.IntegerField()
    government_fen = serializers.IntegerField()
    government_level = serializers.CharField()
    community_fen = serializers.IntegerField()
    donation_fen = serializers.IntegerField()
    donation_shortfall_fen = serializers.IntegerField()
    reverses = serializers.IntegerField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField()
    created_at = serializers.DateTimeField()


class CorrectionIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class DecisionIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CorrectionOut(serializers.Serializer):
    id = serializers.IntegerField()
    meal = serializers.IntegerField(source="meal_id")
    reason = serializers.CharField()
    status = serializers.CharField()
    reversal = serializers.IntegerField(source="reversal_id", allow_null=True)
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# The check-in's parser (the counter's hot path): one MealIn built at import. A serializer instance
# deep-copies its declared fields when first used, which costs more than everything else the check-in
# does in Python; run_validation keeps no state on the instance (is_valid is what stores the data and
# the errors), so one instance serves every request and thread. Same answers as _valid(MealIn, data):
# the validated data, or ValidationError with the errors by field (400).
_MEAL_IN = MealIn()


def _meal_in(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return _valid(MealIn, data)  # a body that is not an object: is_valid's own message
    return dict(_MEAL_IN.run_validation(data))


_DATETIME = serializers.DateTimeField()


def result_out(result: services.MealResult) -> dict[str, Any]:
    """MealOut's shape from the service's MealResult (no query)."""
    return {
        "id": result.id,
        "site": result.site_id,
        "served_on": result.served_on.isoformat(),
        "slot": result.slot,
        "resident": result.resident_id,
        "resident_name": result.resident_name,
        "is_guest": result.is_guest,
        "guest_name": result.guest_name,
        "tier": result.tier_id,
        "verified_by": result.verified_by,
        "mode": result.mode,
        "price_fen": result.price_fen,
        "resident_fen": result.resident_fen,
        "government_fen": result.government_fen,
        "government_level": result.government_level,
        "community_fen": result.community_fen,
        "donation_fen": result.donation_fen,
        "donation_shortfall_fen": result.donation_shortfall_fen,
        "reverses": None,
        "voided_at": None,
        "warning": result.warning,
        "created_at": _DATETIME.to_representation(result.created_at),
    }


def meal_out(meal: Meal) -> dict[str, Any]:
    return {
        "id": meal.pk,
        "site": meal.site_id,
        "served_on": meal.served_on.isoformat(),
        "slot": meal.slot,
        "resident": meal.resident_id,
        "resident_name": meal.resident.name if meal.resident_id and meal.resident else "",
        "is_guest": meal.is_guest,
        "guest_name": meal.guest_name,
        "tier": meal.tier_id,
        "verified_by": meal.verified_by,
        "mode": meal.mode,
        "price_fen": meal.price_fen,
        "resident_fen": meal.resident_fen,
        "government_fen": meal.government_fen,
        "government_level": meal.government_level,
        "community_fen": meal.community_fen,
        "donation_fen": meal.donation_fen,
        "donation_shortfall_fen": meal.donation_shortfall_fen,
        "reverses": meal.reverses_id,
        "voided_at": _DATETIME.to_representation(meal.voided_at) if meal.voided_at else None,
        "warning": services.shortfall_warning(meal.donation_shortfall_fen, meal.rule.donation_fallback)
        if meal.donation_shortfall_fen > 0 and meal.rule is not None
        else "",
        "created_at": _DATETIME.to_representation(meal.created_at),
    }


class MealsApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_meals_list",
        parameters=[
            OpenApiParameter("site", OpenApiTypes.INT, required=False, description="食堂"),
            OpenApiParameter("date", OpenApiTypes.DATE, required=False, description="就餐日期"),
            OpenApiParameter(
                "slot", OpenApiTypes.STR, required=False, enum=SlotKind.values, description="餐次"
            ),
        ],
        responses={200: MealOut(many=True)},
        summary="就餐记录（本人可见的食堂，最多 500 条）",
    )
    def get(self, request: Request) -> Response:
        raw_day = request.query_params.get("date") or ""
        day = parse_date(raw_day) if raw_day else None
        if raw_day and day is None:
            raise DomainError("bad_date", _("日期格式不对，例如 2026-03-08。"), field="date")
        site = request.query_params.get("site") or None
        if site is not None and not site.isdigit():
            raise DomainError("bad_site", _("请选择食堂。"), field="site")
        meals = selectors.meals_list(
            request.user, site_id=site, day=day, slot=request.query_params.get("slot", "")
        )
        return Response([meal_out(meal) for meal in meals[:500]])

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_meal_checkin",
        parameters=[IDEMPOTENCY_HEADER],
        request=MealIn,
        responses={201: MealOut},
        summary="就餐登记：按补贴规则分摊餐费（捐赠不足时由兜底方补足并提示）",
    )
    def post(self, request: Request) -> Response:
        data = _meal_in(request.data)
        result = services.meal_checkin(
            actor=request.user,
            idempotency_key=data["idempotency_key"] or idempotency_key_from(request),
            site_id=data["site"],
            slot=data["slot"],
            served_on=data["served_on"],
            resident_id=data["resident"],
            verified_by=data["verified_by"],
            mode=data["mode"],
            deliverer_id=data["deliverer"],
            deliverer_name=data["deliverer_name"],
            guest_name=data["guest_name"],
            is_guest=data["is_guest"],
        )
        return Response(result_out(result), status=status.HTTP_201_CREATED)


class MealDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_meal_detail", responses={200: MealOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(meal_out(selectors.meal_get_visible(request.user, id)))


class MealCorrectionsApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_meal_correction_request",
        parameters=[IDEMPOTENCY_HEADER],
        request=CorrectionIn,
        responses={201: CorrectionOut},
        summary="申请更正（冲正）一条就餐记录",
    )
    def post(self, request: Request, id: int) -> Response:
        meal = selectors.meal_get_visible(request.user, id)
        data = _valid(CorrectionIn, request.data)
        correction = services.meal_correction_request(
            actor=request.user,
            meal=meal,
            reason=data["reason"],
            idempotency_key=data["idempotency_key"] or idempotency_key_from(request),
        )
        return Response(CorrectionOut(correction).data, status=status.HTTP_201_CREATED)


def _open_correction(request: Request, meal_id: int) -> MealCorrection:
    meal = selectors.meal_get_visible(request.user, meal_id)
    correction = MealCorrection.objects.filter(meal=meal, status=CorrectionStatus.OPEN).first()
    if correction is None:
        raise Conflict("no_open_correction", _("该就餐记录没有待处理的更正申请。"))
    return correction


class MealCorrectionApplyApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_meal_correction_apply",
        request=None,
        responses={200: MealOut},
        summary="同意更正：写入冲正记录并退回捐赠列支，返回冲正记录",
    )
    def post(self, request: Request, id: int) -> Response:
        correction = _open_correction(request, id)
        reversal = services.meal_correction_apply(actor=request.user, correction=correction)
        return Response(meal_out(reversal))


class MealCorrectionRejectApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_meal_correction_reject",
        request=DecisionIn,
        responses={200: CorrectionOut},
        summary="驳回更正申请",
    )
    def post(self, request: Request, id: int) -> Response:
        correction = _open_correction(request, id)
        data = _valid(DecisionIn, request.data)
        rejected = services.meal_correction_reject(
            actor=request.user, correction=correction, reason=data["reason"]
        )
        return Response(CorrectionOut(rejected).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("meals/", MealsApi.as_view(), name="meals"),
    path("meals/<int:id>/", MealDetailApi.as_view(), name="meal_detail"),
    path("meals/<int:id>/corrections/", MealCorrectionsApi.as_view(), name="meal_corrections"),
    path("meals/<int:id>/correction-apply/", MealCorrectionApplyApi.as_view(), name="meal_correction_apply"),
    path(
        "meals/<int:id>/correction-reject/", MealCorrectionRejectApi.as_view(), name="meal_correction_reject"
    ),
]
