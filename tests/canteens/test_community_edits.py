"""Correcting love-classroom records: a session's edit and delete (its named children and the teacher's
hours go with it), an hours entry's edit and delete, the edit window (this month; last month until the
5th), the gate (whoever runs the classroom; anyone else 404), the audit entries, and the same through the
pages and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from canteens.models import ClassAttendance, ClassSession, Volunteer, VolunteerHours
from canteens.selectors import community as selectors
from canteens.services import community as services
from common.errors import Conflict, DomainError, NotFound
from governance.models import AuditAction, AuditEvent
from tests.canteens.test_community_world import PASSWORD, CommunityWorld, community_world, key

pytestmark = pytest.mark.django_db
API = "/api/v1/canteens/community/"


@pytest.fixture
def world(demo_county) -> CommunityWorld:
    return community_world(demo_county)


def today() -> dt.date:
    return timezone.localdate()


def locked_day() -> dt.date:
    """The last day whose records can no longer be corrected."""
    return services.edit_window_start() - dt.timedelta(days=1)


def teacher_make(world: CommunityWorld, name: str = "李老师") -> Volunteer:
    return services.volunteer_create(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        name=name,
        phone="13912345678",
    )


def session_make(world: CommunityWorld, teacher: Volunteer, **overrides: Any) -> ClassSession:
    args: dict[str, Any] = dict(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        held_on=today(),
        starts=dt.time(15, 0),
        ends=dt.time(16, 40),
        subject="作业辅导",
        teacher_id=teacher.pk,
        children_count=12,
        attendee_ids=[world.residents["周小宝"].pk, world.residents["周小妹"].pk],
    )
    args.update(overrides)
    return services.session_create(**args)


def update(world: CommunityWorld, session: ClassSession, **overrides: Any) -> ClassSession:
    """session_update with the session's fields as created by session_make, changed by `overrides`."""
    args: dict[str, Any] = dict(
        actor=world.manager,
        session=session,
        held_on=session.held_on,
        starts=session.starts,
        ends=session.ends,
        subject=session.subject,
        teacher_id=session.teacher_id,
        children_count=session.children_count,
        attendee_ids=sorted(
            ClassAttendance.objects.filter(session=session).values_list("resident", flat=True)
        ),
        notes=session.notes,
        hours=None,
    )
    args.update(overrides)
    return services.session_update(**args)


def hours_of(session: ClassSession) -> list[tuple[int, dt.date, Decimal, str]]:
    return [
        (h.volunteer_id, h.worked_on, h.hours, h.activity)
        for h in VolunteerHours.objects.filter(session=session).order_by("id")
    ]


def named(session: ClassSession) -> set[str]:
    return set(ClassAttendance.objects.filter(session=session).values_list("resident__name", flat=True))


def last_audit(obj: Any) -> AuditEvent:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).latest("id")


# --- the edit window -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "start"),
    [
        (dt.date(2026, 11, 29), dt.date(2026, 11, 1)),
        (dt.date(2026, 11, 6), dt.date(2026, 11, 1)),
        (dt.date(2026, 11, 5), dt.date(2026, 10, 1)),  # the 5th: last month may still be corrected
        (dt.date(2026, 11, 1), dt.date(2026, 10, 1)),
        (dt.date(2027, 1, 3), dt.date(2026, 12, 1)),  # across the year
    ],
)
def test_the_edit_window_is_this_month_and_last_month_until_the_5th(on, start):
    assert services.edit_window_start(on) == start
    assert services.record_editable(start, on)
    assert not services.record_editable(start - dt.timedelta(days=1), on)


# --- sessions: services --------------------------------------------------------------------------------


def test_session_update_replaces_the_children_and_the_hours_follow(world):
    li, wang = teacher_make(world), teacher_make(world, "王老师")
    session = session_make(world, li)
    assert hours_of(session) == [(li.pk, today(), Decimal("1.7"), "讲堂授课：作业辅导")]
    moved = update(
        world,
        session,
        held_on=services.edit_window_start(),
        starts=dt.time(14, 0),
        ends=dt.time(16, 0),
        subject="书法",
        teacher_id=wang.pk,
        children_count=9,
        attendee_ids=[world.residents["周小宝"].pk],
        notes="改在周末",
    )
    moved.refresh_from_db()
    assert (moved.held_on, moved.subject, moved.teacher_id, moved.children_count, moved.notes) == (
        services.edit_window_start(),
        "书法",
        wang.pk,
        9,
        "改在周末",
    )
    assert named(moved) == {"周小宝"}
    # The hours move to the new teacher and date and take the new length (2.0), one row still.
    assert hours_of(moved) == [(wang.pk, services.edit_window_start(), Decimal("2.0"), "讲堂授课：书法")]
    event = last_audit(moved)
    assert event.action == AuditAction.UPDATE
    assert event.changes == {
        "attendees": [
            str(sorted([world.residents["周小宝"].pk, world.residents["周小妹"].pk])),
            str([world.residents["周小宝"].pk]),
        ],
        "children_count": [12, 9],
        "ends": ["16:40:00", "16:00:00"],
        "hours": ["1.7", "2.0"],
        "notes": ["", "改在周末"],
        "starts": ["15:00:00", "14:00:00"],
        "subject": ["作业辅导", "书法"],
        "teacher": [li.pk, wang.pk],
        **({"held_on": [str(today()), str(services.edit_window_start())]} if today().day != 1 else {}),
    }
    # Hours typed in win; no times and no hours: the hours row goes.
    update(world, moved, hours="3")
    assert hours_of(moved) == [(wang.pk, services.edit_window_start(), Decimal("3.0"), "讲堂授课：书法")]
    update(world, moved, starts=None, ends=None, hours=None)
    assert hours_of(moved) == []
    update(world, moved, starts=dt.time(9, 0), ends=dt.time(10, 30))
    assert hours_of(moved) == [(wang.pk, services.edit_window_start(), Decimal("1.5"), "讲堂授课：书法")]
    assert selectors.classroom_totals(world.sites["民营社区爱心讲堂"]) == selectors.ClassroomTotals(
        sessions=1, child_visits=9, named_children=1, hours=Decimal("1.5"), teachers=1
    )


def test_an_unchanged_session_update_writes_no_audit_entry(world):
    session = session_make(world, teacher_make(world))
    before = AuditEvent.objects.count()
    update(world, session)
    assert AuditEvent.objects.count() == before
    assert hours_of(session)[0][2] == Decimal("1.7")


def test_session_update_keeps_a_teacher_who_has_left_the_register(world):
    li = teacher_make(world)
    session = session_make(world, li)
    services.volunteer_update(actor=world.manager, volunteer=li, name=li.name, is_active=False)
    update(world, session, subject="阅读")
    assert ClassSession.objects.get(pk=session.pk).subject == "阅读"
    # …but a new teacher must be on the register.
    gone = teacher_make(world, "赵老师")
    services.volunteer_update(actor=world.manager, volunteer=gone, name=gone.name, is_active=False)
    with pytest.raises(DomainError) as error:
        update(world, session, teacher_id=gone.pk)
    assert (error.value.field, str(error.value.message)) == ("teacher", "赵老师已不在册，请先恢复在册。")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"children_count": 1}, "attendees", "登记姓名的儿童（2 人）不能多于到课人数（1 人）。"),
        ({"ends": dt.time(14, 0)}, "ends", "结束时间须晚于开始时间。"),
        ({"subject": " "}, "subject", "请填写上课内容。"),
        ({"hours": "1.25"}, "hours", "时长须在 0.1 到 24 小时之间，最多一位小数。"),
        ({"held_on": dt.date.today() + dt.timedelta(days=1)}, "held_on", "上课日期不能晚于今天。"),
    ],
)
def test_session_update_refusals_change_nothing(world, overrides, field, message):
    session = session_make(world, teacher_make(world))
    audits = AuditEvent.objects.count()
    with pytest.raises(DomainError) as error:
        update(world, session, **overrides)
    assert (error.value.field, str(error.value.message)) == (field, message)
    stored = ClassSession.objects.get(pk=session.pk)
    assert (stored.subject, stored.children_count, stored.ends) == ("作业辅导", 12, dt.time(16, 40))
    assert named(stored) == {"周小宝", "周小妹"}
    assert hours_of(stored)[0][2] == Decimal("1.7")
    assert AuditEvent.objects.count() == audits


def test_a_session_past_its_edit_window_is_locked_and_none_moves_into_the_past(world):
    teacher = teacher_make(world)
    old = session_make(world, teacher, held_on=locked_day())
    message = (
        "讲堂课程只能在当月修改或删除（每月 5 日前还可以改上个月的）；"
        f"{locked_day():%Y-%m-%d} 的记录已过期限，不能再改。"
    )
    with pytest.raises(Conflict) as error:
        update(world, old, subject="改")
    assert (error.value.code, error.value.field, str(error.value.message)) == (
        "record_locked",
        "held_on",
        message,
    )
    with pytest.raises(Conflict) as deleting:
        services.session_delete(actor=world.manager, session=old)
    assert str(deleting.value.message) == message
    assert ClassSession.objects.filter(pk=old.pk).exists()
    assert hours_of(old) != []
    recent = session_make(world, teacher)
    with pytest.raises(Conflict) as moving:
        update(world, recent, held_on=locked_day())
    assert str(moving.value.message) == message
    assert ClassSession.objects.get(pk=recent.pk).held_on == today()


def test_session_delete_takes_its_children_and_hours_along_and_is_audited(world):
    teacher = teacher_make(world)
    keep = session_make(world, teacher, attendee_ids=[world.residents["周小宝"].pk], children_count=4)
    session = session_make(world, teacher, hours="2.5")
    snapshot = {
        "held_on": str(session.held_on),
        "starts": "15:00:00",
        "ends": "16:40:00",
        "subject": "作业辅导",
        "teacher": teacher.pk,
        "children_count": 12,
        "attendees": str(sorted([world.residents["周小宝"].pk, world.residents["周小妹"].pk])),
        "notes": "",
        "hours": "2.5",
    }
    session_id = session.pk
    services.session_delete(actor=world.manager, session=session, reason="重复登记")
    assert not ClassSession.objects.filter(pk=session_id).exists()
    assert not ClassAttendance.objects.filter(session_id=session_id).exists()
    assert not VolunteerHours.objects.filter(session_id=session_id).exists()
    assert selectors.classroom_totals(world.sites["民营社区爱心讲堂"]) == selectors.ClassroomTotals(
        sessions=1, child_visits=4, named_children=1, hours=Decimal("1.7"), teachers=1
    )
    assert ClassSession.objects.filter(pk=keep.pk).exists()
    event = AuditEvent.objects.filter(object_type="canteens.classsession", object_id=str(session_id)).latest(
        "id"
    )
    assert (event.action, event.detail, event.actor_id) == (AuditAction.DELETE, "重复登记", world.manager.pk)
    assert event.changes == {name: [value, None] for name, value in snapshot.items()}


def test_session_edit_and_delete_gates(world):
    session = session_make(world, teacher_make(world))
    for username in ("township_admin", "minying_secretary", "keeper", "village_secretary"):
        with pytest.raises(NotFound):
            update(world, session, actor=world.users[username], subject="改")
        with pytest.raises(NotFound):
            services.session_delete(actor=world.users[username], session=session)
    assert ClassSession.objects.get(pk=session.pk).subject == "作业辅导"
    update(world, session, actor=world.users["shihua_admin"], subject="township")
    update(world, session, actor=world.users["county_admin"], subject="county")
    services.session_delete(actor=world.users["county_admin"], session=session)
    assert not ClassSession.objects.exists()
    # Gone: a second delete is a 404, like a record that never was.
    with pytest.raises(NotFound):
        services.session_delete(actor=world.users["county_admin"], session=session)


# --- hours entries: services ---------------------------------------------------------------------------


def hours_make(world: CommunityWorld, volunteer: Volunteer, **overrides: Any) -> VolunteerHours:
    args: dict[str, Any] = dict(
        actor=world.manager,
        idempotency_key=key(),
        site=world.sites["民营社区爱心讲堂"],
        volunteer_id=volunteer.pk,
        worked_on=today(),
        hours="2",
        activity="帮厨",
    )
    args.update(overrides)
    return services.volunteer_hours_record(**args)


def test_hours_update_and_delete(world):
    li, wang = teacher_make(world), teacher_make(world, "王老师")
    row = hours_make(world, li)
    services.volunteer_hours_update(
        actor=world.manager,
        row=row,
        volunteer_id=wang.pk,
        worked_on=services.edit_window_start(),
        hours="3.5",
        activity="送餐",
    )
    row.refresh_from_db()
    assert (row.volunteer_id, row.worked_on, row.hours, row.activity) == (
        wang.pk,
        services.edit_window_start(),
        Decimal("3.5"),
        "送餐",
    )
    assert last_audit(row).changes == {
        "activity": ["帮厨", "送餐"],
        "hours": ["2.0", "3.5"],
        "volunteer": [li.pk, wang.pk],
        **({"worked_on": [str(today()), str(services.edit_window_start())]} if today().day != 1 else {}),
    }
    with pytest.raises(DomainError) as error:
        services.volunteer_hours_update(
            actor=world.manager, row=row, volunteer_id=wang.pk, worked_on=today(), hours="30", activity="x"
        )
    assert (error.value.field, str(error.value.message)) == (
        "hours",
        "时长须在 0.1 到 24 小时之间，最多一位小数。",
    )
    assert VolunteerHours.objects.get(pk=row.pk).hours == Decimal("3.5")
    row_id = row.pk
    services.volunteer_hours_delete(actor=world.manager, row=row)
    assert not VolunteerHours.objects.filter(pk=row_id).exists()
    event = AuditEvent.objects.filter(object_type="canteens.volunteerhours", object_id=str(row_id)).latest(
        "id"
    )
    assert (event.action, event.changes) == (
        AuditAction.DELETE,
        {
            "activity": ["送餐", None],
            "hours": ["3.5", None],
            "volunteer": [wang.pk, None],
            "worked_on": [str(services.edit_window_start()), None],
        },
    )


def test_hours_of_a_session_change_with_the_session_only(world):
    session = session_make(world, teacher_make(world))
    row = VolunteerHours.objects.get(session=session)
    with pytest.raises(Conflict) as error:
        services.volunteer_hours_update(
            actor=world.manager,
            row=row,
            volunteer_id=row.volunteer_id,
            worked_on=today(),
            hours="5",
            activity="x",
        )
    assert (error.value.code, str(error.value.message)) == (
        "hours_of_session",
        f"这条时长是随 {today():%Y-%m-%d} 的讲堂课程登记的，请修改或删除那次课程。",
    )
    with pytest.raises(Conflict):
        services.volunteer_hours_delete(actor=world.manager, row=row)
    assert VolunteerHours.objects.get(pk=row.pk).hours == Decimal("1.7")


def test_hours_past_the_window_are_locked_and_others_may_not_touch_them(world):
    teacher = teacher_make(world)
    old = hours_make(world, teacher, worked_on=locked_day())
    with pytest.raises(Conflict) as error:
        services.volunteer_hours_delete(actor=world.manager, row=old)
    assert error.value.code == "record_locked"
    assert str(error.value.message).startswith("志愿服务时长只能在当月修改或删除")
    recent = hours_make(world, teacher)
    for username in ("township_admin", "minying_secretary", "keeper"):
        with pytest.raises(NotFound):
            services.volunteer_hours_delete(actor=world.users[username], row=recent)
    assert VolunteerHours.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2


# --- pages ---------------------------------------------------------------------------------------------


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_session_edit_page_prefills_saves_and_keeps_input_on_an_error(world):
    teacher = teacher_make(world)
    session = session_make(world, teacher)
    old = session_make(world, teacher, held_on=locked_day(), subject="旧课")
    client = login("canteen_manager")
    site = world.sites["民营社区爱心讲堂"]
    classroom = client.get(reverse("canteens:classroom", args=[site.pk])).content.decode()
    assert f'href="/canteens/classrooms/sessions/{session.pk}/edit/" data-testid="session-edit"' in classroom
    assert f"/canteens/classrooms/sessions/{old.pk}/edit/" not in classroom
    url = reverse("canteens:session_edit", args=[session.pk])
    assert url == f"/canteens/classrooms/sessions/{session.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert "idempotency_key" not in form.fields
    assert form.initial["hours"] == ""  # the length of its times: left blank so new times count
    assert sorted(form.initial["attendees"]) == sorted(
        [world.residents["周小宝"].pk, world.residents["周小妹"].pk]
    )
    assert (
        f'href="/canteens/classrooms/sessions/{session.pk}/delete/" data-testid="delete"'
        in page.content.decode()
    )
    post = {
        "held_on": today().isoformat(),
        "starts": "15:00",
        "ends": "17:00",
        "subject": "书法",
        "teacher": teacher.pk,
        "children_count": "1",
        "attendees": [world.residents["周小宝"].pk, world.residents["周小妹"].pk],
        "hours": "",
        "notes": "",
    }
    refused = client.post(url, post)
    assert refused.status_code == 400
    assert refused.context["form"].errors["attendees"] == ["登记姓名的儿童（2 人）不能多于到课人数（1 人）。"]
    assert 'value="书法"' in refused.content.decode()
    saved = client.post(url, {**post, "children_count": "10"})
    assert saved.status_code == 302
    assert saved["Location"] == f"/canteens/classrooms/{site.pk}/"
    session.refresh_from_db()
    assert (session.subject, session.children_count) == ("书法", 10)
    assert hours_of(session)[0][2] == Decimal("2.0")
    # Typed hours show again on the form; a session past the window shows why it cannot change.
    client.post(url, {**post, "children_count": "10", "hours": "1.5"})
    assert client.get(url).context["form"].initial["hours"] == "1.5"
    locked = client.get(reverse("canteens:session_edit", args=[old.pk]))
    assert locked.status_code == 409
    assert f"这条记录的日期是 {locked_day():%Y-%m-%d}，已过修改期限" in locked.content.decode()
    assert client.post(reverse("canteens:session_delete", args=[old.pk])).status_code == 409
    assert ClassSession.objects.filter(pk=old.pk).exists()


def test_session_delete_page_confirms_then_deletes(world):
    session = session_make(world, teacher_make(world))
    url = reverse("canteens:session_delete", args=[session.pk])
    for username in ("township_admin", "minying_secretary"):
        assert login(username).get(url).status_code == 404
        assert login(username).post(url).status_code == 404
    client = login("canteen_manager")
    page = client.get(url)
    assert page.status_code == 200
    assert [(str(label), str(value)) for label, value in page.context["facts"]] == [
        ("日期", f"{today():%Y-%m-%d} 15:00–16:40"),
        ("内容", "作业辅导"),
        ("志愿教师", "李老师"),
        ("到课人数", "12"),
        ("登记姓名的儿童", "2 人"),
        ("志愿服务时长", "1.7 小时"),
    ]
    assert ClassSession.objects.filter(pk=session.pk).exists()  # a GET deletes nothing
    done = client.post(url)
    assert done.status_code == 302
    assert done["Location"] == f"/canteens/classrooms/{world.sites['民营社区爱心讲堂'].pk}/"
    assert not ClassSession.objects.filter(pk=session.pk).exists()
    assert not VolunteerHours.objects.exists()
    assert client.post(url).status_code == 404


def test_hours_pages_and_the_lists_edit_links(world):
    teacher = teacher_make(world)
    session = session_make(world, teacher)
    row = hours_make(world, teacher)
    old = hours_make(world, teacher, worked_on=locked_day())
    client = login("canteen_manager")
    listing = client.get(reverse("canteens:community_list", args=["hours"]))
    rows = listing.context["page"].object_list
    links = {r.pk: url for r, (_cells, url) in zip(rows, listing.context["table"], strict=True)}
    assert links == {
        session.volunteer_hours.get().pk: f"/canteens/classrooms/sessions/{session.pk}/edit/",
        row.pk: f"/canteens/volunteer-hours/{row.pk}/edit/",
        old.pk: "",
    }
    # Read-only users see no edit links at all.
    reader = login("minying_secretary").get(reverse("canteens:community_list", args=["hours"]))
    assert reader.context["editable"] is False
    assert 'data-testid="row-edit"' not in reader.content.decode()
    sessions = client.get(reverse("canteens:community_list", args=["sessions"])).content.decode()
    assert f'href="/canteens/classrooms/sessions/{session.pk}/edit/" data-testid="row-edit"' in sessions
    # The hours written with a session are edited with it.
    linked = client.get(reverse("canteens:hours_edit", args=[session.volunteer_hours.get().pk]))
    assert (linked.status_code, linked["Location"]) == (
        302,
        f"/canteens/classrooms/sessions/{session.pk}/edit/",
    )
    url = reverse("canteens:hours_edit", args=[row.pk])
    assert client.get(url).context["form"].initial == {
        "volunteer": teacher.pk,
        "worked_on": today(),
        "hours": "2.0",
        "activity": "帮厨",
    }
    refused = client.post(
        url, {"volunteer": teacher.pk, "worked_on": today().isoformat(), "hours": "abc", "activity": "送餐"}
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors["hours"] == ["时长须在 0.1 到 24 小时之间，最多一位小数。"]
    assert 'value="送餐"' in refused.content.decode()
    saved = client.post(
        url, {"volunteer": teacher.pk, "worked_on": today().isoformat(), "hours": "4", "activity": "送餐"}
    )
    assert saved.status_code == 302
    row.refresh_from_db()
    assert (row.hours, row.activity) == (Decimal("4.0"), "送餐")
    assert login("township_admin").get(url).status_code == 404
    delete_url = reverse("canteens:hours_delete", args=[row.pk])
    assert client.get(delete_url).status_code == 200
    assert client.post(delete_url).status_code == 302
    assert not VolunteerHours.objects.filter(pk=row.pk).exists()
    assert client.get(reverse("canteens:hours_edit", args=[old.pk])).status_code == 409


# --- API -----------------------------------------------------------------------------------------------


def api_for(world: CommunityWorld, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def test_api_session_detail_patch_and_delete(world):
    teacher = teacher_make(world)
    session = session_make(world, teacher)
    api = api_for(world, "canteen_manager")
    url = f"{API}sessions/{session.pk}/"
    detail = api.get(url)
    assert detail.status_code == 200
    assert (detail.json()["subject"], detail.json()["attendees"]) == (
        "作业辅导",
        sorted([world.residents["周小宝"].pk, world.residents["周小妹"].pk]),
    )
    # Only what is sent changes; the hours (the length of the times) follow the new times.
    patched = api.patch(url, {"subject": "书法", "ends": "17:00"}, format="json")
    assert patched.status_code == 200
    body = patched.json()
    assert (body["subject"], body["ends"], body["children_count"], body["teacher"]) == (
        "书法",
        "17:00",
        12,
        teacher.pk,
    )
    assert hours_of(session) == [(teacher.pk, today(), Decimal("2.0"), "讲堂授课：书法")]
    # Typed hours stay through a later patch of something else.
    api.patch(url, {"hours": "1.5"}, format="json")
    api.patch(url, {"notes": "带了字帖"}, format="json")
    assert hours_of(session)[0][2] == Decimal("1.5")
    bad = api.patch(url, {"children_count": 1}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "attendees_exceed_count",
        "detail": "登记姓名的儿童（2 人）不能多于到课人数（1 人）。",
        "fields": {"attendees": ["登记姓名的儿童（2 人）不能多于到课人数（1 人）。"]},
    }
    # Out of scope and read-only: 404 as for a session that does not exist.
    assert api_for(world, "township_admin").get(url).status_code == 404
    assert api_for(world, "minying_secretary").get(url).status_code == 200
    assert api_for(world, "minying_secretary").patch(url, {"subject": "x"}, format="json").status_code == 404
    assert api_for(world, "minying_secretary").delete(url).status_code == 404
    deleted = api.delete(url)
    assert deleted.status_code == 204
    assert not ClassSession.objects.filter(pk=session.pk).exists()
    assert not VolunteerHours.objects.exists()
    assert api.get(url).status_code == 404


def test_api_refuses_a_locked_session_and_edits_hours_entries(world):
    teacher = teacher_make(world)
    old = session_make(world, teacher, held_on=locked_day())
    api = api_for(world, "canteen_manager")
    locked = api.delete(f"{API}sessions/{old.pk}/")
    assert locked.status_code == 409
    assert (locked.json()["code"], list(locked.json()["fields"])) == ("record_locked", ["held_on"])
    row = hours_make(world, teacher)
    url = f"{API}volunteer-hours/{row.pk}/"
    assert api.get(url).json()["hours"] == "2.0"
    patched = api.patch(url, {"hours": "2.5"}, format="json")
    assert (patched.status_code, patched.json()["hours"], patched.json()["activity"]) == (200, "2.5", "帮厨")
    linked = VolunteerHours.objects.get(session=old)
    refused = api.patch(f"{API}volunteer-hours/{linked.pk}/", {"hours": "3"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "hours_of_session")
    assert api_for(world, "township_admin").delete(url).status_code == 404
    assert api.delete(url).status_code == 204
    assert not VolunteerHours.objects.filter(pk=row.pk).exists()
