"""Classrooms, workshops and red stations in a browser, phone first: the canteen manager records a class with
the children from the register, sees the totals; the workshop page with an open order; the lists and the
monthly summary on a desktop. Screenshots at 390×844 and 1280×800."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canteens.models import ClassSession
from canteens.services import community as services
from tests.browser_fixtures import login
from tests.canteens.test_community_world import community_world, key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(demo_county):
    return community_world(demo_county)


def test_record_a_class_on_a_phone_and_read_the_lists_on_a_desktop(world, phone, desktop, screenshot):
    classroom = world.sites["民营社区爱心讲堂"]
    workshop = world.sites["民营社区爱心作坊"]
    teacher = services.volunteer_create(
        actor=world.manager,
        idempotency_key=key(),
        site=classroom,
        name="李老师",
        phone="13912345678",
        speciality="书法",
    )
    product = services.product_create(
        actor=world.manager,
        idempotency_key=key(),
        site=workshop,
        name="手工布鞋",
        unit="双",
        piece_rate_fen=250,
    )
    services.worker_add(
        actor=world.manager,
        idempotency_key=key(),
        site=workshop,
        resident_id=world.residents["周芳"].pk,
        joined_on=dt.date(2024, 3, 1),
    )
    services.order_create(
        actor=world.manager,
        idempotency_key=key(),
        site=workshop,
        product_id=product.pk,
        customer="谷城县供销社",
        quantity=200,
        amount_fen=600000,
        ordered_on=timezone.localdate(),
    )

    login(phone, "canteen_manager")
    phone.goto(f"/canteens/classrooms/{classroom.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-classroom-empty")
    phone.get_by_test_id("session-create").click()
    phone.get_by_label("上课内容").fill("作业辅导")
    phone.get_by_label("开始时间").fill("15:00")
    phone.get_by_label("结束时间").fill("16:30")
    phone.get_by_label("志愿教师").select_option(str(teacher.pk))
    phone.get_by_label("到课儿童人数").fill("12")
    phone.get_by_label("周小宝", exact=False).check()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-session-form")
    phone.get_by_test_id("submit").click()
    phone.wait_for_url(f"**/canteens/classrooms/{classroom.pk}/")
    assert ClassSession.objects.get().children_count == 12
    assert phone.locator('[data-metric="child_visits"]').inner_text() == "12"
    assert phone.locator('[data-metric="hours"]').inner_text() == "1.5"
    screenshot(phone, "phone-classroom")

    phone.goto(f"/canteens/workshops/{workshop.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-workshop")

    login(desktop, "canteen_manager")
    desktop.goto("/canteens/community/lists/sessions/")
    assert desktop.get_by_test_id("community-row").count() == 1
    screenshot(desktop, "desktop-sessions")
    desktop.goto("/canteens/community/lists/orders/")
    screenshot(desktop, "desktop-orders")
    desktop.goto(f"/canteens/workshops/{workshop.pk}/")
    screenshot(desktop, "desktop-workshop")
    desktop.goto("/canteens/community/workshops/summary/")
    screenshot(desktop, "desktop-workshop-summary")
    phone.goto("/canteens/community/lists/sessions/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "phone-sessions")
