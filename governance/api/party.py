"""REST API for the party area of the spine (mounted under /api/v1/governance/).

Thin views: parse the input, call one gate and one selector or service, answer with an output
serializer. Every list is scoped to the caller and paginated (50 a page); objects outside the caller's
scope answer 404.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from governance.models import (
    MemberCategory,
    MembershipStage,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    SagesGroup,
    SagesMemberKind,
    Talent,
    TalentCategory,
)
from governance.selectors import party as party_selectors
from governance.services import party as party_services

TAGS = ["party"]


def _codes(choices: Any) -> str:
    """The codes a text field takes, for the schema (the `*_label` field beside it carries the label)."""
    return " | ".join(choices.values)


# --- serializers --------------------------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartyOrgOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=_codes(PartyOrgKind))
    kind_label = serializers.CharField(source="get_kind_display")
    parent_id = serializers.IntegerField(allow_null=True)
    region = RefSerializer()
    path = serializers.CharField()
    established_on = serializers.DateField(allow_null=True)
    member_count = serializers.IntegerField()


class LeaderOutputSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    name = serializers.CharField(source="member.resident.name")
    position = serializers.CharField()
    position_label = serializers.CharField(source="get_position_display")
    term_start = serializers.DateField()
    term_end = serializers.DateField(allow_null=True)


class CountOutputSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class PartyOrgDetailOutputSerializer(serializers.Serializer):
    organisation = PartyOrgOutputSerializer(source="org")
    villages = RefSerializer(many=True)
    current_leaders = LeaderOutputSerializer(many=True)
    # Appointed, term not yet begun.
    upcoming_leaders = LeaderOutputSerializer(many=True)
    past_leaders = LeaderOutputSerializer(many=True)
    total_members = serializers.IntegerField()
    stage_counts = CountOutputSerializer(many=True)
    category_counts = CountOutputSerializer(many=True)
    children = PartyOrgOutputSerializer(many=True)


class PartyMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="resident.name")
    gender = serializers.CharField(source="resident.gender")
    organisation = RefSerializer()
    category = serializers.CharField(help_text=_codes(MemberCategory))
    category_label = serializers.CharField(source="get_category_display")
    stage = serializers.ChoiceField(choices=MembershipStage.choices)
    stage_label = serializers.CharField(source="get_stage_display")
    applied_on = serializers.DateField(allow_null=True)
    joined_on = serializers.DateField(allow_null=True, help_text=gettext_lazy("接收为预备党员（入党）的日期"))


class TimelineOutputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=MembershipStage.choices)
    label = serializers.CharField()  # type: ignore[assignment]
    occurred_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    is_reached = serializers.BooleanField()
    is_current = serializers.BooleanField()


class SponsorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="resident.name")
    organisation = RefSerializer()


class TransferOutputSerializer(serializers.Serializer):
    from_organisation = RefSerializer()
    to_organisation = RefSerializer()
    transferred_on = serializers.DateField()
    reason = serializers.CharField()


class PositionOutputSerializer(serializers.Serializer):
    organisation = RefSerializer()
    position = serializers.CharField()
    position_label = serializers.CharField(source="get_position_display")
    term_start = serializers.DateField()
    term_end = serializers.DateField(allow_null=True)


class PartyMemberDetailOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="member.id")
    name = serializers.CharField(source="member.resident.name")
    gender = serializers.CharField(source="member.resident.gender")
    age = serializers.IntegerField()
    organisation = RefSerializer(source="member.organisation")
    category = serializers.CharField(source="member.category", help_text=_codes(MemberCategory))
    category_label = serializers.CharField(source="member.get_category_display")
    stage = serializers.ChoiceField(source="member.stage", choices=MembershipStage.choices)
    stage_label = serializers.CharField(source="member.get_stage_display")
    next_stage = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("下一步发展阶段；已是正式党员时为空")
    )
    timeline = TimelineOutputSerializer(many=True)
    sponsor_1 = SponsorOutputSerializer(source="member.sponsor_1", allow_null=True)
    sponsor_2 = SponsorOutputSerializer(source="member.sponsor_2", allow_null=True)
    transfers = TransferOutputSerializer(many=True)
    positions = PositionOutputSerializer(many=True)


class SagesMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="resident.name")
    kind = serializers.CharField(help_text=_codes(SagesMemberKind))
    kind_label = serializers.CharField(source="get_kind_display")
    joined_on = serializers.DateField()
    is_active = serializers.BooleanField()


class SagesGroupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    village = RefSerializer()
    township = RefSerializer(source="village.parent")
    established_on = serializers.DateField(allow_null=True)
    member_count = serializers.IntegerField()
    veteran_count = serializers.IntegerField()
    cadre_count = serializers.IntegerField()
    villager_count = serializers.IntegerField()
    members = SagesMemberOutputSerializer(many=True, source="members.all")


class TrainingOutputSerializer(serializers.Serializer):
    title = serializers.CharField()
    held_on = serializers.DateField()
    hours = serializers.IntegerField()
    organiser = serializers.CharField()


class TalentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="resident.name")
    village = RefSerializer(source="resident.household.grid.parent")
    category = serializers.CharField(help_text=_codes(TalentCategory))
    category_label = serializers.CharField(source="get_category_display")
    speciality = serializers.CharField()
    registered_on = serializers.DateField()
    training_count = serializers.IntegerField()
    training_hours = serializers.IntegerField()
    trainings = TrainingOutputSerializer(many=True, source="trainings.all")


class RoleModelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="role_model.id")
    name = serializers.CharField(source="role_model.resident.name")
    village = RefSerializer(source="role_model.resident.household.grid.parent")
    title = serializers.CharField(source="role_model.title")
    deeds = serializers.CharField(source="role_model.deeds")
    citation = serializers.CharField()


class GatheringOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="gathering.id")
    session = serializers.IntegerField(source="gathering.session")
    held_on = serializers.DateField(source="gathering.held_on")
    venue = serializers.CharField(source="gathering.venue")
    theme = serializers.CharField(source="gathering.theme")
    total_selected = serializers.IntegerField(help_text=gettext_lazy("本届选树的先进典型总数（全县）"))
    role_models = RoleModelOutputSerializer(
        many=True, source="selections", help_text=gettext_lazy("本届选树的、在您管辖范围内的先进典型")
    )


class PartyMemberAdvanceInputSerializer(serializers.Serializer):
    to_stage = serializers.ChoiceField(
        choices=MembershipStage.choices[1:], label=gettext_lazy("推进到（下一发展阶段）")
    )
    occurred_on = serializers.DateField(label=gettext_lazy("日期"))
    sponsor_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        min_length=2,
        max_length=2,
        label=gettext_lazy("入党介绍人（两名正式党员的编号）"),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, label=gettext_lazy("备注"))


# --- filters ------------------------------------------------------------------------------------


class PartyOrgFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartyOrgKind.choices, label=gettext_lazy("类型"))
    parent = django_filters.NumberFilter(field_name="parent_id", label=gettext_lazy("上级党组织编号"))

    class Meta:
        model = PartyOrganisation
        fields = ["kind", "parent"]


YEAR_JOINED_MESSAGE = gettext_lazy("入党年份应为 1900 到 2100 之间的整数。")


class PartyMemberFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=MembershipStage.choices, label=gettext_lazy("发展阶段"))
    category = django_filters.ChoiceFilter(choices=MemberCategory.choices, label=gettext_lazy("党员类别"))
    organisation = django_filters.NumberFilter(
        method="filter_organisation", label=gettext_lazy("党组织编号（含下级党组织）")
    )
    # Bounded: a year lookup builds dates, and 1e16 or -5 would fail there (a 500) instead of a 400.
    year_joined = django_filters.NumberFilter(
        field_name="joined_on",
        lookup_expr="year",
        label=gettext_lazy("入党年份"),
        min_value=1900,
        max_value=2100,
        decimal_places=0,
        error_messages={
            code: YEAR_JOINED_MESSAGE
            for code in ("invalid", "min_value", "max_value", "max_decimal_places", "max_digits")
        },
    )
    search = django_filters.CharFilter(
        field_name="resident__name", lookup_expr="contains", label=gettext_lazy("姓名")
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("resident__name", "name"),
            ("joined_on", "joined"),
            ("stage_rank", "stage"),
            ("organisation__path", "organisation"),
        ),
        label=gettext_lazy("排序"),
    )

    class Meta:
        model = PartyMember
        fields = ["stage", "category", "organisation", "year_joined", "search"]

    def filter_organisation(
        self, queryset: QuerySet[PartyMember], name: str, value: Any
    ) -> QuerySet[PartyMember]:
        # An organisation outside the caller's scope answers 404, as its detail would.
        org = party_selectors.party_org_get(user=self.request.user, org_id=int(value))
        return queryset.filter(organisation__path__startswith=org.path)


class TalentFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=TalentCategory.choices, label=gettext_lazy("人才类别"))

    class Meta:
        model = Talent
        fields = ["category"]


# --- views --------------------------------------------------------------------------------------


class PartyOrgListApi(generics.ListAPIView):
    """Party organisations in the caller's scope, in tree order, with their own member counts."""

    serializer_class = PartyOrgOutputSerializer
    filterset_class = PartyOrgFilter

    def get_queryset(self) -> QuerySet[PartyOrganisation]:
        return party_selectors.party_org_list(user=self.request.user)

    @extend_schema(tags=TAGS, operation_id="party_organisations_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PartyOrgDetailApi(APIView):
    """One organisation: leadership (current and past terms), member counts by stage and category,
    sub-organisations and, for a joint committee, the villages it spans."""

    @extend_schema(
        tags=TAGS, responses=PartyOrgDetailOutputSerializer, operation_id="party_organisations_retrieve"
    )
    def get(self, request: Request, org_id: int) -> Response:
        detail = party_selectors.party_org_detail(user=request.user, org_id=org_id)
        return Response(PartyOrgDetailOutputSerializer(detail).data)


class PartyMemberListApi(generics.ListAPIView):
    """Members and people in the membership pipeline, in the caller's scope."""

    serializer_class = PartyMemberOutputSerializer
    filterset_class = PartyMemberFilter

    def get_queryset(self) -> QuerySet[PartyMember]:
        return party_selectors.party_member_list(user=self.request.user)

    @extend_schema(tags=TAGS, operation_id="party_members_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class PartyMemberDetailApi(APIView):
    """One member: the pipeline as a timeline, sponsors, transfers and leadership positions."""

    @extend_schema(
        tags=TAGS, responses=PartyMemberDetailOutputSerializer, operation_id="party_members_retrieve"
    )
    def get(self, request: Request, member_id: int) -> Response:
        detail = party_selectors.party_member_detail(user=request.user, member_id=member_id)
        return Response(PartyMemberDetailOutputSerializer(detail).data)


class PartyMemberAdvanceApi(APIView):
    """Move a member to the next stage of the pipeline, with its date (and the two sponsors when they
    become a candidate). Needs a county, township or village-secretary role over the organisation."""

    InputSerializer = PartyMemberAdvanceInputSerializer

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: PartyMemberDetailOutputSerializer},
        operation_id="party_members_advance",
    )
    def post(self, request: Request, member_id: int) -> Response:
        member = party_selectors.party_member_get(user=request.user, member_id=member_id)
        if not party_selectors.party_can_manage(
            user=request.user, region_path=member.organisation.region.path
        ):
            raise exceptions.PermissionDenied(_("您没有推进该党员发展程序的权限。"))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sponsors = None
        if data.validated_data.get("sponsor_ids"):
            first, second = (_sponsor(request, pk) for pk in data.validated_data["sponsor_ids"])
            sponsors = (first, second)
        party_services.party_member_advance(
            actor=request.user,
            member=member,
            to_stage=data.validated_data["to_stage"],
            occurred_on=data.validated_data["occurred_on"],
            sponsors=sponsors,
            note=data.validated_data.get("note", ""),
            request=request._request,
        )
        detail = party_selectors.party_member_detail(user=request.user, member_id=member_id)
        return Response(PartyMemberDetailOutputSerializer(detail).data)


def _sponsor(request: Request, member_id: int) -> PartyMember:
    try:
        return party_selectors.party_member_get(user=request.user, member_id=member_id)
    except NotFound:
        raise DomainError(
            "membership_sponsor_unknown",
            _("编号为%d的入党介绍人不存在，或者不在您的管辖范围内。") % member_id,
            field="sponsor_ids",
        ) from None


class SagesGroupListApi(generics.ListAPIView):
    """The village sages' mediation groups of the villages in scope, with their members."""

    serializer_class = SagesGroupOutputSerializer

    def get_queryset(self) -> QuerySet[SagesGroup]:
        return party_selectors.sages_group_list(user=self.request.user).prefetch_related("members__resident")

    @extend_schema(tags=TAGS, operation_id="sages_groups_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class TalentListApi(generics.ListAPIView):
    """The "七个一百" rural practical-talent registry (residents in scope) with training records."""

    serializer_class = TalentOutputSerializer
    filterset_class = TalentFilter

    def get_queryset(self) -> QuerySet[Talent]:
        return party_selectors.talent_list(user=self.request.user).prefetch_related("trainings")

    @extend_schema(tags=TAGS, operation_id="talents_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ShennongGatheringListApi(generics.GenericAPIView):
    """The Shennong heroes gatherings with the role models selected at each (those in scope)."""

    serializer_class = GatheringOutputSerializer
    filter_backends: list[Any] = []

    # many=True: the answer is a page of gatherings ({count, next, previous, results}), not one gathering.
    @extend_schema(
        tags=TAGS, operation_id="shennong_gatherings_list", responses=GatheringOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        gatherings = party_selectors.shennong_gathering_list(user=request.user)
        page = self.paginate_queryset(gatherings)  # type: ignore[arg-type]
        return self.get_paginated_response(GatheringOutputSerializer(page, many=True).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("party-organisations/", PartyOrgListApi.as_view(), name="party-org-list"),
    path("party-organisations/<int:org_id>/", PartyOrgDetailApi.as_view(), name="party-org-detail"),
    path("party-members/", PartyMemberListApi.as_view(), name="party-member-list"),
    path("party-members/<int:member_id>/", PartyMemberDetailApi.as_view(), name="party-member-detail"),
    path(
        "party-members/<int:member_id>/advance/", PartyMemberAdvanceApi.as_view(), name="party-member-advance"
    ),
    path("sages-groups/", SagesGroupListApi.as_view(), name="party-sages-group-list"),
    path("talents/", TalentListApi.as_view(), name="party-talent-list"),
    path("shennong-gatherings/", ShennongGatheringListApi.as_view(), name="party-gathering-list"),
]
