"""Correcting a class in a browser, phone first: the canteen manager opens the classroom, corrects a
session (the teacher's hours follow the new times), deletes another after the confirmation page, and on a
desktop corrects an hours entry from the hours list. Screenshots at 390×844 and 1366×900."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from canteens.models import ClassSession, VolunteerHours
from canteens.services import community as services
from tests.browser_fixtures import login
from tests.canteens.test_community_world import community_world, key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def world(demo_county):
    return community_world(demo_county)


def test_correct_and_delete_a_class_on_a_phone_and_hours_on_a_desktop(world, phone, desktop, screenshot):
    classroom = world.sites["民营社区爱心讲堂"]
    teacher = services.volunteer_create(
        actor=world.manager, idempotency_key=key(), site=classroom, name="李老师", speciality="书法"
    )
    today = timezone.localdate()

    def session(subject: str) -> ClassSession:
        return services.session_create(
            actor=world.manager,
            idempotency_key=key(),
            site=classroom,
            held_on=today,
            starts=dt.time(15, 0),
            ends=dt.time(16, 0),
            subject=subject,
            teacher_id=teacher.pk,
            children_count=8,
            attendee_ids=[world.residents["周小宝"].pk],
        )

    wrong, twice = session("作业辅导"), session("重复的课")
    hours = services.volunteer_hours_record(
        actor=world.manager,
        idempotency_key=key(),
        site=classroom,
        volunteer_id=teacher.pk,
        worked_on=today,
        hours="2",
        activity="帮厨",
    )

    login(phone, "canteen_manager")
    phone.goto(f"/canteens/classrooms/{classroom.pk}/")
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "phone-classroom")
    phone.locator(f'a[href="/canteens/classrooms/sessions/{wrong.pk}/edit/"]').click()
    phone.wait_for_url(f"**/classrooms/sessions/{wrong.pk}/edit/")
    assert phone.get_by_label("上课内容").input_value() == "作业辅导"
    assert phone.get_by_label("周小宝", exact=False).is_checked()
    phone.get_by_label("上课内容").fill("书法")
    phone.get_by_label("结束时间").fill("17:30")
    phone.get_by_label("周小妹", exact=False).check()
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "phone-session-edit")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url(f"**/canteens/classrooms/{classroom.pk}/")
    wrong.refresh_from_db()
    assert (wrong.subject, wrong.ends) == ("书法", dt.time(17, 30))
    assert VolunteerHours.objects.get(session=wrong).hours == Decimal("2.5")

    phone.locator(f'a[href="/canteens/classrooms/sessions/{twice.pk}/delete/"]').click()
    phone.wait_for_url(f"**/classrooms/sessions/{twice.pk}/delete/")
    assert "重复的课" in phone.get_by_test_id("facts").inner_text()
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "phone-session-delete")
    phone.get_by_test_id("confirm-delete").click()
    phone.wait_for_url(f"**/canteens/classrooms/{classroom.pk}/")
    assert not ClassSession.objects.filter(pk=twice.pk).exists()
    assert phone.locator('[data-metric="sessions"]').inner_text() == "1"
    assert phone.locator('[data-metric="hours"]').inner_text() == "4.5"
    screenshot(phone, "phone-classroom-after")

    login(desktop, "canteen_manager")
    desktop.goto("/canteens/community/lists/hours/")
    assert desktop.get_by_test_id("row-edit").count() == 2
    screenshot(desktop, "desktop-hours")
    desktop.locator(f'a[href="/canteens/volunteer-hours/{hours.pk}/edit/"]').click()
    desktop.get_by_label("时长（小时）").fill("3")
    screenshot(desktop, "desktop-hours-edit")
    desktop.get_by_test_id("submit").click()
    desktop.wait_for_url("**/canteens/community/lists/hours/**")
    hours.refresh_from_db()
    assert hours.hours == Decimal("3.0")
    desktop.goto(f"/canteens/classrooms/{classroom.pk}/")
    screenshot(desktop, "desktop-classroom")
    phone.goto("/canteens/community/lists/hours/")
    assert phone.evaluate(NO_SIDEWAYS)
    screenshot(phone, "phone-hours")
