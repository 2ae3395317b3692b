"""Writes of the Party area: organisations and their leadership, members and the membership pipeline,
transfers, the village sages' mediation groups, the "七个一百" talent registry, role models and the
Shennong heroes gatherings.

Every function is keyword-only, runs in one transaction, validates before it writes, raises DomainError
with a Chinese message (and the form field it belongs to) for every expected failure, and writes its
audit entry in the same transaction as the change it describes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError
from governance import access
from governance.audit import audit_record, audit_replayed, changes_with_key, idempotency_key_clean
from governance.models import (
    AuditAction,
    LeadershipPosition,
    MemberCategory,
    MembershipStage,
    MembershipStep,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Region,
    RegionLevel,
    Resident,
    ResidentStatus,
    ResidentTag,
    ResidentTagKind,
    RoleModel,
    RoleModelSelection,
    SagesGroup,
    SagesMember,
    SagesMemberKind,
    ShennongGathering,
    Talent,
    TalentCategory,
    TalentTraining,
    User,
)
from governance.roles import Role

Actor = AbstractBaseUser | AnonymousUser | None

PIPELINE: tuple[MembershipStage, ...] = tuple(MembershipStage)
# Stages at which a person is a member of the Party (a probationary member is one, without a vote).
MEMBER_STAGES = frozenset({MembershipStage.PROBATIONARY, MembershipStage.FULL})
# Party Constitution art. 5: an applicant must be eighteen; art. 7: the probation period is one year.
MIN_APPLICANT_AGE = 18
PROBATION_YEARS = 1

# Which parent kinds each kind may sit under, and the region level it sits at.
ORG_PARENT_KINDS: dict[PartyOrgKind, frozenset[PartyOrgKind]] = {
    PartyOrgKind.COUNTY_COMMITTEE: frozenset(),
    PartyOrgKind.TOWNSHIP_COMMITTEE: frozenset({PartyOrgKind.COUNTY_COMMITTEE}),
    PartyOrgKind.VILLAGE_BRANCH: frozenset({PartyOrgKind.TOWNSHIP_COMMITTEE}),
    PartyOrgKind.VILLAGE_GENERAL_BRANCH: frozenset({PartyOrgKind.TOWNSHIP_COMMITTEE}),
    PartyOrgKind.JOINT_COMMITTEE: frozenset({PartyOrgKind.TOWNSHIP_COMMITTEE}),
    PartyOrgKind.CHAIN_BRANCH: frozenset({PartyOrgKind.TOWNSHIP_COMMITTEE, PartyOrgKind.COUNTY_COMMITTEE}),
    PartyOrgKind.ENTERPRISE_BRANCH: frozenset(
        {PartyOrgKind.TOWNSHIP_COMMITTEE, PartyOrgKind.COUNTY_COMMITTEE}
    ),
}
ORG_REGION_LEVEL: dict[PartyOrgKind, RegionLevel | None] = {
    PartyOrgKind.COUNTY_COMMITTEE: RegionLevel.COUNTY,
    PartyOrgKind.TOWNSHIP_COMMITTEE: RegionLevel.TOWNSHIP,
    PartyOrgKind.VILLAGE_BRANCH: RegionLevel.VILLAGE,
    PartyOrgKind.VILLAGE_GENERAL_BRANCH: RegionLevel.VILLAGE,
    PartyOrgKind.JOINT_COMMITTEE: RegionLevel.VILLAGE,
    # Chain and enterprise branches sit wherever their chain or enterprise is, under the parent's region.
    PartyOrgKind.CHAIN_BRANCH: None,
    PartyOrgKind.ENTERPRISE_BRANCH: None,
}


def _today() -> dt.date:
    return timezone.localdate()


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label)


def _county_path() -> str:
    """The county root's path: the region of county-wide records (gatherings) in the audit log."""
    return Region.objects.filter(level=RegionLevel.COUNTY).values_list("path", flat=True).first() or ""


def _resident_path(resident: Resident) -> str:
    return Region.objects.filter(households__members=resident).values_list("path", flat=True).first() or ""


def _not_future(day: dt.date, field: str) -> None:
    if day > _today():
        raise DomainError("date_in_future", _("日期不能晚于今天。"), field=field)


# --- exactly once (governance.audit: the key travels in the audit entry) ---------------------------

# Party writes have no row every twin request locks first: an advisory lock on (actor, key) serialises them.
_LOCK_NAMESPACE = "xiangzhi.party"


# --- organisations ------------------------------------------------------------------------------


@transaction.atomic
def party_org_create(
    *,
    actor: Actor,
    kind: PartyOrgKind | str,
    name: str,
    region: Region,
    parent: PartyOrganisation | None = None,
    villages: Iterable[Region] = (),
    established_on: dt.date | None = None,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> PartyOrganisation:
    """Create an organisation in the tree and set its materialized path (parent's path + own id).

    The kind decides where it may go: the county committee is the root and sits at the county; a
    township committee sits at a township under the county committee; village branches and general
    branches sit at a village under that village's township committee; a joint committee sits at its
    lead village under the township committee and spans at least two villages of that township (the lead
    village is always one of them); chain and enterprise branches sit under a township or the county
    committee, anywhere inside its region. A replay with the same `idempotency_key` returns the
    organisation the first request created.
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=PartyOrganisation._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return PartyOrganisation.objects.get(pk=int(replay.object_id))
    kind = PartyOrgKind(kind)
    name = name.strip()
    if not name:
        raise DomainError("party_org_name_required", _("请填写党组织名称。"), field="name")
    villages = list({v.pk: v for v in villages}.values())  # unique, in the order given

    level = ORG_REGION_LEVEL[kind]
    if level is not None and region.level != level:
        raise DomainError(
            "party_org_wrong_region_level",
            _("%(kind)s应设在%(level)s一级，“%(region)s”是%(actual)s。")
            % {
                "kind": kind.label,
                "level": RegionLevel(level).label,
                "region": region.name,
                "actual": RegionLevel(region.level).label,
            },
            field="region",
        )

    if kind == PartyOrgKind.COUNTY_COMMITTEE:
        if parent is not None:
            raise DomainError(
                "party_org_root_has_no_parent", _("县委是党组织树的根，不能有上级党组织。"), field="parent"
            )
        if PartyOrganisation.objects.filter(kind=kind, region=region).exists():
            raise Conflict("party_org_root_exists", _("“%s”已有县委。") % region.name, field="kind")
    else:
        if parent is None:
            raise DomainError("party_org_parent_required", _("请选择上级党组织。"), field="parent")
        allowed = ORG_PARENT_KINDS[kind]
        if parent.kind not in allowed:
            raise DomainError(
                "party_org_wrong_parent",
                _("%(kind)s的上级党组织应为%(allowed)s，“%(parent)s”是%(actual)s。")
                % {
                    "kind": kind.label,
                    "allowed": "或".join(str(k.label) for k in PartyOrgKind if k in allowed),
                    "parent": parent.name,
                    "actual": _label(PartyOrgKind, parent.kind),
                },
                field="parent",
            )
        if not region.path.startswith(parent.region.path):
            raise DomainError(
                "party_org_region_outside_parent",
                _("“%(region)s”不在上级党组织“%(parent)s”所辖的“%(parent_region)s”范围内。")
                % {"region": region.name, "parent": parent.name, "parent_region": parent.region.name},
                field="region",
            )
        if PartyOrganisation.objects.filter(parent=parent, name=name).exists():
            raise Conflict(
                "party_org_name_taken",
                _("“%(parent)s”下已有名为“%(name)s”的党组织。") % {"parent": parent.name, "name": name},
                field="name",
            )

    if kind == PartyOrgKind.JOINT_COMMITTEE:
        assert parent is not None
        if region.pk not in {v.pk for v in villages}:
            villages.insert(0, region)
        if len({v.pk for v in villages}) < 2:
            raise DomainError(
                "party_org_joint_needs_villages",
                _("联合党委至少应覆盖两个村（社区）。"),
                field="villages",
            )
        for village in villages:
            if village.level != RegionLevel.VILLAGE:
                raise DomainError(
                    "party_org_joint_not_a_village",
                    _("“%s”不是村（社区），联合党委只能覆盖村（社区）。") % village.name,
                    field="villages",
                )
            if not village.path.startswith(parent.region.path):
                raise DomainError(
                    "party_org_joint_village_outside",
                    _("“%(village)s”不在“%(township)s”范围内。")
                    % {"village": village.name, "township": parent.region.name},
                    field="villages",
                )
    elif villages:
        raise DomainError(
            "party_org_villages_only_for_joint",
            _("只有联合党委才能设置覆盖的村（社区）。"),
            field="villages",
        )
    if established_on is not None:
        _not_future(established_on, "established_on")

    # The path needs the row's own id: insert with a unique placeholder, then set it in this transaction.
    org = PartyOrganisation.objects.create(
        parent=parent,
        kind=kind,
        name=name,
        region=region,
        established_on=established_on,
        path=f"pending-{uuid.uuid4().hex}/",
    )
    org.path = f"{parent.path if parent else ''}{org.pk}/"
    PartyOrganisation.objects.filter(pk=org.pk).update(path=org.path)
    if kind == PartyOrgKind.JOINT_COMMITTEE:
        org.villages.set(villages)

    changes: dict[str, Any] = {
        "kind": [None, kind.value],
        "name": [None, name],
        "region": [None, region.name],
        "parent": [None, parent.name if parent else None],
    }
    if villages:
        changes["villages"] = [None, [v.name for v in villages]]
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=org,
        region_path=region.path,
        changes=changes_with_key(changes, key),
        request=request,
    )
    return org


@transaction.atomic
def party_leadership_assign(
    *,
    actor: Actor,
    organisation: PartyOrganisation,
    member: PartyMember,
    position: LeadershipPosition | str,
    term_start: dt.date,
    term_end: dt.date | None = None,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> PartyLeadership:
    """Appoint a full member to 书记/副书记/委员 of `organisation` for a term (open-ended if no end).

    An organisation has at most one 书记 at any time: a term that overlaps another 书记's term is refused.
    The organisation row is locked first, so two concurrent appointments cannot both pass the check.
    A replay with the same `idempotency_key` returns the first request's appointment.
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=PartyLeadership._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return PartyLeadership.objects.get(pk=int(replay.object_id))
    position = LeadershipPosition(position)
    PartyOrganisation.objects.select_for_update().get(pk=organisation.pk)
    if member.stage != MembershipStage.FULL:
        raise DomainError(
            "leadership_needs_full_member",
            _("只有正式党员才能担任党组织班子成员，“%(name)s”目前是%(stage)s。")
            % {"name": member.resident.name, "stage": _label(MembershipStage, member.stage)},
            field="member",
        )
    if term_end is not None and term_end <= term_start:
        raise DomainError("leadership_term_order", _("任期结束日期应晚于任期开始日期。"), field="term_end")

    overlapping = Q(term_end__isnull=True) | Q(term_end__gt=term_start)
    if term_end is not None:
        overlapping &= Q(term_start__lt=term_end)
    terms = PartyLeadership.objects.filter(overlapping, organisation=organisation)
    same_member = terms.filter(member=member).select_related("member__resident").first()
    if same_member is not None:
        raise Conflict(
            "leadership_member_overlap",
            _("“%(name)s”在“%(org)s”已任%(position)s（任期自%(start)s起），任期不能重叠。")
            % {
                "name": member.resident.name,
                "org": organisation.name,
                "position": same_member.get_position_display(),
                "start": same_member.term_start.isoformat(),
            },
            field="member",
        )
    if position == LeadershipPosition.SECRETARY:
        current = (
            terms.filter(position=LeadershipPosition.SECRETARY).select_related("member__resident").first()
        )
        if current is not None:
            raise Conflict(
                "leadership_secretary_taken",
                _("“%(org)s”已有书记%(name)s（任期自%(start)s起），同一时间只能有一名书记，请先结束其任期。")
                % {
                    "org": organisation.name,
                    "name": current.member.resident.name,
                    "start": current.term_start.isoformat(),
                },
                field="position",
            )

    leadership = PartyLeadership.objects.create(
        organisation=organisation,
        member=member,
        position=position,
        term_start=term_start,
        term_end=term_end,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=leadership,
        region_path=organisation.region.path,
        changes=changes_with_key(
            {
                "organisation": [None, organisation.name],
                "member": [None, member.resident.name],
                "position": [None, position.value],
                "term_start": [None, term_start.isoformat()],
                "term_end": [None, term_end.isoformat() if term_end else None],
            },
            key,
        ),
        request=request,
    )
    return leadership


@transaction.atomic
def party_leadership_end(
    *,
    actor: Actor,
    leadership: PartyLeadership,
    term_end: dt.date,
    request: HttpRequest | None = None,
) -> PartyLeadership:
    """End a term on `term_end` (after its start), so that a successor can be appointed: an open term,
    or one whose planned end is still ahead (a five-year term cut short), which then ends earlier than
    planned. A term that has already ended by today is refused."""
    locked = (
        PartyLeadership.objects.select_for_update()
        .select_related("organisation__region")
        .get(pk=leadership.pk)
    )
    planned = locked.term_end
    if planned is not None and planned <= _today():
        raise Conflict("leadership_already_ended", _("该任期已于%s结束。") % planned.isoformat())
    if term_end <= locked.term_start:
        raise DomainError("leadership_term_order", _("任期结束日期应晚于任期开始日期。"), field="term_end")
    if planned is not None and term_end >= planned:
        raise DomainError(
            "leadership_end_after_planned",
            _("该任期原定于%s结束，提前结束的日期应早于原定日期。") % planned.isoformat(),
            field="term_end",
        )
    PartyLeadership.objects.filter(pk=locked.pk).update(term_end=term_end)
    locked.term_end = term_end
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        region_path=locked.organisation.region.path,
        changes={"term_end": [planned.isoformat() if planned else None, term_end.isoformat()]},
        request=request,
    )
    return locked


# --- members and the pipeline -------------------------------------------------------------------


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + PROBATION_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year + PROBATION_YEARS, day=28)


def _check_step_date(stage: MembershipStage, day: dt.date, previous: MembershipStep | None) -> None:
    """The pipeline's date rules for reaching `stage` on `day` after `previous` (None: first step)."""
    field = "occurred_on"
    _not_future(day, field)
    if previous is None:
        return
    previous_stage = MembershipStage(previous.stage)
    if day < previous.occurred_on:
        raise DomainError(
            "membership_step_date_order",
            _("“%(stage)s”的日期（%(day)s）不能早于上一步“%(previous)s”的日期（%(previous_day)s）。")
            % {
                "stage": stage.label,
                "day": day.isoformat(),
                "previous": previous_stage.label,
                "previous_day": previous.occurred_on.isoformat(),
            },
            field=field,
        )
    if stage == MembershipStage.FULL and day < _one_year_after(previous.occurred_on):
        raise DomainError(
            "membership_probation_one_year",
            _("预备期为一年：%(day)s起才能转为正式党员。")
            % {"day": _one_year_after(previous.occurred_on).isoformat()},
            field=field,
        )


def _check_sponsors(
    *,
    member: PartyMember | None,
    resident: Resident,
    sponsors: tuple[PartyMember | None, ...],
    on: dt.date,
) -> tuple[PartyMember, PartyMember]:
    """Two distinct sponsors (入党介绍人), neither the person themself, both full members by `on`."""
    first, second = (*sponsors, None, None)[:2]
    if len(sponsors) > 2 or first is None or second is None:
        raise DomainError(
            "membership_two_sponsors_required",
            _("确定为发展对象须有两名正式党员作入党介绍人。"),
            field="sponsors",
        )
    if first.pk == second.pk:
        raise DomainError(
            "membership_sponsors_distinct",
            _("两名入党介绍人不能是同一人。"),
            field="sponsors",
        )
    for sponsor in (first, second):
        if sponsor.resident_id == resident.pk or (member is not None and sponsor.pk == member.pk):
            raise DomainError(
                "membership_sponsor_is_self",
                _("本人不能担任自己的入党介绍人。"),
                field="sponsors",
            )
        full_on = (
            MembershipStep.objects.filter(member=sponsor, stage=MembershipStage.FULL)
            .values_list("occurred_on", flat=True)
            .first()
        )
        if sponsor.stage != MembershipStage.FULL or full_on is None or full_on > on:
            raise DomainError(
                "membership_sponsor_not_full",
                _("入党介绍人须为正式党员，“%s”在该日期还不是正式党员。") % sponsor.resident.name,
                field="sponsors",
            )
    return first, second


def _tag_party_member(resident: Resident) -> None:
    """Keep the resident's "党员" tag in step with the pipeline: set once they are in the Party."""
    ResidentTag.objects.get_or_create(resident=resident, tag=ResidentTagKind.PARTY_MEMBER)


@transaction.atomic
def party_member_create(
    *,
    actor: Actor,
    resident: Resident,
    organisation: PartyOrganisation,
    steps: Mapping[MembershipStage, dt.date] | Mapping[str, dt.date],
    category: MemberCategory | str = MemberCategory.REGULAR,
    sponsors: tuple[PartyMember, PartyMember] | None = None,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> PartyMember:
    """Register a resident in the pipeline: as an applicant ({"applicant": date}), or with every step
    already taken and its date known (e.g. a veteran member registered directly as a full member).

    `steps` must be the pipeline's first stages in order without gaps; the dates follow the same rules
    as party_member_advance. Sponsors may be unknown for a member registered past the candidate stage
    (they may have died or moved away), but if given they must be two distinct full members. A replay
    with the same `idempotency_key` returns the member the first request registered.
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=PartyMember._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return PartyMember.objects.get(pk=int(replay.object_id))
    category = MemberCategory(category)
    given = {MembershipStage(stage): day for stage, day in steps.items()}
    if not given:
        raise DomainError("membership_steps_required", _("请填写递交入党申请的日期。"), field="occurred_on")
    reached = PIPELINE[: len(given)]
    if set(given) != set(reached):
        raise DomainError(
            "membership_steps_gap",
            _("发展阶段须从“入党申请人”起依次登记，不能跳过：应为%s。")
            % "、".join(str(s.label) for s in reached),
            field="stage",
        )
    if PartyMember.objects.filter(resident=resident).exists():
        raise Conflict(
            "membership_resident_registered",
            _("“%s”已有党员（发展）档案，请在原档案中推进。") % resident.name,
            field="resident",
        )
    if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT):
        raise DomainError(
            "membership_resident_inactive",
            _("“%(name)s”的状态为%(status)s，不能登记。")
            % {"name": resident.name, "status": resident.get_status_display()},
            field="resident",
        )
    applied_on = given[MembershipStage.APPLICANT]
    if _age_on(resident.birth_date, applied_on) < MIN_APPLICANT_AGE:
        raise DomainError(
            "membership_applicant_too_young",
            _("申请入党须年满十八周岁：“%(name)s”在%(day)s还不满十八周岁。")
            % {"name": resident.name, "day": applied_on.isoformat()},
            field="occurred_on",
        )
    previous: MembershipStep | None = None
    for stage in reached:
        _check_step_date(stage, given[stage], previous)
        previous = MembershipStep(stage=stage, occurred_on=given[stage])
    sponsor_pair: tuple[PartyMember, PartyMember] | None = None
    if sponsors is not None:
        if MembershipStage.CANDIDATE not in given:
            raise DomainError(
                "membership_sponsors_too_early",
                _("确定为发展对象时才登记入党介绍人。"),
                field="sponsors",
            )
        sponsor_pair = _check_sponsors(
            member=None, resident=resident, sponsors=sponsors, on=given[MembershipStage.CANDIDATE]
        )

    stage = reached[-1]
    member = PartyMember.objects.create(
        resident=resident,
        organisation=organisation,
        category=category,
        stage=stage,
        sponsor_1=sponsor_pair[0] if sponsor_pair else None,
        sponsor_2=sponsor_pair[1] if sponsor_pair else None,
    )
    MembershipStep.objects.bulk_create(
        MembershipStep(member=member, stage=s, occurred_on=given[s]) for s in reached
    )
    if stage in MEMBER_STAGES:
        _tag_party_member(resident)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=member,
        region_path=organisation.region.path,
        changes=changes_with_key(
            {
                "organisation": [None, organisation.name],
                "category": [None, category.value],
                "stage": [None, stage.value],
                "steps": [None, {s.value: given[s].isoformat() for s in reached}],
            },
            key,
        ),
        request=request,
    )
    return member


@transaction.atomic
def party_member_advance(
    *,
    actor: Actor,
    member: PartyMember,
    to_stage: MembershipStage | str,
    occurred_on: dt.date,
    sponsors: tuple[PartyMember, PartyMember] | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> MembershipStep:
    """Move a member one step along applicant → activist → candidate → probationary → full.

    Strictly in order, one step at a time, the date not before the previous step's (and the full-member
    step at least one year after the probationary one); becoming a candidate needs two distinct sponsors
    who are full members. The member row is locked, so two concurrent advances cannot both pass.
    Returns the new step.
    """
    to_stage = MembershipStage(to_stage)
    locked = (
        PartyMember.objects.select_for_update(of=("self",))
        .select_related("resident", "organisation__region")
        .get(pk=member.pk)
    )
    current = MembershipStage(locked.stage)
    position = PIPELINE.index(current)
    if current == MembershipStage.FULL:
        raise Conflict(
            "membership_already_full",
            _("“%s”已是正式党员，发展程序已经完成。") % locked.resident.name,
            field="to_stage",
        )
    expected = PIPELINE[position + 1]
    if to_stage != expected:
        raise DomainError(
            "membership_out_of_order",
            _(
                "发展程序须按顺序进行：“%(name)s”目前是%(current)s，下一步只能是%(expected)s，不能直接到%(to)s。"
            )
            % {
                "name": locked.resident.name,
                "current": current.label,
                "expected": expected.label,
                "to": to_stage.label,
            },
            field="to_stage",
        )
    previous = MembershipStep.objects.filter(member=locked, stage=current).order_by("-occurred_on").first()
    _check_step_date(to_stage, occurred_on, previous)

    changes: dict[str, Any] = {"stage": [current.value, to_stage.value]}
    if to_stage == MembershipStage.CANDIDATE:
        first, second = _check_sponsors(
            member=locked, resident=locked.resident, sponsors=sponsors or (), on=occurred_on
        )
        locked.sponsor_1, locked.sponsor_2 = first, second
        changes["sponsor_1"] = [None, first.resident.name]
        changes["sponsor_2"] = [None, second.resident.name]
    elif sponsors:
        raise DomainError(
            "membership_sponsors_not_needed",
            _("入党介绍人在确定为发展对象时登记，此步骤无需填写。"),
            field="sponsors",
        )

    step = MembershipStep.objects.create(
        member=locked, stage=to_stage, occurred_on=occurred_on, note=note.strip()[:200]
    )
    locked.stage = to_stage
    locked.save(update_fields=["stage", "sponsor_1", "sponsor_2", "updated_at"])
    if to_stage in MEMBER_STAGES:
        _tag_party_member(locked.resident)
    changes["occurred_on"] = [None, occurred_on.isoformat()]
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        region_path=locked.organisation.region.path,
        changes=changes,
        detail=_("发展程序：%(from)s → %(to)s") % {"from": current.label, "to": to_stage.label},
        request=request,
    )
    member.stage, member.sponsor_1, member.sponsor_2 = locked.stage, locked.sponsor_1, locked.sponsor_2
    return step


@transaction.atomic
def party_member_transfer(
    *,
    actor: Actor,
    member: PartyMember,
    to_organisation: PartyOrganisation,
    transferred_on: dt.date,
    reason: str,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> MemberTransfer:
    """Move a member's organisational relationship to `to_organisation`, keeping the history.

    Refused while the member holds an open leadership term in the organisation they leave. A replay
    with the same `idempotency_key` returns the first request's transfer.
    """
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.UPDATE,
        object_type=PartyMember._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        member.refresh_from_db(fields=["organisation"])
        return MemberTransfer.objects.get(pk=int(replay.changes["transfer"][1]))
    locked = (
        PartyMember.objects.select_for_update(of=("self",))
        .select_related("resident", "organisation__region")
        .get(pk=member.pk)
    )
    reason = reason.strip()
    if not reason:
        raise DomainError("transfer_reason_required", _("请填写转接原因。"), field="reason")
    if to_organisation.pk == locked.organisation_id:
        raise DomainError(
            "transfer_same_organisation",
            _("转入党组织与当前所在党组织相同。"),
            field="to_organisation",
        )
    _not_future(transferred_on, "transferred_on")
    last = MemberTransfer.objects.filter(member=locked).order_by("-transferred_on").first()
    if last is not None and transferred_on < last.transferred_on:
        raise DomainError(
            "transfer_date_order",
            _("转接日期不能早于上一次转接日期（%s）。") % last.transferred_on.isoformat(),
            field="transferred_on",
        )
    open_term = (
        PartyLeadership.objects.filter(member=locked, organisation_id=locked.organisation_id)
        .filter(Q(term_end__isnull=True) | Q(term_end__gt=transferred_on))
        .first()
    )
    if open_term is not None:
        raise Conflict(
            "transfer_holds_position",
            _("“%(name)s”仍在“%(org)s”担任%(position)s，请先结束其任期再转接组织关系。")
            % {
                "name": locked.resident.name,
                "org": locked.organisation.name,
                "position": open_term.get_position_display(),
            },
            field="to_organisation",
        )

    from_organisation = locked.organisation
    transfer = MemberTransfer.objects.create(
        member=locked,
        from_organisation=from_organisation,
        to_organisation=to_organisation,
        transferred_on=transferred_on,
        reason=reason[:200],
    )
    locked.organisation = to_organisation
    locked.save(update_fields=["organisation", "updated_at"])
    member.organisation = to_organisation
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        region_path=to_organisation.region.path,
        changes=(
            {"organisation": [from_organisation.name, to_organisation.name]}
            if not key
            else {
                "organisation": [from_organisation.name, to_organisation.name],
                "transfer": [None, transfer.pk],
                "idempotency_key": [None, key],
            }
        ),
        detail=_("组织关系转接：%s") % reason[:200],
        request=request,
    )
    return transfer


@transaction.atomic
def party_member_export_record(
    *,
    actor: Actor,
    count: int,
    filters: Mapping[str, str],
    region_path: str = "",
    request: HttpRequest | None = None,
) -> None:
    """Write the audit entry for an Excel export of the member list (names and political affiliation
    are personal data): how many rows, with which filters."""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="governance.partymember",
        object_repr=_("党员名册（%d 人）") % count,
        region_path=region_path,
        changes={"filters": [None, dict(filters)], "rows": [None, count]},
        detail=_("导出党员名册 Excel，共 %d 行。") % count,
        request=request,
    )


# --- the village sages' mediation groups --------------------------------------------------------


@transaction.atomic
def sages_group_create(
    *,
    actor: Actor,
    village: Region,
    name: str = "",
    established_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> SagesGroup:
    """Found a village's 乡贤说事评理团 (one per village; named after the village unless `name` is given)."""
    if village.level != RegionLevel.VILLAGE:
        raise DomainError(
            "sages_group_not_a_village",
            _("乡贤说事评理团以村（社区）为单位成立，“%s”不是村（社区）。") % village.name,
            field="village",
        )
    if SagesGroup.objects.filter(village=village).exists():
        raise Conflict(
            "sages_group_exists",
            _("“%s”已成立乡贤说事评理团。") % village.name,
            field="village",
        )
    if established_on is not None:
        _not_future(established_on, "established_on")
    group = SagesGroup.objects.create(
        village=village,
        name=(name.strip() or _("%s乡贤说事评理团") % village.name)[:80],
        established_on=established_on,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=group,
        region_path=village.path,
        changes={"village": [None, village.name], "name": [None, group.name]},
        request=request,
    )
    return group


@transaction.atomic
def sages_member_add(
    *,
    actor: Actor,
    group: SagesGroup,
    resident: Resident,
    kind: SagesMemberKind | str,
    joined_on: dt.date,
    request: HttpRequest | None = None,
) -> SagesMember:
    """Add a resident of the group's village; a "veteran member" must be a full Party member."""
    kind = SagesMemberKind(kind)
    village = group.village
    resident_path = _resident_path(resident)
    if not resident_path.startswith(village.path):
        raise DomainError(
            "sages_member_not_villager",
            _("“%(name)s”不是%(village)s的居民，评理团成员须为本村（社区）居民。")
            % {"name": resident.name, "village": village.name},
            field="resident",
        )
    if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT):
        raise DomainError(
            "sages_member_inactive",
            _("“%(name)s”的状态为%(status)s，不能加入评理团。")
            % {"name": resident.name, "status": resident.get_status_display()},
            field="resident",
        )
    if (
        kind == SagesMemberKind.VETERAN_MEMBER
        and not PartyMember.objects.filter(resident=resident, stage=MembershipStage.FULL).exists()
    ):
        raise DomainError(
            "sages_member_not_party_member",
            _("“%s”不是正式党员，不能以“老党员”身份加入。") % resident.name,
            field="kind",
        )
    if SagesMember.objects.filter(group=group, resident=resident).exists():
        raise Conflict(
            "sages_member_exists",
            _("“%s”已是本评理团成员。") % resident.name,
            field="resident",
        )
    _not_future(joined_on, "joined_on")
    if group.established_on is not None and joined_on < group.established_on:
        raise DomainError(
            "sages_member_before_group",
            _("加入日期不能早于评理团成立日期（%s）。") % group.established_on.isoformat(),
            field="joined_on",
        )
    sage = SagesMember.objects.create(group=group, resident=resident, kind=kind, joined_on=joined_on)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=sage,
        region_path=resident_path,
        changes={
            "group": [None, group.name],
            "resident": [None, resident.name],
            "kind": [None, kind.value],
            "joined_on": [None, joined_on.isoformat()],
        },
        request=request,
    )
    return sage


# --- talent and honours -------------------------------------------------------------------------


@transaction.atomic
def talent_register(
    *,
    actor: Actor,
    resident: Resident,
    category: TalentCategory | str,
    speciality: str,
    registered_on: dt.date,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> Talent:
    """Enter a resident (living in the county, not moved out) in the "七个一百" registry under one of
    its seven categories, once per category. A replay with the same `idempotency_key` returns the
    first request's entry."""
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=Talent._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return Talent.objects.get(pk=int(replay.object_id))
    category = TalentCategory(category)
    if resident.status in (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT):
        raise DomainError(
            "talent_resident_inactive",
            _("“%(name)s”的状态为%(status)s，不能登记。")
            % {"name": resident.name, "status": resident.get_status_display()},
            field="resident",
        )
    speciality = speciality.strip()
    if not speciality:
        raise DomainError("talent_speciality_required", _("请填写专长。"), field="speciality")
    if Talent.objects.filter(resident=resident, category=category).exists():
        raise Conflict(
            "talent_exists",
            _("“%(name)s”已登记为%(category)s。") % {"name": resident.name, "category": category.label},
            field="category",
        )
    _not_future(registered_on, "registered_on")
    talent = Talent.objects.create(
        resident=resident, category=category, speciality=speciality[:100], registered_on=registered_on
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=talent,
        region_path=_resident_path(resident),
        changes=changes_with_key(
            {"category": [None, category.value], "speciality": [None, talent.speciality]}, key
        ),
        request=request,
    )
    return talent


@transaction.atomic
def talent_training_add(
    *,
    actor: Actor,
    talent: Talent,
    title: str,
    held_on: dt.date,
    hours: int,
    organiser: str = "",
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> TalentTraining:
    """Record a training the talent attended (not before they entered the registry). A replay with
    the same `idempotency_key` returns the first request's record."""
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=TalentTraining._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return TalentTraining.objects.get(pk=int(replay.object_id))
    title = title.strip()
    if not title:
        raise DomainError("training_title_required", _("请填写培训名称。"), field="title")
    if not 1 <= hours <= 1000:
        raise DomainError("training_hours_range", _("学时应在1到1000之间。"), field="hours")
    _not_future(held_on, "held_on")
    if held_on < talent.registered_on:
        raise DomainError(
            "training_before_registration",
            _("培训日期不能早于入库日期（%s）。") % talent.registered_on.isoformat(),
            field="held_on",
        )
    training = TalentTraining.objects.create(
        talent=talent, title=title[:120], held_on=held_on, hours=hours, organiser=organiser.strip()[:100]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=training,
        region_path=_resident_path(talent.resident),
        changes=changes_with_key(
            {
                "title": [None, training.title],
                "held_on": [None, held_on.isoformat()],
                "hours": [None, hours],
            },
            key,
        ),
        request=request,
    )
    return training


@transaction.atomic
def role_model_create(
    *,
    actor: Actor,
    resident: Resident,
    title: str,
    deeds: str = "",
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> RoleModel:
    """Hold a resident up as a 先进典型 under a title (致富带头人, 孝老爱亲模范, ...), once per title.
    A replay with the same `idempotency_key` returns the first request's role model."""
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=RoleModel._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return RoleModel.objects.get(pk=int(replay.object_id))
    title = title.strip()
    if not title:
        raise DomainError("role_model_title_required", _("请填写典型称号。"), field="title")
    if RoleModel.objects.filter(resident=resident, title=title[:80]).exists():
        raise Conflict(
            "role_model_exists",
            _("“%(name)s”已是“%(title)s”先进典型。") % {"name": resident.name, "title": title[:80]},
            field="title",
        )
    role_model = RoleModel.objects.create(resident=resident, title=title[:80], deeds=deeds.strip())
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=role_model,
        region_path=_resident_path(resident),
        changes=changes_with_key({"resident": [None, resident.name], "title": [None, role_model.title]}, key),
        request=request,
    )
    return role_model


@transaction.atomic
def shennong_gathering_create(
    *,
    actor: Actor,
    session: int,
    held_on: dt.date,
    venue: str = "",
    theme: str = "",
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> ShennongGathering:
    """Record a numbered 神农英雄会; sessions are held in order (a later session on a later day). A
    replay with the same `idempotency_key` returns the first request's gathering."""
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=ShennongGathering._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return ShennongGathering.objects.get(pk=int(replay.object_id))
    if session < 1:
        raise DomainError("gathering_session_positive", _("届次应为正整数。"), field="session")
    if ShennongGathering.objects.filter(session=session).exists():
        raise Conflict("gathering_session_exists", _("第%d届神农英雄会已登记。") % session, field="session")
    _not_future(held_on, "held_on")
    earlier = ShennongGathering.objects.filter(session__lt=session, held_on__gte=held_on).first()
    later = ShennongGathering.objects.filter(session__gt=session, held_on__lte=held_on).first()
    clash = earlier or later
    if clash is not None:
        raise DomainError(
            "gathering_session_order",
            _("届次与日期顺序不符：第%(other)d届于%(day)s举办。")
            % {"other": clash.session, "day": clash.held_on.isoformat()},
            field="held_on",
        )
    gathering = ShennongGathering.objects.create(
        session=session, held_on=held_on, venue=venue.strip()[:100], theme=theme.strip()[:120]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=gathering,
        region_path=_county_path(),
        changes=changes_with_key({"session": [None, session], "held_on": [None, held_on.isoformat()]}, key),
        request=request,
    )
    return gathering


@transaction.atomic
def role_model_select(
    *,
    actor: Actor,
    gathering: ShennongGathering,
    role_model: RoleModel,
    citation: str = "",
    idempotency_key: str = "",
    request: HttpRequest | None = None,
) -> RoleModelSelection:
    """Select a role model at a gathering (once per gathering). A replay with the same
    `idempotency_key` returns the first request's selection."""
    key = idempotency_key_clean(idempotency_key, required=False)
    replay = audit_replayed(
        actor=actor,
        key=key,
        action=AuditAction.CREATE,
        object_type=RoleModelSelection._meta.label_lower,
        lock_namespace=_LOCK_NAMESPACE,
    )
    if replay is not None:
        return RoleModelSelection.objects.get(pk=int(replay.object_id))
    if RoleModelSelection.objects.filter(gathering=gathering, role_model=role_model).exists():
        raise Conflict(
            "role_model_already_selected",
            _("“%(name)s”已在%(gathering)s选树。")
            % {"name": role_model.resident.name, "gathering": gathering},
            field="role_model",
        )
    selection = RoleModelSelection.objects.create(
        gathering=gathering, role_model=role_model, citation=citation.strip()[:200]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=selection,
        region_path=_resident_path(role_model.resident),
        changes=changes_with_key(
            {
                "gathering": [None, gathering.session],
                "role_model": [None, f"{role_model.resident.name} · {role_model.title}"],
            },
            key,
        ),
        request=request,
    )
    return selection


# --- object-level grants ------------------------------------------------------------------------------

_GRANTORS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN})


def _require_grantor(actor: Actor, organisation: PartyOrganisation) -> None:
    if actor is None or not access.covers(actor, organisation.region.path, _GRANTORS):
        raise DomainError("party_grant_forbidden", _("只有县、乡镇管理员可以授权查看该党组织。"), status=403)


@transaction.atomic
def party_org_view_grant(
    *, actor: Actor, user: User, organisation: PartyOrganisation, request: HttpRequest | None = None
) -> None:
    """Let `user` see `organisation` and its members whatever their region roles (django-guardian,
    direct foreign-key row). Only county admins, or township admins over the organisation, may grant.
    Granting twice is harmless."""
    from guardian.shortcuts import assign_perm

    _require_grantor(actor, organisation)
    assign_perm("governance.view_partyorganisation", user, organisation)
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=organisation,
        region_path=organisation.region.path,
        detail=_("授权 %(user)s 查看党组织") % {"user": user},
        request=request,
    )


@transaction.atomic
def party_org_view_revoke(
    *, actor: Actor, user: User, organisation: PartyOrganisation, request: HttpRequest | None = None
) -> None:
    from guardian.shortcuts import remove_perm

    _require_grantor(actor, organisation)
    remove_perm("governance.view_partyorganisation", user, organisation)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=organisation,
        region_path=organisation.region.path,
        detail=_("撤销 %(user)s 查看党组织的授权") % {"user": user},
        request=request,
    )
