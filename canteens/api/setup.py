"""REST API of the setup area of canteens (mounted under /api/v1/canteens/).

- GET tiers/: the county's subsidy tiers (county-wide).
- GET sites/{id}/enrolments/ (`status` open | ended | all, `tier`, `q` name or ID tail; paginated) and
  POST sites/{id}/enrolments/ (whoever runs the canteen; eligibility checked from the resident record).
- GET enrolments/{id}/ and POST enrolments/{id}/end/.
- GET sites/{id}/rules/ and POST sites/{id}/rules/ (township or county admin; a rule whose shares do not
  add up is refused with canteens.split's message); GET rules/{id}/, POST rules/{id}/end/.
- POST rules/preview/: the split of one meal under the given rule, nothing written.
Every create is exactly once per (caller, key): `idempotency_key` in the body or the `Idempotency-Key`
header. Out of scope answers 404, like a missing id. Residents appear with their ID number masked.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from canteens import access
from canteens.api.sites import IDEMPOTENCY_HEADER
from canteens.models import Enrolment, Funder, GovernmentLevel, PriceRule, SiteKind, SlotKind, SubsidyTier
from canteens.selectors import enrolments as enrolment_selectors
from canteens.selectors import rules as rule_selectors
from canteens.services import enrolments as enrolment_services
from canteens.services import rules as rule_services
from canteens.split import Share
from common.errors import NotFound
from common.idempotency import idempotency_key_from

TAGS = ["canteens-setup"]


class TierOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    min_age = serializers.IntegerField(allow_null=True)
    max_age = serializers.IntegerField(allow_null=True)
    tag = serializers.CharField()
    is_active = serializers.BooleanField()


class EnrolmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    resident = serializers.IntegerField(source="resident_id")
    resident_name = serializers.CharField(source="resident.name")
    id_number = serializers.CharField(source="resident.id_number_masked", help_text="身份证号（脱敏）")
    tier = serializers.IntegerField(source="tier_id")
    tier_name = serializers.CharField(source="tier.name")
    basis = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()
    card_code = serializers.CharField()


class EnrolmentIn(serializers.Serializer):
    resident = serializers.IntegerField()
    tier = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class EnrolmentEndIn(serializers.Serializer):
    ends_on = serializers.DateField()
    reason = serializers.CharField(max_length=100, allow_blank=True)


class ShareIO(serializers.Serializer):
    funder = serializers.ChoiceField(choices=Funder.choices)
    fixed_fen = serializers.IntegerField(required=False, allow_null=True, default=None)
    share_bp = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="比例，万分之（6000 = 60%）"
    )
    cap_fen = serializers.IntegerField(required=False, allow_null=True, default=None)


class RuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField(source="site_id")
    tier = serializers.IntegerField(source="tier_id", allow_null=True, help_text="空为非登记就餐")
    slot = serializers.CharField(help_text="空为全部餐次")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    price_fen = serializers.IntegerField()
    government_level = serializers.CharField()
    remainder_funder = serializers.CharField()
    donation_fallback = serializers.CharField()
    shares = serializers.SerializerMethodField()
    split = serializers.SerializerMethodField(help_text="一餐的分摊（分）")

    def get_shares(self, obj: PriceRule) -> list[dict[str, Any]]:
        return [s.__dict__ for s in rule_selectors.price_rule_shares(obj)]

    def get_split(self, obj: PriceRule) -> dict[str, int]:
        parts, _short = rule_services.split_preview(
            price_fen=obj.price_fen,
            shares=rule_selectors.price_rule_shares(obj),
            remainder_funder=obj.remainder_funder,
            donation_fallback=obj.donation_fallback,
        )
        return parts


class RuleIn(serializers.Serializer):
    tier = serializers.IntegerField(required=False, allow_null=True, default=None)
    slot = serializers.ChoiceField(choices=[("", "全部"), *SlotKind.choices], required=False, default="")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True, default=None)
    price_fen = serializers.IntegerField()
    shares = ShareIO(many=True)
    remainder_funder = serializers.ChoiceField(choices=Funder.choices, default=Funder.COMMUNITY)
    donation_fallback = serializers.ChoiceField(choices=Funder.choices, default=Funder.COMMUNITY)
    government_level = serializers.ChoiceField(
        choices=GovernmentLevel.choices, default=GovernmentLevel.COUNTY
    )
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class PreviewIn(serializers.Serializer):
    price_fen = serializers.IntegerField()
    shares = ShareIO(many=True)
    remainder_funder = serializers.ChoiceField(choices=Funder.choices, default=Funder.COMMUNITY)
    donation_fallback = serializers.ChoiceField(choices=Funder.choices, default=Funder.COMMUNITY)
    donation_available_fen = serializers.IntegerField(required=False, allow_null=True, default=None)


class PreviewOut(serializers.Serializer):
    split = serializers.DictField(child=serializers.IntegerField())
    shortfall_fen = serializers.IntegerField()


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _shares(rows: list[dict[str, Any]]) -> list[Share]:
    return [Share(r["funder"], r["fixed_fen"], r["share_bp"], r["cap_fen"]) for r in rows]


def _canteen_runnable(request: Request, site_id: int) -> Any:
    site = access.site_get_runnable(request.user, site_id)
    if site.kind != SiteKind.CANTEEN:
        raise NotFound(access.NOT_FOUND_MESSAGE)
    return site


class TierListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_tier_list", responses={200: TierOut(many=True)})
    def get(self, request: Request) -> Response:
        return Response(TierOut(SubsidyTier.objects.all(), many=True).data)


class EnrolmentListApi(generics.ListAPIView):
    serializer_class = EnrolmentOut
    queryset = Enrolment.objects.none()  # for the schema; get_queryset gives the canteen's

    def get_queryset(self) -> QuerySet[Enrolment]:
        site = access.site_get_runnable(self.request.user, self.kwargs["id"])
        if site.kind != SiteKind.CANTEEN:
            return Enrolment.objects.none()
        params = self.request.query_params
        # NUL characters dropped: PostgreSQL cannot hold them in a string (the query failed, a 500).
        status_param = params.get("status", "open").replace("\x00", "")
        tier = params.get("tier")
        return enrolment_selectors.enrolments_list(
            site,
            status="" if status_param == "all" else status_param,
            # ASCII digits only: "²".isdigit() is true, int("²") fails.
            tier_id=int(tier) if tier and tier.isascii() and tier.isdigit() else None,
            q=params.get("q", "").replace("\x00", ""),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_enrolment_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "ended", "all"]),
            OpenApiParameter("tier", OpenApiTypes.INT),
            OpenApiParameter("q", OpenApiTypes.STR, description="姓名或身份证后四位"),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_enrolment_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=EnrolmentIn,
        responses={201: EnrolmentOut},
        summary="登记就餐老人（按居民档案核对资格）",
    )
    def post(self, request: Request, id: int) -> Response:
        site = _canteen_runnable(request, id)
        data = _valid(EnrolmentIn, request.data)
        resident = enrolment_selectors.resident_for_enrolment(site, data["resident"])
        tier = SubsidyTier.objects.filter(pk=data["tier"]).first()
        if tier is None:
            raise NotFound(_("未找到该补贴档次。"))
        enrolment = enrolment_services.enrolment_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            site=site,
            resident=resident,
            tier=tier,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
        return Response(EnrolmentOut(enrolment).data, status=status.HTTP_201_CREATED)


class EnrolmentDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_enrolment_detail", responses={200: EnrolmentOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(EnrolmentOut(enrolment_selectors.enrolment_get_runnable(request.user, id)).data)


class EnrolmentEndApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_enrolment_end",
        request=EnrolmentEndIn,
        responses={200: EnrolmentOut},
        summary="结束就餐登记",
    )
    def post(self, request: Request, id: int) -> Response:
        enrolment = enrolment_selectors.enrolment_get_runnable(request.user, id)
        data = _valid(EnrolmentEndIn, request.data)
        enrolment = enrolment_services.enrolment_end(
            actor=request.user, enrolment=enrolment, ends_on=data["ends_on"], reason=data["reason"]
        )
        return Response(EnrolmentOut(enrolment).data)


class RuleListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_rule_list", responses={200: RuleOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        return Response(RuleOut(rule_selectors.price_rules_for_site(site), many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="canteens_rule_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=RuleIn,
        responses={201: RuleOut},
        summary="新增餐价与分担规则（乡镇、县管理员）",
    )
    def post(self, request: Request, id: int) -> Response:
        site = access.site_get_visible(request.user, id)
        if not access.can_create_site(request.user, site.region.path):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        data = _valid(RuleIn, request.data)
        tier = None
        if data["tier"] is not None:
            tier = SubsidyTier.objects.filter(pk=data["tier"]).first()
            if tier is None:
                raise NotFound(_("未找到该补贴档次。"))
        rule = rule_services.price_rule_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            site=site,
            tier=tier,
            slot=data["slot"],
            effective_from=data["effective_from"],
            effective_to=data["effective_to"],
            price_fen=data["price_fen"],
            shares=_shares(data["shares"]),
            remainder_funder=data["remainder_funder"],
            donation_fallback=data["donation_fallback"],
            government_level=data["government_level"],
        )
        return Response(RuleOut(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="canteens_rule_detail", responses={200: RuleOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(RuleOut(rule_selectors.price_rule_get(request.user, id)).data)


class RuleEndIn(serializers.Serializer):
    effective_to = serializers.DateField()


class RuleEndApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_rule_end",
        request=RuleEndIn,
        responses={200: RuleOut},
        summary="设失效日期",
    )
    def post(self, request: Request, id: int) -> Response:
        rule = rule_selectors.price_rule_get(request.user, id)
        if not access.can_create_site(request.user, rule.site.region.path):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        data = _valid(RuleEndIn, request.data)
        rule = rule_services.price_rule_end(actor=request.user, rule=rule, effective_to=data["effective_to"])
        return Response(RuleOut(rule).data)


class RulePreviewApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="canteens_rule_preview",
        request=PreviewIn,
        responses={200: PreviewOut},
        summary="预览一餐的分摊（不保存）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PreviewIn, request.data)
        parts, shortfall = rule_services.split_preview(
            price_fen=data["price_fen"],
            shares=_shares(data["shares"]),
            remainder_funder=data["remainder_funder"],
            donation_fallback=data["donation_fallback"],
            donation_available_fen=data["donation_available_fen"],
        )
        return Response({"split": parts, "shortfall_fen": shortfall})


urlpatterns: list[URLPattern | URLResolver] = [
    path("tiers/", TierListApi.as_view(), name="tier_list"),
    path("sites/<int:id>/enrolments/", EnrolmentListApi.as_view(), name="enrolment_list"),
    path("enrolments/<int:id>/", EnrolmentDetailApi.as_view(), name="enrolment_detail"),
    path("enrolments/<int:id>/end/", EnrolmentEndApi.as_view(), name="enrolment_end"),
    path("sites/<int:id>/rules/", RuleListApi.as_view(), name="rule_list"),
    path("rules/preview/", RulePreviewApi.as_view(), name="rule_preview"),
    path("rules/<int:id>/", RuleDetailApi.as_view(), name="rule_detail"),
    path("rules/<int:id>/end/", RuleEndApi.as_view(), name="rule_end"),
]
