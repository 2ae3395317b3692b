"""REST API for the people area of the spine (mounted under /api/v1/governance/).

Households and residents inside the caller's scope; anything outside it answers 404 as if it did not
exist. ID numbers, phones and addresses are masked in every answer; the clear values come only from
POST residents/<id>/personal-data/, which checks the role and is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from governance.models import (
    Gender,
    Household,
    HouseholdTagKind,
    RelationToHead,
    Resident,
    ResidentStatus,
    ResidentTagKind,
)
from governance.selectors import people as people_selectors
from governance.services import people as people_services

TAGS = ["people"]

# POST households/ and residents/ are exactly once per (caller, key): a replay answers the first result.
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=str(_("防重复提交标识（也可放在请求体 idempotency_key）")),
)


def _idempotency_key_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "防重复提交标识，仅新增时使用（也可放在 Idempotency-Key 请求头）：同一用户以同一标识重复提交时，"
            "不再登记，返回第一次登记的结果"
        ),
    )


def _idempotency_key(request: Request, data: dict[str, Any]) -> str:
    """The key from the body, else from the Idempotency-Key header ("" when neither was sent)."""
    return str(data.get("idempotency_key") or request.headers.get("Idempotency-Key", ""))


def _choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField whose enum is written inline in the schema: "tags" and "status" mean different
    choice sets in different areas, and a shared component name would collide."""

    @extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


# ---------------------------------------------------------------------------------------------------------
# Output


class PeopleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ResidentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.CharField()
    gender_label = serializers.CharField(source="get_gender_display")
    birth_date = serializers.DateField()
    age = serializers.SerializerMethodField()
    id_number = serializers.CharField(source="id_number_masked", help_text=_("身份证号（已遮挡）"))
    phone = serializers.CharField(source="phone_masked", help_text=_("手机号（已遮挡）"))
    relation_to_head = serializers.CharField()
    relation_to_head_label = serializers.CharField(source="get_relation_to_head_display")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    tags = serializers.SerializerMethodField()
    household_id = serializers.IntegerField()
    household_number = serializers.CharField(source="household.number")
    grid = PeopleRefSerializer(source="household.grid")
    village = PeopleRefSerializer(source="household.grid.parent")
    updated_at = serializers.DateTimeField()

    def get_age(self, obj: Resident) -> int:
        return people_selectors.age_on(obj.birth_date, timezone.localdate())

    def get_tags(self, obj: Resident) -> list[str]:
        return sorted(tag.tag for tag in obj.tags.all())


class HouseholdMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField()
    id_number = serializers.CharField(source="id_number_masked", help_text=_("身份证号（已遮挡）"))
    phone = serializers.CharField(source="phone_masked", help_text=_("手机号（已遮挡）"))
    relation_to_head = serializers.CharField()
    status = serializers.CharField()
    tags = serializers.SerializerMethodField()

    def get_tags(self, obj: Resident) -> list[str]:
        return sorted(tag.tag for tag in obj.tags.all())


class HouseholdOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    grid = PeopleRefSerializer()
    village = PeopleRefSerializer(source="grid.parent")
    head = PeopleRefSerializer(allow_null=True)
    address = serializers.SerializerMethodField(help_text=_("住址（只显示到村、社区）"))
    is_active = serializers.BooleanField()
    tags = serializers.SerializerMethodField()
    members_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()

    def get_address(self, obj: Household) -> str:
        return people_selectors.address_mask(obj.address)

    def get_tags(self, obj: Household) -> list[str]:
        return sorted(tag.tag for tag in obj.tags.all())


class HouseholdDetailOutputSerializer(HouseholdOutputSerializer):
    township = PeopleRefSerializer(source="grid.parent.parent")
    members = HouseholdMemberOutputSerializer(many=True, source="members.all")
    members_count = serializers.SerializerMethodField()  # type: ignore[assignment]

    def get_members_count(self, obj: Household) -> int:
        return len(obj.members.all())


class PersonalDataOutputSerializer(serializers.Serializer):
    resident_id = serializers.IntegerField()
    id_number = serializers.CharField(help_text=_("身份证号（完整）"))
    phone = serializers.CharField(help_text=_("手机号（完整），未登记时为空"))
    address = serializers.CharField(help_text=_("住址（完整）"))


def _household_out(user: Any, household_id: int) -> dict[str, Any]:
    household = people_selectors.household_detail(user=user, household_id=household_id)
    return HouseholdDetailOutputSerializer(household).data


def _resident_out(user: Any, resident_id: int) -> dict[str, Any]:
    resident = people_selectors.resident_detail(user=user, resident_id=resident_id)
    return ResidentOutputSerializer(resident).data


# ---------------------------------------------------------------------------------------------------------
# Input. One serializer per resource serves POST and PATCH (partial): the schema then has one component
# per resource, and the enum names of "tags" and "status" stay unambiguous across the API.


class HouseholdInputSerializer(serializers.Serializer):
    grid = serializers.IntegerField(help_text=_("网格编号；修改时即把户迁到另一个网格"))
    number = serializers.CharField(max_length=30, help_text=_("户号，在网格内唯一"))
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True, help_text=_("在册"))
    tags = serializers.ListField(child=_choice(HouseholdTagKind.choices), required=False, default=list)
    idempotency_key = _idempotency_key_field()


class ResidentInputSerializer(serializers.Serializer):
    household = serializers.IntegerField(
        help_text=_("户编号；修改时即迁入另一户（须同时给出与新户主的关系）")
    )
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=30, help_text=_("18位身份证号"))
    relation_to_head = _choice(RelationToHead.choices)
    gender = _choice(Gender.choices, required=False, help_text=_("不填则按身份证号"))
    birth_date = serializers.DateField(required=False, help_text=_("不填则按身份证号"))
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text=_("修改时传空字符串即删除")
    )
    status = _choice(ResidentStatus.choices, required=False, default=ResidentStatus.RESIDENT)
    tags = serializers.ListField(child=_choice(ResidentTagKind.choices), required=False, default=list)
    idempotency_key = _idempotency_key_field()


class HouseholdHeadInputSerializer(serializers.Serializer):
    resident = serializers.IntegerField(help_text=_("设为户主的本户成员编号"))


# ---------------------------------------------------------------------------------------------------------
# Households


class HouseholdListApi(generics.ListCreateAPIView):
    """Households in the caller's scope (masked); POST registers one on a grid."""

    serializer_class = HouseholdOutputSerializer
    filterset_class = people_selectors.HouseholdFilter

    def get_queryset(self) -> QuerySet[Household]:
        return people_selectors.household_base(user=self.request.user)

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=HouseholdInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: HouseholdDetailOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = HouseholdInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        household = people_services.household_create(
            actor=request.user,
            grid=people_selectors.people_grid_get(user=request.user, grid_id=data["grid"]),
            number=data["number"],
            address=data["address"],
            is_active=data["is_active"],
            tags=data["tags"],
            idempotency_key=_idempotency_key(request, data),
            request=request._request,
        )
        return Response(_household_out(request.user, household.pk), status=status.HTTP_201_CREATED)


class HouseholdDetailApi(APIView):
    """One household with its members (masked); PATCH changes the fields given."""

    @extend_schema(responses=HouseholdDetailOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(_household_out(request.user, id))

    @extend_schema(request=HouseholdInputSerializer, responses=HouseholdDetailOutputSerializer, tags=TAGS)
    def patch(self, request: Request, id: int) -> Response:
        household = people_selectors.household_detail(user=request.user, household_id=id)
        given = HouseholdInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        grid = None
        if "grid" in data:
            grid = people_selectors.people_grid_get(user=request.user, grid_id=data["grid"])
        people_services.household_update(
            actor=request.user,
            household=household,
            number=data.get("number"),
            address=data.get("address"),
            grid=grid,
            is_active=data.get("is_active"),
            tags=data.get("tags"),
            request=request._request,
        )
        return Response(_household_out(request.user, id))


class HouseholdHeadApi(APIView):
    """Make a member of the household its head (the previous head's relation becomes 其他)."""

    @extend_schema(request=HouseholdHeadInputSerializer, responses=HouseholdDetailOutputSerializer, tags=TAGS)
    def post(self, request: Request, id: int) -> Response:
        household = people_selectors.household_detail(user=request.user, household_id=id)
        given = HouseholdHeadInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        resident = people_selectors.resident_detail(
            user=request.user, resident_id=given.validated_data["resident"]
        )
        people_services.household_head_set(
            actor=request.user, household=household, resident=resident, request=request._request
        )
        return Response(_household_out(request.user, id))


# ---------------------------------------------------------------------------------------------------------
# Residents


class ResidentListApi(generics.ListCreateAPIView):
    """Residents in the caller's scope (masked); POST registers one in a household."""

    serializer_class = ResidentOutputSerializer
    filterset_class = people_selectors.ResidentFilter

    def get_queryset(self) -> QuerySet[Resident]:
        return people_selectors.resident_base(user=self.request.user)

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ResidentInputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: ResidentOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = ResidentInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        household = people_selectors.household_detail(user=request.user, household_id=data["household"])
        resident = people_services.resident_create(
            actor=request.user,
            household=household,
            name=data["name"],
            id_number=data["id_number"],
            relation_to_head=data["relation_to_head"],
            gender=data.get("gender"),
            birth_date=data.get("birth_date"),
            phone=data["phone"],
            status=data["status"],
            tags=data["tags"],
            idempotency_key=_idempotency_key(request, data),
            request=request._request,
        )
        return Response(_resident_out(request.user, resident.pk), status=status.HTTP_201_CREATED)


class ResidentDetailApi(APIView):
    """One resident (masked). PATCH changes the fields given (phone "" clears the phone); a different
    `household` moves the resident there, with `relation_to_head` their relation to its head."""

    @extend_schema(responses=ResidentOutputSerializer, tags=TAGS)
    def get(self, request: Request, id: int) -> Response:
        return Response(_resident_out(request.user, id))

    @extend_schema(request=ResidentInputSerializer, responses=ResidentOutputSerializer, tags=TAGS)
    @transaction.atomic
    def patch(self, request: Request, id: int) -> Response:
        resident = people_selectors.resident_detail(user=request.user, resident_id=id)
        given = ResidentInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(given.validated_data)
        moving = "household" in data and data["household"] != resident.household_id
        if moving:
            if "relation_to_head" not in data:
                raise DomainError(
                    "relation_required",
                    _("迁入另一户时请同时填写与新户主的关系。"),
                    field="relation_to_head",
                )
            target = people_selectors.household_detail(user=request.user, household_id=data["household"])
            people_services.resident_move(
                actor=request.user,
                resident=resident,
                to_household=target,
                relation_to_head=data.pop("relation_to_head"),
                request=request._request,
            )
        birth_date: dt.date | None = data.get("birth_date")
        people_services.resident_update(
            actor=request.user,
            resident=resident,
            name=data.get("name"),
            id_number=data.get("id_number"),
            gender=data.get("gender"),
            birth_date=birth_date,
            phone=data.get("phone"),
            relation_to_head=data.get("relation_to_head"),
            status=data.get("status"),
            tags=data.get("tags"),
            request=request._request,
        )
        return Response(_resident_out(request.user, id))


class ResidentPersonalDataApi(APIView):
    """The resident's ID number, phone and address in clear, for roles that need them. Every call is
    written to the audit log (refusals too); out of scope answers 404, a role without the right 403."""

    @extend_schema(request=None, responses=PersonalDataOutputSerializer, tags=TAGS)
    def post(self, request: Request, id: int) -> Response:
        revealed = people_services.resident_personal_data_reveal(
            actor=request.user, resident=id, request=request._request
        )
        body = PersonalDataOutputSerializer(revealed).data
        response = Response(body)
        response["Cache-Control"] = "no-store"
        return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("households/", HouseholdListApi.as_view(), name="people_household_list"),
    path("households/<int:id>/", HouseholdDetailApi.as_view(), name="people_household_detail"),
    path("households/<int:id>/head/", HouseholdHeadApi.as_view(), name="people_household_head"),
    path("residents/", ResidentListApi.as_view(), name="people_resident_list"),
    path("residents/<int:id>/", ResidentDetailApi.as_view(), name="people_resident_detail"),
    path(
        "residents/<int:id>/personal-data/",
        ResidentPersonalDataApi.as_view(),
        name="people_resident_personal_data",
    ),
]
