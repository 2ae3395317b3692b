"""Party organisations, their leadership and members, the membership pipeline, the sages' groups."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models.people import Resident
from governance.models.regions import Region


class PartyOrgKind(models.TextChoices):
    COUNTY_COMMITTEE = "county_committee", _("县委")
    TOWNSHIP_COMMITTEE = "township_committee", _("乡镇党委")
    VILLAGE_GENERAL_BRANCH = "village_general_branch", _("村（社区）党总支")
    VILLAGE_BRANCH = "village_branch", _("村（社区）党支部")
    JOINT_COMMITTEE = "joint_committee", _("联合党委")
    CHAIN_BRANCH = "chain_branch", _("产业链党支部")
    ENTERPRISE_BRANCH = "enterprise_branch", _("企业党支部")


class PartyOrganisation(models.Model):
    """A node of the Party organisation tree. `path` is materialized like the region tree's.

    `region` is where the organisation sits (a joint committee: its lead village); a joint committee
    also lists every village it spans in `villages`.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("类型"), max_length=30, choices=PartyOrgKind.choices)
    name = models.CharField(_("名称"), max_length=80)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="party_organisations"
    )
    villages = models.ManyToManyField(
        Region, verbose_name=_("覆盖村（社区）"), blank=True, related_name="joint_party_organisations"
    )
    path = models.CharField(_("路径"), max_length=255, editable=False)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="partyorg_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind"], name="partyorg_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="partyorg_unique_name_under_parent"),
            models.CheckConstraint(condition=models.Q(path__endswith="/"), name="partyorg_path_set"),
        ]

    def __str__(self) -> str:
        return self.name


class LeadershipPosition(models.TextChoices):
    SECRETARY = "secretary", _("书记")
    DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
    COMMITTEE_MEMBER = "committee_member", _("委员")


class PartyLeadership(models.Model):
    """Who holds a leadership position of an organisation, for which term."""

    organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("党组织"), on_delete=models.CASCADE, related_name="leaders"
    )
    member = models.ForeignKey(
        "PartyMember", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="positions"
    )
    position = models.CharField(_("职务"), max_length=20, choices=LeadershipPosition.choices)
    term_start = models.DateField(_("任期开始"))
    term_end = models.DateField(_("任期结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("党组织班子成员")
        verbose_name_plural = _("党组织班子成员")
        ordering = ["organisation", "position", "term_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__isnull=True) | models.Q(term_end__gt=models.F("term_start")),
                name="leadership_valid_term",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_position_display()} · {self.member}"


class MemberCategory(models.TextChoices):
    REGULAR = "regular", _("普通党员")
    VETERAN = "veteran", _("老党员")
    YOUNG_FARMER = "young_farmer", _("青年农民党员")
    RETURNED_MIGRANT = "returned_migrant", _("返乡创业党员")
    MIGRANT = "migrant", _("流动党员")
    RETIRED_CADRE = "retired_cadre", _("退休干部党员")


class MembershipStage(models.TextChoices):
    """The membership pipeline, in order."""

    APPLICANT = "applicant", _("入党申请人")
    ACTIVIST = "activist", _("入党积极分子")
    CANDIDATE = "candidate", _("发展对象")
    PROBATIONARY = "probationary", _("预备党员")
    FULL = "full", _("正式党员")


STAGE_ORDER = {stage: index for index, stage in enumerate(MembershipStage)}


class PartyMember(models.Model):
    """A resident in the Party or on the way into it; `stage` is the latest step reached."""

    resident = models.OneToOneField(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="party_member"
    )
    organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("所在党组织"), on_delete=models.PROTECT, related_name="members"
    )
    category = models.CharField(
        _("党员类别"), max_length=20, choices=MemberCategory.choices, default=MemberCategory.REGULAR
    )
    stage = models.CharField(_("发展阶段"), max_length=20, choices=MembershipStage.choices)
    sponsor_1 = models.ForeignKey(
        "self",
        verbose_name=_("入党介绍人一"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sponsor_2 = models.ForeignKey(
        "self",
        verbose_name=_("入党介绍人二"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        indexes = [models.Index(fields=["stage", "category"], name="partymember_stage_category_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(sponsor_1=models.F("sponsor_2")), name="partymember_two_distinct_sponsors"
            ),
        ]

    def __str__(self) -> str:
        return str(self.resident)


class MembershipStep(models.Model):
    """The date a member reached a stage of the pipeline. One row per stage reached."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="steps"
    )
    stage = models.CharField(_("阶段"), max_length=20, choices=MembershipStage.choices)
    occurred_on = models.DateField(_("日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("发展记录")
        verbose_name_plural = _("发展记录")
        ordering = ["member", "occurred_on"]
        constraints = [
            models.UniqueConstraint(fields=["member", "stage"], name="membership_step_unique_stage")
        ]
        indexes = [models.Index(fields=["stage", "occurred_on"], name="membership_step_stage_date_idx")]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_stage_display()} · {self.occurred_on}"


class MemberTransfer(models.Model):
    """A member's organisational relationship moved from one organisation to another."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="transfers"
    )
    from_organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("转出党组织"), on_delete=models.PROTECT, related_name="+"
    )
    to_organisation = models.ForeignKey(
        PartyOrganisation, verbose_name=_("转入党组织"), on_delete=models.PROTECT, related_name="+"
    )
    transferred_on = models.DateField(_("转接日期"))
    reason = models.CharField(_("转接原因"), max_length=200)

    class Meta:
        verbose_name = _("组织关系转接")
        verbose_name_plural = _("组织关系转接")
        ordering = ["-transferred_on"]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_organisation} → {self.to_organisation}"


class SagesGroup(models.Model):
    """乡贤说事评理团: one per village; its members mediate disputes filed in grids/."""

    village = models.OneToOneField(
        Region, verbose_name=_("村（社区）"), on_delete=models.PROTECT, related_name="sages_group"
    )
    name = models.CharField(_("名称"), max_length=80)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("乡贤说事评理团")
        verbose_name_plural = _("乡贤说事评理团")

    def __str__(self) -> str:
        return self.name


class SagesMemberKind(models.TextChoices):
    VETERAN_MEMBER = "veteran_member", _("老党员")
    RETIRED_CADRE = "retired_cadre", _("退休干部")
    RESPECTED_VILLAGER = "respected_villager", _("德高望重村民")


class SagesMember(models.Model):
    group = models.ForeignKey(
        SagesGroup, verbose_name=_("评理团"), on_delete=models.CASCADE, related_name="members"
    )
    resident = models.ForeignKey(Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("身份"), max_length=30, choices=SagesMemberKind.choices)
    joined_on = models.DateField(_("加入日期"))
    is_active = models.BooleanField(_("在任"), default=True)

    class Meta:
        verbose_name = _("评理团成员")
        verbose_name_plural = _("评理团成员")
        constraints = [models.UniqueConstraint(fields=["group", "resident"], name="sages_member_unique")]

    def __str__(self) -> str:
        return f"{self.group} · {self.resident}"
