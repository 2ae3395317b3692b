"""Evaluations such as "最美村民": nominations per village, review, votes by village representatives, and
winners awarded through a rule item of the catalog."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationStatus(models.TextChoices):
    NOMINATING = "nominating", _("提名中")
    VOTING = "voting", _("投票中")
    DECIDED = "decided", _("已评定")


class Evaluation(models.Model):
    village = models.ForeignKey(
        "governance.Region",
        verbose_name=_("村（社区）"),
        on_delete=models.PROTECT,
        related_name="points_evaluations",
    )
    title = models.CharField(_("评选名称"), max_length=60)
    year = models.PositiveSmallIntegerField(_("年度"))
    # The catalog item the winners are awarded through (e.g. 参与评选 · 获评“最美村民”).
    rule = models.ForeignKey(
        "points.Rule", verbose_name=_("奖励条目"), on_delete=models.PROTECT, related_name="+"
    )
    winners_count = models.PositiveSmallIntegerField(_("评选名额"))
    status = models.CharField(
        _("状态"), max_length=12, choices=EvaluationStatus.choices, default=EvaluationStatus.NOMINATING
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评选活动")
        verbose_name_plural = _("评选活动")
        ordering = ["-year", "village"]
        constraints = [
            models.UniqueConstraint(fields=["village", "title", "year"], name="points_evaluation_unique"),
            models.CheckConstraint(
                condition=models.Q(winners_count__gte=1), name="points_evaluation_winners"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"


class NominationStatus(models.TextChoices):
    NOMINATED = "nominated", _("已提名")
    ACCEPTED = "accepted", _("审核通过")
    REJECTED = "rejected", _("审核未通过")
    WINNER = "winner", _("当选")


class Nomination(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="nominations")
    resident = models.ForeignKey(
        "governance.Resident", verbose_name=_("被提名人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("推荐理由"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=10, choices=NominationStatus.choices, default=NominationStatus.NOMINATED
    )
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    award = models.OneToOneField(
        "points.Award", null=True, blank=True, on_delete=models.PROTECT, related_name="nomination"
    )
    created_at = models.DateTimeField(_("提名时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提名")
        verbose_name_plural = _("提名")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "resident"], name="points_nomination_once"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id} {self.resident_id}"


class Vote(models.Model):
    """A village representative's vote for one nomination, recorded by the village staff from the
    representatives' meeting (representatives have no log-in of their own); one per representative per
    nomination."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="votes")
    representative = models.CharField(_("村民代表"), max_length=30)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        constraints = [
            models.UniqueConstraint(fields=["nomination", "representative"], name="points_vote_once")
        ]

    def __str__(self) -> str:
        return f"{self.nomination_id} {self.representative}"
