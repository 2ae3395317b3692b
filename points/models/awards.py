"""Awards (申报 → 审核 → 公示 → 入账) and objections raised on the public board.

An approved award is under public notice: its points are added to the household account's `pending`
(visible, not spendable). When the notice period ends with no objection upheld, a beat task posts it to
the ledger (pending → balance, in one transaction with the postings). A rejected, upheld-objection or
withdrawn award is voided and its pending points released.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", _("待审核")
    REJECTED = "rejected", _("未通过")
    NOTICE = "notice", _("公示中")
    POSTED = "posted", _("已入账")
    VOIDED = "voided", _("已作废")


class Award(models.Model):
    household = models.ForeignKey(
        "governance.Household", verbose_name=_("户"), on_delete=models.PROTECT, related_name="points_awards"
    )
    resident = models.ForeignKey(
        "governance.Resident",
        verbose_name=_("当事人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_awards",
    )
    rule = models.ForeignKey(
        "points.Rule", verbose_name=_("积分细则"), on_delete=models.PROTECT, related_name="awards"
    )
    # Copied from the rule when proposed: a later change to the catalog does not move history.
    points = models.IntegerField(_("分值"))
    occurred_on = models.DateField(_("发生日期"))
    # The rule's cap period the occurrence falls in ("2026-11", "2026-Q4", "2026"): caps and duplicate
    # proposals are counted per (household, rule, period).
    period = models.CharField(_("周期"), max_length=8)
    note = models.CharField(_("事迹说明"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申报人"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("申报时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    rejection_reason = models.CharField(_("不通过理由"), max_length=300, blank=True)
    notice_ends_at = models.DateTimeField(_("公示截止"), null=True, blank=True, db_index=True)
    posted_at = models.DateTimeField(_("入账时间"), null=True, blank=True)
    transaction = models.OneToOneField(
        "points.LedgerTransaction",
        verbose_name=_("入账交易"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="award",
    )
    void_reason = models.CharField(_("作废原因"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=64)
    batch_key = models.CharField(_("批量申报批次"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("积分申报")
        verbose_name_plural = _("积分申报")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposed_by", "idempotency_key"], name="points_award_idempotency"
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="points_award_nonzero"),
            models.CheckConstraint(
                condition=~models.Q(status="posted") | models.Q(transaction__isnull=False),
                name="points_award_posted_has_transaction",
            ),
        ]
        indexes = [
            models.Index(fields=["household", "rule", "period"], name="points_award_cap"),
            models.Index(fields=["status", "notice_ends_at"], name="points_award_due"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.rule_id} {self.points:+d}"


class AwardPhoto(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="awards/%Y/%m/")
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    size_bytes = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申报照片")
        verbose_name_plural = _("申报照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.award_id} #{self.pk}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class Objection(models.Model):
    """异议: raised by anyone on the public board during the notice period; decided by the village."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="objections")
    reason = models.CharField(_("异议理由"), max_length=500)
    # The objector may leave a name and phone for the village to call back; both optional.
    contact_name = models.CharField(_("联系人"), max_length=30, blank=True)
    contact_phone_encrypted = models.TextField(blank=True, editable=False)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=11, blank=True, editable=False)
    status = models.CharField(
        _("处理结果"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    created_at = models.DateTimeField(_("提出时间"))
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.award_id} {self.status}"
