"""The livelihood-site registry (民生阵地): register and edit a site, its meal slots and photos, and grant or
revoke a site's manager (guardian `canteens.manage_site` on the one site).

Who: township and county admins register and edit sites in their subtree and grant managers
(canteens.access.can_create_site on the site's region); whoever runs a canteen (can_run_site) sets its
serving times and adds photos. Out of scope is NotFound (404).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from canteens import access
from canteens.models import MealSlot, Site, SiteKind, SitePhoto, SiteUserObjectPermission, SlotKind
from canteens.services._common import AnyUser
from common.errors import DomainError, NotFound
from common.images import image_clean
from common.services import begin, finish, text_clean
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Region, RegionLevel, User
from governance.pii import mask_phone

SCOPE_CREATE = "canteens.site_create"
CAPACITY_MAX = 10_000
PHOTOS_MAX = 12
# Default serving times for a new canteen (the manager edits them).
DEFAULT_SLOTS: tuple[tuple[str, dt.time, dt.time], ...] = (
    (SlotKind.BREAKFAST, dt.time(7, 0), dt.time(8, 30)),
    (SlotKind.LUNCH, dt.time(11, 0), dt.time(12, 30)),
    (SlotKind.DINNER, dt.time(17, 0), dt.time(18, 30)),
)
REGION_NOT_FOUND = "未找到该区域，或者它不在您的管辖范围内。"


def _require_setup(actor: AnyUser, site: Site) -> None:
    if not access.can_create_site(actor, site.region.path):
        raise NotFound(access.NOT_FOUND_MESSAGE)


def _require_run(actor: AnyUser, site: Site) -> None:
    if not access.can_run_site(actor, site):
        raise NotFound(access.NOT_FOUND_MESSAGE)


def _fields_clean(
    *,
    kind: str,
    name: str,
    region: Region,
    address: str,
    operator: str,
    capacity: int | str | None,
    host: Site | None,
    phone: str,
    description: str,
) -> dict[str, Any]:
    if kind not in SiteKind.values:
        raise DomainError("bad_kind", _("请选择阵地类型。"), field="kind")
    if region.level != RegionLevel.VILLAGE:
        raise DomainError("site_region_level", _("阵地须设在村（社区）。"), field="region")
    cleaned: dict[str, Any] = {
        "kind": kind,
        "name": text_clean(name, field="name", maximum=60, required=_("请填写名称。")),
        "address": text_clean(address, field="address", maximum=200),
        "operator": text_clean(operator, field="operator", maximum=100),
        "description": text_clean(description, field="description", maximum=2000),
    }
    if capacity is None or (isinstance(capacity, str) and not capacity.strip()):
        cleaned["capacity"] = None
    else:
        try:
            number = int(capacity)
        except (TypeError, ValueError):
            raise DomainError("bad_capacity", _("容量须是整数。"), field="capacity") from None
        if number < 1 or number > CAPACITY_MAX:
            raise DomainError(
                "bad_capacity", _("容量须在 1 到 %(max)s 之间。") % {"max": CAPACITY_MAX}, field="capacity"
            )
        cleaned["capacity"] = number
    if host is not None:
        if kind != SiteKind.CLASSROOM:
            raise DomainError("host_not_classroom", _("只有爱心讲堂可以设在食堂里。"), field="host")
        if host.kind != SiteKind.CANTEEN:
            raise DomainError("host_not_canteen", _("所在食堂须是一家爱心食堂。"), field="host")
        township = region.path.strip("/").split("/")[:2]
        if host.region.path.strip("/").split("/")[:2] != township:
            raise DomainError("host_other_township", _("所在食堂须在同一乡镇。"), field="host")
    cleaned["host"] = host
    cleaned["phone_masked"] = site_phone_clean(phone)
    return cleaned


def site_phone_clean(phone: str) -> str:
    """What a site stores of the number typed: a landline (7–12 digits, e.g. 0710-7654321) as it is, the
    site's public number; a mobile, a person's, only masked (138****5678, design.md §3) — also when typed
    in full-width digits, with +86 / 0086 / 86 in front or a trunk 0, so no spelling of a mobile keeps it
    whole. "" for none. DomainError bad_phone (field phone) for anything else."""
    # NFKC turns full-width digits and dashes into ASCII ones (１３８… is 138…).
    value = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", phone or ""))
    if not value:
        return ""
    # Any 11 digits starting with 1 count as a mobile; behind a prefix, only a real one (13–19…), so a
    # landline such as 010-12345678 is not taken for one.
    mobile = re.fullmatch(r"(?:\+86|0086|86|0)(1[3-9][0-9]{9})|(1[0-9]{10})", value)
    if mobile:
        return mask_phone(mobile.group(1) or mobile.group(2))
    if not re.fullmatch(r"[0-9]+", value):
        raise DomainError("bad_phone", _("联系电话只能是数字。"), field="phone")
    if not 7 <= len(value) <= 12:
        raise DomainError("bad_phone", _("联系电话位数不对。"), field="phone")
    return value


def site_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    kind: str,
    name: str,
    region: Region,
    address: str = "",
    operator: str = "",
    capacity: int | str | None = None,
    host: Site | None = None,
    phone: str = "",
    description: str = "",
    opened_on: dt.date | None = None,
    default_slots: bool = True,
) -> Site:
    """Register a site in the village/community `region` (township or county admin over it); a canteen gets
    the default slots (breakfast 07:00–08:30, lunch 11:00–12:30, dinner 17:00–18:30) unless
    `default_slots` is False. Exactly once per (actor, key). DomainError for a blank or duplicate name, a
    region that is not a village, a host that is not a canteen of the same township."""
    body = {
        "kind": kind,
        "name": name,
        "region": region.pk,
        "address": address,
        "operator": operator,
        "capacity": capacity,
        "host": host.pk if host else None,
        "phone": phone,
        "description": description,
        "opened_on": opened_on,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return Site.objects.select_related("region").get(pk=replay.response["id"])
        if not access.can_create_site(actor, region.path):
            raise NotFound(_(REGION_NOT_FOUND))
        cleaned = _fields_clean(
            kind=kind,
            name=name,
            region=region,
            address=address,
            operator=operator,
            capacity=capacity,
            host=host,
            phone=phone,
            description=description,
        )
        if Site.objects.filter(region=region, kind=kind, name=cleaned["name"]).exists():
            raise DomainError("site_duplicate", _("该村（社区）已有同名同类阵地。"), field="name")
        site = Site.objects.create(region=region, opened_on=opened_on, **cleaned)
        if kind == SiteKind.CANTEEN and default_slots:
            MealSlot.objects.bulk_create(
                [MealSlot(site=site, kind=k, starts=s, ends=e) for k, s, e in DEFAULT_SLOTS]
            )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=site,
            region_path=region.path,
            changes={
                "kind": [None, kind],
                "name": [None, site.name],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_CREATE, key=idempotency_key, object_id=site.pk)
    return site


def site_update(
    *,
    actor: AnyUser,
    site: Site,
    name: str,
    address: str = "",
    operator: str = "",
    capacity: int | str | None = None,
    host: Site | None = None,
    phone: str | None = None,
    description: str = "",
    opened_on: dt.date | None = None,
    is_active: bool = True,
) -> Site:
    """Edit a site (township or county admin over it). The kind and region do not change (a moved site is
    a new site). `phone` None keeps the stored (masked) number. Returns the site."""
    with transaction.atomic():
        site = (
            Site.objects.select_for_update(of=("self",), no_key=True).select_related("region").get(pk=site.pk)
        )
        _require_setup(actor, site)
        if host is not None and host.pk == site.pk:
            raise DomainError("host_self", _("所在食堂不能是它自己。"), field="host")
        cleaned = _fields_clean(
            kind=site.kind,
            name=name,
            region=site.region,
            address=address,
            operator=operator,
            capacity=capacity,
            host=host,
            phone=phone or "",
            description=description,
        )
        if phone is None:
            cleaned["phone_masked"] = site.phone_masked
        cleaned.pop("kind")
        if (
            Site.objects.filter(region=site.region, kind=site.kind, name=cleaned["name"])
            .exclude(pk=site.pk)
            .exists()
        ):
            raise DomainError("site_duplicate", _("该村（社区）已有同名同类阵地。"), field="name")
        names = [*cleaned, "opened_on", "is_active"]
        before = {n: getattr(site, n) for n in names}
        for field_name, value in cleaned.items():
            setattr(site, field_name, value)
        site.opened_on = opened_on
        site.is_active = bool(is_active)
        site.save()
        changes = diff_fields(before, {n: getattr(site, n) for n in names})
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=site,
                region_path=site.region.path,
                changes=changes,
            )
    return site


def slot_set(
    *, actor: AnyUser, site: Site, kind: str, starts: dt.time, ends: dt.time, is_active: bool = True
) -> MealSlot:
    """Set a canteen's serving time for one slot (creating it if missing); whoever runs the canteen.
    DomainError when the site is not a canteen or the end is not after the start."""
    with transaction.atomic():
        site = Site.objects.select_related("region").get(pk=site.pk)
        _require_run(actor, site)
        if site.kind != SiteKind.CANTEEN:
            raise DomainError("not_canteen", _("只有爱心食堂设置餐次。"), field="kind")
        if kind not in SlotKind.values:
            raise DomainError("bad_slot", _("请选择餐次。"), field="slot")
        if starts is None or ends is None or ends <= starts:
            raise DomainError("slot_times", _("结束时间须晚于开始时间。"), field="ends")
        slot = MealSlot.objects.filter(site=site, kind=kind).first()
        before = {"starts": slot.starts, "ends": slot.ends, "is_active": slot.is_active} if slot else {}
        if slot is None:
            slot = MealSlot.objects.create(
                site=site, kind=kind, starts=starts, ends=ends, is_active=is_active
            )
        else:
            slot.starts, slot.ends, slot.is_active = starts, ends, bool(is_active)
            slot.save(update_fields=["starts", "ends", "is_active"])
        changes = diff_fields(before, {"starts": starts, "ends": ends, "is_active": bool(is_active)})
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=site,
                region_path=site.region.path,
                changes={f"slot_{kind}_{name}": value for name, value in changes.items()},
            )
    return slot


def site_photo_add(*, actor: AnyUser, site: Site, image: Any, caption: str = "") -> SitePhoto:
    """Add a photo (cleaned by common.images.image_clean: metadata-free JPEG); whoever runs the site."""
    caption = text_clean(caption, field="caption", maximum=100)
    cleaned = image_clean(image, max_side=1600)
    with transaction.atomic():
        site = Site.objects.select_related("region").get(pk=site.pk)
        _require_run(actor, site)
        if SitePhoto.objects.filter(site=site).count() >= PHOTOS_MAX:
            raise DomainError(
                "too_many_photos", _("每个阵地最多 %(max)s 张照片。") % {"max": PHOTOS_MAX}, field="photos"
            )
        photo = SitePhoto(site=site, caption=caption)
        photo.image.save(f"site-{site.pk}.jpg", ContentFile(cleaned.content), save=False)
        photo.save()
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=photo, region_path=site.region.path, changes={}
        )
    return photo


def site_photo_delete(*, actor: AnyUser, photo: SitePhoto) -> None:
    with transaction.atomic():
        site = Site.objects.select_related("region").get(pk=photo.site_id)
        _require_run(actor, site)
        audit_record(actor=actor, action=AuditAction.DELETE, obj=photo, region_path=site.region.path)
        photo.image.delete(save=False)
        photo.delete()


def _manage_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="canteens", codename=access.MANAGE_SITE_CODENAME)


def site_manager_grant(*, actor: AnyUser, site: Site, user: User) -> bool:
    """Let `user` run this one site (guardian `manage_site` row). True when new, False when already
    granted. Township or county admin over the site."""
    with transaction.atomic():
        site = Site.objects.select_related("region").get(pk=site.pk)
        _require_setup(actor, site)
        if not user.is_active:
            raise DomainError("user_inactive", _("该账号已停用。"), field="user")
        try:
            with transaction.atomic():
                SiteUserObjectPermission.objects.create(
                    content_object=site, user=user, permission=_manage_permission()
                )
        except IntegrityError:
            return False
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=site,
            region_path=site.region.path,
            changes={"manage_site": [None, user.get_username()]},
        )
    return True


def site_manager_revoke(*, actor: AnyUser, site: Site, user: User) -> bool:
    """Take back `user`'s grant on this site; True when there was one."""
    with transaction.atomic():
        site = Site.objects.select_related("region").get(pk=site.pk)
        _require_setup(actor, site)
        deleted, _rows = SiteUserObjectPermission.objects.filter(
            content_object=site, user=user, permission__codename=access.MANAGE_SITE_CODENAME
        ).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.REVOKE,
                obj=site,
                region_path=site.region.path,
                changes={"manage_site": [user.get_username(), None]},
            )
    return bool(deleted)
