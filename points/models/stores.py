"""Points stores (积分超市), their items and stock ledger, redemption days and redemptions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Store(models.Model):
    name = models.CharField(_("积分超市"), max_length=60)
    # A township's store, or a village's own.
    region = models.ForeignKey(
        "governance.Region",
        verbose_name=_("所属区域"),
        on_delete=models.PROTECT,
        related_name="points_stores",
    )
    township = models.ForeignKey(
        "governance.Region", verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("营业"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("积分超市")
        verbose_name_plural = _("积分超市")
        ordering = ["region__path", "name"]
        permissions = [("run_till", _("在此超市收银兑换"))]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="points_store_unique_name")]

    def __str__(self) -> str:
        return self.name


class StoreUserObjectPermission(UserObjectPermissionBase):
    """A clerk who runs one store's till without a region role (design.md §3: direct FK guardian rows)."""

    content_object = models.ForeignKey(Store, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class StoreGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Store, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class Item(models.Model):
    store = models.ForeignKey(
        Store, verbose_name=_("积分超市"), on_delete=models.PROTECT, related_name="items"
    )
    name = models.CharField(_("商品"), max_length=60)
    unit = models.CharField(_("单位"), max_length=10)
    points_price = models.PositiveIntegerField(_("兑换积分"))
    picture = models.FileField(_("图片"), upload_to="store-items/", blank=True)
    # Kept equal to the sum of the item's stock movements, changed under a row lock with them.
    on_hand = models.IntegerField(_("库存"), default=0)
    is_active = models.BooleanField(_("上架"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("兑换商品")
        verbose_name_plural = _("兑换商品")
        ordering = ["store", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="points_item_unique_name"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="points_item_stock_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(points_price__gte=1), name="points_item_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StockKind(models.TextChoices):
    PURCHASE = "purchase", _("采购入库")
    DONATION = "donation", _("捐赠入库")
    REDEMPTION = "redemption", _("兑换出库")
    RETURN = "return", _("退货入库")
    ADJUSTMENT = "adjustment", _("盘点调整")


class StockMovement(models.Model):
    """The stock ledger of an item (append-only): in (+) or out (−)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("类型"), max_length=12, choices=StockKind.choices)
    quantity = models.IntegerField(_("数量"))
    # Where stock came from (supplier, donor) and what it was worth, for purchases and donations.
    source = models.CharField(_("来源"), max_length=100, blank=True)
    value_fen = models.PositiveBigIntegerField(_("金额（分）"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    redemption = models.ForeignKey(
        "points.Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="stock_movements"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("库存流水")
        verbose_name_plural = _("库存流水")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="points_stock_nonzero"),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["purchase", "donation", "return"]) | models.Q(quantity__gt=0),
                name="points_stock_in_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="redemption") | models.Q(quantity__lt=0),
                name="points_stock_out_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="adjustment") | ~models.Q(reason=""),
                name="points_stock_adjustment_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.quantity:+d}"


class DayStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("未开始")
    OPEN = "open", _("兑换中")
    CLOSED = "closed", _("已结束")


class RedemptionDay(models.Model):
    """兑换日: a scheduled event at a store; the till works while it is open."""

    store = models.ForeignKey(
        Store, verbose_name=_("积分超市"), on_delete=models.PROTECT, related_name="days"
    )
    date = models.DateField(_("兑换日期"))
    title = models.CharField(_("名称"), max_length=60, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=DayStatus.choices, default=DayStatus.SCHEDULED
    )
    opened_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("兑换日")
        verbose_name_plural = _("兑换日")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="points_day_one_per_store_date")
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.date}"


class Redemption(models.Model):
    """One till receipt: a household exchanges points for items. The transaction debits the household and
    credits the store's sink; the stock movements take the items; all in one database transaction."""

    receipt_number = models.CharField(_("小票号"), max_length=24, unique=True)
    store = models.ForeignKey(
        Store, verbose_name=_("积分超市"), on_delete=models.PROTECT, related_name="redemptions"
    )
    day = models.ForeignKey(
        RedemptionDay,
        verbose_name=_("兑换日"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    household = models.ForeignKey(
        "governance.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="points_redemptions",
    )
    total_points = models.PositiveIntegerField(_("兑换积分"))
    transaction = models.OneToOneField(
        "points.LedgerTransaction",
        verbose_name=_("交易"),
        on_delete=models.PROTECT,
        related_name="redemption",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("兑换时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("兑换记录")
        verbose_name_plural = _("兑换记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_points__gte=1), name="points_redemption_total")
        ]

    def __str__(self) -> str:
        return self.receipt_number


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, verbose_name=_("商品"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("数量"))
    unit_points = models.PositiveIntegerField(_("单价（积分）"))
    # How many of this line were returned (each return is a reversal transaction + a stock movement).
    returned_quantity = models.PositiveIntegerField(_("已退数量"), default=0)

    class Meta:
        verbose_name = _("兑换明细")
        verbose_name_plural = _("兑换明细")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="points_line_quantity"),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__lte=models.F("quantity")),
                name="points_line_returned_le_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} × {self.quantity}"


class RedemptionReturn(models.Model):
    """A returned item: a reversal transaction (points back to the household) and a stock movement back in."""

    line = models.ForeignKey(RedemptionLine, on_delete=models.PROTECT, related_name="returns")
    quantity = models.PositiveIntegerField(_("退货数量"))
    reason = models.CharField(_("退货原因"), max_length=200)
    transaction = models.OneToOneField(
        "points.LedgerTransaction", on_delete=models.PROTECT, related_name="redemption_return"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("退货时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("退货")
        verbose_name_plural = _("退货")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="points_return_quantity")
        ]

    def __str__(self) -> str:
        return f"{self.line_id} −{self.quantity}"
