"""What the other livelihood sites do: love classrooms (sessions, children, volunteer teachers and their
hours), love workshops (products, the left-behind women employed, orders, monthly wages) and red service
stations (services offered and the service log)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.models import Resident


class Volunteer(models.Model):
    """A volunteer (teacher at a classroom, helper at a station), optionally a resident of the county."""

    region = models.ForeignKey(
        "governance.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="volunteers"
    )
    resident = models.ForeignKey(
        "governance.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="volunteering"
    )
    name = models.CharField(_("姓名"), max_length=50)
    # Personal data as for residents (design.md §3): encrypted, with a masked copy for display.
    phone_encrypted = models.TextField(_("手机号（密文）"), blank=True, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=11, blank=True, editable=False)
    speciality = models.CharField(_("特长"), max_length=60, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ClassSession(models.Model):
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="class_sessions")
    held_on = models.DateField(_("日期"))
    starts = models.TimeField(_("开始时间"), null=True, blank=True)
    ends = models.TimeField(_("结束时间"), null=True, blank=True)
    subject = models.CharField(_("内容"), max_length=100)
    teacher = models.ForeignKey(
        Volunteer, verbose_name=_("志愿教师"), on_delete=models.PROTECT, related_name="sessions"
    )
    # Head count as taken in the room; `attendees` names the children known to the register (for the
    # distinct count of people benefiting), possibly fewer.
    children_count = models.PositiveSmallIntegerField(_("到课儿童人数"))
    attendees: models.ManyToManyField[Resident, ClassAttendance] = models.ManyToManyField(
        "governance.Resident", through="ClassAttendance", related_name="class_sessions", blank=True
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("讲堂课程")
        verbose_name_plural = _("讲堂课程")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(children_count__lte=500), name="canteens_session_children_range"
            ),
            models.CheckConstraint(
                condition=models.Q(starts__isnull=True)
                | models.Q(ends__isnull=True)
                | models.Q(ends__gt=models.F("starts")),
                name="canteens_session_times",
            ),
        ]
        indexes = [models.Index(fields=["site", "held_on"], name="canteens_session_site_idx")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.subject}"


class ClassAttendance(models.Model):
    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE)
    resident = models.ForeignKey("governance.Resident", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("到课记录")
        verbose_name_plural = _("到课记录")
        constraints = [
            models.UniqueConstraint(fields=["session", "resident"], name="canteens_attendance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.resident_id}"


class VolunteerHours(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="hours")
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="volunteer_hours")
    session = models.ForeignKey(
        ClassSession, null=True, blank=True, on_delete=models.PROTECT, related_name="volunteer_hours"
    )
    worked_on = models.DateField(_("日期"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1)
    activity = models.CharField(_("服务内容"), max_length=100)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿服务时长")
        verbose_name_plural = _("志愿服务时长")
        ordering = ["-worked_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=Decimal("0"), hours__lte=Decimal("24")),
                name="canteens_hours_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.worked_on} {self.hours}"


class WorkshopProduct(models.Model):
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="workshop_products")
    name = models.CharField(_("产品"), max_length=60)
    unit = models.CharField(_("单位"), max_length=10)
    piece_rate_fen = models.PositiveIntegerField(_("计件工价（分）"))
    is_active = models.BooleanField(_("在产"), default=True)

    class Meta:
        verbose_name = _("作坊产品")
        verbose_name_plural = _("作坊产品")
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="canteens_product_unique")]

    def __str__(self) -> str:
        return self.name


class WorkshopWorker(models.Model):
    """A resident (usually a left-behind woman, 留守妇女) working at a workshop from `joined_on`."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="workshop_workers")
    resident = models.ForeignKey(
        "governance.Resident", on_delete=models.PROTECT, related_name="workshop_jobs"
    )
    joined_on = models.DateField(_("入职日期"))
    left_on = models.DateField(_("离开日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("作坊务工人员")
        verbose_name_plural = _("作坊务工人员")
        ordering = ["site", "joined_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "resident"],
                condition=models.Q(left_on__isnull=True),
                name="canteens_worker_one_open",
            ),
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True) | models.Q(left_on__gte=models.F("joined_on")),
                name="canteens_worker_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} @ {self.site}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("生产中")
    DELIVERED = "delivered", _("已交付")
    CANCELLED = "cancelled", _("已取消")


class WorkshopOrder(models.Model):
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="workshop_orders")
    product = models.ForeignKey(WorkshopProduct, on_delete=models.PROTECT, related_name="orders")
    customer = models.CharField(_("客户"), max_length=100)
    quantity = models.PositiveIntegerField(_("数量"))
    amount_fen = models.BigIntegerField(_("订单金额（分）"))
    ordered_on = models.DateField(_("下单日期"))
    due_on = models.DateField(_("交货期限"), null=True, blank=True)
    delivered_on = models.DateField(_("交付日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("作坊订单")
        verbose_name_plural = _("作坊订单")
        ordering = ["-ordered_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="canteens_order_quantity"),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=0, amount_fen__lte=10_000_000_000),
                name="canteens_order_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.product} × {self.quantity}"


class WagePayment(models.Model):
    """A worker's wage for a month (pieces × piece rate, or as agreed), paid on `paid_on`."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="wage_payments")
    worker = models.ForeignKey(WorkshopWorker, on_delete=models.PROTECT, related_name="wages")
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    pieces = models.PositiveIntegerField(_("计件数量"), default=0)
    amount_fen = models.BigIntegerField(_("工资（分）"))
    paid_on = models.DateField(_("发放日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工资发放")
        verbose_name_plural = _("工资发放")
        ordering = ["-year", "-month", "worker"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "year", "month"], name="canteens_wage_unique"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="canteens_wage_month"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_fen__gte=1, amount_fen__lte=10_000_000), name="canteens_wage_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.year}-{self.month:02d}"


class StationService(models.Model):
    """A service a red station offers (理发, 代缴代办, 健康义诊, 政策咨询 …)."""

    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="station_services")
    name = models.CharField(_("服务项目"), max_length=40)
    is_active = models.BooleanField(_("提供中"), default=True)

    class Meta:
        verbose_name = _("驿站服务项目")
        verbose_name_plural = _("驿站服务项目")
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="canteens_service_unique")]

    def __str__(self) -> str:
        return self.name


class ServiceLog(models.Model):
    site = models.ForeignKey("canteens.Site", on_delete=models.PROTECT, related_name="service_logs")
    service = models.ForeignKey(StationService, on_delete=models.PROTECT, related_name="logs")
    served_on = models.DateField(_("服务日期"))
    people_served = models.PositiveIntegerField(_("服务人数"))
    description = models.CharField(_("服务情况"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("驿站服务记录")
        verbose_name_plural = _("驿站服务记录")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(people_served__gte=1, people_served__lte=10_000),
                name="canteens_log_people",
            )
        ]
        indexes = [models.Index(fields=["site", "served_on"], name="canteens_log_site_idx")]

    def __str__(self) -> str:
        return f"{self.served_on} {self.service}"
