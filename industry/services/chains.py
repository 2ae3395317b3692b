"""Writes of the chains area: industry chains and their links (the county's), businesses (经营主体) and
their participation in chains, households' own projects (户户有项目) and residents' work (人人有事干).

Who (industry.access): the county admin keeps the chains and their links; county, township admins and
village secretaries record the businesses, participations, projects and work of the villages under them.
Out of scope answers NotFound (404) like a missing object. Every write is one transaction with its audit
row; creates are exactly once per (actor, idempotency key), ends are idempotent by themselves (ending an
ended record again on the same day changes nothing).

Dates: a participation, project or employment is active on day d when it started on or before d (an
unknown start counts as long ago) and has not ended by d (its end date is the first day it no longer
counts) — industry.selectors.coverage counts the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from common.services import finish, replay_id, text_clean
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, Household, PartyOrganisation, Region, RegionLevel, Resident
from governance.models.party import PartyOrgKind
from governance.models.people import ResidentStatus
from industry import access
from industry.models import (
    Business,
    BusinessKind,
    ChainLink,
    ChainParticipation,
    Employment,
    EmploymentKind,
    HouseholdProject,
    IndustryChain,
    LinkKind,
    ProjectKind,
)
from industry.selectors import chains as selectors

AnyUser = AbstractBaseUser | AnonymousUser

# GB 32100-2015: the unified social credit code's 31 characters (no I, O, S, V, Z) and the weights of
# its first 17 positions; the 18th is the check character.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
AREA_MAX = Decimal("10000000")  # 亩: a whole county is under two million
OUTPUT_MAX_FEN = 100_000_000_000 * 100  # 千亿元: beyond it the figure is a typing mistake
COUNT_MAX = 1_000_000

# The same messages the selectors answer for a missing object: out of scope must read like missing.
PARTICIPATION_NOT_FOUND = selectors.PARTICIPATION_NOT_FOUND
HOUSEHOLD_NOT_FOUND = selectors.HOUSEHOLD_NOT_FOUND
RESIDENT_NOT_FOUND = selectors.RESIDENT_NOT_FOUND
PROJECT_NOT_FOUND = selectors.PROJECT_NOT_FOUND
EMPLOYMENT_NOT_FOUND = selectors.EMPLOYMENT_NOT_FOUND
REGION_NOT_FOUND = selectors.VILLAGE_NOT_FOUND


# --- small helpers ------------------------------------------------------------------------------------------


def credit_code_check_char(first17: str) -> str:
    """GB 32100's check character for the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def credit_code_clean(value: Any, *, field: str = "credit_code") -> str:
    """The unified social credit code in capitals ("" for blank). DomainError `bad_credit_code` unless it
    is 18 characters of GB 32100's charset whose last one is the check character of the first 17:
    c18 = charset[(31 − Σ index(cᵢ)·wᵢ mod 31) mod 31]."""
    code = str(value or "").strip().upper().replace(" ", "")
    if not code:
        return ""
    if len(code) != 18 or any(char not in CREDIT_CODE_CHARSET for char in code):
        raise DomainError(
            "bad_credit_code",
            _("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）。"),
            field=field,
        )
    if code[17] != credit_code_check_char(code[:17]):
        raise DomainError("bad_credit_code", _("统一社会信用代码校验位不对，请核对。"), field=field)
    return code


def area_clean(value: Any, *, field: str = "area_mu") -> Decimal:
    """亩 as a Decimal with at most two decimals, 0 for blank; DomainError `bad_area` otherwise."""
    text = str(value if value is not None else "").strip().replace(",", "")
    if not text:
        return Decimal("0")
    message = _("面积应为不小于 0 的数字（亩），最多两位小数。")
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_area", message, field=field) from None
    if not area.is_finite() or area < 0 or area != area.quantize(Decimal("0.01")) or area > AREA_MAX:
        raise DomainError("bad_area", message, field=field)
    return area.quantize(Decimal("0.01"))


def output_fen_clean(value: Any, *, field: str = "output_value_yuan") -> int:
    """Fen for a yearly output value typed in 元 ("12000", "1,200.50", "¥88"); 0 for blank."""
    text = str(value if value is not None else "").strip()
    for sign in ("¥", "￥", ",", "，", "元"):
        text = text.replace(sign, "")
    if not text:
        return 0
    message = _("年产值应为不小于 0 的金额（元），最多两位小数。")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError("bad_output_value", message, field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("bad_output_value", message, field=field)
    fen = int(amount * 100)
    if fen > OUTPUT_MAX_FEN:
        raise DomainError("bad_output_value", _("年产值过大，请核对。"), field=field)
    return fen


def count_clean(value: Any, *, field: str) -> int:
    """A whole number of people or households, 0 for blank; DomainError `bad_<field>` otherwise."""
    text = str(value if value is not None else "").strip()
    if not text:
        return 0
    try:
        number = int(text)
    except ValueError:
        raise DomainError(f"bad_{field}", _("请填写不小于 0 的整数。"), field=field) from None
    if number < 0 or number > COUNT_MAX:
        raise DomainError(f"bad_{field}", _("请填写不小于 0 的整数。"), field=field)
    return number


def _today() -> dt.date:
    return timezone.localdate()


def _period_check(start: dt.date | None, end: dt.date | None, *, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise DomainError("bad_period", _("结束日期不能早于开始日期。"), field=field)


def _audit(actor: AnyUser, action: AuditAction, obj: Any, region_path: str, changes: dict[str, Any]) -> None:
    audit_record(actor=actor, action=action, obj=obj, region_path=region_path, changes=changes)


# --- chains and links (the county's) ------------------------------------------------------------------------


def _require_chains(actor: AnyUser) -> None:
    if not access.can_manage_chains(actor):
        raise DomainError("forbidden", _("只有县委组织部管理员可以维护产业链。"), status=403)


def _chain_fields(
    *,
    name: str,
    description: str,
    base_region: Region | None,
    party_branch: PartyOrganisation | None,
    sort_order: int | str | None,
) -> dict[str, Any]:
    if base_region is not None and base_region.level != RegionLevel.TOWNSHIP:
        raise DomainError("bad_base_region", _("主要所在地须是一个乡镇。"), field="base_region")
    if party_branch is not None and party_branch.kind != PartyOrgKind.CHAIN_BRANCH:
        raise DomainError("bad_party_branch", _("请选择一个产业链党支部。"), field="party_branch")
    return {
        "name": text_clean(name, field="name", maximum=40, required=_("请填写产业链名称。")),
        "description": text_clean(description, field="description", maximum=2000),
        "base_region": base_region,
        "party_branch": party_branch,
        "sort_order": min(count_clean(sort_order, field="sort_order"), 32767),
    }


def chain_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    name: str,
    description: str = "",
    base_region: Region | None = None,
    party_branch: PartyOrganisation | None = None,
    sort_order: int | str | None = 0,
    links: list[tuple[str, str]] | None = None,
) -> IndustryChain:
    """Add a chain (county admin; 403 otherwise), with its first `links` [(kind, name)] in order. Exactly
    once per (actor, key). DomainError for a blank or taken name, a base that is not a township, a Party
    branch that is not a chain branch."""
    body = {
        "name": name,
        "description": description,
        "base_region": base_region.pk if base_region else None,
        "party_branch": party_branch.pk if party_branch else None,
        "sort_order": sort_order,
        "links": links or [],
    }
    scope = "industry.chain_create"
    with transaction.atomic():
        replayed = replay_id(actor=actor, scope=scope, key=idempotency_key, body=body)
        if replayed is not None:
            return IndustryChain.objects.get(pk=replayed)
        _require_chains(actor)
        cleaned = _chain_fields(
            name=name,
            description=description,
            base_region=base_region,
            party_branch=party_branch,
            sort_order=sort_order,
        )
        if IndustryChain.objects.filter(name=cleaned["name"]).exists():
            raise DomainError("chain_duplicate", _("已有同名产业链。"), field="name")
        chain = IndustryChain.objects.create(**cleaned)
        for index, (kind, link_name) in enumerate(links or []):
            _link_insert(chain, kind=kind, name=link_name, sort_order=index)
        _audit(
            actor,
            AuditAction.CREATE,
            chain,
            base_region.path if base_region else "",
            {"name": [None, chain.name], "idempotency_key": [None, idempotency_key]},
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=chain.pk)
    return chain


def chain_update(
    *,
    actor: AnyUser,
    chain: IndustryChain,
    name: str,
    description: str = "",
    base_region: Region | None = None,
    party_branch: PartyOrganisation | None = None,
    sort_order: int | str | None = 0,
    is_active: bool = True,
) -> IndustryChain:
    """Edit a chain (county admin). A chain taken out of use keeps its participants for the record."""
    with transaction.atomic():
        chain = IndustryChain.objects.select_for_update().get(pk=chain.pk)
        _require_chains(actor)
        cleaned = _chain_fields(
            name=name,
            description=description,
            base_region=base_region,
            party_branch=party_branch,
            sort_order=sort_order,
        )
        cleaned["is_active"] = bool(is_active)
        if IndustryChain.objects.filter(name=cleaned["name"]).exclude(pk=chain.pk).exists():
            raise DomainError("chain_duplicate", _("已有同名产业链。"), field="name")
        before = {n: getattr(chain, n) for n in cleaned}
        for field_name, value in cleaned.items():
            setattr(chain, field_name, value)
        chain.save()
        changes = diff_fields(before, cleaned)
        if changes:
            _audit(actor, AuditAction.UPDATE, chain, base_region.path if base_region else "", changes)
    return chain


def _link_name(name: str) -> str:
    return text_clean(name, field="name", maximum=40, required=_("请填写环节名称。"))


def _link_insert(chain: IndustryChain, *, kind: str, name: str, sort_order: int) -> ChainLink:
    if kind not in LinkKind.values:
        raise DomainError("bad_link_kind", _("请选择环节类型。"), field="kind")
    cleaned = _link_name(name)
    if ChainLink.objects.filter(chain=chain, name=cleaned).exists():
        raise DomainError("link_duplicate", _("本产业链已有同名环节。"), field="name")
    return ChainLink.objects.create(chain=chain, kind=kind, name=cleaned, sort_order=sort_order)


def link_add(
    *, actor: AnyUser, idempotency_key: str, chain: IndustryChain, kind: str, name: str
) -> ChainLink:
    """Append a link at the end of the chain (county admin). Exactly once per (actor, key)."""
    scope = "industry.link_add"
    with transaction.atomic():
        replayed = replay_id(
            actor=actor,
            scope=scope,
            key=idempotency_key,
            body={"chain": chain.pk, "kind": kind, "name": name},
        )
        if replayed is not None:
            return ChainLink.objects.get(pk=replayed)
        chain = IndustryChain.objects.select_for_update().get(pk=chain.pk)
        _require_chains(actor)
        last = ChainLink.objects.filter(chain=chain).aggregate(m=Max("sort_order"))["m"]
        link = _link_insert(chain, kind=kind, name=name, sort_order=0 if last is None else last + 1)
        _audit(
            actor,
            AuditAction.CREATE,
            link,
            "",
            {
                "chain": [None, chain.name],
                "name": [None, link.name],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=link.pk)
    return link


def link_rename(*, actor: AnyUser, link: ChainLink, name: str, kind: str | None = None) -> ChainLink:
    """Rename a link (and change its kind when given); county admin."""
    with transaction.atomic():
        IndustryChain.objects.select_for_update().get(pk=link.chain_id)
        link = ChainLink.objects.select_related("chain").get(pk=link.pk)
        _require_chains(actor)
        cleaned = _link_name(name)
        new_kind = kind or link.kind
        if new_kind not in LinkKind.values:
            raise DomainError("bad_link_kind", _("请选择环节类型。"), field="kind")
        if ChainLink.objects.filter(chain_id=link.chain_id, name=cleaned).exclude(pk=link.pk).exists():
            raise DomainError("link_duplicate", _("本产业链已有同名环节。"), field="name")
        changes = diff_fields({"name": link.name, "kind": link.kind}, {"name": cleaned, "kind": new_kind})
        if changes:
            link.name, link.kind = cleaned, new_kind
            link.save(update_fields=["name", "kind"])
            _audit(actor, AuditAction.UPDATE, link, "", changes)
    return link


def link_move(*, actor: AnyUser, link: ChainLink, up: bool) -> list[ChainLink]:
    """Move a link one place up (towards the start of the chain) or down; returns the chain's links in
    their new order, numbered 0, 1, 2 … (the chain is locked, so two editors never interleave)."""
    with transaction.atomic():
        chain = IndustryChain.objects.select_for_update().get(pk=link.chain_id)
        _require_chains(actor)
        links = list(ChainLink.objects.filter(chain=chain).order_by("sort_order", "id"))
        index = next(i for i, one in enumerate(links) if one.pk == link.pk)
        other = index - 1 if up else index + 1
        if 0 <= other < len(links):
            links[index], links[other] = links[other], links[index]
            for position, one in enumerate(links):
                if one.sort_order != position:
                    one.sort_order = position
                    one.save(update_fields=["sort_order"])
            _audit(
                actor,
                AuditAction.UPDATE,
                chain,
                "",
                {"links": [None, [one.name for one in links]]},
            )
    return links


def link_remove(*, actor: AnyUser, link: ChainLink) -> None:
    """Remove a link no participation names (county admin); DomainError `link_in_use` otherwise."""
    with transaction.atomic():
        chain = IndustryChain.objects.select_for_update().get(pk=link.chain_id)
        _require_chains(actor)
        if ChainParticipation.objects.filter(link_id=link.pk).exists():
            raise DomainError(
                "link_in_use", _("还有经营主体在这个环节上，不能删除；可以改名。"), status=409, field="name"
            )
        _audit(actor, AuditAction.DELETE, link, "", {"chain": [chain.name, None], "name": [link.name, None]})
        ChainLink.objects.filter(pk=link.pk).delete()


# --- businesses ---------------------------------------------------------------------------------------------


def _require_record(actor: AnyUser, region_path: str, message: str | Promise) -> None:
    if not access.can_record_for_region(actor, region_path):
        raise NotFound(message)


def _household_find(region: Region, number: str) -> Household:
    number = (number or "").strip()
    if not number:
        raise DomainError("household_required", _("农户主体须填写户号。"), field="household_number")
    found = list(
        Household.objects.filter(grid__parent=region, number=number, is_active=True).select_related("head")[
            :2
        ]
    )
    if not found:
        raise DomainError(
            "household_not_found",
            _("本村（社区）没有户号为“%(number)s”的在册户。") % {"number": number},
            field="household_number",
        )
    if len(found) > 1:
        raise DomainError(
            "household_ambiguous",
            _("本村（社区）有多个网格使用户号“%(number)s”，请联系管理员核对户号。") % {"number": number},
            field="household_number",
        )
    return found[0]


def business_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    kind: str,
    name: str,
    region: Region,
    household_number: str = "",
    credit_code: str = "",
    legal_representative: str = "",
    description: str = "",
) -> Business:
    """Register a business in the village `region` (county, township admin or village secretary over
    it). A household-kind business names an active household of that village by its number; the other
    kinds name none. Exactly once per (actor, key). DomainError for a bad kind, a region that is not a
    village, a bad or taken credit code, a taken (village, kind, name), a household already registered."""
    body = {
        "kind": kind,
        "name": name,
        "region": region.pk,
        "household_number": household_number,
        "credit_code": credit_code,
        "legal_representative": legal_representative,
        "description": description,
    }
    scope = "industry.business_create"
    with transaction.atomic():
        replayed = replay_id(actor=actor, scope=scope, key=idempotency_key, body=body)
        if replayed is not None:
            return Business.objects.select_related("region").get(pk=replayed)
        _require_record(actor, region.path, REGION_NOT_FOUND)
        if kind not in BusinessKind.values:
            raise DomainError("bad_kind", _("请选择主体类型。"), field="kind")
        if region.level != RegionLevel.VILLAGE:
            raise DomainError("business_region_level", _("经营主体须登记在村（社区）。"), field="region")
        household = _household_find(region, household_number) if kind == BusinessKind.HOUSEHOLD else None
        if household is not None and Business.objects.filter(household=household).exists():
            raise DomainError(
                "household_registered", _("该户已登记为经营主体。"), status=409, field="household_number"
            )
        cleaned = {
            "name": text_clean(name, field="name", maximum=100, required=_("请填写名称。")),
            "credit_code": credit_code_clean(credit_code),
            "legal_representative": text_clean(
                legal_representative, field="legal_representative", maximum=50
            ),
            "description": text_clean(description, field="description", maximum=2000),
        }
        _business_unique_check(
            region=region, kind=kind, name=cleaned["name"], credit_code=cleaned["credit_code"]
        )
        try:
            with transaction.atomic():
                business = Business.objects.create(kind=kind, region=region, household=household, **cleaned)
        except IntegrityError:
            # A concurrent twin with another key took the name or the code between the check and here.
            raise DomainError(
                "business_duplicate", _("该名称或信用代码刚被登记，请核对。"), status=409
            ) from None
        _audit(
            actor,
            AuditAction.CREATE,
            business,
            region.path,
            {"kind": [None, kind], "name": [None, business.name], "idempotency_key": [None, idempotency_key]},
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=business.pk)
    return business


def _business_unique_check(
    *, region: Region, kind: str, name: str, credit_code: str, exclude: int | None = None
) -> None:
    same_name = Business.objects.filter(region=region, kind=kind, name=name)
    same_code = Business.objects.filter(credit_code=credit_code) if credit_code else Business.objects.none()
    if exclude is not None:
        same_name, same_code = same_name.exclude(pk=exclude), same_code.exclude(pk=exclude)
    if same_name.exists():
        raise DomainError(
            "business_duplicate", _("本村（社区）已有同名同类经营主体。"), status=409, field="name"
        )
    if same_code.exists():
        raise DomainError(
            "credit_code_taken",
            _("该统一社会信用代码已被其他经营主体使用。"),
            status=409,
            field="credit_code",
        )


def business_update(
    *,
    actor: AnyUser,
    business: Business,
    name: str,
    credit_code: str | None = None,
    legal_representative: str | None = None,
    description: str | None = None,
) -> Business:
    """Edit a business's name, credit code, person in charge and description (its kind, village and
    household do not change: a moved business is a new one); None keeps a field as it is. A credit code
    is checked when it changes."""
    with transaction.atomic():
        business = Business.objects.select_for_update().select_related("region").get(pk=business.pk)
        _require_record(actor, business.region.path, access.BUSINESS_NOT_FOUND)
        if credit_code is None:
            credit_code = business.credit_code
        if legal_representative is None:
            legal_representative = business.legal_representative
        if description is None:
            description = business.description
        code = str(credit_code or "").strip().upper()
        cleaned = {
            "name": text_clean(name, field="name", maximum=100, required=_("请填写名称。")),
            "credit_code": code if code == business.credit_code else credit_code_clean(code),
            "legal_representative": text_clean(
                legal_representative, field="legal_representative", maximum=50
            ),
            "description": text_clean(description, field="description", maximum=2000),
        }
        _business_unique_check(
            region=business.region,
            kind=business.kind,
            name=cleaned["name"],
            credit_code=cleaned["credit_code"],
            exclude=business.pk,
        )
        before = {n: getattr(business, n) for n in cleaned}
        for field_name, value in cleaned.items():
            setattr(business, field_name, value)
        business.save()
        changes = diff_fields(before, cleaned)
        if changes:
            _audit(actor, AuditAction.UPDATE, business, business.region.path, changes)
    return business


def business_deactivate(*, actor: AnyUser, business: Business, on: dt.date | None = None) -> Business:
    """Mark a business as no longer operating from `on` (default today) and end its open participations
    on that day, so coverage stops counting it. Deactivating an inactive business changes nothing."""
    on = on or _today()
    with transaction.atomic():
        business = Business.objects.select_for_update().select_related("region").get(pk=business.pk)
        _require_record(actor, business.region.path, access.BUSINESS_NOT_FOUND)
        if not business.is_active:
            return business
        business.is_active = False
        business.save(update_fields=["is_active", "updated_at"])
        ended = []
        for participation in ChainParticipation.objects.select_for_update().filter(
            business=business, left_on__isnull=True
        ):
            participation.left_on = max(on, participation.joined_on or on)
            participation.save(update_fields=["left_on", "updated_at"])
            ended.append(participation.chain_id)
        _audit(
            actor,
            AuditAction.UPDATE,
            business,
            business.region.path,
            {"is_active": [True, False], "participations_ended": [None, ended], "on": [None, on.isoformat()]},
        )
    return business


def business_reactivate(*, actor: AnyUser, business: Business) -> Business:
    """Mark a deactivated business as operating again (its ended participations stay ended)."""
    with transaction.atomic():
        business = Business.objects.select_for_update().select_related("region").get(pk=business.pk)
        _require_record(actor, business.region.path, access.BUSINESS_NOT_FOUND)
        if not business.is_active:
            business.is_active = True
            business.save(update_fields=["is_active", "updated_at"])
            _audit(actor, AuditAction.UPDATE, business, business.region.path, {"is_active": [False, True]})
    return business


# --- participation ------------------------------------------------------------------------------------------


def _scale(*, area_mu: Any, output_value_yuan: Any, jobs: Any, households_driven: Any) -> dict[str, Any]:
    return {
        "area_mu": area_clean(area_mu),
        "output_value_fen": output_fen_clean(output_value_yuan),
        "jobs": count_clean(jobs, field="jobs"),
        "households_driven": count_clean(households_driven, field="households_driven"),
    }


def _link_check(chain: IndustryChain, link: ChainLink | None) -> None:
    if link is not None and link.chain_id != chain.pk:
        raise DomainError("bad_link", _("该环节不属于这条产业链。"), field="link")


def participation_add(
    *,
    actor: AnyUser,
    idempotency_key: str,
    chain: IndustryChain,
    business: Business,
    link: ChainLink | None = None,
    area_mu: Any = 0,
    output_value_yuan: Any = 0,
    jobs: Any = 0,
    households_driven: Any = 0,
    joined_on: dt.date | None = None,
) -> ChainParticipation:
    """Put an operating business on a chain at a link, with its scale (whoever records the business's
    village). Exactly once per (actor, key). DomainError for an inactive business or chain, a link of
    another chain, bad figures, or a business already on the chain (then edit that record)."""
    body = {
        "chain": chain.pk,
        "business": business.pk,
        "link": link.pk if link else None,
        "area_mu": area_mu,
        "output_value_yuan": output_value_yuan,
        "jobs": jobs,
        "households_driven": households_driven,
        "joined_on": joined_on,
    }
    scope = "industry.participation_add"
    with transaction.atomic():
        replayed = replay_id(actor=actor, scope=scope, key=idempotency_key, body=body)
        if replayed is not None:
            return ChainParticipation.objects.get(pk=replayed)
        business = Business.objects.select_for_update().select_related("region").get(pk=business.pk)
        _require_record(actor, business.region.path, access.BUSINESS_NOT_FOUND)
        if not business.is_active:
            raise DomainError("business_inactive", _("该经营主体已停止经营。"), field="business")
        if not chain.is_active:
            raise DomainError("chain_inactive", _("该产业链已停用。"), field="chain")
        _link_check(chain, link)
        cleaned = _scale(
            area_mu=area_mu,
            output_value_yuan=output_value_yuan,
            jobs=jobs,
            households_driven=households_driven,
        )
        existing = ChainParticipation.objects.filter(chain=chain, business=business).first()
        if existing is not None:
            raise DomainError(
                "participation_exists",
                _("该主体已在这条产业链上（含已退出的记录），请编辑原记录。"),
                status=409,
                field="chain",
                participation=existing.pk,
            )
        participation = ChainParticipation.objects.create(
            chain=chain, business=business, link=link, joined_on=joined_on, **cleaned
        )
        _audit(
            actor,
            AuditAction.CREATE,
            participation,
            business.region.path,
            {
                "chain": [None, chain.name],
                "link": [None, link.name if link else None],
                "output_value_fen": [None, cleaned["output_value_fen"]],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=participation.pk)
    return participation


def _participation_locked(actor: AnyUser, participation: ChainParticipation) -> ChainParticipation:
    locked = (
        ChainParticipation.objects.select_for_update(of=("self",))
        .select_related("business__region", "chain")
        .get(pk=participation.pk)
    )
    _require_record(actor, locked.business.region.path, PARTICIPATION_NOT_FOUND)
    return locked


def participation_update(
    *,
    actor: AnyUser,
    participation: ChainParticipation,
    link: ChainLink | None,
    area_mu: Any,
    output_value_yuan: Any,
    jobs: Any,
    households_driven: Any,
    joined_on: dt.date | None,
    left_on: dt.date | None,
) -> ChainParticipation:
    """Edit a participation's link, scale and dates (clearing `left_on` puts a business back on the
    chain)."""
    with transaction.atomic():
        participation = _participation_locked(actor, participation)
        _link_check(participation.chain, link)
        _period_check(joined_on, left_on, field="left_on")
        cleaned: dict[str, Any] = _scale(
            area_mu=area_mu,
            output_value_yuan=output_value_yuan,
            jobs=jobs,
            households_driven=households_driven,
        )
        cleaned.update({"link": link, "joined_on": joined_on, "left_on": left_on})
        if left_on is None and not participation.business.is_active:
            raise DomainError("business_inactive", _("该经营主体已停止经营。"), field="left_on")
        before = {n: getattr(participation, n) for n in cleaned}
        for field_name, value in cleaned.items():
            setattr(participation, field_name, value)
        participation.save()
        changes = diff_fields(before, cleaned)
        if changes:
            _audit(actor, AuditAction.UPDATE, participation, participation.business.region.path, changes)
    return participation


def participation_end(
    *, actor: AnyUser, participation: ChainParticipation, left_on: dt.date | None = None
) -> ChainParticipation:
    """End a participation on `left_on` (default today). Ending it again on the same day changes nothing;
    an ended one cannot be ended on another day (edit it instead)."""
    left_on = left_on or _today()
    with transaction.atomic():
        participation = _participation_locked(actor, participation)
        if participation.left_on is not None:
            if participation.left_on == left_on:
                return participation
            raise DomainError(
                "already_ended", _("该记录已于 %(day)s 结束。") % {"day": participation.left_on}, status=409
            )
        _period_check(participation.joined_on, left_on, field="left_on")
        participation.left_on = left_on
        participation.save(update_fields=["left_on", "updated_at"])
        _audit(
            actor,
            AuditAction.UPDATE,
            participation,
            participation.business.region.path,
            {"left_on": [None, left_on.isoformat()]},
        )
    return participation


# --- household projects -------------------------------------------------------------------------------------


def _household_path(household: Household) -> str:
    return str(Household.objects.filter(pk=household.pk).values_list("grid__path", flat=True).first() or "")


def project_add(
    *,
    actor: AnyUser,
    idempotency_key: str,
    household: Household,
    kind: str,
    title: str,
    chain: IndustryChain | None = None,
    scale: str = "",
    started_on: dt.date | None = None,
) -> HouseholdProject:
    """Give an active household a project (whoever records its village). Exactly once per (actor, key)."""
    body = {
        "household": household.pk,
        "kind": kind,
        "title": title,
        "chain": chain.pk if chain else None,
        "scale": scale,
        "started_on": started_on,
    }
    scope = "industry.project_add"
    with transaction.atomic():
        replayed = replay_id(actor=actor, scope=scope, key=idempotency_key, body=body)
        if replayed is not None:
            return HouseholdProject.objects.get(pk=replayed)
        path = _household_path(household)
        _require_record(actor, path, HOUSEHOLD_NOT_FOUND)
        if not Household.objects.filter(pk=household.pk, is_active=True).exists():
            raise DomainError("household_inactive", _("该户已不在册。"), field="household")
        if kind not in ProjectKind.values:
            raise DomainError("bad_kind", _("请选择项目类型。"), field="kind")
        if started_on is None:
            raise DomainError("started_on_required", _("请填写开始日期。"), field="started_on")
        if chain is not None and not chain.is_active:
            raise DomainError("chain_inactive", _("该产业链已停用。"), field="chain")
        project = HouseholdProject.objects.create(
            household=household,
            kind=kind,
            title=text_clean(title, field="title", maximum=60, required=_("请填写项目名称。")),
            chain=chain,
            scale=text_clean(scale, field="scale", maximum=60),
            started_on=started_on,
        )
        _audit(
            actor,
            AuditAction.CREATE,
            project,
            path,
            {
                "kind": [None, kind],
                "title": [None, project.title],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=project.pk)
    return project


def project_end(
    *, actor: AnyUser, project: HouseholdProject, ended_on: dt.date | None = None
) -> HouseholdProject:
    """End a project on `ended_on` (default today); the same day again changes nothing."""
    ended_on = ended_on or _today()
    with transaction.atomic():
        project = HouseholdProject.objects.select_for_update().get(pk=project.pk)
        path = _household_path(project.household)
        _require_record(actor, path, PROJECT_NOT_FOUND)
        if project.ended_on is not None:
            if project.ended_on == ended_on:
                return project
            raise DomainError(
                "already_ended", _("该记录已于 %(day)s 结束。") % {"day": project.ended_on}, status=409
            )
        _period_check(project.started_on, ended_on, field="ended_on")
        project.ended_on = ended_on
        project.save(update_fields=["ended_on"])
        _audit(actor, AuditAction.UPDATE, project, path, {"ended_on": [None, ended_on.isoformat()]})
    return project


# --- employment ---------------------------------------------------------------------------------------------

WORKING_STATUSES = (ResidentStatus.RESIDENT, ResidentStatus.AWAY)


def _resident_path(resident: Resident) -> str:
    return str(
        Resident.objects.filter(pk=resident.pk).values_list("household__grid__path", flat=True).first() or ""
    )


def employment_add(
    *,
    actor: AnyUser,
    idempotency_key: str,
    resident: Resident,
    kind: str,
    business: Business | None = None,
    started_on: dt.date | None = None,
) -> Employment:
    """Record a resident's work from `started_on` (whoever records their village); `business` is the
    employer, when there is one. Exactly once per (actor, key). DomainError for a resident who moved out
    or died, a bad kind, an inactive employer."""
    body = {
        "resident": resident.pk,
        "kind": kind,
        "business": business.pk if business else None,
        "started_on": started_on,
    }
    scope = "industry.employment_add"
    with transaction.atomic():
        replayed = replay_id(actor=actor, scope=scope, key=idempotency_key, body=body)
        if replayed is not None:
            return Employment.objects.get(pk=replayed)
        path = _resident_path(resident)
        _require_record(actor, path, RESIDENT_NOT_FOUND)
        if not Resident.objects.filter(pk=resident.pk, status__in=WORKING_STATUSES).exists():
            raise DomainError("resident_gone", _("该居民已迁出或去世。"), field="resident")
        if kind not in EmploymentKind.values:
            raise DomainError("bad_kind", _("请选择就业方式。"), field="kind")
        if started_on is None:
            raise DomainError("started_on_required", _("请填写开始日期。"), field="started_on")
        if business is not None and not business.is_active:
            raise DomainError("business_inactive", _("该用工主体已停止经营。"), field="business")
        employment = Employment.objects.create(
            resident=resident, kind=kind, business=business, started_on=started_on
        )
        _audit(
            actor,
            AuditAction.CREATE,
            employment,
            path,
            {
                "kind": [None, kind],
                "business": [None, business.pk if business else None],
                "idempotency_key": [None, idempotency_key],
            },
        )
        finish(actor=actor, scope=scope, key=idempotency_key, object_id=employment.pk)
    return employment


def employment_end(*, actor: AnyUser, employment: Employment, ended_on: dt.date | None = None) -> Employment:
    """End a resident's work on `ended_on` (default today); the same day again changes nothing."""
    ended_on = ended_on or _today()
    with transaction.atomic():
        employment = Employment.objects.select_for_update().get(pk=employment.pk)
        path = _resident_path(employment.resident)
        _require_record(actor, path, EMPLOYMENT_NOT_FOUND)
        if employment.ended_on is not None:
            if employment.ended_on == ended_on:
                return employment
            raise DomainError(
                "already_ended", _("该记录已于 %(day)s 结束。") % {"day": employment.ended_on}, status=409
            )
        _period_check(employment.started_on, ended_on, field="ended_on")
        employment.ended_on = ended_on
        employment.save(update_fields=["ended_on"])
        _audit(actor, AuditAction.UPDATE, employment, path, {"ended_on": [None, ended_on.isoformat()]})
    return employment
