"""Residents' feedback cases (民情/诉求) and everything hanging off one: its timeline, photos, extension
requests, supervision, "me too" supporters, mediation, and the messages sent about it.

The states and the transitions between them live in grids/workflow.py (one table); services in
grids/services/ are the only writers. The timeline (CaseEvent) is append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from grids.models.config import CaseCategory, HandlingUnit, Urgency


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已上报")
    ACCEPTED = "accepted", _("已受理")
    ASSIGNED = "assigned", _("已派单")
    SIGNED = "signed", _("已签收")
    RETURNED = "returned", _("已退回")
    IN_PROGRESS = "in_progress", _("处置中")
    RESOLVED = "resolved", _("已办结")
    FOLLOWED_UP = "followed_up", _("已回访")
    REOPENED = "reopened", _("发回重办")
    CLOSED = "closed", _("已归档")
    DUPLICATE = "duplicate", _("重复件")
    NOT_RESPONSIBLE = "not_responsible", _("非职责范围")
    WITHDRAWN = "withdrawn", _("已撤回")


class HandlingLevel(models.TextChoices):
    """The level whose queue the case is in (上报/提级 moves it up, 下派 down)."""

    GRID = "grid", _("网格")
    VILLAGE = "village", _("村（社区）")
    TOWNSHIP = "township", _("乡镇")
    COUNTY = "county", _("县")


class Privacy(models.TextChoices):
    PUBLIC = "public", _("公开")
    ANONYMOUS = "anonymous", _("匿名")
    # 保密: the resident's identity is visible only to the reporter and the handler.
    CONFIDENTIAL = "confidential", _("保密")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class WarningLevel(models.TextChoices):
    NONE = "none", _("正常")
    YELLOW = "yellow", _("临期")
    RED = "red", _("超期")


class LocationSource(models.TextChoices):
    GPS = "gps", _("定位")
    GRID = "grid", _("网格")


class Case(models.Model):
    number = models.CharField(_("编号"), max_length=20, unique=True)
    category = models.ForeignKey(
        CaseCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("诉求内容"), max_length=2000)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    privacy = models.CharField(_("公开方式"), max_length=12, choices=Privacy.choices, default=Privacy.PUBLIC)
    # Where it happened: the grid always (scope follows it), a GPS point when the phone gave one.
    grid = models.ForeignKey(
        "governance.Region", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="cases"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    location_source = models.CharField(
        _("位置来源"), max_length=5, choices=LocationSource.choices, default=LocationSource.GRID
    )
    address = models.CharField(_("地点说明"), max_length=200, blank=True)
    # The resident it is filed for; null when the grid leader files their own observation ("本人发现").
    resident = models.ForeignKey(
        "governance.Resident",
        verbose_name=_("反映人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    idempotency_key = models.CharField(_("防重复提交标识"), max_length=64)

    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED, db_index=True
    )
    level = models.CharField(_("办理层级"), max_length=10, choices=HandlingLevel.choices)
    # The region whose queue holds the case: the grid, its village, township or the county.
    handling_region = models.ForeignKey(
        "governance.Region", verbose_name=_("办理区域"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_unit = models.ForeignKey(
        HandlingUnit,
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )

    filed_at = models.DateTimeField(_("上报时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    # Deadlines run from the latest assignment in working days (grids/calendar.py); extensions push them.
    sign_deadline = models.DateTimeField(_("签收期限"), null=True, blank=True)
    resolve_deadline = models.DateTimeField(_("办结期限"), null=True, blank=True)
    warning = models.CharField(
        _("预警"), max_length=6, choices=WarningLevel.choices, default=WarningLevel.NONE
    )
    # Kept at the moment of the event so the assessment never recomputes history.
    signed_on_time = models.BooleanField(_("按时签收"), null=True, blank=True)
    resolved_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)

    result = models.TextField(_("办理结果"), max_length=2000, blank=True)
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Satisfaction.choices, blank=True, default=""
    )
    rehandle_count = models.PositiveSmallIntegerField(_("发回重办次数"), default=0)
    # Returns and transfers since the case last had an owner who signed for it.
    transfer_count = models.PositiveSmallIntegerField(_("无人签收流转次数"), default=0)
    escalation_count = models.PositiveSmallIntegerField(_("提级次数"), default=0)
    me_too_count = models.PositiveIntegerField(_("附议人数"), default=0)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("原件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    # For "not our responsibility": where the resident was sent instead.
    routed_elsewhere_to = models.CharField(_("转办去向"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("民情诉求")
        verbose_name_plural = _("民情诉求")
        ordering = ["-filed_at"]
        permissions = [("mediate_case", _("调解此诉求"))]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "idempotency_key"], name="case_idempotency"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="case_lat_lng_together",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="duplicate") | models.Q(duplicate_of__isnull=False),
                name="case_duplicate_names_original",
            ),
        ]
        indexes = [
            models.Index(fields=["handling_region", "status"], name="case_queue"),
            models.Index(fields=["grid", "status"], name="case_grid_status"),
            models.Index(fields=["assigned_unit", "status"], name="case_unit_status"),
            models.Index(fields=["status", "resolve_deadline"], name="case_deadline"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseEvent(models.Model):
    """One entry of a case's timeline: a transition, a note, a supervision, a warning. Append-only."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    # The transition name from grids/workflow.py, or note / warning / supervise / extension / me_too.
    kind = models.CharField(_("事项"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    # Whether the public timeline of a public case shows it (never personal data).
    is_public = models.BooleanField(_("公开显示"), default=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class PhotoStage(models.TextChoices):
    FILING = "filing", _("上报照片")
    PROGRESS = "progress", _("处置照片")
    RESULT = "result", _("办结照片")
    MEDIATION = "mediation", _("调解照片")


class CasePhoto(models.Model):
    """A photo re-encoded as JPEG without metadata (common/images.py) before it is stored."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    stage = models.CharField(_("阶段"), max_length=10, choices=PhotoStage.choices, default=PhotoStage.FILING)
    image = models.FileField(_("照片"), upload_to="cases/%Y/%m/")
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    size_bytes = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} #{self.pk}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("未同意")


class CaseExtension(models.Model):
    """延期申请: the handler asks the dispatching level for more working days."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.CharField(_("延期理由"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"))
    status = models.CharField(
        _("审批结果"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="case_extension_one_pending"
            ),
            models.CheckConstraint(
                condition=models.Q(days__gte=1, days__lte=30), name="case_extension_days_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}"


class SupervisionKind(models.TextChoices):
    YELLOW = "yellow", _("临期预警")
    RED = "red", _("超期督办")
    MANUAL = "manual", _("人工督办")


class CaseSupervision(models.Model):
    """督办: raised by the deadline task (yellow/red) or by a higher level by hand. One automatic row per
    case, kind and deadline, so a rerun of the task never raises the same warning twice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(_("督办类型"), max_length=8, choices=SupervisionKind.choices)
    deadline = models.DateTimeField(_("所督期限"))
    raised_at = models.DateTimeField(_("督办时间"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("督办意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "deadline"],
                condition=~models.Q(kind="manual"),
                name="case_supervision_once_per_deadline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CaseSupporter(models.Model):
    """附议 ("me too"): another user or resident with the same problem."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        "governance.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("附议时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], condition=models.Q(resident__isnull=True), name="case_supporter_user"
            ),
            models.UniqueConstraint(
                fields=["case", "resident"],
                condition=models.Q(resident__isnull=False),
                name="case_supporter_resident",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +1"


class MediationSession(models.Model):
    """A session of the village sages' mediation group on a dispute case (说事评理)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mediation_sessions")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("调解员"), on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    participants = models.CharField(_("参加人员"), max_length=300)
    summary = models.TextField(_("调解情况"), max_length=2000)
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["held_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mediator", "idempotency_key"], name="mediation_session_idempotency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_at:%Y-%m-%d}"


class MediationAgreement(models.Model):
    """调解协议: what the parties agreed; one per case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="mediation_agreement")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("调解员"), on_delete=models.PROTECT, related_name="+"
    )
    parties = models.CharField(_("当事人"), max_length=300)
    terms = models.TextField(_("协议内容"), max_length=4000)
    signed_on = models.DateField(_("签订日期"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return f"{self.case_id} {self.signed_on}"


class CaseUserObjectPermission(UserObjectPermissionBase):
    """A single case handed to a mediator (design.md §3: direct foreign-key guardian rows)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class ResidentMessage(models.Model):
    """An SMS to a resident about their case (the acknowledgement, a reply): written in the same
    transaction as the event that causes it, sent afterwards by a task through the configured gateway."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    resident = models.ForeignKey("governance.Resident", on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("短信内容"), max_length=500)
    status = models.CharField(
        _("发送状态"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("群众短信")
        verbose_name_plural = _("群众短信")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"


class Notification(models.Model):
    """An in-app notice to a user (a new assignment, a warning, a supervision), shown on their home page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text
