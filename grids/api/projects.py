"""REST API of the projects area of grids (mounted under /api/v1/grids/).

    GET  projects/                          projects of the villages in scope (filters: village, status)
    POST projects/                          {case_id, title, description, idempotency_key}: a case becomes a
                                            project of its village (village secretary and above)
    GET  projects/{id}/                     one project with its milestones and source cases
    POST projects/{id}/milestones/          {title, due_on, weight, idempotency_key}
    POST projects/{id}/complete-milestone/  {milestone_id, done_on, note}: progress and status follow
    POST projects/{id}/suspend/             {reason}
    POST projects/{id}/resume/              {}

A project outside the caller's villages answers 404 exactly like a missing one; a caller who may only
look gets 403 on a write.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from grids import access as grids_access
from grids.models import FeedbackProject, ProjectMilestone, ProjectStatus
from grids.selectors import projects as project_selectors
from grids.services import projects as project_services

TAGS = ["grids-projects"]


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProjectOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    village = ProjectRefSerializer()
    status = serializers.CharField(help_text=" | ".join(ProjectStatus.values))
    status_label = serializers.CharField(source="get_status_display")
    progress_percent = serializers.IntegerField(help_text=_("已完成节点权重占全部权重的百分比（向下取整）"))
    started_on = serializers.DateField(allow_null=True)
    milestone_count = serializers.IntegerField()
    milestone_done = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ProjectMilestoneOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_on = serializers.DateField()
    weight = serializers.IntegerField()
    done_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()


class ProjectSourceCaseOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    category = serializers.CharField()
    status_label = serializers.CharField()
    is_visible = serializers.BooleanField(help_text=_("调用者能否打开该诉求"))


class ProjectDetailOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="project.id")
    title = serializers.CharField(source="project.title")
    description = serializers.CharField(source="project.description")
    village = ProjectRefSerializer(source="project.village")
    status = serializers.CharField(source="project.status", help_text=" | ".join(ProjectStatus.values))
    status_label = serializers.CharField(source="project.get_status_display")
    progress_percent = serializers.IntegerField(source="project.progress_percent")
    started_on = serializers.DateField(source="project.started_on", allow_null=True)
    total_weight = serializers.IntegerField()
    done_weight = serializers.IntegerField()
    milestones = ProjectMilestoneOutputSerializer(many=True)
    source_cases = ProjectSourceCaseOutputSerializer(many=True)
    can_manage = serializers.BooleanField()


class ProjectCreateInputSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(label=_("来源诉求编号（id）"))
    title = serializers.CharField(label=_("项目名称"), allow_blank=True, max_length=100)
    description = serializers.CharField(
        label=_("项目内容"), required=False, allow_blank=True, max_length=4000
    )
    idempotency_key = serializers.CharField(label=_("防重复提交标识"), max_length=64)


class ProjectMilestoneInputSerializer(serializers.Serializer):
    title = serializers.CharField(label=_("节点名称"), allow_blank=True, max_length=100)
    due_on = serializers.DateField(label=_("计划完成"))
    weight = serializers.IntegerField(label=_("权重"), required=False, default=1)
    idempotency_key = serializers.CharField(label=_("防重复提交标识"), max_length=64)


class ProjectCompleteInputSerializer(serializers.Serializer):
    milestone_id = serializers.IntegerField(label=_("节点编号"))
    done_on = serializers.DateField(label=_("完成日期"), required=False, allow_null=True)
    note = serializers.CharField(label=_("说明"), required=False, allow_blank=True, max_length=300)


class ProjectSuspendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(label=_("暂停原因"), allow_blank=True, max_length=200)


class ProjectFilter(django_filters.FilterSet):
    village = django_filters.NumberFilter(field_name="village_id", label=_("村（社区）编号"))
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, label=_("状态"))

    class Meta:
        model = FeedbackProject
        fields = ["village", "status"]


def _detail(request: Request, project_id: int) -> dict[str, Any]:
    detail = project_selectors.project_detail(user=request.user, project_id=project_id)
    body = {
        "project": detail.project,
        "total_weight": detail.total_weight,
        "done_weight": detail.done_weight,
        "milestones": detail.milestones,
        "source_cases": [
            {"number": number, "category": category, "status_label": label, "is_visible": visible}
            for number, category, label, visible in detail.source_cases
        ],
        "can_manage": detail.can_manage,
    }
    return ProjectDetailOutputSerializer(body).data


class ProjectListApi(generics.ListAPIView):
    """Projects of the villages in the caller's scope, newest first; POST turns a case into one."""

    serializer_class = ProjectOutputSerializer
    filterset_class = ProjectFilter

    def get_queryset(self) -> QuerySet[FeedbackProject]:
        return project_selectors.project_list(user=self.request.user)

    @extend_schema(tags=TAGS, operation_id="grids_projects_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        request=ProjectCreateInputSerializer,
        responses={201: ProjectDetailOutputSerializer, 200: ProjectDetailOutputSerializer},
        operation_id="grids_projects_create",
    )
    def post(self, request: Request) -> Response:
        given = ProjectCreateInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        case = grids_access.case_get_visible(request.user, data["case_id"])
        replay = FeedbackProject.objects.filter(
            created_by_id=request.user.pk, idempotency_key=data["idempotency_key"].strip()
        ).exists()
        project = project_services.project_create_from_case(
            actor=request.user,
            case=case,
            title=data["title"],
            description=data.get("description", ""),
            idempotency_key=data["idempotency_key"],
            request=request._request,
        )
        return Response(
            _detail(request, project.pk), status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED
        )


class ProjectDetailApi(APIView):
    """One project: progress, milestones and the cases it came from."""

    @extend_schema(tags=TAGS, responses=ProjectDetailOutputSerializer, operation_id="grids_projects_retrieve")
    def get(self, request: Request, id: int) -> Response:
        return Response(_detail(request, id))


class ProjectMilestoneApi(APIView):
    """Add a milestone (a replay of the idempotency key answers the project unchanged)."""

    @extend_schema(
        tags=TAGS,
        request=ProjectMilestoneInputSerializer,
        responses={201: ProjectDetailOutputSerializer},
        operation_id="grids_projects_milestone_add",
    )
    def post(self, request: Request, id: int) -> Response:
        project = project_selectors.project_get(user=request.user, project_id=id)
        given = ProjectMilestoneInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        project_services.project_milestone_add(
            actor=request.user,
            project=project,
            title=data["title"],
            due_on=data["due_on"],
            weight=data["weight"],
            idempotency_key=data["idempotency_key"],
            request=request._request,
        )
        return Response(_detail(request, id), status=status.HTTP_201_CREATED)


class ProjectCompleteMilestoneApi(APIView):
    """Mark one of the project's milestones done; progress and status are recomputed."""

    @extend_schema(
        tags=TAGS,
        request=ProjectCompleteInputSerializer,
        responses=ProjectDetailOutputSerializer,
        operation_id="grids_projects_milestone_complete",
    )
    def post(self, request: Request, id: int) -> Response:
        project = project_selectors.project_get(user=request.user, project_id=id)
        given = ProjectCompleteInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        milestone = ProjectMilestone.objects.filter(
            project=project, pk=given.validated_data["milestone_id"]
        ).first()
        if milestone is None:
            raise NotFound(_("未找到该节点。"))
        project_services.project_milestone_complete(
            actor=request.user,
            milestone=milestone,
            done_on=given.validated_data.get("done_on"),
            note=given.validated_data.get("note", ""),
            request=request._request,
        )
        return Response(_detail(request, id))


class ProjectSuspendApi(APIView):
    """Pause the project (reason required)."""

    @extend_schema(
        tags=TAGS,
        request=ProjectSuspendInputSerializer,
        responses=ProjectDetailOutputSerializer,
        operation_id="grids_projects_suspend",
    )
    def post(self, request: Request, id: int) -> Response:
        project = project_selectors.project_get(user=request.user, project_id=id)
        given = ProjectSuspendInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        project_services.project_suspend(
            actor=request.user,
            project=project,
            reason=given.validated_data["reason"],
            request=request._request,
        )
        return Response(_detail(request, id))


class ProjectResumeApi(APIView):
    """Resume a suspended project: its status follows its milestones again."""

    @extend_schema(
        tags=TAGS, request=None, responses=ProjectDetailOutputSerializer, operation_id="grids_projects_resume"
    )
    def post(self, request: Request, id: int) -> Response:
        project = project_selectors.project_get(user=request.user, project_id=id)
        project_services.project_resume(actor=request.user, project=project, request=request._request)
        return Response(_detail(request, id))


urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/", ProjectListApi.as_view(), name="project_list"),
    path("projects/<int:id>/", ProjectDetailApi.as_view(), name="project_detail"),
    path("projects/<int:id>/milestones/", ProjectMilestoneApi.as_view(), name="project_milestone_add"),
    path(
        "projects/<int:id>/complete-milestone/",
        ProjectCompleteMilestoneApi.as_view(),
        name="project_milestone_complete",
    ),
    path("projects/<int:id>/suspend/", ProjectSuspendApi.as_view(), name="project_suspend"),
    path("projects/<int:id>/resume/", ProjectResumeApi.as_view(), name="project_resume"),
]
