"""Projects that come from residents' feedback (e.g. Huapu village's front-yard gardens): a case can
become a village project with milestones and progress, shown on the village page."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    ACTIVE = "active", _("实施中")
    DONE = "done", _("已完成")
    SUSPENDED = "suspended", _("已暂停")


class FeedbackProject(models.Model):
    village = models.ForeignKey(
        "governance.Region",
        verbose_name=_("村（社区）"),
        on_delete=models.PROTECT,
        related_name="feedback_projects",
    )
    title = models.CharField(_("项目名称"), max_length=100)
    description = models.TextField(_("项目内容"), max_length=4000, blank=True)
    source_cases = models.ManyToManyField(
        "grids.Case", verbose_name=_("来源诉求"), blank=True, related_name="projects"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    # Kept equal to the share of milestone weight done by the service that completes a milestone.
    progress_percent = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    started_on = models.DateField(_("开工日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("民情项目")
        verbose_name_plural = _("民情项目")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="feedback_project_idempotency"
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="feedback_project_progress"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectMilestone(models.Model):
    project = models.ForeignKey(FeedbackProject, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=100)
    due_on = models.DateField(_("计划完成"))
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    done_on = models.DateField(_("实际完成"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="project_milestone_weight")
        ]

    def __str__(self) -> str:
        return self.title
