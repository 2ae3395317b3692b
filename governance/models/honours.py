"""Talent and honours: the "七个一百" registry, role models and the Shennong heroes gatherings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models.people import Resident


class TalentCategory(models.TextChoices):
    """The seven categories of the "七个一百" rural practical-talent project, one hundred people each."""

    PRODUCTION = "production", _("生产能手")
    BUSINESS = "business", _("经营能人")
    CRAFTSMAN = "craftsman", _("能工巧匠")
    ECOMMERCE = "ecommerce", _("电商人才")
    CULTURE = "culture", _("文化能人")
    SOCIAL_SERVICE = "social_service", _("社会服务人才")
    RETURNED_ENTREPRENEUR = "returned_entrepreneur", _("返乡创业人才")


class Talent(models.Model):
    resident = models.ForeignKey(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="talents"
    )
    category = models.CharField(_("人才类别"), max_length=30, choices=TalentCategory.choices)
    speciality = models.CharField(_("专长"), max_length=100)
    registered_on = models.DateField(_("入库日期"))

    class Meta:
        verbose_name = _("乡土人才")
        verbose_name_plural = _("乡土人才")
        constraints = [
            models.UniqueConstraint(fields=["resident", "category"], name="talent_unique_category")
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_category_display()}"


class TalentTraining(models.Model):
    talent = models.ForeignKey(
        Talent, verbose_name=_("人才"), on_delete=models.CASCADE, related_name="trainings"
    )
    title = models.CharField(_("培训名称"), max_length=120)
    held_on = models.DateField(_("培训日期"))
    hours = models.PositiveSmallIntegerField(_("学时"))
    organiser = models.CharField(_("主办单位"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = _("培训记录")
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on})"


class RoleModel(models.Model):
    """先进典型: a resident held up as an example."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="role_model_entries"
    )
    title = models.CharField(_("称号"), max_length=80)
    deeds = models.TextField(_("事迹"), blank=True)

    class Meta:
        verbose_name = _("先进典型")
        verbose_name_plural = _("先进典型")

    def __str__(self) -> str:
        return f"{self.resident} · {self.title}"


class ShennongGathering(models.Model):
    """神农英雄会: a numbered session at which role models are selected."""

    session = models.PositiveSmallIntegerField(_("届次"), unique=True)
    held_on = models.DateField(_("举办日期"))
    venue = models.CharField(_("举办地点"), max_length=100, blank=True)
    theme = models.CharField(_("主题"), max_length=120, blank=True)
    role_models: models.ManyToManyField[RoleModel, RoleModelSelection] = models.ManyToManyField(
        RoleModel, through="RoleModelSelection", verbose_name=_("选树典型"), related_name="gatherings"
    )

    class Meta:
        verbose_name = _("神农英雄会")
        verbose_name_plural = _("神农英雄会")
        ordering = ["session"]

    def __str__(self) -> str:
        return f"第{self.session}届神农英雄会"


class RoleModelSelection(models.Model):
    gathering = models.ForeignKey(ShennongGathering, on_delete=models.CASCADE, related_name="selections")
    role_model = models.ForeignKey(RoleModel, on_delete=models.PROTECT, related_name="selections")
    citation = models.CharField(_("推选理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("典型选树")
        verbose_name_plural = _("典型选树")
        constraints = [
            models.UniqueConstraint(fields=["gathering", "role_model"], name="role_model_selection_unique")
        ]

    def __str__(self) -> str:
        return f"{self.gathering} · {self.role_model}"
