"""Each township's redeemability policy (积分兑换政策): minimum balance to redeem, notice days, expiry."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Region, RegionLevel
from points.models import ExpiryMode, TownshipPolicy

AnyUser = AbstractBaseUser | AnonymousUser

# The default: a public notice of seven days unless the township says otherwise.
DEFAULT_NOTICE_DAYS = 7
NOTICE_DAYS_MIN, NOTICE_DAYS_MAX = 1, 30
MIN_BALANCE_MAX = 100_000


def township_id_of(path: str) -> int:
    """The township's id from a materialized region path ("county/township/village/grid/")."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2:
        raise DomainError("region_not_under_township", _("该区域不在任何乡镇之下。"))
    return int(parts[1])


def policy_for(township: Region | int) -> TownshipPolicy:
    """The township's stored policy, or an unsaved one with the defaults (7 notice days, no minimum,
    no expiry) when it has never been set. Never writes."""
    township_id = township if isinstance(township, int) else township.pk
    policy = TownshipPolicy.objects.filter(township_id=township_id).first()
    if policy is None:
        policy = TownshipPolicy(township_id=township_id, notice_days=DEFAULT_NOTICE_DAYS)
    return policy


def policy_update(
    *,
    actor: AnyUser,
    township: Region,
    min_balance_to_redeem: int,
    notice_days: int,
    expiry_mode: str,
    clearing_month: int = 1,
    clearing_day: int = 1,
) -> TownshipPolicy:
    """Create or change the township's policy; returns it. Only a township admin of that township or a
    county admin (access.can_manage_rules at the township) may; others get NotFound. Refuses values
    outside the database's limits with a DomainError next to the field."""
    from points import access

    if township.level != RegionLevel.TOWNSHIP or not access.can_manage_rules(actor, township):
        raise NotFound(_("未找到该乡镇，或者它不在您的管辖范围内。"))
    if not NOTICE_DAYS_MIN <= notice_days <= NOTICE_DAYS_MAX:
        raise DomainError(
            "policy_notice_days",
            _("公示天数须在 %(min)s 到 %(max)s 天之间。") % {"min": NOTICE_DAYS_MIN, "max": NOTICE_DAYS_MAX},
            field="notice_days",
        )
    if not 0 <= min_balance_to_redeem <= MIN_BALANCE_MAX:
        raise DomainError(
            "policy_min_balance",
            _("兑换起点须在 0 到 %(max)s 分之间。") % {"max": MIN_BALANCE_MAX},
            field="min_balance_to_redeem",
        )
    if expiry_mode not in ExpiryMode.values:
        raise DomainError("policy_expiry_mode", _("请选择清零方式。"), field="expiry_mode")
    if not 1 <= clearing_month <= 12:
        raise DomainError("policy_clearing_month", _("清零月份须在 1 到 12 之间。"), field="clearing_month")
    if not 1 <= clearing_day <= 28:
        raise DomainError(
            "policy_clearing_day", _("清零日须在 1 到 28 日之间（每个月都有的日子）。"), field="clearing_day"
        )
    with transaction.atomic():
        policy = TownshipPolicy.objects.select_for_update().filter(township=township).first()
        created = policy is None
        if policy is None:
            policy = TownshipPolicy(township=township)
        before = _snapshot(policy) if not created else {}
        policy.min_balance_to_redeem = min_balance_to_redeem
        policy.notice_days = notice_days
        policy.expiry_mode = expiry_mode
        policy.clearing_month = clearing_month
        policy.clearing_day = clearing_day
        policy.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=policy,
            region_path=township.path,
            changes=diff_fields(before, _snapshot(policy)),
            detail=_("设置积分兑换政策"),
        )
    return policy


def _snapshot(policy: TownshipPolicy) -> dict[str, object]:
    return {
        "min_balance_to_redeem": policy.min_balance_to_redeem,
        "notice_days": policy.notice_days,
        "expiry_mode": policy.expiry_mode,
        "clearing_month": policy.clearing_month,
        "clearing_day": policy.clearing_day,
    }
