"""Expos and festivals (展会节会), their exhibitors and organisers, and the county's product catalogue.

Who (industry.access): a county or township admin over the town creates an event and grants an organiser
(guardian `industry.manage_event` on that one event); whoever runs the event (can_run_event) edits it
and adds or removes exhibitors; county and township admins keep the catalogue (can_manage_catalogue).
Out of scope is NotFound (404). Every write is audited and every create runs exactly once per
(actor, idempotency key).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, NotFound
from common.services import begin, finish, text_clean
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Region, RegionLevel, User
from industry import access
from industry.access import AnyUser
from industry.models import (
    Business,
    Event,
    EventKind,
    EventUserObjectPermission,
    Exhibitor,
    IndustryChain,
    Product,
    ProductCategory,
    SalesRecord,
)

SCOPE_EVENT_CREATE = "industry.event_create"
SCOPE_EXHIBITOR_ADD = "industry.exhibitor_add"
SCOPE_PRODUCT_CREATE = "industry.product_create"
REGION_NOT_FOUND = "未找到该区域，或者它不在您的管辖范围内。"
# Product codes: GC-<category>-<serial>, what sales sheets name a product by (industry.md).
CODE_PREFIX = "GC"
CATEGORY_CODES: dict[str, str] = {
    ProductCategory.TEA: "TEA",
    ProductCategory.FUNGI: "FUN",
    ProductCategory.OIL_TEA: "OIL",
    ProductCategory.LIVESTOCK_AQUATIC: "LIV",
    ProductCategory.FRUIT: "FRU",
    ProductCategory.GRAIN_OIL: "GRA",
    ProductCategory.VEGETABLE: "VEG",
    ProductCategory.HERBAL: "HER",
    ProductCategory.PROCESSED: "PRO",
    ProductCategory.HONEY: "HON",
    ProductCategory.HANDICRAFT: "HAN",
    ProductCategory.OTHER: "OTH",
}
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
EVENT_DAYS_MAX = 92


# --- events -----------------------------------------------------------------------------------------


def _event_fields_clean(
    *,
    kind: str,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    series: str,
    town_product: str,
    venue: str,
    organiser: str,
    description: str,
) -> dict[str, Any]:
    if kind not in EventKind.values:
        raise DomainError("bad_kind", _("请选择类型：农旅展览会或节会。"), field="kind")
    if starts_on is None:
        raise DomainError("starts_on_required", _("请填写开始日期。"), field="starts_on")
    if ends_on is None:
        raise DomainError("ends_on_required", _("请填写结束日期。"), field="ends_on")
    if ends_on < starts_on:
        raise DomainError("bad_period", _("结束日期不能早于开始日期。"), field="ends_on")
    if (ends_on - starts_on).days >= EVENT_DAYS_MAX:
        raise DomainError("bad_period", _("一次展会节会最长 92 天，请核对日期。"), field="ends_on")
    return {
        "kind": kind,
        "name": text_clean(name, field="name", maximum=80, required=_("请填写展会节会名称。")),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "series": text_clean(series, field="series", maximum=60),
        "town_product": text_clean(town_product, field="town_product", maximum=40),
        "venue": text_clean(venue, field="venue", maximum=100),
        "organiser": text_clean(organiser, field="organiser", maximum=100),
        "description": text_clean(description, field="description", maximum=2000),
    }


def _name_taken(name: str, starts_on: dt.date, exclude: int | None = None) -> bool:
    rows = Event.objects.filter(name=name, starts_on=starts_on)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.exists()


def event_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    kind: str,
    name: str,
    region: Region,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    series: str = "",
    town_product: str = "",
    venue: str = "",
    organiser: str = "",
    description: str = "",
) -> Event:
    """Create an event held in the township (or county) `region`: county or township admin over it.
    Exactly once per (actor, key). DomainError for a region that is a village or grid, a blank name,
    bad dates or the same name on the same start day; NotFound for a region out of scope."""
    body = {
        "kind": kind,
        "name": name,
        "region": region.pk,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "series": series,
        "town_product": town_product,
        "venue": venue,
        "organiser": organiser,
        "description": description,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_EVENT_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return Event.objects.select_related("region").get(pk=replay.response["id"])
        if not access.can_create_event(actor, region.path):
            raise NotFound(_(REGION_NOT_FOUND))
        if region.level not in (RegionLevel.TOWNSHIP, RegionLevel.COUNTY):
            raise DomainError("bad_region", _("展会节会的举办地应为乡镇（或全县）。"), field="region")
        cleaned = _event_fields_clean(
            kind=kind,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            series=series,
            town_product=town_product,
            venue=venue,
            organiser=organiser,
            description=description,
        )
        if _name_taken(cleaned["name"], cleaned["starts_on"]):
            raise DomainError("event_duplicate", _("同一天开幕的同名展会节会已经登记过。"), field="name")
        event = Event.objects.create(region=region, **cleaned)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=event,
            region_path=region.path,
            changes={
                "name": [None, event.name],
                "starts_on": [None, str(event.starts_on)],
                "ends_on": [None, str(event.ends_on)],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_EVENT_CREATE, key=idempotency_key, object_id=event.pk)
    return event


def event_update(
    *,
    actor: AnyUser,
    event: Event,
    kind: str,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    series: str = "",
    town_product: str = "",
    venue: str = "",
    organiser: str = "",
    description: str = "",
) -> Event:
    """Edit an event (whoever runs it); its town stays. New dates must still hold every sale recorded."""
    with transaction.atomic():
        event = Event.objects.select_for_update().select_related("region").get(pk=event.pk)
        if not access.can_run_event(actor, event):
            raise NotFound(access.EVENT_NOT_FOUND)
        cleaned = _event_fields_clean(
            kind=kind,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            series=series,
            town_product=town_product,
            venue=venue,
            organiser=organiser,
            description=description,
        )
        if _name_taken(cleaned["name"], cleaned["starts_on"], exclude=event.pk):
            raise DomainError("event_duplicate", _("同一天开幕的同名展会节会已经登记过。"), field="name")
        outside = (
            SalesRecord.objects.filter(event=event)
            .filter(Q(sold_on__lt=cleaned["starts_on"]) | Q(sold_on__gt=cleaned["ends_on"]))
            .exists()
        )
        if outside:
            raise DomainError(
                "sales_outside_period",
                _("已有销售记录的日期不在新的举办期间内，请先核对日期。"),
                field="starts_on",
            )
        before = {name: getattr(event, name) for name in cleaned}
        for field_name, value in cleaned.items():
            setattr(event, field_name, value)
        event.save()
        changes = diff_fields(before, cleaned)
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=event,
                region_path=event.region.path,
                changes=changes,
            )
    return event


def _manage_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="industry", codename=access.MANAGE_EVENT_CODENAME)


def event_organiser_grant(*, actor: AnyUser, event: Event, username: str) -> tuple[User, bool]:
    """Let the user named `username` run this one event (guardian `manage_event` row): township or
    county admin over the event's town. Returns (user, True when new)."""
    with transaction.atomic():
        event = Event.objects.select_related("region").get(pk=event.pk)
        if not access.can_create_event(actor, event.region.path):
            raise NotFound(access.EVENT_NOT_FOUND)
        username = (username or "").strip()
        if not username:
            raise DomainError("user_required", _("请填写要授权的用户名。"), field="user")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise DomainError(
                "user_not_found", _("没有用户名为“%(u)s”的账号。") % {"u": username}, field="user"
            )
        if not user.is_active:
            raise DomainError("user_inactive", _("该账号已停用。"), field="user")
        try:
            with transaction.atomic():
                EventUserObjectPermission.objects.create(
                    content_object=event, user=user, permission=_manage_permission()
                )
        except IntegrityError:
            return user, False
        audit_record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=event,
            region_path=event.region.path,
            changes={"manage_event": [None, user.get_username()]},
        )
    return user, True


def event_organiser_revoke(*, actor: AnyUser, event: Event, user: User) -> bool:
    """Take back `user`'s grant on this event; True when there was one."""
    with transaction.atomic():
        event = Event.objects.select_related("region").get(pk=event.pk)
        if not access.can_create_event(actor, event.region.path):
            raise NotFound(access.EVENT_NOT_FOUND)
        deleted, _rows = EventUserObjectPermission.objects.filter(
            content_object=event, user=user, permission__codename=access.MANAGE_EVENT_CODENAME
        ).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.REVOKE,
                obj=event,
                region_path=event.region.path,
                changes={"manage_event": [user.get_username(), None]},
            )
    return bool(deleted)


def event_organisers(event: Event) -> list[User]:
    """The users granted `manage_event` on `event`, by username."""
    ids = EventUserObjectPermission.objects.filter(
        content_object=event, permission__codename=access.MANAGE_EVENT_CODENAME
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))


# --- exhibitors -------------------------------------------------------------------------------------


def exhibitor_add(
    *, actor: AnyUser, idempotency_key: str, event: Event, business: Business, booth: str = ""
) -> Exhibitor:
    """Add an existing business (one the actor sees) to the event with its booth; whoever runs the event.
    Exactly once per (actor, key). DomainError when the business already exhibits there."""
    body = {"event": event.pk, "business": business.pk, "booth": booth}
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_EXHIBITOR_ADD, key=idempotency_key, body=body)
        if replay is not None:
            return Exhibitor.objects.select_related("business", "event").get(pk=replay.response["id"])
        event = Event.objects.select_related("region").get(pk=event.pk)
        if not access.can_run_event(actor, event):
            raise NotFound(access.EVENT_NOT_FOUND)
        if not access.businesses_visible(actor).filter(pk=business.pk).exists():
            raise NotFound(access.BUSINESS_NOT_FOUND)
        booth = text_clean(booth, field="booth", maximum=20)
        if Exhibitor.objects.filter(event=event, business=business).exists():
            raise DomainError(
                "exhibitor_duplicate", _("该经营主体已是本次展会的参展主体。"), field="business"
            )
        if booth and Exhibitor.objects.filter(event=event, booth=booth).exists():
            raise DomainError("booth_taken", _("展位 %(b)s 已有参展主体。") % {"b": booth}, field="booth")
        exhibitor = Exhibitor.objects.create(event=event, business=business, booth=booth)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=exhibitor,
            object_repr=f"{event.name} · {business.name}",
            region_path=event.region.path,
            changes={
                "business": [None, business.name],
                "booth": [None, booth],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_EXHIBITOR_ADD, key=idempotency_key, object_id=exhibitor.pk)
    return exhibitor


def exhibitor_remove(*, actor: AnyUser, exhibitor: Exhibitor) -> None:
    """Remove an exhibitor that has no sales (a posted sale keeps its exhibitor: the ledger never
    changes). Conflict 409 when it has sales."""
    with transaction.atomic():
        exhibitor = Exhibitor.objects.select_related("event__region", "business").get(pk=exhibitor.pk)
        event = exhibitor.event
        if not access.can_run_event(actor, event):
            raise NotFound(access.EVENT_NOT_FOUND)
        if SalesRecord.objects.filter(exhibitor=exhibitor).exists():
            raise Conflict("exhibitor_has_sales", _("该参展主体已有销售记录，不能移除。"))
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            obj=exhibitor,
            object_repr=f"{event.name} · {exhibitor.business.name}",
            region_path=event.region.path,
            changes={"business": [exhibitor.business.name, None], "booth": [exhibitor.booth, None]},
        )
        exhibitor.delete()


# --- the product catalogue --------------------------------------------------------------------------


def product_code_suggest(category: str) -> str:
    """The next free code of `category`: GC-TEA-0001, GC-TEA-0002 … (the highest serial + 1)."""
    prefix = f"{CODE_PREFIX}-{CATEGORY_CODES.get(category, 'OTH')}-"
    codes = Product.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    serials = [int(code[len(prefix) :]) for code in codes if code[len(prefix) :].isdigit()]
    return f"{prefix}{(max(serials) + 1) if serials else 1:04d}"


def _require_catalogue(actor: AnyUser) -> None:
    if not access.can_manage_catalogue(actor):
        raise DomainError("forbidden", _("只有县、乡镇管理员可以维护农产品目录。"), status=403)


def _product_fields_clean(
    *,
    actor: AnyUser,
    code: str,
    name: str,
    category: str,
    origin_region: Region | None,
    chain: IndustryChain | None,
    producer: Business | None,
    unit: str,
) -> dict[str, Any]:
    if category not in ProductCategory.values:
        raise DomainError("bad_category", _("请选择品类。"), field="category")
    code = (code or "").strip().upper()
    if not code:
        code = product_code_suggest(category)
    if not CODE_RE.match(code):
        raise DomainError(
            "bad_code", _("产品编码只能用大写字母、数字和“-”，例如 GC-TEA-0001。"), field="code"
        )
    if origin_region is not None and origin_region.level != RegionLevel.VILLAGE:
        raise DomainError("bad_origin", _("产地应为村（社区）。"), field="origin_region")
    if producer is not None and not access.businesses_visible(actor).filter(pk=producer.pk).exists():
        raise NotFound(access.BUSINESS_NOT_FOUND)
    return {
        "code": code,
        "name": text_clean(name, field="name", maximum=60, required=_("请填写产品名称。")),
        "category": category,
        "origin_region": origin_region,
        "chain": chain,
        "producer": producer,
        "unit": text_clean(unit, field="unit", maximum=10) or "件",
    }


def product_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    name: str,
    category: str,
    code: str = "",
    origin_region: Region | None = None,
    chain: IndustryChain | None = None,
    producer: Business | None = None,
    unit: str = "件",
) -> Product:
    """Add a product to the catalogue (county or township admin). A blank code gets the next free one
    of its category (product_code_suggest). Exactly once per (actor, key). DomainError for a taken
    or malformed code, a blank name, an origin that is not a village."""
    body = {
        "code": code,
        "name": name,
        "category": category,
        "origin_region": origin_region.pk if origin_region else None,
        "chain": chain.pk if chain else None,
        "producer": producer.pk if producer else None,
        "unit": unit,
    }
    with transaction.atomic():
        replay = begin(actor=actor, scope=SCOPE_PRODUCT_CREATE, key=idempotency_key, body=body)
        if replay is not None:
            return Product.objects.get(pk=replay.response["id"])
        _require_catalogue(actor)
        cleaned = _product_fields_clean(
            actor=actor,
            code=code,
            name=name,
            category=category,
            origin_region=origin_region,
            chain=chain,
            producer=producer,
            unit=unit,
        )
        if Product.objects.filter(code=cleaned["code"]).exists():
            raise DomainError(
                "code_taken", _("产品编码 %(c)s 已被使用。") % {"c": cleaned["code"]}, field="code"
            )
        try:
            with transaction.atomic():
                product = Product.objects.create(**cleaned)
        except IntegrityError:
            raise DomainError(
                "code_taken", _("产品编码 %(c)s 已被使用。") % {"c": cleaned["code"]}, field="code"
            ) from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=product,
            region_path=origin_region.path if origin_region else "",
            changes={
                "code": [None, product.code],
                "name": [None, product.name],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=SCOPE_PRODUCT_CREATE, key=idempotency_key, object_id=product.pk)
    return product


def product_update(
    *,
    actor: AnyUser,
    product: Product,
    code: str,
    name: str,
    category: str,
    origin_region: Region | None = None,
    chain: IndustryChain | None = None,
    producer: Business | None = None,
    unit: str = "件",
) -> Product:
    """Edit a product (county or township admin). Its code changes only while no sale names it: sheets
    already imported name it by that code."""
    with transaction.atomic():
        _require_catalogue(actor)
        product = Product.objects.select_for_update().get(pk=product.pk)
        cleaned = _product_fields_clean(
            actor=actor,
            code=code or product.code,
            name=name,
            category=category,
            origin_region=origin_region,
            chain=chain,
            producer=producer,
            unit=unit,
        )
        if cleaned["code"] != product.code:
            if SalesRecord.objects.filter(product=product).exists():
                raise DomainError("code_in_use", _("该产品已有销售记录，编码不能再改。"), field="code")
            if Product.objects.filter(code=cleaned["code"]).exclude(pk=product.pk).exists():
                raise DomainError(
                    "code_taken", _("产品编码 %(c)s 已被使用。") % {"c": cleaned["code"]}, field="code"
                )
        before = {name: getattr(product, name) for name in cleaned}
        for field_name, value in cleaned.items():
            setattr(product, field_name, value)
        product.save()
        changes = diff_fields(before, cleaned)
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=product,
                region_path=product.origin_region.path if product.origin_region else "",
                changes=changes,
            )
    return product


def chain_for_product(chain_id: int | None) -> IndustryChain | None:
    """The chain by id (chains are county reference data, visible to every reader); None for none."""
    if not chain_id:
        return None
    chain = IndustryChain.objects.filter(pk=chain_id).first()
    if chain is None:
        raise DomainError("chain_not_found", _("未找到该产业链。"), field="chain")
    return chain


def origin_for_product(region_id: int | None) -> Region | None:
    """The origin village by id (any village of the county: the catalogue is county-wide)."""
    if not region_id:
        return None
    region = Region.objects.filter(pk=region_id, level=RegionLevel.VILLAGE).first()
    if region is None:
        raise DomainError("bad_origin", _("产地应为村（社区）。"), field="origin_region")
    return region
