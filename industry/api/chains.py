"""REST API of the chains area (mounted under /api/v1/industry/).

    GET  chains/                      the chains with their figures (participants in the caller's scope)
    POST chains/                      add a chain with its first links (county admin)
    GET  chains/{id}/                 one chain: links with their participants, products, figures
    GET  chains/{id}/links/           its links in order
    GET  participations/              participations of businesses in scope (?chain, business, status)
    POST participations/              put a business on a chain
    GET  participations/{id}/         one; PATCH edits it; POST …/end/ ends it
    GET  businesses/                  businesses in scope (?kind, township, village, chain, active, q)
    POST businesses/                  register one (county, township admin, village secretary)
    GET  businesses/{id}/             one; PATCH edits it; POST …/deactivate/ stops it
    GET  projects/ · POST projects/ · GET projects/{id}/ · POST projects/{id}/end/
    GET  employments/ · POST employments/ · GET employments/{id}/ · POST employments/{id}/end/

Creates are exactly once per (caller, key): `Idempotency-Key` header or `idempotency_key` in the body.
Ends are idempotent by themselves. Out of scope answers 404 like a missing id, also for writes; chains
and their links are county-wide reference data any reader sees (editing them is on the pages).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.idempotency import idempotency_key_from
from governance.models import PartyOrganisation, Region, RegionLevel
from industry import access
from industry.api.params import query_id, query_text
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    Employment,
    EmploymentKind,
    HouseholdProject,
    IndustryChain,
    LinkKind,
    ProjectKind,
)
from industry.selectors import chains as selectors
from industry.services import chains as services

TAGS = ["industry-chains"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="防重复提交标识（也可放在请求体 idempotency_key）",
)


def _int(value: Any) -> int | None:
    return query_id(value, positive_only=True)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _today() -> dt.date:
    return timezone.localdate()


def _choices_help(choices: list[tuple[str, Any]]) -> str:
    return "；".join(f"{value}={label}" for value, label in choices)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- output -------------------------------------------------------------------------------------------------


class ChainsFiguresOut(serializers.Serializer):
    participants = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField(), help_text="按主体类型的参与主体数")
    area_mu = serializers.DecimalField(max_digits=14, decimal_places=2)
    output_value_fen = serializers.IntegerField()
    jobs = serializers.IntegerField()
    households_driven = serializers.IntegerField()


class ChainsLinkOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=_choices_help(LinkKind.choices))
    kind_display = serializers.CharField(source="get_kind_display")
    name = serializers.CharField()
    sort_order = serializers.IntegerField()


class ChainsChainOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    base_region = serializers.IntegerField(source="base_region_id", allow_null=True)
    base_region_name = serializers.SerializerMethodField()
    party_branch = serializers.IntegerField(source="party_branch_id", allow_null=True)
    party_branch_name = serializers.SerializerMethodField()
    sort_order = serializers.IntegerField()
    is_active = serializers.BooleanField()

    def get_base_region_name(self, obj: IndustryChain) -> str:
        return obj.base_region.name if obj.base_region else ""

    def get_party_branch_name(self, obj: IndustryChain) -> str:
        return obj.party_branch.name if obj.party_branch else ""


class ChainsRowOut(serializers.Serializer):
    chain = ChainsChainOut()
    figures = ChainsFiguresOut(help_text="在调用者管辖范围内、当日在链上的参与主体合计")


class ChainsLinkRowOut(serializers.Serializer):
    link = ChainsLinkOut()
    participants = serializers.IntegerField(help_text="在调用者管辖范围内、当日在此环节的参与主体数")


class ChainsProductBriefOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()


class ChainsDetailOut(serializers.Serializer):
    chain = ChainsChainOut()
    figures = ChainsFiguresOut()
    links = ChainsLinkRowOut(many=True)
    products = ChainsProductBriefOut(many=True)


class ChainsParticipationOut(serializers.Serializer):
    id = serializers.IntegerField()
    chain = serializers.IntegerField(source="chain_id")
    chain_name = serializers.CharField(source="chain.name")
    link = serializers.IntegerField(source="link_id", allow_null=True)
    link_name = serializers.SerializerMethodField()
    business = serializers.IntegerField(source="business_id")
    business_name = serializers.CharField(source="business.name")
    business_kind = serializers.CharField(
        source="business.kind", help_text=_choices_help(BusinessKind.choices)
    )
    region = serializers.IntegerField(source="business.region_id", help_text="主体所在村（社区）id")
    region_name = serializers.CharField(source="business.region.name")
    area_mu = serializers.DecimalField(max_digits=12, decimal_places=2)
    output_value_fen = serializers.IntegerField()
    jobs = serializers.IntegerField()
    households_driven = serializers.IntegerField()
    joined_on = serializers.DateField(allow_null=True)
    left_on = serializers.DateField(allow_null=True)

    def get_link_name(self, obj: ChainParticipation) -> str:
        return obj.link.name if obj.link else ""


class ChainsBusinessOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=_choices_help(BusinessKind.choices))
    kind_display = serializers.CharField(source="get_kind_display")
    name = serializers.CharField()
    region = serializers.IntegerField(source="region_id", help_text="所在村（社区）id")
    region_name = serializers.CharField(source="region.name")
    household = serializers.IntegerField(source="household_id", allow_null=True)
    household_number = serializers.SerializerMethodField()
    credit_code = serializers.CharField()
    legal_representative = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()

    def get_household_number(self, obj: Business) -> str:
        return obj.household.number if obj.household_id and obj.household else ""


class ChainsProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField(source="household_id")
    household_number = serializers.CharField(source="household.number")
    kind = serializers.CharField(help_text=_choices_help(ProjectKind.choices))
    kind_display = serializers.CharField(source="get_kind_display")
    title = serializers.CharField()
    chain = serializers.IntegerField(source="chain_id", allow_null=True)
    scale = serializers.CharField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)


class ChainsEmploymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    resident = serializers.IntegerField(source="resident_id")
    resident_name = serializers.CharField(source="resident.name")
    id_number_masked = serializers.CharField(source="resident.id_number_masked", help_text="脱敏身份证号")
    kind = serializers.CharField(help_text=_choices_help(EmploymentKind.choices))
    kind_display = serializers.CharField(source="get_kind_display")
    business = serializers.IntegerField(source="business_id", allow_null=True)
    business_name = serializers.SerializerMethodField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)

    def get_business_name(self, obj: Employment) -> str:
        return obj.business.name if obj.business_id and obj.business else ""


# --- input --------------------------------------------------------------------------------------------------


class ChainsLinkIn(serializers.Serializer):
    kind = serializers.CharField(max_length=12, help_text=_choices_help(LinkKind.choices))
    name = serializers.CharField(max_length=40)


class ChainsCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=40, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    base_region = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="乡镇 id")
    party_branch = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="产业链党支部（党组织 id）"
    )
    sort_order = serializers.IntegerField(required=False, default=0, min_value=0, max_value=32767)
    links = ChainsLinkIn(many=True, required=False, default=list)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ChainsParticipationIn(serializers.Serializer):
    chain = serializers.IntegerField()
    business = serializers.IntegerField()
    link = serializers.IntegerField(required=False, allow_null=True, default=None)
    area_mu = serializers.CharField(required=False, allow_blank=True, default="", help_text="面积（亩）")
    output_value_yuan = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="年产值（元）"
    )
    jobs = serializers.CharField(required=False, allow_blank=True, default="", help_text="带动就业（人）")
    households_driven = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="带动农户（户）"
    )
    joined_on = serializers.DateField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ChainsParticipationPatchIn(serializers.Serializer):
    link = serializers.IntegerField(required=False, allow_null=True)
    area_mu = serializers.CharField(required=False, allow_blank=True)
    output_value_yuan = serializers.CharField(required=False, allow_blank=True)
    jobs = serializers.CharField(required=False, allow_blank=True)
    households_driven = serializers.CharField(required=False, allow_blank=True)
    joined_on = serializers.DateField(required=False, allow_null=True)
    left_on = serializers.DateField(required=False, allow_null=True)


class ChainsEndIn(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True, default=None, help_text="结束日期，默认今天")


class ChainsBusinessIn(serializers.Serializer):
    kind = serializers.CharField(max_length=20, help_text=_choices_help(BusinessKind.choices))
    name = serializers.CharField(max_length=100, allow_blank=True)
    region = serializers.IntegerField(help_text="所在村（社区）id")
    household_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", help_text="农户主体的户号"
    )
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    legal_representative = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ChainsBusinessPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=50, required=False, allow_blank=True)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ChainsProjectIn(serializers.Serializer):
    household = serializers.IntegerField()
    kind = serializers.CharField(max_length=12, help_text=_choices_help(ProjectKind.choices))
    title = serializers.CharField(max_length=60, allow_blank=True)
    chain = serializers.IntegerField(required=False, allow_null=True, default=None)
    scale = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    started_on = serializers.DateField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ChainsEmploymentIn(serializers.Serializer):
    resident = serializers.IntegerField()
    kind = serializers.CharField(max_length=16, help_text=_choices_help(EmploymentKind.choices))
    business = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="用工主体 id"
    )
    started_on = serializers.DateField()
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


# --- helpers resolving ids the caller sent ------------------------------------------------------------------


def _chain(chain_id: int | None) -> IndustryChain:
    found = IndustryChain.objects.filter(pk=chain_id).first() if chain_id else None
    if found is None:
        raise NotFound(selectors.CHAIN_NOT_FOUND)
    return found


def _link(chain: IndustryChain, link_id: int | None) -> ChainLink | None:
    if link_id is None:
        return None
    found = ChainLink.objects.filter(pk=link_id, chain=chain).first()
    if found is None:
        raise NotFound(selectors.CHAIN_NOT_FOUND)
    return found


# --- chains -------------------------------------------------------------------------------------------------


class ChainListApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_chain_list",
        parameters=[
            OpenApiParameter("on", OpenApiTypes.DATE, description="统计日期，默认今天"),
            OpenApiParameter("active", OpenApiTypes.BOOL, description="只列启用的产业链"),
        ],
        responses={200: ChainsRowOut(many=True)},
        summary="产业链及其参与主体合计（只计调用者管辖范围内的主体）",
    )
    def get(self, request: Request) -> Response:
        if not access.can_read_industry(request.user):
            return Response([])
        rows = selectors.chains_overview(
            request.user,
            on=_date(request.query_params.get("on")) or _today(),
            active_only=request.query_params.get("active") in ("1", "true"),
        )
        return Response(ChainsRowOut(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_chain_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChainsCreateIn,
        responses={201: ChainsChainOut},
        summary="新增产业链（县委组织部管理员）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ChainsCreateIn, request.data)
        base_region = None
        if data["base_region"] is not None:
            base_region = Region.objects.filter(pk=data["base_region"], level=RegionLevel.TOWNSHIP).first()
            if base_region is None:
                raise NotFound(selectors.VILLAGE_NOT_FOUND)
        branch = None
        if data["party_branch"] is not None:
            branch = PartyOrganisation.objects.filter(pk=data["party_branch"]).first()
            if branch is None:
                raise NotFound(selectors.CHAIN_NOT_FOUND)
        chain = services.chain_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            name=data["name"],
            description=data["description"],
            base_region=base_region,
            party_branch=branch,
            sort_order=data["sort_order"],
            links=[(link["kind"], link["name"]) for link in data["links"]],
        )
        return Response(ChainsChainOut(chain).data, status=status.HTTP_201_CREATED)


class ChainDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_chain_detail",
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="统计日期，默认今天")],
        responses={200: ChainsDetailOut},
    )
    def get(self, request: Request, id: int) -> Response:
        chain = selectors.chain_get(request.user, id)
        on = _date(request.query_params.get("on")) or _today()
        rows = selectors.chains_overview(request.user, on=on)
        figures = next(row.figures for row in rows if row.chain.pk == chain.pk)
        body = {
            "chain": chain,
            "figures": figures,
            "links": selectors.chain_links(request.user, chain, on=on),
            "products": list(selectors.chain_products(chain)),
        }
        return Response(ChainsDetailOut(body).data)


class ChainLinksApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_chain_links", responses={200: ChainsLinkOut(many=True)})
    def get(self, request: Request, id: int) -> Response:
        chain = selectors.chain_get(request.user, id)
        return Response(
            ChainsLinkOut(ChainLink.objects.filter(chain=chain).order_by("sort_order", "id"), many=True).data
        )


# --- participations -----------------------------------------------------------------------------------------


class ParticipationListApi(generics.GenericAPIView):
    queryset = ChainParticipation.objects.none()

    @extend_schema(
        tags=TAGS,
        operation_id="industry_participation_list",
        parameters=[
            OpenApiParameter("chain", OpenApiTypes.INT, description="产业链 id"),
            OpenApiParameter("business", OpenApiTypes.INT, description="经营主体 id"),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=["active", "ended", "all"], description="默认 all"
            ),
            OpenApiParameter("on", OpenApiTypes.DATE, description="判断是否在链的日期，默认今天"),
        ],
        responses={200: ChainsParticipationOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.participations_list(
            request.user,
            on=_date(params.get("on")) or _today(),
            chain_id=_int(params.get("chain")),
            business_id=_int(params.get("business")),
            status=params.get("status", "all"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ChainsParticipationOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_participation_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChainsParticipationIn,
        responses={201: ChainsParticipationOut},
        summary="经营主体加入产业链",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ChainsParticipationIn, request.data)
        business = access.business_get_visible(request.user, data["business"])
        chain = _chain(data["chain"])
        participation = services.participation_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            chain=chain,
            business=business,
            link=_link(chain, data["link"]),
            area_mu=data["area_mu"],
            output_value_yuan=data["output_value_yuan"],
            jobs=data["jobs"],
            households_driven=data["households_driven"],
            joined_on=data["joined_on"],
        )
        participation = selectors.participation_get_visible(request.user, participation.pk)
        return Response(ChainsParticipationOut(participation).data, status=status.HTTP_201_CREATED)


class ParticipationDetailApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="industry_participation_detail", responses={200: ChainsParticipationOut}
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(ChainsParticipationOut(selectors.participation_get_visible(request.user, id)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_participation_update",
        request=ChainsParticipationPatchIn,
        responses={200: ChainsParticipationOut},
        summary="修改参与记录（环节、规模、日期；清空退出日期即恢复在链）",
    )
    def patch(self, request: Request, id: int) -> Response:
        participation = selectors.participation_get_visible(request.user, id)
        data = _valid(ChainsParticipationPatchIn, request.data)
        link_id = data.get("link", participation.link_id)
        services.participation_update(
            actor=request.user,
            participation=participation,
            link=_link(participation.chain, link_id),
            area_mu=data.get("area_mu", participation.area_mu),
            output_value_yuan=data.get("output_value_yuan", f"{participation.output_value_fen / 100:.2f}"),
            jobs=data.get("jobs", participation.jobs),
            households_driven=data.get("households_driven", participation.households_driven),
            joined_on=data.get("joined_on", participation.joined_on),
            left_on=data.get("left_on", participation.left_on),
        )
        return Response(ChainsParticipationOut(selectors.participation_get_visible(request.user, id)).data)


class ParticipationEndApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_participation_end",
        request=ChainsEndIn,
        responses={200: ChainsParticipationOut},
        summary="退出产业链（同一天重复提交不变）",
    )
    def post(self, request: Request, id: int) -> Response:
        participation = selectors.participation_get_visible(request.user, id)
        data = _valid(ChainsEndIn, request.data)
        services.participation_end(actor=request.user, participation=participation, left_on=data["on"])
        return Response(ChainsParticipationOut(selectors.participation_get_visible(request.user, id)).data)


# --- businesses ---------------------------------------------------------------------------------------------


class BusinessListApi(generics.GenericAPIView):
    queryset = Business.objects.none()

    def _rows(self) -> QuerySet[Business]:
        params = self.request.query_params
        kind = params.get("kind", "")
        return selectors.businesses_list(
            self.request.user,
            kind=kind if kind in BusinessKind.values else "",
            township_id=_int(params.get("township")),
            village_id=_int(params.get("village")),
            chain_id=_int(params.get("chain")),
            active=params.get("active", ""),
            q=query_text(params, "q", max_length=40),
            on=_today(),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="industry_business_list",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, description=_choices_help(BusinessKind.choices)),
            OpenApiParameter("township", OpenApiTypes.INT, description="乡镇 id"),
            OpenApiParameter("village", OpenApiTypes.INT, description="村（社区）id"),
            OpenApiParameter("chain", OpenApiTypes.INT, description="当前在该产业链上的主体"),
            OpenApiParameter("active", OpenApiTypes.STR, enum=["1", "0"], description="1 在营，0 已停止"),
            OpenApiParameter("q", OpenApiTypes.STR, description="名称或信用代码片段"),
        ],
        responses={200: ChainsBusinessOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self._rows())
        return self.get_paginated_response(ChainsBusinessOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_business_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChainsBusinessIn,
        responses={201: ChainsBusinessOut},
        summary="登记经营主体",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ChainsBusinessIn, request.data)
        region = Region.objects.filter(pk=data["region"]).first()
        if region is None:
            raise NotFound(selectors.VILLAGE_NOT_FOUND)
        business = services.business_create(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            kind=data["kind"],
            name=data["name"],
            region=region,
            household_number=data["household_number"],
            credit_code=data["credit_code"],
            legal_representative=data["legal_representative"],
            description=data["description"],
        )
        return Response(ChainsBusinessOut(business).data, status=status.HTTP_201_CREATED)


class BusinessDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_business_detail", responses={200: ChainsBusinessOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(ChainsBusinessOut(access.business_get_visible(request.user, id)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_business_update",
        request=ChainsBusinessPatchIn,
        responses={200: ChainsBusinessOut},
        summary="修改经营主体（类型、所在村、农户不变）",
    )
    def patch(self, request: Request, id: int) -> Response:
        business = access.business_get_visible(request.user, id)
        data = _valid(ChainsBusinessPatchIn, request.data)
        services.business_update(
            actor=request.user,
            business=business,
            name=data.get("name", business.name),
            credit_code=data.get("credit_code", business.credit_code),
            legal_representative=data.get("legal_representative", business.legal_representative),
            description=data.get("description", business.description),
        )
        return Response(ChainsBusinessOut(access.business_get_visible(request.user, id)).data)


class BusinessDeactivateApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_business_deactivate",
        request=ChainsEndIn,
        responses={200: ChainsBusinessOut},
        summary="经营主体停止经营（同时结束其在链记录）",
    )
    def post(self, request: Request, id: int) -> Response:
        business = access.business_get_visible(request.user, id)
        data = _valid(ChainsEndIn, request.data)
        services.business_deactivate(actor=request.user, business=business, on=data["on"])
        return Response(ChainsBusinessOut(access.business_get_visible(request.user, id)).data)


# --- projects and employments -------------------------------------------------------------------------------

LIST_PARAMS = [
    OpenApiParameter("village", OpenApiTypes.INT, description="村（社区）id"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=["active", "ended", "all"], description="默认 all"),
    OpenApiParameter("on", OpenApiTypes.DATE, description="判断是否有效的日期，默认今天"),
]


class ProjectListApi(generics.GenericAPIView):
    queryset = HouseholdProject.objects.none()

    @extend_schema(
        tags=TAGS,
        operation_id="industry_project_list",
        parameters=[*LIST_PARAMS, OpenApiParameter("household", OpenApiTypes.INT, description="户 id")],
        responses={200: ChainsProjectOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.projects_list(
            request.user,
            on=_date(params.get("on")) or _today(),
            village_id=_int(params.get("village")),
            household_id=_int(params.get("household")),
            status=params.get("status", "all"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ChainsProjectOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_project_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChainsProjectIn,
        responses={201: ChainsProjectOut},
        summary="登记户项目（户户有项目）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ChainsProjectIn, request.data)
        household = selectors.household_get(request.user, data["household"], record=True)
        chain = _chain(data["chain"]) if data["chain"] else None
        project = services.project_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            household=household,
            kind=data["kind"],
            title=data["title"],
            chain=chain,
            scale=data["scale"],
            started_on=data["started_on"],
        )
        return Response(ChainsProjectOut(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_project_detail", responses={200: ChainsProjectOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(ChainsProjectOut(selectors.project_get(request.user, id)).data)


class ProjectEndApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_project_end",
        request=ChainsEndIn,
        responses={200: ChainsProjectOut},
        summary="结束户项目",
    )
    def post(self, request: Request, id: int) -> Response:
        project = selectors.project_get(request.user, id)
        data = _valid(ChainsEndIn, request.data)
        project = services.project_end(actor=request.user, project=project, ended_on=data["on"])
        return Response(ChainsProjectOut(selectors.project_get(request.user, id)).data)


class EmploymentListApi(generics.GenericAPIView):
    queryset = Employment.objects.none()

    @extend_schema(
        tags=TAGS,
        operation_id="industry_employment_list",
        parameters=[*LIST_PARAMS, OpenApiParameter("resident", OpenApiTypes.INT, description="居民 id")],
        responses={200: ChainsEmploymentOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        rows = selectors.employments_list(
            request.user,
            on=_date(params.get("on")) or _today(),
            village_id=_int(params.get("village")),
            resident_id=_int(params.get("resident")),
            status=params.get("status", "all"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ChainsEmploymentOut(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="industry_employment_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChainsEmploymentIn,
        responses={201: ChainsEmploymentOut},
        summary="登记居民就业（人人有事干）",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ChainsEmploymentIn, request.data)
        resident = selectors.resident_get(request.user, data["resident"], record=True)
        business = access.business_get_visible(request.user, data["business"]) if data["business"] else None
        employment = services.employment_add(
            actor=request.user,
            idempotency_key=idempotency_key_from(request),
            resident=resident,
            kind=data["kind"],
            business=business,
            started_on=data["started_on"],
        )
        return Response(
            ChainsEmploymentOut(selectors.employment_get(request.user, employment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class EmploymentDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="industry_employment_detail", responses={200: ChainsEmploymentOut})
    def get(self, request: Request, id: int) -> Response:
        return Response(ChainsEmploymentOut(selectors.employment_get(request.user, id)).data)


class EmploymentEndApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="industry_employment_end",
        request=ChainsEndIn,
        responses={200: ChainsEmploymentOut},
        summary="结束就业记录",
    )
    def post(self, request: Request, id: int) -> Response:
        employment = selectors.employment_get(request.user, id)
        data = _valid(ChainsEndIn, request.data)
        services.employment_end(actor=request.user, employment=employment, ended_on=data["on"])
        return Response(ChainsEmploymentOut(selectors.employment_get(request.user, id)).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("chains/", ChainListApi.as_view(), name="chain_list"),
    path("chains/<int:id>/", ChainDetailApi.as_view(), name="chain_detail"),
    path("chains/<int:id>/links/", ChainLinksApi.as_view(), name="chain_links"),
    path("participations/", ParticipationListApi.as_view(), name="participation_list"),
    path("participations/<int:id>/", ParticipationDetailApi.as_view(), name="participation_detail"),
    path("participations/<int:id>/end/", ParticipationEndApi.as_view(), name="participation_end"),
    path("businesses/", BusinessListApi.as_view(), name="business_list"),
    path("businesses/<int:id>/", BusinessDetailApi.as_view(), name="business_detail"),
    path("businesses/<int:id>/deactivate/", BusinessDeactivateApi.as_view(), name="business_deactivate"),
    path("projects/", ProjectListApi.as_view(), name="project_list"),
    path("projects/<int:id>/", ProjectDetailApi.as_view(), name="project_detail"),
    path("projects/<int:id>/end/", ProjectEndApi.as_view(), name="project_end"),
    path("employments/", EmploymentListApi.as_view(), name="employment_list"),
    path("employments/<int:id>/", EmploymentDetailApi.as_view(), name="employment_detail"),
    path("employments/<int:id>/end/", EmploymentEndApi.as_view(), name="employment_end"),
]
