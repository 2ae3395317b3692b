"""REST API of joint building (mounted under /api/v1/industry/).

- GET joint-communities/ (?kind=, ?year= for the figures, ?q=): the communities the caller sees
  (industry.access.joint_communities_visible), paginated; POST creates one (township or county admin over
  the lead village; the lead becomes the first member).
- GET joint-communities/{id}/: one community with its members and yearly figures (tourism summed from its
  months); PUT edits it.
- GET joint-communities/{id}/members/, POST adds a village or a business (exactly one).
- GET joint-members/{id}/, DELETE removes the member (not the lead village).
- GET joint-communities/{id}/results/, POST sets a year's results (jobs, income, households).
Creates are exactly once per (caller, key): `idempotency_key` in the body or the `Idempotency-Key`
header. Out of scope answers 404, like a missing id.
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
from governance.models import PartyOrganisation, Region
from industry import access
from industry.api.economy import IDEMPOTENCY_HEADER
from industry.api.params import query_id, query_text, query_year
from industry.models import Business, JointCommunity, JointKind, JointMember, JointResult
from industry.selectors import joint as selectors
from industry.services import joint as services

TAGS = ["industry-joint"]


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _int(value: Any) -> int | None:
    return query_id(value)


class JointMemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.IntegerField(source="community_id")
    region = serializers.IntegerField(source="region_id", allow_null=True)
    region_name = serializers.SerializerMethodField()
    business = serializers.IntegerField(source="business_id", allow_null=True)
    business_name = serializers.SerializerMethodField()
    joined_on = serializers.DateField(allow_null=True)

    def get_region_name(self, obj: JointMember) -> str:
        return obj.region.name if obj.region else ""

    def get_business_name(self, obj: JointMember) -> str:
        return obj.business.name if obj.business else ""


class JointResultOut(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.IntegerField(source="community_id")
    year = serializers.IntegerField()
    jobs = serializers.IntegerField()
    income_fen = serializers.IntegerField()
    households_benefited = serializers.IntegerField()
    note = serializers.CharField()


class JointYearOut(serializers.Serializer):
    year = serializers.IntegerField()
    visits = serializers.IntegerField(allow_null=True, help_text="游客接待量（人次），按月合计")
    tourism_income_fen = serializers.IntegerField(allow_null=True, help_text="旅游综合收入（分），按月合计")
    months = serializers.IntegerField(help_text="已填报的月数")
    jobs = serializers.IntegerField(allow_null=True)
    income_fen = serializers.IntegerField(allow_null=True)
    households_benefited = serializers.IntegerField(allow_null=True)


class JointCommunityOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    name = serializers.CharField()
    brand = serializers.CharField()
    lead_region = serializers.IntegerField(source="lead_region_id")
    lead_region_name = serializers.CharField(source="lead_region.name")
    party_organisation = serializers.IntegerField(source="party_organisation_id", allow_null=True)
    established_on = serializers.DateField(allow_null=True)
    description = serializers.CharField()


class JointCommunityRowOut(JointCommunityOut):
    village_count = serializers.IntegerField()
    business_count = serializers.IntegerField()
    visits = serializers.IntegerField(help_text="该年游客接待量（人次）")
    tourism_income_fen = serializers.IntegerField()
    jobs = serializers.IntegerField(allow_null=True)
    income_fen = serializers.IntegerField(allow_null=True)


class JointCommunityDetailOut(JointCommunityOut):
    members = JointMemberOut(many=True)
    years = JointYearOut(many=True)


class JointCommunityIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=JointKind.choices)
    name = serializers.CharField(max_length=80)
    brand = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    lead_region = serializers.IntegerField()
    party_organisation = serializers.IntegerField(required=False, allow_null=True, default=None)
    established_on = serializers.DateField(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class JointMemberIn(serializers.Serializer):
    region = serializers.IntegerField(required=False, allow_null=True, default=None)
    business = serializers.IntegerField(required=False, allow_null=True, default=None)
    joined_on = serializers.DateField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class JointResultIn(serializers.Serializer):
    year = serializers.IntegerField()
    jobs = serializers.IntegerField(min_value=0, default=0)
    income_fen = serializers.IntegerField(min_value=0, default=0)
    households_benefited = serializers.IntegerField(min_value=0, default=0)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def _community_fields(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """The service's arguments: the lead village and the Party organisation looked up in the caller's
    scope (out of scope or missing: the field's message, nothing leaks)."""
    user = request.user
    lead = (
        Region.objects.filter(
            governance_access.scope_q(user, "path", access.READ_ROLES), pk=data["lead_region"]
        )
        .select_related("parent")
        .first()
    )
    if lead is None:
        raise DomainError("lead_required", _("请选择牵头村。"), field="lead_region")
    party = None
    if data["party_organisation"] is not None:
        party = (
            PartyOrganisation.objects.filter(
                governance_access.scope_q(user, "region__path", access.READ_ROLES),
                pk=data["party_organisation"],
            )
            .select_related("region")
            .first()
        )
        if party is None:
            raise DomainError("party_organisation_missing", _("未找到该党组织。"), field="party_organisation")
    return {
        "kind": data["kind"],
        "name": data["name"],
        "brand": data["brand"],
        "lead_region": lead,
        "party_organisation": party,
        "established_on": data["established_on"],
        "description": data["description"],
    }


def _detail_body(community: JointCommunity) -> dict[str, Any]:
    body = dict(JointCommunityOut(community).data)
    body["members"] = JointMemberOut(selectors.members_of(community), many=True).data
    body["years"] = [
        {
            "year": y.year,
            "visits": y.visits,
            "tourism_income_fen": y.tourism_income_fen,
            "months": y.months,
            "jobs": y.result.jobs if y.result else None,
            "income_fen": y.result.income_fen if y.result else None,
            "households_benefited": y.result.households_benefited if y.result else None,
        }
        for y in selectors.community_years(community)
    ]
    return body


def _managed(request: Request, community_id: int) -> JointCommunity:
    community = access.joint_community_get_visible(request.user, community_id)
    if not access.can_manage_joint(request.user, community.lead_region.path):
        raise NotFound(access.COMMUNITY_NOT_FOUND)
    return community


class JointCommunityListApi(generics.ListAPIView):
    serializer_class = JointCommunityRowOut
    queryset = JointCommunity.objects.none()  # for the schema

    def get_queryset(self) -> QuerySet[JointCommunity]:
        params = self.request.query_params
        return selectors.communities_list(
            self.request.user,
            year=query_year(params) or selectors.default_year(),
            kind=params.get("kind", "") if params.get("kind") in JointKind.values else "",
            q=query_text(params, "q", max_length=30),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="industry_joint_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=JointKind.values),
            OpenApiParameter("year", OpenApiTypes.INT, description="游客、收入与成效的年度，默认上一年"),
            OpenApiParameter("q", OpenApiTypes.STR, description="名称或品牌"),
        ],
        summary="联建共同体列表",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_joint_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=JointCommunityIn,
        responses={201: JointCommunityDetailOut},
        summary="新建联建共同体（乡镇、县管理员）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(JointCommunityIn, request.data)
        community = services.joint_community_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            **_community_fields(request, data),
        )
        return Response(_detail_body(community), status=status.HTTP_201_CREATED)


class JointCommunityDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_joint_detail", responses={200: JointCommunityDetailOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(_detail_body(access.joint_community_get_visible(request.user, id)))

    @extend_schema(
        tags=TAGS,
        operation_id="industry_joint_update",
        request=JointCommunityIn,
        responses={200: JointCommunityDetailOut},
        summary="编辑联建共同体",
    )
    def put(self, request: Request, id: int) -> Response:
        community = _managed(request, id)
        data = _valid(JointCommunityIn, request.data)
        community = services.joint_community_update(
            actor=request.user, community=community, **_community_fields(request, data)
        )
        return Response(_detail_body(community))


class JointMemberListApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="industry_joint_member_list", responses={200: JointMemberOut(many=True)}
    )
    def get(self, request: Request, id: int) -> Response:
        community = access.joint_community_get_visible(request.user, id)
        return Response(JointMemberOut(selectors.members_of(community), many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_joint_member_add",
        parameters=[IDEMPOTENCY_HEADER],
        request=JointMemberIn,
        responses={201: JointMemberOut},
        summary="加入成员（一个村或一个经营主体）",
    )
    def post(self, request: Request, id: int) -> Response:
        community = _managed(request, id)
        data = _valid(JointMemberIn, request.data)
        region = business = None
        if data["region"] is not None:
            region = Region.objects.filter(
                governance_access.scope_q(request.user, "path", access.READ_ROLES), pk=data["region"]
            ).first()
            if region is None:
                raise DomainError("member_out_of_scope", _("该成员不在您的管辖范围内。"), field="region")
        if data["business"] is not None:
            business = (
                Business.objects.filter(
                    governance_access.scope_q(request.user, "region__path", access.READ_ROLES),
                    pk=data["business"],
                )
                .select_related("region")
                .first()
            )
            if business is None:
                raise DomainError("member_out_of_scope", _("该成员不在您的管辖范围内。"), field="business")
        member = services.joint_member_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            community=community,
            region=region,
            business=business,
            joined_on=data["joined_on"],
        )
        return Response(JointMemberOut(member).data, status=status.HTTP_201_CREATED)


class JointMemberDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_joint_member_detail", responses={200: JointMemberOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(JointMemberOut(selectors.member_get_visible(request.user, id)).data)

    @extend_schema(
        tags=TAGS, operation_id="industry_joint_member_remove", responses={204: None}, summary="移除成员"
    )
    def delete(self, request: Request, id: int) -> Response:
        member = selectors.member_get_visible(request.user, id)
        if not access.can_manage_joint(request.user, member.community.lead_region.path):
            raise NotFound(access.COMMUNITY_NOT_FOUND)
        services.joint_member_remove(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JointResultListApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="industry_joint_result_list", responses={200: JointResultOut(many=True)}
    )
    def get(self, request: Request, id: int) -> Response:
        community = access.joint_community_get_visible(request.user, id)
        return Response(JointResultOut(selectors.results_of(community), many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_joint_result_set",
        parameters=[IDEMPOTENCY_HEADER],
        request=JointResultIn,
        responses={200: JointResultOut},
        summary="填报某年成效（带动就业、联建收益、受益农户）",
    )
    def post(self, request: Request, id: int) -> Response:
        community = _managed(request, id)
        data = _valid(JointResultIn, request.data)
        result: JointResult = services.joint_result_set(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            community=community,
            year=data["year"],
            jobs=data["jobs"],
            households_benefited=data["households_benefited"],
            income_fen=data["income_fen"],
            note=data["note"],
        )
        return Response(JointResultOut(result).data)


urlpatterns: list[URLPattern] = [
    path("joint-communities/", JointCommunityListApi.as_view(), name="joint_list"),
    path("joint-communities/<int:id>/", JointCommunityDetailApi.as_view(), name="joint_detail"),
    path("joint-communities/<int:id>/members/", JointMemberListApi.as_view(), name="joint_member_list"),
    path("joint-communities/<int:id>/results/", JointResultListApi.as_view(), name="joint_result_list"),
    path("joint-members/<int:id>/", JointMemberDetailApi.as_view(), name="joint_member_detail"),
]
