"""Services and selectors of love classrooms, love workshops and red stations: exact values, refusals with
nothing written, replays, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from canteens.models import (
    ClassAttendance,
    ClassSession,
    OrderStatus,
    ServiceLog,
    SiteKind,
    Volunteer,
    VolunteerHours,
    WagePayment,
    WorkshopOrder,
    WorkshopWorker,
)
from canteens.selectors import community as selectors
from canteens.selectors.community import ListFilters
from canteens.services import community as services
from common.errors import DomainError, NotFound
from governance import pii
from governance.models import AuditEvent
from tests.canteens.test_community_world import CommunityWorld, community_world, key

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


@pytest.fixture
def world(demo_county) -> CommunityWorld:
    return community_world(demo_county)


def _last_month() -> tuple[int, int, dt.date]:
    first = timezone.localdate().replace(day=1)
    previous = first - dt.timedelta(days=1)
    return previous.year, previous.month, previous.replace(day=1)


def _teacher(world: CommunityWorld, name: str = "李老师", phone: str = "13912345678") -> Volunteer:
    return services.volunteer_create(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        name=name,
        phone=phone,
        speciality="书法",
    )


# --- volunteers ---------------------------------------------------------------------------------------


def test_volunteer_phone_is_encrypted_and_masked_and_a_replay_writes_once(world):
    k = key()
    args = dict(site=world.sites["民营社区爱心讲堂"], name="李老师", phone="139 1234 5678", speciality="书法")
    first = services.volunteer_create(actor=world.manager, idempotency_key=k, **args)
    again = services.volunteer_create(actor=world.manager, idempotency_key=k, **args)
    assert again.pk == first.pk
    assert Volunteer.objects.count() == 1
    assert first.phone_masked == "139****5678"
    assert first.phone_encrypted != "13912345678"
    assert pii.decrypt(first.phone_encrypted) == "13912345678"
    assert first.region == world.regions["民营社区"]
    audit = AuditEvent.objects.filter(object_type="canteens.volunteer")
    assert audit.count() == 1
    assert "13912345678" not in str(audit.get().changes)


def test_volunteer_bad_phone_is_refused_next_to_the_field(world):
    with pytest.raises(DomainError) as error:
        _teacher(world, phone="12345")
    assert error.value.field == "phone"
    assert str(error.value.message) == "手机号应为11位数字，以1开头。"
    assert Volunteer.objects.count() == 0


def test_volunteer_update_changes_phone_and_keeps_it_without_one(world):
    volunteer = _teacher(world)
    services.volunteer_update(
        actor=world.manager, volunteer=volunteer, name="李华老师", phone=None, speciality="数学"
    )
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.phone_masked, volunteer.speciality) == (
        "李华老师",
        "139****5678",
        "数学",
    )
    services.volunteer_update(
        actor=world.manager, volunteer=volunteer, name="李华老师", phone="13800001234", is_active=False
    )
    volunteer.refresh_from_db()
    assert (volunteer.phone_masked, volunteer.is_active) == ("138****1234", False)
    with pytest.raises(NotFound):
        services.volunteer_update(actor=world.users["township_admin"], volunteer=volunteer, name="x")


# --- sessions -----------------------------------------------------------------------------------------


def _session(world: CommunityWorld, teacher: Volunteer, **overrides: Any) -> ClassSession:
    args: dict[str, Any] = dict(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        held_on=TODAY() - dt.timedelta(days=1),
        starts=dt.time(15, 0),
        ends=dt.time(16, 40),
        subject="作业辅导",
        teacher_id=teacher.pk,
        children_count=12,
        attendee_ids=[world.residents["周小宝"].pk, world.residents["周小妹"].pk],
    )
    args.update(overrides)
    return services.session_create(**args)


def test_session_writes_attendance_and_the_teachers_hours_from_its_length(world):
    teacher = _teacher(world)
    session = _session(world, teacher)
    assert session.children_count == 12
    assert set(ClassAttendance.objects.filter(session=session).values_list("resident__name", flat=True)) == {
        "周小宝",
        "周小妹",
    }
    hours = VolunteerHours.objects.get(session=session)
    assert (hours.volunteer_id, hours.hours, hours.worked_on) == (teacher.pk, Decimal("1.7"), session.held_on)
    assert hours.activity == "讲堂授课：作业辅导"
    totals = selectors.classroom_totals(world.sites["民营社区爱心讲堂"])
    assert totals == selectors.ClassroomTotals(
        sessions=1, child_visits=12, named_children=2, hours=Decimal("1.7"), teachers=1
    )


def test_entered_hours_win_and_no_times_no_hours_means_no_hours_row(world):
    teacher = _teacher(world)
    entered = _session(world, teacher, hours="2.5")
    assert VolunteerHours.objects.get(session=entered).hours == Decimal("2.5")
    bare = _session(world, teacher, starts=None, ends=None, attendee_ids=[], children_count=5)
    assert not VolunteerHours.objects.filter(session=bare).exists()
    # Two sessions: 12 + 5 visits; the named children are counted once each.
    _session(world, teacher, attendee_ids=[world.residents["周小宝"].pk], children_count=3, hours="1")
    totals = selectors.classroom_totals(world.sites["民营社区爱心讲堂"])
    assert (totals.sessions, totals.child_visits, totals.named_children, totals.hours) == (
        3,
        20,
        2,
        Decimal("3.5"),
    )


def test_session_replay_returns_the_first_and_writes_once(world):
    teacher = _teacher(world)
    k = key()
    first = _session(world, teacher, idempotency_key=k)
    again = _session(world, teacher, idempotency_key=k)
    assert again.pk == first.pk
    assert ClassSession.objects.count() == 1
    assert VolunteerHours.objects.count() == 1
    assert ClassAttendance.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"children_count": 1}, "attendees", "登记姓名的儿童（2 人）不能多于到课人数（1 人）。"),
        ({"children_count": 0, "attendee_ids": []}, "children_count", "到课儿童人数须是 1 到 500 的整数。"),
        ({"children_count": 501, "attendee_ids": []}, "children_count", "到课儿童人数须是 1 到 500 的整数。"),
        ({"ends": dt.time(14, 0)}, "ends", "结束时间须晚于开始时间。"),
        ({"ends": None}, "ends", "请同时填写开始和结束时间，或都不填。"),
        ({"held_on": TODAY() + dt.timedelta(days=1)}, "held_on", "上课日期不能晚于今天。"),
        ({"subject": "  "}, "subject", "请填写上课内容。"),
        ({"hours": "25"}, "hours", "时长须在 0.1 到 24 小时之间，最多一位小数。"),
        ({"hours": "1.25"}, "hours", "时长须在 0.1 到 24 小时之间，最多一位小数。"),
    ],
)
def test_session_refusals_write_nothing(world, overrides, field, message):
    teacher = _teacher(world)
    with pytest.raises(DomainError) as error:
        _session(world, teacher, **overrides)
    assert (error.value.field, str(error.value.message)) == (field, message)
    assert ClassSession.objects.count() == 0
    assert VolunteerHours.objects.count() == 0


def test_session_attendees_must_be_children_of_the_township(world):
    teacher = _teacher(world)
    with pytest.raises(DomainError) as adult:
        _session(world, teacher, attendee_ids=[world.residents["周芳"].pk])
    assert str(adult.value.message) == "周芳上课当天已满 18 岁，只能登记未成年儿童。"
    with pytest.raises(DomainError) as elsewhere:
        _session(world, teacher, attendee_ids=[world.residents["王小宝"].pk])
    assert str(elsewhere.value.message) == "有儿童不在本乡镇的居民名册中，请重新选择。"
    assert ClassSession.objects.count() == 0


def test_session_teacher_from_another_township_or_inactive_is_refused(world):
    other = services.volunteer_create(
        actor=world.users["township_admin"],
        idempotency_key=key(),
        site=world.sites["新华村爱心讲堂"],
        name="外乡老师",
    )
    with pytest.raises(DomainError) as error:
        _session(world, other)
    assert error.value.field == "teacher"
    assert str(error.value.message) == "未找到该志愿者，或者他不在本阵地所在的乡镇登记。"
    mine = _teacher(world)
    services.volunteer_update(actor=world.manager, volunteer=mine, name=mine.name, is_active=False)
    with pytest.raises(DomainError) as inactive:
        _session(world, mine)
    assert str(inactive.value.message) == "李老师已不在册，请先恢复在册。"


def test_session_gates(world):
    teacher = _teacher(world)
    for username in ("township_admin", "minying_secretary", "keeper", "village_secretary"):
        with pytest.raises(NotFound):
            _session(world, teacher, actor=world.users[username])
    # A workshop is not a classroom: as if it did not exist.
    with pytest.raises(NotFound):
        _session(world, teacher, site=world.sites["民营社区爱心作坊"])
    assert ClassSession.objects.count() == 0
    # The township admin of 石花镇 and the county admin may.
    _session(world, teacher, actor=world.users["shihua_admin"])
    _session(world, teacher, actor=world.users["county_admin"])
    assert ClassSession.objects.count() == 2


def test_volunteer_rows_total_sessions_and_hours_per_volunteer(world):
    li = _teacher(world)
    wang = _teacher(world, name="王老师", phone="")
    _session(world, li)
    _session(world, li, hours="2", held_on=TODAY() - dt.timedelta(days=40))
    _session(world, wang, hours="1.5")
    services.volunteer_hours_record(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        volunteer_id=wang.pk,
        worked_on=TODAY(),
        hours="3",
        activity="帮厨",
    )
    rows = {
        v.name: (v.session_count, v.hours_total)
        for v in selectors.volunteer_rows(world.manager, ListFilters())
    }
    assert rows == {"李老师": (2, Decimal("3.7")), "王老师": (1, Decimal("4.5"))}
    recent = ListFilters(date_from=TODAY() - dt.timedelta(days=7))
    rows = {v.name: (v.session_count, v.hours_total) for v in selectors.volunteer_rows(world.manager, recent)}
    assert rows == {"李老师": (1, Decimal("1.7")), "王老师": (1, Decimal("4.5"))}
    # Another township's admin sees neither.
    assert list(selectors.volunteer_rows(world.users["township_admin"], ListFilters())) == []


# --- workshops ----------------------------------------------------------------------------------------


def _product(world: CommunityWorld, rate: int = 250):
    return services.product_create(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        name="手工布鞋",
        unit="双",
        piece_rate_fen=rate,
    )


def _worker(world: CommunityWorld, name: str = "周芳", joined_on: dt.date | None = None):
    return services.worker_add(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        resident_id=world.residents[name].pk,
        joined_on=joined_on or dt.date(2024, 3, 1),
    )


def test_worker_not_tagged_left_behind_is_allowed_with_a_warning(world):
    tagged = _worker(world, "周芳")
    assert tagged.warning == ""
    untagged = _worker(world, "周明")
    assert untagged.warning == "周明未标记为留守妇女，已照常登记；如情况属实，请在居民档案中补充标签。"
    assert WorkshopWorker.objects.count() == 2
    flags = {w.resident.name: w.is_left_behind for w in selectors.worker_list(world.manager, ListFilters())}
    assert flags == {"周芳": True, "周明": False}


def test_worker_twice_is_a_conflict_until_they_leave(world):
    first = _worker(world)
    with pytest.raises(DomainError) as error:
        _worker(world)
    assert (error.value.status, str(error.value.message)) == (409, "周芳已在本作坊务工，不能重复登记。")
    with pytest.raises(DomainError) as early:
        services.worker_leave(actor=world.manager, worker=first.worker, left_on=dt.date(2024, 2, 1))
    assert str(early.value.message) == "离开日期不能早于 2024-03-01。"
    services.worker_leave(actor=world.manager, worker=first.worker, left_on=dt.date(2025, 6, 30))
    with pytest.raises(DomainError) as again:
        services.worker_leave(actor=world.manager, worker=first.worker, left_on=dt.date(2025, 6, 30))
    assert again.value.status == 409
    _worker(world, joined_on=dt.date(2025, 9, 1))
    assert WorkshopWorker.objects.count() == 2


def test_worker_must_live_in_the_township(world):
    with pytest.raises(DomainError) as error:
        services.worker_add(
            actor=world.manager,
            idempotency_key=key(),
            site=world.sites["民营社区爱心作坊"],
            resident_id=world.residents["王秀英"].pk,
            joined_on=dt.date(2024, 3, 1),
        )
    assert str(error.value.message) == "未找到该居民，或者他不住在本阵地所在的乡镇。"
    assert WorkshopWorker.objects.count() == 0


def test_wage_suggested_from_pieces_and_one_per_worker_month(world):
    product = _product(world, rate=250)
    worker = _worker(world).worker
    year, month, _first = _last_month()
    wage = services.wage_record(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        worker_id=worker.pk,
        year=year,
        month=month,
        pieces=120,
        product_id=product.pk,
        paid_on=TODAY(),
    )
    assert (wage.pieces, wage.amount_fen) == (120, 30000)
    with pytest.raises(DomainError) as twice:
        services.wage_record(
            actor=world.manager,
            idempotency_key=key(),
            site=world.sites["民营社区爱心作坊"],
            worker_id=worker.pk,
            year=year,
            month=month,
            pieces=0,
            amount_fen=50000,
            paid_on=TODAY(),
        )
    assert twice.value.status == 409
    assert twice.value.code == "wage_duplicate"
    assert str(twice.value.message) == f"周芳 {year}年{month}月的工资已登记，不能重复发放。"
    assert WagePayment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount_fen": 0}, "amount", "工资须在 0.01 元到 10 万元之间。"),
        ({"amount_fen": 10_000_001}, "amount", "工资须在 0.01 元到 10 万元之间。"),
        ({"amount_fen": None}, "amount", "请填写工资金额，或选择产品按计件工价计算。"),
        ({"month": 13}, "month", "月份须是 1 到 12。"),
        ({"future": True}, "month", "不能登记今后月份的工资。"),
        ({"before_joining": True}, "month", "周芳在 2024年2月不在本作坊务工。"),
        ({"paid_early": True}, "paid_on", "发放日期不能早于"),
    ],
)
def test_wage_refusals_write_nothing(world, change, field, message):
    worker = _worker(world).worker
    year, month, first = _last_month()
    args = dict(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        worker_id=worker.pk,
        year=year,
        month=month,
        pieces=10,
        amount_fen=1000,
        paid_on=TODAY(),
    )
    if change.pop("future", False):
        following = timezone.localdate().replace(day=28) + dt.timedelta(days=10)
        args.update(year=following.year, month=following.month)
    if change.pop("before_joining", False):
        args.update(year=2024, month=2)
    if change.pop("paid_early", False):
        args.update(paid_on=first - dt.timedelta(days=1))
    args.update(change)
    with pytest.raises(DomainError) as error:
        services.wage_record(**args)
    assert error.value.field == field
    assert str(error.value.message).startswith(message)
    assert WagePayment.objects.count() == 0


def test_orders_flow_open_to_delivered_or_cancelled_and_the_month_summary(world):
    product = _product(world)
    site = world.sites["民营社区爱心作坊"]
    year, month, first = _last_month()

    def order(quantity: int, amount: int, on: dt.date):
        return services.order_create(
            actor=world.manager,
            idempotency_key=key(),
            site=site,
            product_id=product.pk,
            customer="谷城县供销社",
            quantity=quantity,
            amount_fen=amount,
            ordered_on=on,
        )

    a = order(100, 500000, first)
    b = order(50, 250000, first + dt.timedelta(days=3))
    c = order(10, 60000, first + dt.timedelta(days=5))
    services.order_deliver(actor=world.manager, order=a, delivered_on=first + dt.timedelta(days=10))
    services.order_cancel(actor=world.manager, order=c, reason="客户取消")
    with pytest.raises(DomainError) as again:
        services.order_deliver(actor=world.manager, order=a, delivered_on=TODAY())
    assert (again.value.status, str(again.value.message)) == (409, "该订单状态为“已交付”，不能再更改。")
    with pytest.raises(DomainError) as no_reason:
        services.order_cancel(actor=world.manager, order=b, reason=" ")
    assert str(no_reason.value.message) == "请填写取消原因。"
    assert WorkshopOrder.objects.get(pk=b.pk).status == OrderStatus.OPEN
    worker = _worker(world).worker
    _worker(world, "周明", joined_on=first + dt.timedelta(days=20))
    services.wage_record(
        actor=world.manager,
        idempotency_key=key(),
        site=site,
        worker_id=worker.pk,
        year=year,
        month=month,
        pieces=0,
        amount_fen=180000,
        paid_on=TODAY(),
    )
    [row] = selectors.workshop_month_summary(world.manager, year, month)
    assert (
        row.orders_placed,
        row.orders_placed_fen,
        row.orders_delivered,
        row.orders_delivered_fen,
        row.orders_open,
        row.wages_paid,
        row.wages_fen,
        row.workers,
    ) == (3, 810000, 1, 500000, 1, 1, 180000, 2)
    assert (
        selectors.workshop_month_summary(world.users["township_admin"], year, month)[0].site.name
        == "新华村爱心作坊"
    )


def test_order_refusals(world):
    product = _product(world)
    base = dict(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心作坊"],
        product_id=product.pk,
        customer="供销社",
        quantity=1,
        amount_fen=100,
        ordered_on=TODAY(),
    )
    for change, message in (
        ({"amount_fen": -1}, "订单金额须在 0 到 1000 万元之间。"),
        ({"amount_fen": 1_000_000_001}, "订单金额须在 0 到 1000 万元之间。"),
        ({"quantity": 0}, "数量须是 1 到 1,000,000 的整数。"),
        ({"due_on": TODAY() - dt.timedelta(days=1)}, "交货期限不能早于下单日期。"),
        ({"customer": ""}, "请填写客户。"),
    ):
        with pytest.raises(DomainError) as error:
            services.order_create(**(base | change))
        assert str(error.value.message) == message
    assert WorkshopOrder.objects.count() == 0


# --- red stations -------------------------------------------------------------------------------------


def test_station_log_and_month_summary_by_service(world):
    site = world.sites["民营社区红色驿站"]
    keeper = world.users["keeper"]  # granted this one station only
    haircut = services.station_service_create(actor=keeper, idempotency_key=key(), site=site, name="理发")
    clinic = services.station_service_create(actor=keeper, idempotency_key=key(), site=site, name="健康义诊")
    with pytest.raises(DomainError) as duplicate:
        services.station_service_create(actor=keeper, idempotency_key=key(), site=site, name="理发")
    assert str(duplicate.value.message) == "本驿站已有同名服务项目。"
    year, month, first = _last_month()
    for service, on, people in (
        (haircut, first, 8),
        (haircut, first + dt.timedelta(days=7), 6),
        (clinic, first, 30),
    ):
        services.service_log_record(
            actor=keeper,
            idempotency_key=key(),
            site=site,
            service_id=service.pk,
            served_on=on,
            people_served=people,
            description="",
        )
    with pytest.raises(DomainError) as zero:
        services.service_log_record(
            actor=keeper,
            idempotency_key=key(),
            site=site,
            service_id=clinic.pk,
            served_on=first,
            people_served=0,
        )
    assert (zero.value.field, str(zero.value.message)) == (
        "people_served",
        "服务人数须是 1 到 10000 的整数。",
    )
    services.station_service_set_active(actor=keeper, service=clinic, is_active=False)
    with pytest.raises(DomainError) as stopped:
        services.service_log_record(
            actor=keeper,
            idempotency_key=key(),
            site=site,
            service_id=clinic.pk,
            served_on=first,
            people_served=1,
        )
    assert str(stopped.value.message) == "该服务项目已停止提供。"
    assert ServiceLog.objects.count() == 3
    [row] = selectors.station_month_summary(keeper, year, month)
    assert (row.entries, row.people_served, row.by_service) == (3, 44, [("健康义诊", 1, 30), ("理发", 2, 14)])
    # The keeper runs the station only: not the workshop next door.
    with pytest.raises(NotFound):
        services.product_create(
            actor=keeper,
            idempotency_key=key(),
            site=world.sites["民营社区爱心作坊"],
            name="x",
            unit="件",
            piece_rate_fen=1,
        )


def test_lists_are_scoped_and_filtered(world):
    teacher = _teacher(world)
    _session(world, teacher)
    other = services.volunteer_create(
        actor=world.users["township_admin"],
        idempotency_key=key(),
        site=world.sites["新华村爱心讲堂"],
        name="城关老师",
    )
    services.session_create(
        actor=world.users["township_admin"],
        idempotency_key=key(),
        site=world.sites["新华村爱心讲堂"],
        held_on=TODAY(),
        subject="绘画",
        teacher_id=other.pk,
        children_count=7,
    )
    mine = [s.subject for s in selectors.session_list(world.manager, ListFilters())]
    assert mine == ["作业辅导"]
    county = selectors.session_list(world.users["county_admin"], ListFilters())
    assert sorted(s.subject for s in county) == ["作业辅导", "绘画"]
    by_region = selectors.session_list(
        world.users["county_admin"], ListFilters(region=world.regions["城关镇"].pk)
    )
    assert [s.subject for s in by_region] == ["绘画"]
    assert [s.named_count for s in selectors.session_list(world.manager, ListFilters(q="作业"))] == [2]
    assert list(selectors.session_list(world.manager, ListFilters(date_from=TODAY()))) == []


def test_region_site_counts_by_kind(world):
    counts = {row.kind: row.count for row in selectors.region_site_counts(world.regions["石花镇"])}
    assert counts == {
        SiteKind.CANTEEN: 0,
        SiteKind.CLASSROOM: 1,
        SiteKind.WORKSHOP: 1,
        SiteKind.RED_STATION: 1,
    }
    county = {row.label: row.count for row in selectors.region_site_counts(world.regions["谷城县"])}
    assert county == {"爱心食堂": 0, "爱心讲堂": 2, "爱心作坊": 2, "红色驿站": 2}
