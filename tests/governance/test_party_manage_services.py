"""What the Party management pages needed from the services and selectors: exactly-once writes (an
idempotency key replayed returns the first result and writes nothing), ending a planned term early,
the talent registry refusing people who left, one role model per title, and the scoped readers behind
the forms (managed organisations and regions, the person picker, upcoming terms, gatherings)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from common.errors import DomainError, NotFound
from governance.models import (
    AuditAction,
    AuditEvent,
    MemberTransfer,
    PartyLeadership,
    PartyMember,
    PartyOrganisation,
    Resident,
    ResidentStatus,
    RoleModel,
    RoleModelSelection,
    ShennongGathering,
    Talent,
    TalentTraining,
    User,
)
from governance.selectors import party as party_selectors
from governance.services import party as party_services
from tests.governance.party_factories import party_world_make, resident_make, village_make

D = dt.date
KEY = "c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"


@pytest.fixture
def world(demo_county):
    return party_world_make(demo_county)


def user(username: str) -> User:
    return User.objects.get(username=username)


def raised_by(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(**kwargs)
    return raised.value


def keyed_audits(key: str = KEY) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(changes__idempotency_key=[None, key])
        .order_by("pk")
        .values_list("object_type", "actor_name")
    )


# --- exactly once -------------------------------------------------------------------------------


def test_every_create_replays_its_first_result(world):
    admin = user("county_admin")
    regions = world.tree.regions
    neighbour, _grid = village_make(regions["五山镇"], "茨河村")

    def twice(call, **kwargs):
        first = call(actor=admin, idempotency_key=KEY, **kwargs)
        second = call(actor=admin, idempotency_key=KEY, **kwargs)
        assert second.pk == first.pk
        return first

    org = twice(
        party_services.party_org_create,
        kind="joint_committee",
        name="中共堰河联合委员会",
        region=regions["堰河村"],
        parent=world.tree.wushan,
        villages=[neighbour],
    )
    assert PartyOrganisation.objects.filter(name="中共堰河联合委员会").count() == 1
    lead = twice(
        party_services.party_leadership_assign,
        organisation=org,
        member=world.members["王军"],
        position="secretary",
        term_start=D(2024, 1, 1),
    )
    resident = resident_make(regions["第一网格"], "罗小梅", birth=D(2000, 1, 1))
    member = twice(
        party_services.party_member_create,
        resident=resident,
        organisation=world.tree.xinhua,
        steps={"applicant": D(2025, 3, 1)},
    )
    transfer = twice(
        party_services.party_member_transfer,
        member=member,
        to_organisation=world.tree.chengguan,
        transferred_on=D(2025, 4, 1),
        reason="调镇机关",
    )
    member.refresh_from_db()
    assert member.organisation_id == world.tree.chengguan.pk
    assert MemberTransfer.objects.filter(member=member).count() == 1
    talent = twice(
        party_services.talent_register,
        resident=resident,
        category="ecommerce",
        speciality="直播带货",
        registered_on=D(2025, 1, 1),
    )
    training = twice(
        party_services.talent_training_add, talent=talent, title="电商培训", held_on=D(2025, 2, 1), hours=8
    )
    model = twice(party_services.role_model_create, resident=resident, title="电商致富能手")
    gathering = twice(party_services.shennong_gathering_create, session=2, held_on=D(2019, 12, 28))
    selection = twice(party_services.role_model_select, gathering=gathering, role_model=model)
    assert (lead.position, transfer.reason, training.hours, selection.role_model_id) == (
        "secretary",
        "调镇机关",
        8,
        model.pk,
    )
    assert (
        PartyLeadership.objects.filter(organisation=org).count(),
        Talent.objects.filter(resident=resident).count(),
        TalentTraining.objects.filter(talent=talent).count(),
        RoleModel.objects.filter(resident=resident).count(),
        ShennongGathering.objects.count(),
        RoleModelSelection.objects.filter(gathering=gathering).count(),
    ) == (1, 1, 1, 1, 2, 1)
    # One audit row per write, each carrying the key.
    assert keyed_audits() == [
        ("governance.partyorganisation", "李华"),
        ("governance.partyleadership", "李华"),
        ("governance.partymember", "李华"),
        ("governance.partymember", "李华"),
        ("governance.talent", "李华"),
        ("governance.talenttraining", "李华"),
        ("governance.rolemodel", "李华"),
        ("governance.shennonggathering", "李华"),
        ("governance.rolemodelselection", "李华"),
    ]
    transfer_audit = AuditEvent.objects.get(
        object_type="governance.partymember", action=AuditAction.UPDATE, changes__idempotency_key=[None, KEY]
    )
    assert transfer_audit.changes == {
        "organisation": ["新华村党支部", "中共城关镇委员会"],
        "transfer": [None, transfer.pk],
        "idempotency_key": [None, KEY],
    }


def test_a_key_belongs_to_its_user_and_is_checked(world):
    regions = world.tree.regions
    first = party_services.role_model_create(
        actor=user("county_admin"),
        resident=world.members["王军"].resident,
        title="创业模范",
        idempotency_key=KEY,
    )
    # Another user sending the same key is another request.
    second = party_services.role_model_create(
        actor=user("township_admin"),
        resident=resident_make(regions["第一网格"], "钱勤"),
        title="创业模范",
        idempotency_key=KEY,
    )
    assert first.pk != second.pk
    # Without a signed-in actor (seeding, tests) a key cannot be replayed and is only recorded.
    a = party_services.shennong_gathering_create(
        actor=None, session=7, held_on=D(2024, 12, 1), idempotency_key=KEY
    )
    error = raised_by(
        party_services.shennong_gathering_create,
        actor=AnonymousUser(),
        session=7,
        held_on=D(2024, 12, 1),
        idempotency_key=KEY,
    )
    assert (error.code, error.field) == ("gathering_session_exists", "session")
    assert a.session == 7
    error = raised_by(
        party_services.role_model_create,
        actor=user("county_admin"),
        resident=world.members["王军"].resident,
        title="另一称号",
        idempotency_key="x" * 65,
    )
    assert (error.code, error.message) == ("idempotency_key_too_long", "防重复提交标识过长。")
    # Without a key every call writes (the factories, the API's callers that send none).
    party_services.talent_training_add(
        actor=user("county_admin"),
        talent=Talent.objects.get(speciality="茶叶种植"),
        title="复训",
        held_on=D(2023, 1, 1),
        hours=4,
    )
    party_services.talent_training_add(
        actor=user("county_admin"),
        talent=Talent.objects.get(speciality="茶叶种植"),
        title="复训",
        held_on=D(2023, 1, 1),
        hours=4,
    )
    assert TalentTraining.objects.filter(title="复训").count() == 2


# --- leadership terms ---------------------------------------------------------------------------


def test_a_planned_term_can_be_cut_short_but_not_lengthened(world):
    admin = user("county_admin")
    wang = world.members["王军"]
    today = timezone.localdate()
    planned_end = today.replace(year=today.year + 3)
    lead = party_services.party_leadership_assign(
        actor=admin,
        organisation=world.tree.yanhe,
        member=wang,
        position="secretary",
        term_start=D(2021, 3, 1),
        term_end=planned_end,
    )
    error = raised_by(party_services.party_leadership_end, actor=admin, leadership=lead, term_end=planned_end)
    assert (error.code, error.field, error.message) == (
        "leadership_end_after_planned",
        "term_end",
        f"该任期原定于{planned_end.isoformat()}结束，提前结束的日期应早于原定日期。",
    )
    ended = party_services.party_leadership_end(actor=admin, leadership=lead, term_end=D(2025, 12, 31))
    assert ended.term_end == D(2025, 12, 31)
    lead.refresh_from_db()
    assert lead.term_end == D(2025, 12, 31)
    audit = AuditEvent.objects.filter(
        object_type="governance.partyleadership", action=AuditAction.UPDATE
    ).get()
    assert audit.changes == {"term_end": [planned_end.isoformat(), "2025-12-31"]}
    error = raised_by(
        party_services.party_leadership_end, actor=admin, leadership=lead, term_end=D(2025, 6, 30)
    )
    assert (error.code, error.status, error.message) == (
        "leadership_already_ended",
        409,
        "该任期已于2025-12-31结束。",
    )
    # The successor can now be appointed.
    successor = party_services.party_leadership_assign(
        actor=admin,
        organisation=world.tree.yanhe,
        member=world.members["彭勇"],
        position="secretary",
        term_start=D(2025, 12, 31),
    )
    assert successor.term_end is None


# --- talent and role models ---------------------------------------------------------------------


def test_talents_are_living_residents_and_titles_are_once_per_person(world):
    grid = world.tree.regions["第一网格"]
    gone = resident_make(grid, "迁走的人")
    dead = resident_make(grid, "故去的人")
    Resident.objects.filter(pk=gone.pk).update(status=ResidentStatus.MOVED_OUT)
    Resident.objects.filter(pk=dead.pk).update(status=ResidentStatus.DECEASED)
    for resident, status in ((gone, "迁出"), (dead, "去世")):
        resident.refresh_from_db()
        error = raised_by(
            party_services.talent_register,
            actor=None,
            resident=resident,
            category="craftsman",
            speciality="木工",
            registered_on=D(2024, 1, 1),
        )
        assert (error.code, error.field, error.message) == (
            "talent_resident_inactive",
            "resident",
            f"“{resident.name}”的状态为{status}，不能登记。",
        )
    wang = world.members["王军"].resident
    error = raised_by(party_services.role_model_create, actor=None, resident=wang, title="乡村振兴带头人")
    assert (error.code, error.status, error.field, error.message) == (
        "role_model_exists",
        409,
        "title",
        "“王军”已是“乡村振兴带头人”先进典型。",
    )
    assert (
        party_services.role_model_create(actor=None, resident=wang, title="孝老爱亲模范").title
        == "孝老爱亲模范"
    )
    assert Talent.objects.filter(resident__in=[gone, dead]).count() == 0


# --- the readers behind the forms ---------------------------------------------------------------


def test_what_each_role_may_manage(world):
    names = lambda orgs: [o.name for o in orgs]  # noqa: E731
    assert names(party_selectors.party_org_manageable(user=user("county_admin"))) == [
        "中共谷城县委员会",
        "中共城关镇委员会",
        "新华村党支部",
        "中共五山镇委员会",
        "堰河村党总支",
        "食用菌产业链党支部",
    ]
    assert names(party_selectors.party_org_manageable(user=user("township_admin"))) == [
        "中共城关镇委员会",
        "新华村党支部",
    ]
    assert names(party_selectors.party_org_manageable(user=user("village_secretary"))) == ["新华村党支部"]
    assert names(party_selectors.party_org_manageable(user=user("grid_leader"))) == []
    assert [
        (r.name, r.level) for r in party_selectors.party_org_region_choices(user=user("township_admin"))
    ] == [
        ("城关镇", "township"),
        ("新华村", "village"),
    ]
    assert party_selectors.party_org_region_choices(user=user("grid_leader")).count() == 0
    assert party_selectors.party_manager_paths(user=user("village_secretary")) == [
        world.tree.regions["新华村"].path
    ]
    assert party_selectors.party_manager_paths(user=user("canteen_manager")) == []
    assert [
        party_selectors.party_org_can_create(user=user(name))
        for name in ("county_admin", "township_admin", "village_secretary", "grid_leader")
    ] == [True, True, False, False]
    assert party_selectors.party_can_manage_county(user=user("county_admin"))
    assert not party_selectors.party_can_manage_county(user=user("township_admin"))
    zhou = world.members["周平"]
    assert names(party_selectors.party_transfer_targets(user=user("township_admin"), member=zhou)) == [
        "中共城关镇委员会"
    ]
    assert names(party_selectors.party_transfer_targets(user=user("village_secretary"), member=zhou)) == []


def test_pick_queries_and_the_person_search(world):
    parse = party_selectors.pick_query_parse
    assert parse("张伟") == party_selectors.PickQuery(name="张伟")
    assert parse(" 张伟 123x ") == party_selectors.PickQuery(name="张伟", last4="123X")
    assert parse("张伟1234") == party_selectors.PickQuery(name="张伟", last4="1234")
    assert parse("1234").is_empty
    assert parse("").is_empty
    assert parse("420625 19900101 001X") == party_selectors.PickQuery(id_number="42062519900101001X")

    grid = world.tree.regions["第一网格"]
    alive = resident_make(grid, "同名人", birth=D(1990, 1, 1))
    gone = resident_make(grid, "同名人", birth=D(1991, 1, 1))
    Resident.objects.filter(pk=gone.pk).update(status=ResidentStatus.MOVED_OUT)
    far = resident_make(world.tree.regions["堰河村第一网格"], "同名人", birth=D(1992, 1, 1))
    search = party_selectors.party_resident_search
    assert [r.pk for r in search(user=user("village_secretary"), text="同名人")] == [alive.pk]
    assert {r.pk for r in search(user=user("county_admin"), text="同名人")} == {alive.pk, far.pk}
    assert search(user=user("grid_leader"), text="同名人") == []
    assert search(user=user("village_secretary"), text="同") == []  # a whole name, not a part
    # The choice already made comes first when the text does not find it; one out of scope never does.
    assert [r.pk for r in search(user=user("county_admin"), text="", selected_id=far.pk)] == [far.pk]
    assert search(user=user("village_secretary"), text="", selected_id=far.pk) == []
    liu = search(user=user("village_secretary"), text="刘强")
    assert [(r.name, r.party_stage) for r in liu] == [("刘强", "full")]
    leaders = party_selectors.party_leader_search
    assert [m.resident.name for m in leaders(user=user("village_secretary"), text="赵国建")] == ["赵国建"]
    assert leaders(user=user("village_secretary"), text="孙浩宇") == []  # an applicant
    assert leaders(user=user("village_secretary"), text="王军") == []  # another township
    assert [m.resident.name for m in leaders(user=user("county_admin"), text="王军")] == ["王军"]


def test_upcoming_terms_gatherings_and_talent_detail(world):
    admin = user("county_admin")
    next_year = timezone.localdate().replace(month=1, day=1).replace(year=timezone.localdate().year + 1)
    upcoming = party_services.party_leadership_assign(
        actor=admin,
        organisation=world.tree.xinhua,
        member=world.members["赵国建"],
        position="committee_member",
        term_start=next_year,
    )
    detail = party_selectors.party_org_detail(user=admin, org_id=world.tree.xinhua.pk)
    assert [lead.member.resident.name for lead in detail.current_leaders] == ["刘强"]
    assert detail.upcoming_leaders == [upcoming]
    assert detail.past_leaders == []
    lead = party_selectors.party_leadership_get(
        user=admin, organisation=world.tree.xinhua, leadership_id=upcoming.pk
    )
    assert lead.pk == upcoming.pk
    with pytest.raises(NotFound):
        party_selectors.party_leadership_get(
            user=admin, organisation=world.tree.yanhe, leadership_id=upcoming.pk
        )

    view = party_selectors.shennong_gathering_get(
        user=user("township_admin"), gathering_id=world.gathering.pk
    )
    assert (view.total_selected, [s.role_model.resident.name for s in view.selections]) == (2, ["田茶农"])
    nobody = User.objects.create_user(username="nobody", password="x-long-password-1")
    with pytest.raises(NotFound):
        party_selectors.shennong_gathering_get(user=nobody, gathering_id=world.gathering.pk)
    assert party_selectors.shennong_next_session() == 2
    assert [m.resident.name for m in party_selectors.role_model_list(user=user("township_admin"))] == [
        "田茶农"
    ]
    assert [
        m.resident.name for m in party_selectors.role_model_choices(user=admin, gathering=world.gathering)
    ] == []
    assert sorted(m.resident.name for m in party_selectors.role_model_choices(user=admin)) == [
        "王军",
        "田茶农",
    ]

    tea = Talent.objects.get(speciality="茶叶种植")
    talent = party_selectors.talent_detail(user=user("village_secretary"), talent_id=tea.pk)
    assert (talent.talent.training_count, talent.talent.training_hours, talent.can_manage) == (2, 56, True)
    assert [t.title for t in talent.trainings] == ["高素质农民培育班", "茶园绿色防控技术培训"]
    assert [t.speciality for t in talent.other_categories] == ["直播带货"]
    with pytest.raises(NotFound):
        party_selectors.talent_detail(
            user=user("township_admin"), talent_id=Talent.objects.get(speciality="茶叶加工").pk
        )
    assert PartyMember.objects.count() == 14
