"""Enrolment of elders at a love canteen (就餐登记).

Eligibility is checked from the resident record on the start date: a tier's age band against the age on
that day (from birth_date), a status tier's tag against the resident's tags (ResidentTag). The resident
must live in the canteen's township and be on the register (在籍 or 外出务工). One open enrolment per elder
and canteen (UNIQUE, canteens_enrolment_one_open): a second is refused with a clear message.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import cast

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import Enrolment, Site, SiteKind, SubsidyTier
from canteens.services._common import AnyUser
from common.errors import Conflict, DomainError, NotFound
from common.services import begin, finish, text_clean
from governance.audit import audit_record
from governance.models import AuditAction, Resident, ResidentStatus, ResidentTag

SCOPE_CREATE = "canteens.enrolment_create"
ACTIVE_STATUSES = (ResidentStatus.RESIDENT, ResidentStatus.AWAY)
CARD_PREFIX = "ST"


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def tier_basis(
    resident: Resident, tier: SubsidyTier, on_date: dt.date, tags: set[str] | None = None
) -> str | None:
    """Why `resident` qualifies for `tier` on `on_date` ("72 岁", "低保", "72 岁、低保"), or None when they
    do not. `tags` (the resident's tag values) saves a query when the caller has them."""
    parts: list[str] = []
    if tier.min_age is not None or tier.max_age is not None:
        age = age_on(resident.birth_date, on_date)
        if tier.min_age is not None and age < tier.min_age:
            return None
        if tier.max_age is not None and age > tier.max_age:
            return None
        parts.append(_("%(age)s 岁") % {"age": age})
    if tier.tag:
        if tags is None:
            tags = set(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
        if tier.tag not in tags:
            return None
        parts.append(str(tier.get_tag_display()))
    return "、".join(parts) or None


def tiers_eligible(resident: Resident, on_date: dt.date) -> list[tuple[SubsidyTier, str]]:
    """The active tiers `resident` qualifies for on `on_date`, with the basis, in the tiers' order."""
    tags = set(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True))
    found: list[tuple[SubsidyTier, str]] = []
    for tier in SubsidyTier.objects.filter(is_active=True):
        basis = tier_basis(resident, tier, on_date, tags)
        if basis is not None:
            found.append((tier, basis))
    return found


def _township_path(path: str) -> str:
    ids = path.strip("/").split("/")
    return "/".join(ids[:2]) + "/"


def _card_code() -> str:
    return CARD_PREFIX + secrets.token_hex(8).upper()


def _ineligible_message(resident: Resident, tier: SubsidyTier, on_date: dt.date) -> str:
    age = age_on(resident.birth_date, on_date)
    if tier.tag and (tier.min_age is None and tier.max_age is None):
        return _("%(name)s没有“%(tag)s”身份，不符合“%(tier)s”档次。") % {
            "name": resident.name,
            "tag": tier.get_tag_display(),
            "tier": tier.name,
        }
    return _("%(name)s在%(date)s为 %(age)s 岁，不符合“%(tier)s”档次。") % {
        "name": resident.name,
        "date": f"{on_date.year}年{on_date.month}月{on_date.day}日",
        "age": age,
        "tier": tier.name,
    }


def enrolment_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    site: Site,
    resident: Resident,
    tier: SubsidyTier,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
) -> Enrolment:
    """Enrol `resident` at the canteen `site` in `tier` from `starts_on` (whoever runs the canteen).
    Exactly once per (actor, key). DomainError when the resident is outside the canteen's township or off
    the register, the tier does not match the record on the start date, the dates are upside down;
    Conflict when the elder already has an open enrolment at this canteen."""
    body = {
        "site": site.pk,
        "resident": resident.pk,
        "tier": tier.pk,
        "starts_on": starts_on,
        "ends_on": ends_on,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return Enrolment.objects.select_related("site", "resident", "tier").get(pk=replay.response["id"])
        site = Site.objects.select_related("region").get(pk=site.pk)
        if not access.can_run_site(actor, site):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        if site.kind != SiteKind.CANTEEN:
            raise DomainError("not_canteen", _("只有爱心食堂可以登记就餐老人。"), field="site")
        resident = Resident.objects.select_related("household__grid").get(pk=resident.pk)
        if not resident.household.grid.path.startswith(_township_path(site.region.path)):
            raise NotFound(_("未找到该居民，或者他不在本食堂所在乡镇。"), field="resident")
        if resident.status not in ACTIVE_STATUSES:
            raise DomainError(
                "resident_not_registered",
                _("%(name)s的户籍状态为“%(status)s”，不能登记。")
                % {"name": resident.name, "status": resident.get_status_display()},
                field="resident",
            )
        if starts_on is None:
            raise DomainError("starts_on_required", _("请填写开始日期。"), field="starts_on")
        if ends_on is not None and ends_on < starts_on:
            raise DomainError("enrolment_dates", _("结束日期不能早于开始日期。"), field="ends_on")
        if not tier.is_active:
            raise DomainError("tier_inactive", _("该补贴档次已停用。"), field="tier")
        basis = tier_basis(resident, tier, starts_on)
        if basis is None:
            raise DomainError("tier_mismatch", _ineligible_message(resident, tier, starts_on), field="tier")
        duplicate = Conflict(
            "already_enrolled",
            _("%(name)s已在本食堂登记就餐，请先结束原登记。") % {"name": resident.name},
            field="resident",
        )
        if (
            ends_on is None
            and Enrolment.objects.filter(site=site, resident=resident, ends_on__isnull=True).exists()
        ):
            raise duplicate
        overlapping = Enrolment.objects.filter(
            site=site, resident=resident, starts_on__lte=ends_on or dt.date.max
        )
        overlapping = overlapping.exclude(ends_on__lt=starts_on)
        if overlapping.exists():
            raise Conflict(
                "enrolment_overlap",
                _("%(name)s在这段时间已有登记，日期不能重叠。") % {"name": resident.name},
                field="starts_on",
            )
        try:
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    site=site,
                    resident=resident,
                    tier=tier,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    basis=basis[:60],
                    card_code=_card_code(),
                    created_by_id=cast(int, actor.pk),
                )
        except IntegrityError:
            # A concurrent enrolment of the same elder won the UNIQUE.
            raise duplicate from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=enrolment,
            region_path=site.region.path,
            changes={
                "resident": [None, resident.pk],
                "tier": [None, tier.code],
                "starts_on": [None, str(starts_on)],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, object_id=enrolment.pk)
    return enrolment


def enrolment_end(*, actor: AnyUser, enrolment: Enrolment, ends_on: dt.date, reason: str) -> Enrolment:
    """End an open enrolment on `ends_on` (inclusive: meals up to that day are subsidised). Whoever runs
    the canteen. A second end of the same enrolment is refused (Conflict)."""
    reason = text_clean(reason, field="end_reason", maximum=100, required=_("请填写结束原因。"))
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(of=("self",), no_key=True)
            .select_related("site__region", "resident")
            .get(pk=enrolment.pk)
        )
        if not access.can_run_site(actor, enrolment.site):
            raise NotFound(access.NOT_FOUND_MESSAGE)
        if enrolment.ends_on is not None:
            raise Conflict("enrolment_ended", _("该登记已经结束。"))
        if ends_on is None:
            raise DomainError("ends_on_required", _("请填写结束日期。"), field="ends_on")
        if ends_on < enrolment.starts_on:
            raise DomainError("enrolment_dates", _("结束日期不能早于开始日期。"), field="ends_on")
        enrolment.ends_on, enrolment.end_reason = ends_on, reason
        enrolment.save(update_fields=["ends_on", "end_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=enrolment,
            region_path=enrolment.site.region.path,
            changes={"ends_on": [None, str(ends_on)], "end_reason": [None, reason]},
        )
    return enrolment
