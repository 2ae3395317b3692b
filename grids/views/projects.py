"""Pages of projects from feedback: the list of the villages' projects in scope, a project's page (its
milestones and progress, and for the village secretary the forms that move it), the form that turns a
case into a project, and the small section the region page loads for a village.

Thin: reads through grids.selectors.projects, writes through grids.services.projects; out of scope answers
404, a user who may only look gets 403 on a write; errors are shown next to their field with the input kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import DomainError, NotFound
from governance.models import RegionLevel
from grids import access as grids_access
from grids.models import ProjectMilestone, ProjectStatus
from grids.selectors import projects as project_selectors
from grids.services import projects as project_services
from grids.views.cases import add_domain_error, idempotency_field, scoped_page

PAGE_SIZE = 30
SECTION_LIMIT = 5

SORT_LABELS = {
    "-created": gettext_lazy("立项时间（新→旧）"),
    "created": gettext_lazy("立项时间（旧→新）"),
    "-progress": gettext_lazy("进度（高→低）"),
    "progress": gettext_lazy("进度（低→高）"),
    "village": gettext_lazy("按村（社区）"),
}
assert set(SORT_LABELS) == set(project_selectors.PROJECT_SORTS)


def _date_field(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写日期。"),
            "invalid": gettext_lazy("请输入有效的日期，如 2026-05-01。"),
        },
    )


class ProjectFilterForm(forms.Form):
    village = forms.TypedChoiceField(
        label=gettext_lazy("村（社区）"), required=False, coerce=int, empty_value=None, choices=[]
    )
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False, choices=[])
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=[])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = project_selectors.project_villages(user=user)
        self.fields["village"].choices = [("", _("全部村（社区）"))] + [(v.pk, v.name) for v in villages]  # type: ignore[attr-defined]
        self.fields["status"].choices = [("", _("全部状态")), *ProjectStatus.choices]  # type: ignore[attr-defined]
        self.fields["sort"].choices = list(SORT_LABELS.items())  # type: ignore[attr-defined]


@scoped_page
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects of the villages in scope: filter by village and status, sort, pages of 30."""
    form = ProjectFilterForm(request.GET or None, user=request.user)
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = form.cleaned_data
    sort = filters.get("sort") or project_selectors.DEFAULT_PROJECT_SORT
    projects = project_selectors.project_list(
        user=request.user, village_id=filters.get("village"), status=filters.get("status") or None, sort=sort
    )
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = {k: v for k, v in request.GET.items() if k != "page" and v}
    counts = project_selectors.project_status_counts(user=request.user)
    return render(
        request,
        "grids/projects/list.html",
        {
            "form": form,
            "page": page,
            "query": urlencode(keep),
            "counts": [(value, label, counts[value]) for value, label in ProjectStatus.choices],
            "status": filters.get("status") or "",
            "filtered": any(v for k, v in keep.items() if k != "sort"),
        },
    )


class ProjectCreateForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("项目名称"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写项目名称。")},
    )
    description = forms.CharField(
        label=gettext_lazy("项目内容"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("群众的意见、村党组织的决定、实施和管护的安排。"),
    )
    idempotency_key = idempotency_field()


@scoped_page
def project_create(request: HttpRequest, number: str) -> HttpResponseBase:
    """Turn the case `number` into a project of its village (village secretary and above)."""
    case = grids_access.case_get_visible(request.user, number)
    village = case.grid.parent
    if village is None or not project_services.project_can_manage(user=request.user, village=village):
        raise PermissionDenied(_("只有村党组织书记及乡镇、县管理员可以把诉求转为项目。"))
    if request.method == "POST":
        form = ProjectCreateForm(request.POST)
        if form.is_valid():
            try:
                project = project_services.project_create_from_case(
                    actor=request.user,
                    case=case,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    request=request,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("已立项：%(title)s。") % {"title": project.title})
                return redirect("grids:project_detail", project_id=project.pk)
    else:
        form = ProjectCreateForm(initial={"title": "", "description": case.description})
    return render(
        request,
        "grids/projects/create.html",
        {"form": form, "case": case, "village": village},
        status=400 if form.errors else 200,
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("节点名称"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写节点名称。")},
    )
    due_on = _date_field(gettext_lazy("计划完成"))
    weight = forms.IntegerField(
        label=gettext_lazy("权重"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=gettext_lazy("进度按已完成节点的权重占比计算。"),
        error_messages={
            "required": gettext_lazy("请填写权重。"),
            "invalid": gettext_lazy("权重应为整数。"),
            "min_value": gettext_lazy("权重应为1到100之间的整数。"),
            "max_value": gettext_lazy("权重应为1到100之间的整数。"),
        },
    )
    idempotency_key = idempotency_field()


class CompleteForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    done_on = _date_field(gettext_lazy("完成日期"))
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=300)


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("暂停原因"),
        max_length=200,
        error_messages={"required": gettext_lazy("请填写暂停原因。")},
    )


@scoped_page
def project_detail(request: HttpRequest, project_id: int) -> HttpResponseBase:
    """A project: progress, milestones, source cases; the manager's forms (add a milestone, complete
    one, suspend, resume). Each POST carries `action` naming its form."""
    detail = project_selectors.project_detail(user=request.user, project_id=project_id)
    project = detail.project
    milestone_form = MilestoneForm(initial={"due_on": timezone.localdate(), "weight": 1})
    complete_form: CompleteForm | None = None
    complete_for: int | None = None
    suspend_form = SuspendForm()
    if request.method == "POST":
        if not detail.can_manage:
            raise PermissionDenied(_("只有村党组织书记及乡镇、县管理员可以管理民情项目。"))
        action = request.POST.get("action")
        try:
            if action == "milestone":
                milestone_form = MilestoneForm(request.POST)
                if milestone_form.is_valid():
                    data = milestone_form.cleaned_data
                    try:
                        project_services.project_milestone_add(
                            actor=request.user,
                            project=project,
                            title=data["title"],
                            due_on=data["due_on"],
                            weight=data["weight"],
                            idempotency_key=data["idempotency_key"],
                            request=request,
                        )
                    except DomainError as error:
                        add_domain_error(milestone_form, error)
                    else:
                        messages.success(request, _("已新增节点：%(title)s。") % {"title": data["title"]})
                        return redirect("grids:project_detail", project_id=project.pk)
            elif action == "complete":
                complete_form = CompleteForm(request.POST)
                complete_for = _int(request.POST.get("milestone"))
                if complete_form.is_valid():
                    milestone = _milestone(project.pk, complete_form.cleaned_data["milestone"])
                    try:
                        updated = project_services.project_milestone_complete(
                            actor=request.user,
                            milestone=milestone,
                            done_on=complete_form.cleaned_data["done_on"],
                            note=complete_form.cleaned_data["note"],
                            request=request,
                        )
                    except DomainError as error:
                        add_domain_error(complete_form, error)
                    else:
                        messages.success(
                            request,
                            _("节点“%(title)s”已完成，项目进度%(percent)d%%。")
                            % {"title": milestone.title, "percent": updated.progress_percent},
                        )
                        return redirect("grids:project_detail", project_id=project.pk)
            elif action == "suspend":
                suspend_form = SuspendForm(request.POST)
                if suspend_form.is_valid():
                    try:
                        project_services.project_suspend(
                            actor=request.user,
                            project=project,
                            reason=suspend_form.cleaned_data["reason"],
                            request=request,
                        )
                    except DomainError as error:
                        add_domain_error(suspend_form, error)
                    else:
                        messages.success(request, _("项目已暂停。"))
                        return redirect("grids:project_detail", project_id=project.pk)
            elif action == "resume":
                project_services.project_resume(actor=request.user, project=project, request=request)
                messages.success(request, _("项目已恢复实施。"))
                return redirect("grids:project_detail", project_id=project.pk)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect("grids:project_detail", project_id=project.pk)
        detail = project_selectors.project_detail(user=request.user, project_id=project_id)
    has_errors = any(f is not None and f.errors for f in (milestone_form, complete_form, suspend_form))
    return render(
        request,
        "grids/projects/detail.html",
        {
            "d": detail,
            "p": detail.project,
            "milestone_form": milestone_form,
            "complete_form": complete_form,
            "complete_for": complete_for,
            "suspend_form": suspend_form,
            "today": timezone.localdate(),
        },
        status=400 if has_errors else 200,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _milestone(project_id: int, milestone_id: int) -> ProjectMilestone:
    found = ProjectMilestone.objects.filter(project_id=project_id, pk=milestone_id).first()
    if found is None:
        raise NotFound(_("未找到该节点。"))
    return found


@scoped_page
def project_region_section(request: HttpRequest, region_id: int) -> HttpResponse:
    """The village page's "民情项目" section (an HTML fragment the region page loads): the latest projects
    of a village, or of the villages under a township or the county, with a link to the full list."""
    region = project_selectors.project_region_get(user=request.user, region_id=region_id)
    if region.level == RegionLevel.GRID:
        return HttpResponse("")
    projects = project_selectors.project_list(user=request.user, region=region)
    total = projects.count()
    query = {"village": region.pk} if region.level == RegionLevel.VILLAGE else {}
    return render(
        request,
        "grids/projects/_section_body.html",
        {
            "region": region,
            "projects": list(projects[:SECTION_LIMIT]),
            "total": total,
            "list_query": urlencode(query),
        },
    )
