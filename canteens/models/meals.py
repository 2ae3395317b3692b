"""Love canteens (爱心食堂): meal slots, the county's subsidy tiers, enrolment of elders, effective-dated
pricing with the four-way funding split, and the meals themselves.

Money is integer fen everywhere. A meal row carries its own split (resident + government + community +
donation = price, a CHECK), so a settlement is a GROUP BY over meals and can never disagree with them.
Meals are append-only except for `voided_at`, set once when a correction reverses the meal (trigger,
canteens 0002); a correction is a new meal row with the negated amounts that names the original.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models import ResidentTagKind


class SlotKind(models.TextChoices):
    BREAKFAST = "breakfast", _("早餐")
    LUNCH = "lunch", _("午餐")
    DINNER = "dinner", _("晚餐")


class MealSlot(models.Model):
    """When a canteen serves a meal (e.g. lunch 11:00–12:30)."""

    site = models.ForeignKey("canteens.Site", on_delete=models.CASCADE, related_name="slots")
    kind = models.CharField(_("餐次"), max_length=10, choices=SlotKind.choices)
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))
    is_active = models.BooleanField(_("供应"), default=True)

    class Meta:
        verbose_name = _("餐次")
        verbose_name_plural = _("餐次")
        ordering = ["site", "starts"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="canteens_slot_unique"),
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="canteens_slot_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class SubsidyTier(models.Model):
    """A subsidy tier the county defines (补贴档次): an age band, or a status (低保, 残疾, 留守老人).

    A resident is eligible for a tier when their age on the day is within [min_age, max_age] (either bound
    may be open) and, for a status tier, they carry the tag. The county's general rule (age 60+ or one of
    the status tags) is the union of the active tiers."""

    code = models.SlugField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("档次名称"), max_length=40)
    min_age = models.PositiveSmallIntegerField(_("最低年龄"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("最高年龄"), null=True, blank=True)
    tag = models.CharField(_("身份条件"), max_length=30, choices=ResidentTagKind.choices, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("补贴档次")
        verbose_name_plural = _("补贴档次")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(max_age__gte=models.F("min_age")),
                name="canteens_tier_age_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(tag="")
                | models.Q(min_age__isnull=False)
                | models.Q(max_age__isnull=False),
                name="canteens_tier_has_condition",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Enrolment(models.Model):
    """An elder enrolled at a canteen in a tier from `starts_on` (until `ends_on`, inclusive)."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="enrolments")
    resident = models.ForeignKey(
        "governance.Resident",
        verbose_name=_("老人"),
        on_delete=models.PROTECT,
        related_name="canteen_enrolments",
    )
    tier = models.ForeignKey(
        SubsidyTier, verbose_name=_("补贴档次"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    # Why the resident qualified, as checked from the resident record on enrolment (e.g. "72 岁").
    basis = models.CharField(_("资格依据"), max_length=60)
    # Printed as a QR code on the elder's meal card; random, not guessable.
    card_code = models.CharField(_("就餐卡码"), max_length=32, unique=True)
    end_reason = models.CharField(_("结束原因"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("就餐登记")
        verbose_name_plural = _("就餐登记")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="canteens_enrolment_dates",
            ),
            # One open enrolment per elder and canteen (a closed one may be followed by a new one).
            models.UniqueConstraint(
                fields=["site", "resident"],
                condition=models.Q(ends_on__isnull=True),
                name="canteens_enrolment_one_open",
            ),
        ]
        indexes = [models.Index(fields=["resident", "starts_on"], name="canteens_enrolment_res_idx")]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.site}"


class Funder(models.TextChoices):
    """The four funders (政府补一点、社会捐一点、社区贴一点、居民出一点), in the order ties are broken."""

    GOVERNMENT = "government", _("政府补贴")
    COMMUNITY = "community", _("社区（村集体）补贴")
    DONATION = "donation", _("社会捐赠")
    RESIDENT = "resident", _("个人缴费")


class GovernmentLevel(models.TextChoices):
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇级")


class PriceRule(models.Model):
    """The price of a meal at a canteen for a tier (or a guest, tier empty) and slot (or every slot), from
    `effective_from` (until `effective_to`, inclusive), and how it is split among the four funders
    (FundingShare rows). canteens.split.meal_split states and applies the arithmetic:
    fixed amounts first; the rest by the shares (which must total 100 %), largest remainder for the odd
    fen; what a cap cuts off goes to `remainder_funder`."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="price_rules")
    tier = models.ForeignKey(
        SubsidyTier,
        verbose_name=_("补贴档次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    slot = models.CharField(_("餐次"), max_length=10, choices=SlotKind.choices, blank=True)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    price_fen = models.PositiveIntegerField(_("餐价（分）"))
    government_level = models.CharField(
        _("政府补贴级别"), max_length=10, choices=GovernmentLevel.choices, default=GovernmentLevel.COUNTY
    )
    remainder_funder = models.CharField(
        _("兜底方"), max_length=12, choices=Funder.choices, default=Funder.COMMUNITY
    )
    # Who pays the donation share the fund cannot cover (the manager is told when it happens).
    donation_fallback = models.CharField(
        _("捐赠不足时由谁补足"), max_length=12, choices=Funder.choices, default=Funder.COMMUNITY
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("餐价与分担规则")
        verbose_name_plural = _("餐价与分担规则")
        ordering = ["site", "tier", "slot", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__gte=1, price_fen__lte=100_000), name="canteens_rule_price_range"
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="canteens_rule_dates",
            ),
            models.CheckConstraint(
                condition=~models.Q(donation_fallback="donation"), name="canteens_rule_fallback_not_donation"
            ),
            models.UniqueConstraint(
                fields=["site", "tier", "slot", "effective_from"],
                nulls_distinct=False,
                name="canteens_rule_unique_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.tier or _('非登记')} {self.price_fen / 100:.2f}"


class FundingShare(models.Model):
    """One funder's part of a price rule: a fixed amount, or a share (basis points of what is left after
    the fixed amounts) with an optional cap."""

    rule = models.ForeignKey(PriceRule, on_delete=models.CASCADE, related_name="shares")
    funder = models.CharField(_("出资方"), max_length=12, choices=Funder.choices)
    fixed_fen = models.PositiveIntegerField(_("固定金额（分）"), null=True, blank=True)
    share_bp = models.PositiveIntegerField(_("比例（万分之）"), null=True, blank=True)
    cap_fen = models.PositiveIntegerField(_("封顶（分）"), null=True, blank=True)

    class Meta:
        verbose_name = _("分担方式")
        verbose_name_plural = _("分担方式")
        ordering = ["rule", "funder"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "funder"], name="canteens_share_unique_funder"),
            models.CheckConstraint(
                condition=(models.Q(fixed_fen__isnull=False) & models.Q(share_bp__isnull=True))
                | (models.Q(fixed_fen__isnull=True) & models.Q(share_bp__isnull=False)),
                name="canteens_share_fixed_or_share",
            ),
            models.CheckConstraint(
                condition=models.Q(share_bp__isnull=True) | models.Q(share_bp__lte=10_000),
                name="canteens_share_bp_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cap_fen__isnull=True) | models.Q(share_bp__isnull=False),
                name="canteens_share_cap_on_share",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_funder_display())


class VerifyMethod(models.TextChoices):
    CARD_QR = "card_qr", _("扫就餐卡")
    ID_TAIL = "id_tail", _("身份证后四位")
    NAME = "name", _("姓名查找")
    STAFF_KNOWN = "staff_known", _("工作人员确认")
    GUEST = "guest", _("非登记就餐")


class ServiceMode(models.TextChoices):
    DINE_IN = "dine_in", _("堂食")
    TAKE_AWAY = "take_away", _("打包带走")
    DELIVERY = "delivery", _("送餐上门")


class Meal(models.Model):
    """One meal served (or, with `reverses`, the correction that takes one back, amounts negated)."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="meals")
    served_on = models.DateField(_("就餐日期"))
    slot = models.CharField(_("餐次"), max_length=10, choices=SlotKind.choices)
    resident = models.ForeignKey(
        "governance.Resident",
        verbose_name=_("老人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="canteen_meals",
    )
    enrolment = models.ForeignKey(
        Enrolment, null=True, blank=True, on_delete=models.PROTECT, related_name="meals"
    )
    tier = models.ForeignKey(
        SubsidyTier,
        verbose_name=_("补贴档次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A guest pays the full price himself: no subsidy, no enrolment (the name is optional).
    is_guest = models.BooleanField(_("非登记就餐"), default=False)
    guest_name = models.CharField(_("就餐人"), max_length=50, blank=True)
    verified_by = models.CharField(_("核验方式"), max_length=12, choices=VerifyMethod.choices)
    mode = models.CharField(
        _("就餐方式"), max_length=10, choices=ServiceMode.choices, default=ServiceMode.DINE_IN
    )
    deliverer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("送餐人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deliverer_name = models.CharField(_("送餐人姓名"), max_length=50, blank=True)
    rule = models.ForeignKey(PriceRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    price_fen = models.IntegerField(_("餐价（分）"))
    resident_fen = models.IntegerField(_("个人缴费（分）"))
    government_fen = models.IntegerField(_("政府补贴（分）"))
    government_level = models.CharField(
        _("政府补贴级别"), max_length=10, choices=GovernmentLevel.choices, default=GovernmentLevel.COUNTY
    )
    community_fen = models.IntegerField(_("社区补贴（分）"))
    donation_fen = models.IntegerField(_("捐赠列支（分）"))
    # The part of the donation share the fund could not cover, paid by the rule's fallback funder instead
    # (already inside that funder's amount; kept so the manager's warning and the reports can show it).
    donation_shortfall_fen = models.IntegerField(_("捐赠不足转由兜底（分）"), default=0)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正原记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    voided_at = models.DateTimeField(_("冲正时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("就餐记录")
        verbose_name_plural = _("就餐记录")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    price_fen=models.F("resident_fen")
                    + models.F("government_fen")
                    + models.F("community_fen")
                    + models.F("donation_fen")
                ),
                name="canteens_meal_split_sums_to_price",
            ),
            # A meal's parts are ≥ 0; only a correction (reverses set) carries negated amounts.
            models.CheckConstraint(
                condition=models.Q(reverses__isnull=False)
                | models.Q(
                    price_fen__gte=0,
                    resident_fen__gte=0,
                    government_fen__gte=0,
                    community_fen__gte=0,
                    donation_fen__gte=0,
                ),
                name="canteens_meal_parts_nonnegative",
            ),
            models.CheckConstraint(
                condition=models.Q(is_guest=True) | models.Q(resident__isnull=False),
                name="canteens_meal_resident_or_guest",
            ),
            models.CheckConstraint(
                condition=models.Q(is_guest=False)
                | (models.Q(government_fen=0, community_fen=0, donation_fen=0)),
                name="canteens_meal_guest_unsubsidised",
            ),
            # At most one subsidised meal per elder, slot and day (voided meals and corrections aside).
            models.UniqueConstraint(
                fields=["resident", "served_on", "slot"],
                condition=models.Q(is_guest=False, reverses__isnull=True, voided_at__isnull=True),
                name="canteens_meal_one_per_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "served_on"], name="canteens_meal_site_day_idx"),
            models.Index(fields=["served_on"], name="canteens_meal_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.served_on} {self.get_slot_display()} {self.resident or self.guest_name}"


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    APPLIED = "applied", _("已冲正")
    REJECTED = "rejected", _("已驳回")


class MealCorrection(models.Model):
    """A request to take back a wrongly recorded meal. Applied, it writes the reversal meal (dated in the
    first period whose claim is not approved); while open, its period's claim cannot be submitted."""

    meal = models.ForeignKey(Meal, on_delete=models.PROTECT, related_name="corrections")
    reason = models.CharField(_("原因"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN
    )
    reversal = models.OneToOneField(
        Meal, null=True, blank=True, on_delete=models.PROTECT, related_name="correction_applied"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("就餐更正")
        verbose_name_plural = _("就餐更正")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meal"], condition=models.Q(status="open"), name="canteens_correction_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meal} ({self.get_status_display()})"
