"""Redemption days (兑换日): scheduled at a store, opened on the day, closed at the end.

scheduled → open → closed, nothing else: a closed day stays closed (its summary is final). The till takes
redemptions only while the day is open (points.services.redemptions checks it inside its transaction).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from governance.audit import audit_record, audit_replayed, changes_with_key, idempotency_key_clean
from governance.models import AuditAction
from points.models import DayStatus, RedemptionDay, Store
from points.services.stores import store_can_manage

AnyUser = AbstractBaseUser | AnonymousUser
TITLE_MAX = 60


def day_schedule(
    *, actor: AnyUser, idempotency_key: str, store: Store, date: dt.date, title: str = ""
) -> RedemptionDay:
    """A redemption day at `store` on `date` (today or later); returns it. One per store and date.
    Exactly once per (actor, key)."""
    key = idempotency_key_clean(idempotency_key, required=True)
    title = (title or "").strip()
    if len(title) > TITLE_MAX:
        raise DomainError("title_too_long", _("名称最多 60 字。"), field="title")
    if not isinstance(date, dt.date):
        raise DomainError("date_required", _("请选择兑换日期。"), field="date")
    if date < timezone.localdate():
        raise DomainError("date_past", _("兑换日期不能早于今天。"), field="date")
    with transaction.atomic():
        replayed = audit_replayed(
            actor=actor,
            key=key,
            action=AuditAction.CREATE,
            object_type="points.redemptionday",
            lock_namespace="redemption-day",
        )
        if replayed is not None:
            return RedemptionDay.objects.get(pk=replayed.object_id)
        store = Store.objects.select_related("region", "township").get(pk=store.pk)
        if not store_can_manage(actor, store):
            raise NotFound(_("未找到该积分超市，或者它不在您的管辖范围内。"))
        if not store.is_active:
            raise Conflict("store_closed", _("该积分超市已停业。"))
        if RedemptionDay.objects.filter(store=store, date=date).exists():
            raise DomainError("day_duplicate", _("这一天已经安排了兑换日。"), field="date")
        day = RedemptionDay.objects.create(
            store=store,
            date=date,
            title=title or _("%(month)s月%(day)s日兑换日") % {"month": date.month, "day": date.day},
            created_by_id=actor.pk,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=day,
            region_path=store.region.path,
            changes=changes_with_key({"date": [None, date.isoformat()]}, key),
        )
    return day


def _locked_day(actor: AnyUser, day: RedemptionDay) -> RedemptionDay:
    locked = (
        RedemptionDay.objects.select_for_update(of=("self",))
        .select_related("store__region", "store__township")
        .get(pk=day.pk)
    )
    if not store_can_manage(actor, locked.store):
        raise NotFound(_("未找到该兑换日，或者它不在您的管辖范围内。"))
    return locked


def day_open(*, actor: AnyUser, day: RedemptionDay) -> RedemptionDay:
    """Open the day's till (scheduled → open); returns the day. Opening an open day changes nothing.
    Conflict 409 for a closed day, or a day whose date has not come yet."""
    with transaction.atomic():
        day = _locked_day(actor, day)
        if day.status == DayStatus.OPEN:
            return day
        if day.status == DayStatus.CLOSED:
            raise Conflict("day_closed", _("兑换日已结束，不能再开始。"))
        if day.date > timezone.localdate():
            raise Conflict(
                "day_not_yet", _("还没到兑换日期（%(date)s）。") % {"date": f"{day.date:%Y年%m月%d日}"}
            )
        day.status, day.opened_at = DayStatus.OPEN, timezone.now()
        day.save(update_fields=["status", "opened_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=day,
            region_path=day.store.region.path,
            changes={"status": [DayStatus.SCHEDULED, DayStatus.OPEN]},
        )
    return day


def day_close(*, actor: AnyUser, day: RedemptionDay) -> RedemptionDay:
    """Close the day (open → closed); returns it. Closing a closed day changes nothing. Conflict 409 for
    a day that never opened."""
    with transaction.atomic():
        day = _locked_day(actor, day)
        if day.status == DayStatus.CLOSED:
            return day
        if day.status == DayStatus.SCHEDULED:
            raise Conflict("day_not_open", _("兑换日还没有开始。"))
        day.status, day.closed_at = DayStatus.CLOSED, timezone.now()
        day.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=day,
            region_path=day.store.region.path,
            changes={"status": [DayStatus.OPEN, DayStatus.CLOSED]},
        )
    return day
