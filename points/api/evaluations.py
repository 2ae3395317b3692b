"""REST API of the evaluations area of points (mounted under /api/v1/points/).

    GET  evaluations/                    the evaluations of the villages in the caller's points scope
    POST evaluations/                    create one (village secretary of the village, or above)
    GET  evaluations/{id}/               one evaluation with its nominations (vote counts) in decision order
    POST evaluations/{id}/nominations/   nominate a current resident of the village
    POST evaluations/{id}/review/        accept or reject a nomination (a rejection needs a reason)
    POST evaluations/{id}/open-voting/   close nominations and open voting
    POST evaluations/{id}/votes/         record the named representatives' votes for one nomination
    POST evaluations/{id}/decide/        decide: the winners are awarded through the award flow

Every POST is exactly once per idempotency key (body `idempotency_key` or the `Idempotency-Key` header):
a replay with the same body answers the first result (header `Idempotent-Replayed: true`), the same key
with another body answers 409 `idempotency_key_reused`. The evaluation of the path is looked up in the
caller's scope before anything else, so an out-of-scope id answers 404 exactly like a missing one; the
services (points.services.evaluations) decide who may act and refuse with Chinese messages. (A grid
leader, whom the service lets nominate the residents of their grid, does not see the village's evaluation
— it lies above their scope — so, as on the pages, they nominate through the village.)
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from common.idempotency import KEY_MAX, idempotent_api_call
from governance.access import AnyUser
from governance.models import Region, RegionLevel, Resident
from points.models import Evaluation, EvaluationStatus, Nomination, NominationStatus, Rule
from points.selectors import evaluations as selectors
from points.services import evaluations as services

TAGS = ["points-evaluations"]


# --- output ----------------------------------------------------------------------------------------


class EvaluationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    village_id = serializers.IntegerField()
    village = serializers.CharField(source="village.name")
    title = serializers.CharField()
    year = serializers.IntegerField()
    rule_code = serializers.CharField(source="rule.code")
    winners_count = serializers.IntegerField()
    status = serializers.CharField(help_text=" | ".join(EvaluationStatus.values))


class NominationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resident = serializers.CharField(source="resident.name")
    household_number = serializers.CharField(source="resident.household.number")
    reason = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(NominationStatus.values))
    votes = serializers.IntegerField(source="vote_count")
    award_id = serializers.IntegerField(allow_null=True)


class EvaluationDetailOutputSerializer(EvaluationOutputSerializer):
    nominations = NominationOutputSerializer(many=True)


class EvaluationDecideOutputSerializer(EvaluationDetailOutputSerializer):
    winners = serializers.ListField(
        child=serializers.IntegerField(), help_text=gettext_lazy("当选提名的编号，按评定顺序")
    )


class VotesOutputSerializer(serializers.Serializer):
    nomination = NominationOutputSerializer()
    representatives = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("本次录入投票的村民代表")
    )


class ErrorOutputSerializer(serializers.Serializer):
    # The error body of common.api.exception_handler: {"code", "detail", "fields"?}. Built in get_fields
    # because a field named `fields` declared on the class would hide the serializer's own `.fields`.

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "code": serializers.CharField(),
            "detail": serializers.CharField(help_text=gettext_lazy("中文说明")),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text=gettext_lazy("字段 → 该字段的错误说明"),
            ),
        }


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    meaning = {
        400: gettext_lazy("输入有误或不符合评选规则"),
        404: gettext_lazy("对象不存在或不在您的管辖范围内"),
        409: gettext_lazy("状态不允许，或防重复提交标识已用于另一笔提交"),
    }
    return {code: OpenApiResponse(ErrorOutputSerializer, description=meaning[code]) for code in codes}


def _evaluation_data(user: AnyUser, evaluation_id: int) -> dict[str, Any]:
    evaluation, nominations, _ranking = selectors.evaluation_detail(user=user, evaluation_id=evaluation_id)
    data = dict(EvaluationOutputSerializer(evaluation).data)
    data["nominations"] = NominationOutputSerializer(nominations, many=True).data
    return data


def _nomination_data(nomination_id: int) -> dict[str, Any]:
    nomination = (
        Nomination.objects.select_related("resident__household")
        .annotate(vote_count=Count("votes"))
        .get(pk=nomination_id)
    )
    return dict(NominationOutputSerializer(nomination).data)


# --- input -----------------------------------------------------------------------------------------


def _key_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=KEY_MAX,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("防重复提交标识（如 UUID）；也可放在 Idempotency-Key 请求头"),
    )


class EvaluationCreateInputSerializer(serializers.Serializer):
    idempotency_key = _key_field()
    village = serializers.IntegerField(help_text=gettext_lazy("村（社区）编号"))
    title = serializers.CharField(max_length=200, allow_blank=True, help_text=gettext_lazy("评选名称"))
    year = serializers.IntegerField(help_text=gettext_lazy("年度：今年或去年"))
    rule = serializers.IntegerField(help_text=gettext_lazy("奖励条目编号"))
    winners_count = serializers.IntegerField(help_text=gettext_lazy("评选名额"))


class NominationCreateInputSerializer(serializers.Serializer):
    idempotency_key = _key_field()
    resident = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("被提名人（居民编号）")
    )
    household_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40, help_text=gettext_lazy("户号")
    )
    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40, help_text=gettext_lazy("姓名")
    )
    reason = serializers.CharField(max_length=1000, allow_blank=True, help_text=gettext_lazy("推荐理由"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["resident"] is None and not (attrs["household_number"].strip() and attrs["name"].strip()):
            raise serializers.ValidationError({"resident": [_("请填写被提名人的居民编号，或者户号和姓名。")]})
        return attrs


class NominationReviewInputSerializer(serializers.Serializer):
    idempotency_key = _key_field()
    nomination = serializers.IntegerField(help_text=gettext_lazy("提名编号"))
    accept = serializers.BooleanField(help_text=gettext_lazy("true 通过，false 不通过"))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        help_text=gettext_lazy("不通过的理由"),
    )


class EvaluationActionInputSerializer(serializers.Serializer):
    idempotency_key = _key_field()


class VotesRecordInputSerializer(serializers.Serializer):
    idempotency_key = _key_field()
    nomination = serializers.IntegerField(help_text=gettext_lazy("提名编号"))
    representatives = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=100),
        allow_empty=True,
        max_length=500,
        help_text=gettext_lazy("为该提名投票的村民代表姓名"),
    )


def _evaluation_in_scope(user: AnyUser, evaluation_id: int) -> Evaluation:
    """The evaluation of the path if the caller may see it; NotFound (404) otherwise, before the body is
    read, so an out-of-scope id answers exactly like a missing one."""
    return selectors.evaluation_get(user=user, evaluation_id=evaluation_id)


def _nomination_of(evaluation: Evaluation, nomination_id: int) -> Nomination:
    found = Nomination.objects.filter(evaluation=evaluation, pk=nomination_id).first()
    if found is None:
        raise NotFound(_("未找到该提名。"))
    return found


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    given = serializer_class(data=request.data)
    given.is_valid(raise_exception=True)
    data = dict(given.validated_data)
    data.pop("idempotency_key", None)
    return data


# --- views -----------------------------------------------------------------------------------------


class EvaluationListApi(APIView):
    @extend_schema(
        tags=TAGS, responses={200: EvaluationOutputSerializer(many=True)}, summary=gettext_lazy("评选活动")
    )
    def get(self, request: Request) -> Response:
        rows = selectors.evaluation_list(user=request.user)
        return Response(EvaluationOutputSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("创建评选活动"),
        request=EvaluationCreateInputSerializer,
        responses={201: EvaluationDetailOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(EvaluationCreateInputSerializer, request)
        village = Region.objects.filter(pk=data["village"], level=RegionLevel.VILLAGE).first()
        if village is None:
            raise NotFound(_("未找到该村（社区），或者它不在您的管辖范围内。"))
        rule = Rule.objects.select_related("region").filter(pk=data["rule"]).first()
        if rule is None:
            raise DomainError("rule_not_found", _("未找到该奖励条目。"), field="rule")

        def call(key: str) -> tuple[int, dict[str, Any]]:
            evaluation = services.evaluation_create(
                actor=request.user,
                idempotency_key=key,
                village=village,
                title=data["title"],
                year=data["year"],
                rule=rule,
                winners_count=data["winners_count"],
            )
            return status.HTTP_201_CREATED, _evaluation_data(request.user, evaluation.pk)

        return idempotent_api_call(request, scope="points.api.evaluation_create", call=call, body=data)


class EvaluationDetailApi(APIView):
    @extend_schema(
        tags=TAGS, responses={200: EvaluationDetailOutputSerializer}, summary=gettext_lazy("评选活动详情")
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(_evaluation_data(request.user, id))


class NominationCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("提名"),
        request=NominationCreateInputSerializer,
        responses={201: NominationOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, id: int) -> Response:
        evaluation = _evaluation_in_scope(request.user, id)
        data = _valid(NominationCreateInputSerializer, request)
        if data["resident"] is not None:
            # Only residents of the evaluation's village: any other id answers like one that does not
            # exist, so the API tells nothing about residents elsewhere.
            resident = (
                Resident.objects.filter(
                    pk=data["resident"], household__grid__path__startswith=evaluation.village.path
                )
                .select_related("household__grid")
                .first()
            )
            if resident is None:
                raise DomainError(
                    "resident_not_in_village", _("被提名人不是本村（社区）居民。"), field="resident"
                )
        else:
            resident = selectors.resident_find(
                evaluation=evaluation, household_number=data["household_number"], name=data["name"]
            )
        body = {"evaluation": evaluation.pk, "resident": resident.pk, "reason": data["reason"].strip()}

        def call(key: str) -> tuple[int, dict[str, Any]]:
            nomination = services.nomination_create(
                actor=request.user,
                idempotency_key=key,
                evaluation=evaluation,
                resident=resident,
                reason=data["reason"],
            )
            return status.HTTP_201_CREATED, _nomination_data(nomination.pk)

        return idempotent_api_call(request, scope="points.api.nomination_create", call=call, body=body)


class NominationReviewApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("审核提名"),
        request=NominationReviewInputSerializer,
        responses={200: NominationOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, id: int) -> Response:
        evaluation = _evaluation_in_scope(request.user, id)
        data = _valid(NominationReviewInputSerializer, request)
        nomination = _nomination_of(evaluation, data["nomination"])

        def call(key: str) -> tuple[int, dict[str, Any]]:
            services.nomination_review(
                actor=request.user, nomination=nomination, accept=data["accept"], reason=data["reason"]
            )
            return status.HTTP_200_OK, _nomination_data(nomination.pk)

        return idempotent_api_call(
            request,
            scope="points.api.nomination_review",
            call=call,
            body={"evaluation": evaluation.pk, **data},
        )


class EvaluationOpenVotingApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("截止提名，开始投票"),
        request=EvaluationActionInputSerializer,
        responses={200: EvaluationDetailOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, id: int) -> Response:
        evaluation = _evaluation_in_scope(request.user, id)
        _valid(EvaluationActionInputSerializer, request)

        def call(key: str) -> tuple[int, dict[str, Any]]:
            services.evaluation_open_voting(actor=request.user, evaluation=evaluation)
            return status.HTTP_200_OK, _evaluation_data(request.user, evaluation.pk)

        return idempotent_api_call(
            request, scope="points.api.evaluation_open_voting", call=call, body={"evaluation": evaluation.pk}
        )


class VotesRecordApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("录入代表投票"),
        request=VotesRecordInputSerializer,
        responses={201: VotesOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, id: int) -> Response:
        evaluation = _evaluation_in_scope(request.user, id)
        data = _valid(VotesRecordInputSerializer, request)
        nomination = _nomination_of(evaluation, data["nomination"])
        names = [" ".join(n.split()) for n in data["representatives"] if n and n.strip()]
        body = {"evaluation": evaluation.pk, "nomination": nomination.pk, "representatives": names}

        def call(key: str) -> tuple[int, dict[str, Any]]:
            votes = services.votes_record(
                actor=request.user, idempotency_key=key, nomination=nomination, representatives=names
            )
            return status.HTTP_201_CREATED, {
                "nomination": _nomination_data(nomination.pk),
                "representatives": [vote.representative for vote in votes],
            }

        return idempotent_api_call(request, scope="points.api.votes_record", call=call, body=body)


class EvaluationDecideApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary=gettext_lazy("评定结果"),
        description=gettext_lazy(
            "得票最多的审核通过提名当选（至少一票；票数相同时先提名者优先），"
            "当选者按奖励条目申报并审核通过，积分进入公示。"
        ),
        request=EvaluationActionInputSerializer,
        responses={200: EvaluationDecideOutputSerializer, **_errors(400, 404, 409)},
    )
    def post(self, request: Request, id: int) -> Response:
        evaluation = _evaluation_in_scope(request.user, id)
        _valid(EvaluationActionInputSerializer, request)

        def call(key: str) -> tuple[int, dict[str, Any]]:
            winners = services.evaluation_decide(actor=request.user, evaluation=evaluation)
            data = _evaluation_data(request.user, evaluation.pk)
            data["winners"] = [nomination.pk for nomination in winners]
            return status.HTTP_200_OK, data

        return idempotent_api_call(
            request, scope="points.api.evaluation_decide", call=call, body={"evaluation": evaluation.pk}
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("evaluations/", EvaluationListApi.as_view(), name="evaluation_list"),
    path("evaluations/<int:id>/", EvaluationDetailApi.as_view(), name="evaluation_detail"),
    path("evaluations/<int:id>/nominations/", NominationCreateApi.as_view(), name="evaluation_nominate"),
    path("evaluations/<int:id>/review/", NominationReviewApi.as_view(), name="evaluation_review"),
    path(
        "evaluations/<int:id>/open-voting/",
        EvaluationOpenVotingApi.as_view(),
        name="evaluation_open_voting",
    ),
    path("evaluations/<int:id>/votes/", VotesRecordApi.as_view(), name="evaluation_votes"),
    path("evaluations/<int:id>/decide/", EvaluationDecideApi.as_view(), name="evaluation_decide"),
]
