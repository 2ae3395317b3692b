"""The Party area's writes: the organisation tree's kind rules, leadership terms, the membership pipeline
with its order, date and sponsor rules, transfers, sages' groups, talent and honours, and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import DomainError
from governance.models import (
    AuditAction,
    AuditEvent,
    LeadershipPosition,
    MemberCategory,
    MembershipStage,
    MembershipStep,
    MemberTransfer,
    PartyOrganisation,
    PartyOrgKind,
    ResidentTag,
    ResidentTagKind,
    SagesMemberKind,
    TalentCategory,
    User,
)
from governance.services import party as party_services
from tests.governance.party_factories import (
    full_member_make,
    full_steps,
    party_tree_make,
    resident_make,
    village_make,
)

D = dt.date


@pytest.fixture
def tree(demo_county):
    return party_tree_make(demo_county)


@pytest.fixture
def admin():
    return User.objects.get(username="county_admin")


def raised_by(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(**kwargs)
    return raised.value


# --- organisations ------------------------------------------------------------------------------


def test_paths_follow_the_organisation_tree(tree):
    assert tree.county.path == f"{tree.county.pk}/"
    assert tree.chengguan.path == f"{tree.county.pk}/{tree.chengguan.pk}/"
    assert tree.xinhua.path == f"{tree.chengguan.path}{tree.xinhua.pk}/"
    assert list(
        PartyOrganisation.objects.filter(path__startswith=tree.chengguan.path).values_list("name", flat=True)
    ) == [
        "中共城关镇委员会",
        "新华村党支部",
    ]


def test_the_county_committee_is_the_only_root(tree):
    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.COUNTY_COMMITTEE,
        name="另一个县委",
        region=tree.regions["谷城县"],
    )
    assert (error.code, error.message, error.status) == ("party_org_root_exists", "“谷城县”已有县委。", 409)
    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
        name="无上级的党委",
        region=tree.regions["石花镇"],
    )
    assert (error.code, error.message, error.field) == (
        "party_org_parent_required",
        "请选择上级党组织。",
        "parent",
    )


def test_kind_rules_for_levels_and_parents(tree):
    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.TOWNSHIP_COMMITTEE,
        name="中共新华村委员会",
        region=tree.regions["新华村"],
        parent=tree.county,
    )
    assert error.message == "乡镇党委应设在乡镇一级，“新华村”是村（社区）。"
    assert error.field == "region"

    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.VILLAGE_BRANCH,
        name="花圃村党支部",
        region=tree.regions["花圃村"],
        parent=tree.county,
    )
    assert error.message == "村（社区）党支部的上级党组织应为乡镇党委，“中共谷城县委员会”是县委。"
    assert error.field == "parent"

    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.VILLAGE_BRANCH,
        name="堰河村党支部",
        region=tree.regions["堰河村"],
        parent=tree.chengguan,
    )
    assert error.message == "“堰河村”不在上级党组织“中共城关镇委员会”所辖的“城关镇”范围内。"

    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.ENTERPRISE_BRANCH,
        name="某企业党支部",
        region=tree.regions["新华村"],
        parent=tree.xinhua,
    )
    assert error.message == "企业党支部的上级党组织应为县委或乡镇党委，“新华村党支部”是村（社区）党支部。"

    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.VILLAGE_BRANCH,
        name="新华村党支部",
        region=tree.regions["新华村"],
        parent=tree.chengguan,
    )
    assert (error.code, error.message) == (
        "party_org_name_taken",
        "“中共城关镇委员会”下已有名为“新华村党支部”的党组织。",
    )

    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.VILLAGE_BRANCH,
        name="新华村第二党支部",
        region=tree.regions["新华村"],
        parent=tree.chengguan,
        villages=[tree.regions["花圃村"]],
    )
    assert error.message == "只有联合党委才能设置覆盖的村（社区）。"


def test_chain_and_enterprise_branches_sit_under_a_township_or_the_county(tree):
    tea = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.CHAIN_BRANCH,
        name="茶叶产业链党支部",
        region=tree.regions["五山镇"],
        parent=tree.wushan,
    )
    county_chain = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.CHAIN_BRANCH,
        name="食用菌产业链党支部",
        region=tree.regions["谷城县"],
        parent=tree.county,
    )
    enterprise = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.ENTERPRISE_BRANCH,
        name="新华茶业公司党支部",
        region=tree.regions["新华村"],
        parent=tree.chengguan,
        established_on=D(2019, 7, 1),
    )
    assert tea.path == f"{tree.wushan.path}{tea.pk}/"
    assert county_chain.path == f"{tree.county.path}{county_chain.pk}/"
    assert (enterprise.region.name, enterprise.established_on) == ("新华村", D(2019, 7, 1))


def test_joint_committee_spans_yanhe_and_seven_neighbours(tree):
    wushan_town = tree.regions["五山镇"]
    neighbours = [village_make(wushan_town, f"邻村{i}")[0] for i in range(1, 8)]
    joint = party_services.party_org_create(
        actor=None,
        kind=PartyOrgKind.JOINT_COMMITTEE,
        name="堰河村联合党委",
        region=tree.regions["堰河村"],
        parent=tree.wushan,
        villages=neighbours,
    )
    assert joint.villages.count() == 8
    assert sorted(joint.villages.values_list("name", flat=True)) == sorted(
        ["堰河村", *[f"邻村{i}" for i in range(1, 8)]]
    )
    assert joint.region.name == "堰河村"
    assert joint.path == f"{tree.wushan.path}{joint.pk}/"

    audit = AuditEvent.objects.get(object_type="governance.partyorganisation", object_id=str(joint.pk))
    assert audit.changes["villages"] == [None, ["堰河村", *[f"邻村{i}" for i in range(1, 8)]]]
    assert audit.region_path == tree.regions["堰河村"].path


def test_joint_committee_refuses_outside_villages_and_a_single_village(tree):
    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.JOINT_COMMITTEE,
        name="堰河村联合党委",
        region=tree.regions["堰河村"],
        parent=tree.wushan,
        villages=[tree.regions["花圃村"]],
    )
    assert (error.message, error.field) == ("“花圃村”不在“五山镇”范围内。", "villages")
    error = raised_by(
        party_services.party_org_create,
        actor=None,
        kind=PartyOrgKind.JOINT_COMMITTEE,
        name="堰河村联合党委",
        region=tree.regions["堰河村"],
        parent=tree.wushan,
    )
    assert error.message == "联合党委至少应覆盖两个村（社区）。"
    assert PartyOrganisation.objects.filter(kind=PartyOrgKind.JOINT_COMMITTEE).count() == 0


# --- leadership ---------------------------------------------------------------------------------


def test_one_current_secretary_per_organisation(tree, admin):
    grid = tree.regions["第一网格"]
    liu = full_member_make(tree.xinhua, grid, "刘强")
    zhang = full_member_make(tree.xinhua, grid, "张伟")
    first = party_services.party_leadership_assign(
        actor=admin, organisation=tree.xinhua, member=liu, position="secretary", term_start=D(2021, 1, 10)
    )
    error = raised_by(
        party_services.party_leadership_assign,
        actor=admin,
        organisation=tree.xinhua,
        member=zhang,
        position=LeadershipPosition.SECRETARY,
        term_start=D(2024, 1, 1),
    )
    assert (error.code, error.status, error.field) == ("leadership_secretary_taken", 409, "position")
    assert (
        error.message
        == "“新华村党支部”已有书记刘强（任期自2021-01-10起），同一时间只能有一名书记，请先结束其任期。"
    )

    # A deputy at the same time is fine; a term that ended before the new one starts is no clash.
    party_services.party_leadership_assign(
        actor=admin,
        organisation=tree.xinhua,
        member=zhang,
        position=LeadershipPosition.DEPUTY_SECRETARY,
        term_start=D(2021, 1, 10),
        term_end=D(2024, 1, 1),
    )
    party_services.party_leadership_end(actor=admin, leadership=first, term_end=D(2024, 1, 1))
    second = party_services.party_leadership_assign(
        actor=admin,
        organisation=tree.xinhua,
        member=zhang,
        position=LeadershipPosition.SECRETARY,
        term_start=D(2024, 1, 1),
    )
    assert second.term_end is None
    first.refresh_from_db()
    assert first.term_end == D(2024, 1, 1)
    # An earlier historical term overlapping the first secretary's is refused too.
    error = raised_by(
        party_services.party_leadership_assign,
        actor=admin,
        organisation=tree.xinhua,
        member=full_member_make(tree.xinhua, grid, "王军"),
        position=LeadershipPosition.SECRETARY,
        term_start=D(2018, 1, 1),
        term_end=D(2021, 6, 1),
    )
    assert error.code == "leadership_secretary_taken"
    assert (
        AuditEvent.objects.filter(object_type="governance.partyleadership").count() == 4
    )  # 3 assigned, 1 ended


def test_only_full_members_lead_and_terms_must_be_ordered(tree):
    grid = tree.regions["第一网格"]
    applicant = party_services.party_member_create(
        actor=None,
        resident=resident_make(grid, "李明"),
        organisation=tree.xinhua,
        steps={"applicant": D(2025, 3, 1)},
    )
    error = raised_by(
        party_services.party_leadership_assign,
        actor=None,
        organisation=tree.xinhua,
        member=applicant,
        position="committee_member",
        term_start=D(2025, 6, 1),
    )
    assert error.message == "只有正式党员才能担任党组织班子成员，“李明”目前是入党申请人。"
    error = raised_by(
        party_services.party_leadership_assign,
        actor=None,
        organisation=tree.xinhua,
        member=full_member_make(tree.xinhua, grid, "周平"),
        position="committee_member",
        term_start=D(2025, 6, 1),
        term_end=D(2025, 6, 1),
    )
    assert (error.message, error.field) == ("任期结束日期应晚于任期开始日期。", "term_end")


# --- the membership pipeline --------------------------------------------------------------------


@pytest.fixture
def sponsors(tree):
    grid = tree.regions["第一网格"]
    return (
        full_member_make(tree.xinhua, grid, "赵国建", applied=D(1990, 3, 1)),
        full_member_make(tree.xinhua, grid, "钱秀英", applied=D(1995, 3, 1), birth=D(1972, 2, 2)),
    )


def test_the_pipeline_runs_in_order_with_dates_and_sponsors(tree, sponsors, admin):
    resident = resident_make(tree.regions["第一网格"], "孙浩宇", birth=D(2000, 8, 8))
    member = party_services.party_member_create(
        actor=admin,
        resident=resident,
        organisation=tree.xinhua,
        steps={MembershipStage.APPLICANT: D(2021, 3, 1)},
        category=MemberCategory.YOUNG_FARMER,
    )
    assert member.stage == "applicant"

    advance = party_services.party_member_advance
    error = raised_by(advance, actor=admin, member=member, to_stage="probationary", occurred_on=D(2021, 9, 1))
    assert (error.code, error.field) == ("membership_out_of_order", "to_stage")
    assert (
        error.message
        == "发展程序须按顺序进行：“孙浩宇”目前是入党申请人，下一步只能是入党积极分子，不能直接到预备党员。"
    )

    error = raised_by(advance, actor=admin, member=member, to_stage="activist", occurred_on=D(2021, 2, 28))
    assert (
        error.message == "“入党积极分子”的日期（2021-02-28）不能早于上一步“入党申请人”的日期（2021-03-01）。"
    )
    assert error.field == "occurred_on"

    step = advance(actor=admin, member=member, to_stage="activist", occurred_on=D(2021, 3, 1))
    assert (step.stage, step.occurred_on) == ("activist", D(2021, 3, 1))  # the same day is allowed

    error = raised_by(advance, actor=admin, member=member, to_stage="candidate", occurred_on=D(2022, 4, 1))
    assert (error.code, error.message, error.field) == (
        "membership_two_sponsors_required",
        "确定为发展对象须有两名正式党员作入党介绍人。",
        "sponsors",
    )
    error = raised_by(
        advance,
        actor=admin,
        member=member,
        to_stage="candidate",
        occurred_on=D(2022, 4, 1),
        sponsors=(sponsors[0], sponsors[0]),
    )
    assert error.message == "两名入党介绍人不能是同一人。"

    still_probationary = party_services.party_member_create(
        actor=None,
        resident=resident_make(tree.regions["第一网格"], "吴磊"),
        organisation=tree.xinhua,
        steps={s: D(2021 + i, 1, 5) for i, s in enumerate(list(MembershipStage)[:4])},
    )
    error = raised_by(
        advance,
        actor=admin,
        member=member,
        to_stage="candidate",
        occurred_on=D(2022, 4, 1),
        sponsors=(sponsors[0], still_probationary),
    )
    assert error.message == "入党介绍人须为正式党员，“吴磊”在该日期还不是正式党员。"
    # 钱秀英 became a full member in 1999: as a sponsor in 1998 she is refused.
    error = raised_by(
        party_services.party_member_advance,
        actor=admin,
        member=party_services.party_member_create(
            actor=None,
            resident=resident_make(tree.regions["第一网格"], "郑洁", birth=D(1970, 1, 1)),
            organisation=tree.xinhua,
            steps={"applicant": D(1997, 1, 1), "activist": D(1997, 6, 1)},
        ),
        to_stage="candidate",
        occurred_on=D(1998, 6, 1),
        sponsors=sponsors,
    )
    assert error.message == "入党介绍人须为正式党员，“钱秀英”在该日期还不是正式党员。"

    advance(actor=admin, member=member, to_stage="candidate", occurred_on=D(2022, 4, 1), sponsors=sponsors)
    member.refresh_from_db()
    assert (member.sponsor_1, member.sponsor_2) == sponsors

    error = raised_by(
        advance,
        actor=admin,
        member=member,
        to_stage="probationary",
        occurred_on=D(2022, 9, 1),
        sponsors=sponsors,
    )
    assert error.message == "入党介绍人在确定为发展对象时登记，此步骤无需填写。"
    assert not ResidentTag.objects.filter(resident=resident).exists()
    advance(
        actor=admin, member=member, to_stage="probationary", occurred_on=D(2022, 9, 1), note="支部大会通过"
    )
    assert list(ResidentTag.objects.filter(resident=resident).values_list("tag", flat=True)) == [
        ResidentTagKind.PARTY_MEMBER
    ]

    error = raised_by(advance, actor=admin, member=member, to_stage="full", occurred_on=D(2023, 8, 31))
    assert (error.code, error.message) == (
        "membership_probation_one_year",
        "预备期为一年：2023-09-01起才能转为正式党员。",
    )
    advance(actor=admin, member=member, to_stage="full", occurred_on=D(2023, 9, 1))

    error = raised_by(advance, actor=admin, member=member, to_stage="full", occurred_on=D(2024, 1, 1))
    assert (error.code, error.status, error.message) == (
        "membership_already_full",
        409,
        "“孙浩宇”已是正式党员，发展程序已经完成。",
    )
    member.refresh_from_db()
    assert member.stage == "full"
    assert list(
        MembershipStep.objects.filter(member=member)
        .order_by("occurred_on", "pk")
        .values_list("stage", "occurred_on", "note")
    ) == [
        ("applicant", D(2021, 3, 1), ""),
        ("activist", D(2021, 3, 1), ""),
        ("candidate", D(2022, 4, 1), ""),
        ("probationary", D(2022, 9, 1), "支部大会通过"),
        ("full", D(2023, 9, 1), ""),
    ]
    audits = AuditEvent.objects.filter(
        object_type="governance.partymember", object_id=str(member.pk)
    ).order_by("id")
    assert [(a.action, a.actor_id) for a in audits] == [(AuditAction.CREATE, admin.pk)] + [
        (AuditAction.UPDATE, admin.pk)
    ] * 4
    candidate_audit = audits[2]
    assert candidate_audit.changes == {
        "stage": ["activist", "candidate"],
        "sponsor_1": [None, "赵国建"],
        "sponsor_2": [None, "钱秀英"],
        "occurred_on": [None, "2022-04-01"],
    }
    assert candidate_audit.detail == "发展程序：入党积极分子 → 发展对象"
    assert candidate_audit.region_path == tree.regions["新华村"].path


def test_future_dates_and_the_sponsor_being_oneself_are_refused(tree, sponsors):
    member = party_services.party_member_create(
        actor=None,
        resident=resident_make(tree.regions["第一网格"], "冯涛"),
        organisation=tree.xinhua,
        steps={"applicant": D(2024, 1, 1), "activist": D(2024, 6, 1)},
    )
    error = raised_by(
        party_services.party_member_advance,
        actor=None,
        member=member,
        to_stage="candidate",
        occurred_on=timezone.localdate() + dt.timedelta(days=1),
        sponsors=sponsors,
    )
    assert (error.message, error.field) == ("日期不能晚于今天。", "occurred_on")
    error = raised_by(
        party_services.party_member_advance,
        actor=None,
        member=member,
        to_stage="candidate",
        occurred_on=D(2025, 1, 1),
        sponsors=(sponsors[0], member),
    )
    assert error.message == "本人不能担任自己的入党介绍人。"


def test_register_an_applicant_or_a_full_member_directly(tree, sponsors):
    grid = tree.regions["第一网格"]
    young = resident_make(grid, "陈子豪", birth=D(2008, 6, 1))
    error = raised_by(
        party_services.party_member_create,
        actor=None,
        resident=young,
        organisation=tree.xinhua,
        steps={"applicant": D(2026, 5, 31)},
    )
    assert error.message == "申请入党须年满十八周岁：“陈子豪”在2026-05-31还不满十八周岁。"
    assert (
        party_services.party_member_create(
            actor=None, resident=young, organisation=tree.xinhua, steps={"applicant": D(2026, 6, 1)}
        ).stage
        == "applicant"
    )

    error = raised_by(
        party_services.party_member_create,
        actor=None,
        resident=resident_make(grid, "黄明"),
        organisation=tree.xinhua,
        steps={"applicant": D(2010, 1, 1), "candidate": D(2011, 1, 1)},
    )
    assert error.message == "发展阶段须从“入党申请人”起依次登记，不能跳过：应为入党申请人、入党积极分子。"

    veteran_resident = resident_make(grid, "老党员甲", birth=D(1945, 1, 1))
    veteran = party_services.party_member_create(
        actor=None,
        resident=veteran_resident,
        organisation=tree.xinhua,
        steps=full_steps(D(1968, 3, 1)),
        category="veteran",
    )
    assert (veteran.stage, veteran.category, veteran.sponsor_1) == ("full", "veteran", None)
    assert veteran.steps.count() == 5
    assert ResidentTag.objects.filter(resident=veteran_resident, tag="party_member").count() == 1
    error = raised_by(
        party_services.party_member_create,
        actor=None,
        resident=veteran_resident,
        organisation=tree.xinhua,
        steps={"applicant": D(2020, 1, 1)},
    )
    assert (error.code, error.message) == (
        "membership_resident_registered",
        "“老党员甲”已有党员（发展）档案，请在原档案中推进。",
    )
    # Probation shorter than a year is refused at registration too.
    error = raised_by(
        party_services.party_member_create,
        actor=None,
        resident=resident_make(grid, "何平"),
        organisation=tree.xinhua,
        steps={**full_steps(D(2010, 1, 1)), MembershipStage.FULL: D(2013, 6, 1)},
    )
    assert error.code == "membership_probation_one_year"


def test_transfers_keep_their_history(tree, admin):
    grid = tree.regions["第一网格"]
    member = full_member_make(tree.xinhua, grid, "彭勇")
    party_services.party_leadership_assign(
        actor=admin,
        organisation=tree.xinhua,
        member=member,
        position="committee_member",
        term_start=D(2020, 1, 1),
    )
    error = raised_by(
        party_services.party_member_transfer,
        actor=admin,
        member=member,
        to_organisation=tree.yanhe,
        transferred_on=D(2023, 5, 1),
        reason="婚迁",
    )
    assert error.message == "“彭勇”仍在“新华村党支部”担任委员，请先结束其任期再转接组织关系。"
    party_services.party_leadership_end(
        actor=admin, leadership=member.positions.get(), term_end=D(2023, 4, 30)
    )

    first = party_services.party_member_transfer(
        actor=admin, member=member, to_organisation=tree.yanhe, transferred_on=D(2023, 5, 1), reason="婚迁"
    )
    error = raised_by(
        party_services.party_member_transfer,
        actor=admin,
        member=member,
        to_organisation=tree.yanhe,
        transferred_on=D(2024, 1, 1),
        reason="返乡",
    )
    assert error.message == "转入党组织与当前所在党组织相同。"
    error = raised_by(
        party_services.party_member_transfer,
        actor=admin,
        member=member,
        to_organisation=tree.xinhua,
        transferred_on=D(2023, 4, 1),
        reason="返乡",
    )
    assert error.message == "转接日期不能早于上一次转接日期（2023-05-01）。"
    second = party_services.party_member_transfer(
        actor=admin, member=member, to_organisation=tree.xinhua, transferred_on=D(2025, 2, 1), reason="返乡"
    )
    member.refresh_from_db()
    assert member.organisation == tree.xinhua
    assert list(
        MemberTransfer.objects.filter(member=member)
        .order_by("transferred_on")
        .values_list("from_organisation__name", "to_organisation__name", "transferred_on", "reason")
    ) == [
        ("新华村党支部", "堰河村党总支", D(2023, 5, 1), "婚迁"),
        ("堰河村党总支", "新华村党支部", D(2025, 2, 1), "返乡"),
    ]
    assert first.pk != second.pk
    audit = AuditEvent.objects.filter(
        object_type="governance.partymember", detail__startswith="组织关系转接"
    ).first()
    assert audit is not None
    assert audit.changes == {"organisation": ["堰河村党总支", "新华村党支部"]}


# --- sages, talent and honours ------------------------------------------------------------------


def test_sages_group_members_are_villagers(tree, admin):
    xinhua_grid = tree.regions["第一网格"]
    group = party_services.sages_group_create(
        actor=admin, village=tree.regions["新华村"], established_on=D(2020, 5, 1)
    )
    assert group.name == "新华村乡贤说事评理团"
    error = raised_by(party_services.sages_group_create, actor=admin, village=tree.regions["新华村"])
    assert (error.message, error.status) == ("“新华村”已成立乡贤说事评理团。", 409)
    error = raised_by(party_services.sages_group_create, actor=admin, village=tree.regions["城关镇"])
    assert error.message == "乡贤说事评理团以村（社区）为单位成立，“城关镇”不是村（社区）。"

    veteran = full_member_make(tree.xinhua, xinhua_grid, "老支书", applied=D(1975, 1, 1), birth=D(1950, 1, 1))
    sage = party_services.sages_member_add(
        actor=admin, group=group, resident=veteran.resident, kind="veteran_member", joined_on=D(2020, 5, 1)
    )
    assert sage.kind == SagesMemberKind.VETERAN_MEMBER
    outsider = resident_make(tree.regions["堰河村第一网格"], "外村人")
    error = raised_by(
        party_services.sages_member_add,
        actor=admin,
        group=group,
        resident=outsider,
        kind="respected_villager",
        joined_on=D(2021, 1, 1),
    )
    assert (error.message, error.field) == (
        "“外村人”不是新华村的居民，评理团成员须为本村（社区）居民。",
        "resident",
    )
    villager = resident_make(xinhua_grid, "罗德明", birth=D(1955, 3, 3))
    error = raised_by(
        party_services.sages_member_add,
        actor=admin,
        group=group,
        resident=villager,
        kind="veteran_member",
        joined_on=D(2021, 1, 1),
    )
    assert (error.message, error.field) == ("“罗德明”不是正式党员，不能以“老党员”身份加入。", "kind")
    error = raised_by(
        party_services.sages_member_add,
        actor=admin,
        group=group,
        resident=villager,
        kind="respected_villager",
        joined_on=D(2020, 4, 30),
    )
    assert error.message == "加入日期不能早于评理团成立日期（2020-05-01）。"
    party_services.sages_member_add(
        actor=admin, group=group, resident=villager, kind="respected_villager", joined_on=D(2021, 1, 1)
    )
    error = raised_by(
        party_services.sages_member_add,
        actor=admin,
        group=group,
        resident=villager,
        kind="retired_cadre",
        joined_on=D(2022, 1, 1),
    )
    assert error.message == "“罗德明”已是本评理团成员。"
    assert group.members.count() == 2
    assert AuditEvent.objects.filter(object_type="governance.sagesmember").count() == 2
    assert (
        AuditEvent.objects.get(object_type="governance.sagesgroup").region_path == tree.regions["新华村"].path
    )


def test_talent_registry_role_models_and_gatherings(tree, admin):
    grid = tree.regions["第一网格"]
    resident = resident_make(grid, "田茶农")
    talent = party_services.talent_register(
        actor=admin,
        resident=resident,
        category=TalentCategory.PRODUCTION,
        speciality="茶叶种植",
        registered_on=D(2021, 4, 1),
    )
    error = raised_by(
        party_services.talent_register,
        actor=admin,
        resident=resident,
        category="production",
        speciality="香菇栽培",
        registered_on=D(2022, 4, 1),
    )
    assert error.message == "“田茶农”已登记为生产能手。"
    party_services.talent_register(
        actor=admin,
        resident=resident,
        category="ecommerce",
        speciality="直播带货",
        registered_on=D(2022, 4, 1),
    )
    error = raised_by(
        party_services.talent_training_add,
        actor=admin,
        talent=talent,
        title="茶园绿色防控技术培训",
        held_on=D(2021, 3, 1),
        hours=8,
    )
    assert error.message == "培训日期不能早于入库日期（2021-04-01）。"
    error = raised_by(
        party_services.talent_training_add,
        actor=admin,
        talent=talent,
        title="茶园绿色防控技术培训",
        held_on=D(2021, 5, 1),
        hours=0,
    )
    assert (error.message, error.field) == ("学时应在1到1000之间。", "hours")
    party_services.talent_training_add(
        actor=admin,
        talent=talent,
        title="茶园绿色防控技术培训",
        held_on=D(2021, 5, 1),
        hours=16,
        organiser="谷城县农业农村局",
    )
    assert talent.trainings.get().hours == 16

    first = party_services.shennong_gathering_create(
        actor=admin, session=1, held_on=D(2018, 12, 28), venue="谷城县文体中心", theme="崇尚劳动 致富光荣"
    )
    error = raised_by(party_services.shennong_gathering_create, actor=admin, session=2, held_on=D(2018, 1, 1))
    assert error.message == "届次与日期顺序不符：第1届于2018-12-28举办。"
    error = raised_by(party_services.shennong_gathering_create, actor=admin, session=1, held_on=D(2019, 1, 1))
    assert error.message == "第1届神农英雄会已登记。"
    model = party_services.role_model_create(
        actor=admin, resident=resident, title="致富带头人", deeds="带领乡亲种茶。"
    )
    party_services.role_model_select(actor=admin, gathering=first, role_model=model, citation="茶产业带头人")
    error = raised_by(party_services.role_model_select, actor=admin, gathering=first, role_model=model)
    assert error.message == "“田茶农”已在第1届神农英雄会选树。"
    assert list(first.role_models.values_list("title", flat=True)) == ["致富带头人"]

    assert sorted(AuditEvent.objects.filter(actor=admin).values_list("object_type", flat=True)) == sorted(
        [
            "governance.talent",
            "governance.talent",
            "governance.talenttraining",
            "governance.shennonggathering",
            "governance.rolemodel",
            "governance.rolemodelselection",
        ]
    )
    assert (
        AuditEvent.objects.get(object_type="governance.shennonggathering").region_path
        == tree.regions["谷城县"].path
    )
    assert AuditEvent.objects.get(object_type="governance.rolemodel").region_path == grid.path


def test_a_failed_write_leaves_no_audit_row(tree):
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError):
        party_services.party_org_create(
            actor=None, kind="joint_committee", name="x", region=tree.regions["堰河村"], parent=tree.wushan
        )
    assert AuditEvent.objects.count() == before
