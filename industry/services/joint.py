"""Writes of joint building (联建): joint communities (村企联建 / 村村联建), their members and their yearly
results. Township and county admins over the lead village run a community (industry.access.
can_manage_joint). Tourism figures (visits, income) are entered elsewhere (industry.services.tourism).

Rules kept here (and, where the database can, there too):
- the lead is a village (村/社区) and is a member from the start; it cannot be removed while it leads;
- a member is exactly one of a village or a business (DB CHECK industry_joint_member_one_kind), at most
  once per community; a village–village community has only villages;
- the joint Party organisation must be a joint Party committee (联合党委) the actor can see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import DomainError, NotFound
from common.idempotency import body_fingerprint, idempotency_begin, idempotency_finish
from common.services import text_clean
from governance import access as governance_access
from governance.audit import audit_record, diff_fields
from governance.models import AuditAction, PartyOrganisation, PartyOrgKind, Region, RegionLevel
from industry import access
from industry.models import Business, JointCommunity, JointKind, JointMember, JointResult
from industry.services.economy import AnyUser, year_clean, yuan_to_fen

SCOPE_CREATE = "industry.joint_create"
SCOPE_MEMBER = "industry.joint_member_add"
SCOPE_RESULT = "industry.joint_result_set"
RESULT_MAX_FEN = 100_000_000 * 100 * 100  # 100 亿元
COUNT_MAX = 10_000_000


def _not_found() -> NotFound:
    return NotFound(access.COMMUNITY_NOT_FOUND)


def _clean(
    *,
    actor: AnyUser,
    kind: str,
    name: str,
    brand: str,
    lead_region: Region | None,
    party_organisation: PartyOrganisation | None,
    established_on: dt.date | None,
    description: str,
) -> dict[str, Any]:
    if kind not in JointKind.values:
        raise DomainError("bad_kind", _("请选择联建类型。"), field="kind")
    if lead_region is None:
        raise DomainError("lead_required", _("请选择牵头村。"), field="lead_region")
    if lead_region.level != RegionLevel.VILLAGE:
        raise DomainError("lead_not_village", _("牵头单位须是村（社区）。"), field="lead_region")
    if not access.can_manage_joint(actor, lead_region.path):
        raise _not_found()
    if party_organisation is not None:
        if party_organisation.kind != PartyOrgKind.JOINT_COMMITTEE:
            raise DomainError(
                "not_joint_committee", _("联合党组织须是“联合党委”类型的党组织。"), field="party_organisation"
            )
        if not governance_access.covers(actor, party_organisation.region.path, access.READ_ROLES):
            raise DomainError(
                "party_organisation_out_of_scope",
                _("该党组织不在您的管辖范围内。"),
                field="party_organisation",
            )
    if established_on is not None and established_on > timezone.localdate():
        raise DomainError("established_in_future", _("成立日期不能晚于今天。"), field="established_on")
    return {
        "kind": kind,
        "name": text_clean(name, field="name", maximum=80, required=_("请填写名称。")),
        "brand": text_clean(brand, field="brand", maximum=80),
        "lead_region": lead_region,
        "party_organisation": party_organisation,
        "established_on": established_on,
        "description": text_clean(description, field="description", maximum=2000),
    }


def joint_community_create(
    *,
    actor: AnyUser,
    idempotency_key: str,
    kind: str,
    name: str,
    lead_region: Region | None,
    brand: str = "",
    party_organisation: PartyOrganisation | None = None,
    established_on: dt.date | None = None,
    description: str = "",
) -> JointCommunity:
    """A new joint community led from `lead_region` (a village), which becomes its first member.
    NotFound unless `actor` may manage joint building there; DomainError next to the field for a bad
    kind, a lead that is not a village, a Party organisation that is not a joint committee, a taken name.
    Exactly once per (actor, key)."""
    cleaned = _clean(
        actor=actor,
        kind=kind,
        name=name,
        brand=brand,
        lead_region=lead_region,
        party_organisation=party_organisation,
        established_on=established_on,
        description=description,
    )
    body = {**cleaned, "lead_region": lead_region.pk if lead_region else None}
    body["party_organisation"] = party_organisation.pk if party_organisation else None
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_CREATE, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is not None:
            return JointCommunity.objects.get(pk=replay.response["id"])
        if JointCommunity.objects.filter(name=cleaned["name"]).exists():
            raise DomainError("name_taken", _("已有同名的联建共同体。"), field="name")
        community = JointCommunity.objects.create(**cleaned)
        JointMember.objects.create(
            community=community, region=cleaned["lead_region"], joined_on=established_on
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=community,
            region_path=community.lead_region.path,
            changes={"name": [None, community.name], "idempotency_key": [None, idempotency_key]},
        )
        idempotency_finish(
            actor=actor,
            scope=SCOPE_CREATE,
            key=idempotency_key,
            status_code=201,
            response={"id": community.pk},
        )
    return community


def joint_community_update(
    *,
    actor: AnyUser,
    community: JointCommunity,
    kind: str,
    name: str,
    lead_region: Region | None,
    brand: str = "",
    party_organisation: PartyOrganisation | None = None,
    established_on: dt.date | None = None,
    description: str = "",
) -> JointCommunity:
    """Edit a community. The actor must manage it where it is led now and where it will be led; a new
    lead village becomes a member. A village–village community cannot hold businesses."""
    with transaction.atomic():
        community = (
            JointCommunity.objects.select_for_update().select_related("lead_region").get(pk=community.pk)
        )
        if not access.can_manage_joint(actor, community.lead_region.path):
            raise _not_found()
        cleaned = _clean(
            actor=actor,
            kind=kind,
            name=name,
            brand=brand,
            lead_region=lead_region,
            party_organisation=party_organisation,
            established_on=established_on,
            description=description,
        )
        if JointCommunity.objects.filter(name=cleaned["name"]).exclude(pk=community.pk).exists():
            raise DomainError("name_taken", _("已有同名的联建共同体。"), field="name")
        if (
            cleaned["kind"] == JointKind.VILLAGE_VILLAGE
            and JointMember.objects.filter(community=community, business__isnull=False).exists()
        ):
            raise DomainError(
                "has_businesses", _("该共同体有企业成员，不能改为村村联建；请先移除企业成员。"), field="kind"
            )
        before = {n: getattr(community, n) for n in cleaned}
        for field_name, value in cleaned.items():
            setattr(community, field_name, value)
        community.save()
        if not JointMember.objects.filter(community=community, region=community.lead_region).exists():
            JointMember.objects.create(community=community, region=community.lead_region)
        changes = diff_fields(before, cleaned)
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=community,
                region_path=community.lead_region.path,
                changes=changes,
            )
    return community


def joint_member_add(
    *,
    actor: AnyUser,
    idempotency_key: str,
    community: JointCommunity,
    region: Region | None = None,
    business: Business | None = None,
    joined_on: dt.date | None = None,
) -> JointMember:
    """Add a village or a business (exactly one) to `community`. NotFound unless `actor` manages the
    community; DomainError for both or neither, a region that is not a village, a member out of the
    actor's reading scope, a business in a village–village community, or one already a member. Exactly
    once per (actor, key)."""
    if not access.can_manage_joint(actor, community.lead_region.path):
        raise _not_found()
    if (region is None) == (business is None):
        raise DomainError(
            "member_one_kind", _("成员须是一个村（社区）或一个经营主体，二者选其一。"), field="member"
        )
    if region is not None:
        if region.level != RegionLevel.VILLAGE:
            raise DomainError("member_not_village", _("成员村须是村（社区）。"), field="region")
        member_path = region.path
    else:
        assert business is not None
        if community.kind == JointKind.VILLAGE_VILLAGE:
            raise DomainError(
                "business_in_village_village", _("村村联建的成员只能是村（社区）。"), field="business"
            )
        member_path = business.region.path
    if not governance_access.covers(actor, member_path, access.READ_ROLES):
        raise DomainError(
            "member_out_of_scope",
            _("该成员不在您的管辖范围内。"),
            field="region" if region is not None else "business",
        )
    if joined_on is not None and joined_on > timezone.localdate():
        raise DomainError("joined_in_future", _("加入日期不能晚于今天。"), field="joined_on")
    body = {
        "community": community.pk,
        "region": region.pk if region else None,
        "business": business.pk if business else None,
        "joined_on": joined_on,
    }
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor, scope=SCOPE_MEMBER, key=idempotency_key, fingerprint=body_fingerprint(body)
        )
        if replay is not None:
            return JointMember.objects.get(pk=replay.response["id"])
        try:
            with transaction.atomic():
                member = JointMember.objects.create(
                    community=community, region=region, business=business, joined_on=joined_on
                )
        except IntegrityError:
            raise DomainError(
                "already_member",
                _("已是该共同体的成员。"),
                field="region" if region is not None else "business",
            ) from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=member,
            object_repr=f"{community.name} · {region.name if region else business.name if business else ''}",
            region_path=community.lead_region.path,
            changes={
                "region": [None, region.pk if region else None],
                "business": [None, business.pk if business else None],
                "idempotency_key": [None, idempotency_key],
            },
        )
        idempotency_finish(
            actor=actor, scope=SCOPE_MEMBER, key=idempotency_key, status_code=201, response={"id": member.pk}
        )
    return member


def joint_member_remove(*, actor: AnyUser, member: JointMember) -> None:
    """Remove a member (not the lead village while it leads). NotFound unless `actor` manages the
    community. Removing one already gone does nothing."""
    community = JointCommunity.objects.select_related("lead_region").get(pk=member.community_id)
    if not access.can_manage_joint(actor, community.lead_region.path):
        raise _not_found()
    if member.region_id is not None and member.region_id == community.lead_region_id:
        raise DomainError("lead_member", _("牵头村不能移除；请先更换牵头村。"), field="member")
    with transaction.atomic():
        deleted, _rows = JointMember.objects.filter(pk=member.pk).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                obj=member,
                object_repr=str(member),
                region_path=community.lead_region.path,
                changes={"region": [member.region_id, None], "business": [member.business_id, None]},
            )


def _count(value: Any, *, field: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("bad_number", _("须是不小于 0 的整数。"), field=field) from None
    if number < 0 or number > COUNT_MAX:
        raise DomainError("bad_number", _("须是不小于 0 的整数。"), field=field)
    return number


def joint_result_set(
    *,
    actor: AnyUser,
    idempotency_key: str,
    community: JointCommunity,
    year: Any,
    jobs: Any = 0,
    households_benefited: Any = 0,
    income_yuan: Any = None,
    income_fen: int | None = None,
    note: str = "",
) -> JointResult:
    """Set `community`'s results for `year` (jobs created, joint income, households benefiting).
    NotFound unless `actor` manages the community. Exactly once per (actor, key)."""
    if not access.can_manage_joint(actor, community.lead_region.path):
        raise _not_found()
    year = year_clean(year)
    if income_fen is None:
        income_fen = yuan_to_fen(income_yuan, field="income_yuan", maximum=RESULT_MAX_FEN) or 0
    elif isinstance(income_fen, bool) or not isinstance(income_fen, int) or income_fen < 0:
        raise DomainError("bad_amount", _("金额（分）须是不小于 0 的整数。"), field="income_yuan")
    cleaned = {
        "jobs": _count(jobs, field="jobs"),
        "households_benefited": _count(households_benefited, field="households_benefited"),
        "income_fen": income_fen,
        "note": text_clean(note, field="note", maximum=200),
    }
    with transaction.atomic():
        replay = idempotency_begin(
            actor=actor,
            scope=SCOPE_RESULT,
            key=idempotency_key,
            fingerprint=body_fingerprint({"community": community.pk, "year": year, **cleaned}),
        )
        if replay is not None:
            return JointResult.objects.get(pk=replay.response["id"])
        JointCommunity.objects.select_for_update().filter(pk=community.pk).first()
        result = JointResult.objects.filter(community=community, year=year).first()
        before = {n: getattr(result, n) for n in cleaned} if result is not None else {}
        if result is None:
            result = JointResult.objects.create(community=community, year=year, **cleaned)
        else:
            for name, value in cleaned.items():
                setattr(result, name, value)
            result.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=result,
            object_repr=f"{community.name} {year}",
            region_path=community.lead_region.path,
            changes={**diff_fields(before, cleaned), "idempotency_key": [None, idempotency_key]},
        )
        idempotency_finish(
            actor=actor, scope=SCOPE_RESULT, key=idempotency_key, status_code=200, response={"id": result.pk}
        )
    return result
