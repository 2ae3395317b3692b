"""Households and residents: ordinary rows pointing at their grid, never tree nodes.

Personal data (design.md §3): the ID number and phone are stored encrypted (governance.pii), with a
keyed hash for look-up and de-duplication and a masked form for display; the exact address is shown
masked to roles that do not need it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models.regions import Region


class Household(models.Model):
    """一户一档: a household on a grid, the unit that points are kept for."""

    grid = models.ForeignKey(
        Region, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="households"
    )
    number = models.CharField(_("户号"), max_length=30)
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("户主"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("住址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["grid", "number"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "number"], name="household_unique_number_in_grid")
        ]

    def __str__(self) -> str:
        return self.number


class HouseholdTagKind(models.TextChoices):
    LOW_INCOME = "low_income", _("低保户")
    POVERTY_ALLEVIATED = "poverty_alleviated", _("脱贫户")
    MILITARY_FAMILY = "military_family", _("军属户")
    FIVE_GUARANTEES = "five_guarantees", _("五保户")
    CIVILISED = "civilised", _("文明家庭")


class HouseholdTag(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("标签"), max_length=30, choices=HouseholdTagKind.choices)

    class Meta:
        verbose_name = _("户标签")
        verbose_name_plural = _("户标签")
        constraints = [models.UniqueConstraint(fields=["household", "tag"], name="household_tag_unique")]
        indexes = [models.Index(fields=["tag"], name="household_tag_tag_idx")]

    def __str__(self) -> str:
        return str(self.get_tag_display())


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class RelationToHead(models.TextChoices):
    SELF = "self", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER = "other", _("其他")


class ResidentStatus(models.TextChoices):
    RESIDENT = "resident", _("在籍")
    AWAY = "away", _("外出务工")
    MOVED_OUT = "moved_out", _("迁出")
    DECEASED = "deceased", _("去世")


class Resident(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("所属户"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    # The ID number: Fernet ciphertext, HMAC for look-up (UNIQUE: one person, one row), masked for display.
    id_number_encrypted = models.TextField(_("身份证号（密文）"), editable=False)
    id_number_hash = models.CharField(_("身份证号（检索摘要）"), max_length=64, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    phone_encrypted = models.TextField(_("手机号（密文）"), blank=True, editable=False)
    phone_hash = models.CharField(_("手机号（检索摘要）"), max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=11, blank=True, editable=False)
    relation_to_head = models.CharField(_("与户主关系"), max_length=20, choices=RelationToHead.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=ResidentStatus.choices, default=ResidentStatus.RESIDENT
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="resident_unique_id_number"),
        ]
        indexes = [
            models.Index(fields=["name"], name="resident_name_idx"),
            models.Index(fields=["phone_hash"], name="resident_phone_hash_idx"),
            models.Index(fields=["birth_date"], name="resident_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ResidentTagKind(models.TextChoices):
    LEFT_BEHIND_ELDERLY = "left_behind_elderly", _("留守老人")
    LEFT_BEHIND_WOMAN = "left_behind_woman", _("留守妇女")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
    LOW_INCOME = "low_income", _("低保")
    DISABILITY = "disability", _("残疾")
    VETERAN = "veteran", _("退役军人")
    PARTY_MEMBER = "party_member", _("党员")
    RETURNED_MIGRANT = "returned_migrant", _("返乡人员")
    RETIRED_CADRE = "retired_cadre", _("退休干部")


class ResidentTag(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("标签"), max_length=30, choices=ResidentTagKind.choices)

    class Meta:
        verbose_name = _("居民标签")
        verbose_name_plural = _("居民标签")
        constraints = [models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique")]
        indexes = [models.Index(fields=["tag"], name="resident_tag_tag_idx")]

    def __str__(self) -> str:
        return str(self.get_tag_display())
