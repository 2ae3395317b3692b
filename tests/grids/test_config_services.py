"""The county's configuration services (grids/services/config.py), the defaults, notifications and the SMS
outbox (grids/services/notifications.py), and the configuration API (grids/api/config.py)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from governance.models import AuditAction, AuditEvent, User
from grids.defaults import grids_defaults_install
from grids.models import (
    CalendarDay,
    CaseCategory,
    CaseTimeLimit,
    HandlingUnit,
    MessageStatus,
    Notification,
    ResidentMessage,
    ResponseTemplate,
    RoutingRule,
    Urgency,
)
from grids.services import config as services
from grids.services.config import route_for, template_render, time_limit_for
from grids.services.notifications import notification_mark_read, notify, resident_messages_send
from tests.grids.factories import GridsWorld, case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


def cat(code: str) -> CaseCategory:
    return CaseCategory.objects.get(code=code)


# --- defaults ----------------------------------------------------------------------------------------


def test_defaults_install_is_idempotent_and_keeps_county_edits(world):
    counts = (
        CaseCategory.objects.count(),
        CaseTimeLimit.objects.count(),
        ResponseTemplate.objects.count(),
        CalendarDay.objects.count(),
    )
    assert counts == (38, 27 + 6, 14, 39)  # the factory adds its two categories' limits (6 rows)
    assert [c.name for c in CaseCategory.objects.filter(parent=None).order_by("sort_order")] == [
        "政策宣传",
        "矛盾调解",
        "社情民意",
        "治理协调",
        "民生服务",
    ]
    assert set(
        CaseCategory.objects.filter(duty="dispute_mediation", parent__isnull=False).values_list(
            "is_mediable", flat=True
        )
    ) == {True}
    admin = world.users["county_admin"]
    services.category_update(actor=admin, category=cat("livelihood-jobs"), name="就业帮扶", is_active=False)
    services.time_limit_set(
        actor=admin, category=cat("livelihood"), urgency=Urgency.NORMAL, sign_days=2, resolve_days=12
    )
    grids_defaults_install()
    grids_defaults_install()
    assert (
        CaseCategory.objects.count(),
        CaseTimeLimit.objects.count(),
        ResponseTemplate.objects.count(),
        CalendarDay.objects.count(),
    ) == counts
    jobs = cat("livelihood-jobs")
    assert (jobs.name, jobs.is_active) == ("就业帮扶", False)
    assert time_limit_for(cat("livelihood"), Urgency.NORMAL) == (2, 12)


# --- what the workflow asks --------------------------------------------------------------------------


def test_time_limit_for_walks_to_the_parent_then_the_default(world):
    assert time_limit_for(cat("dispute-land-forest"), Urgency.NORMAL) == (1, 30)  # its own row
    assert time_limit_for(cat("dispute-neighbour"), Urgency.NORMAL) == (1, 15)  # the duty's
    assert time_limit_for(cat("dispute-neighbour").pk, Urgency.URGENT) == (1, 5)  # by id
    CaseTimeLimit.objects.filter(category=cat("dispute")).delete()
    assert time_limit_for(cat("dispute-neighbour"), Urgency.NORMAL) == (1, 10)  # the default
    assert time_limit_for(cat("dispute-neighbour"), Urgency.CRITICAL) == (1, 1)
    assert world.categories["road"].code == "coordination-road"
    assert time_limit_for(world.categories["road"], Urgency.NORMAL) == (1, 5)  # the factory's


def test_route_for_takes_the_most_specific_rule(world):
    admin = world.users["county_admin"]
    road, coordination = world.categories["road"], cat("coordination")
    r, u = world.regions, world.units
    assert route_for(road, r["第一网格"]) is None
    services.routing_rule_set(actor=admin, category=coordination, region=r["谷城县"], unit=u["county"])
    assert route_for(road, r["第一网格"]) == u["county"]  # the parent's rule at the county
    services.routing_rule_set(actor=admin, category=coordination, region=r["城关镇"], unit=u["chengguan"])
    assert route_for(road, r["第一网格"]) == u["chengguan"]  # a deeper region wins
    services.routing_rule_set(actor=admin, category=road, region=r["城关镇"], unit=u["county"])
    assert route_for(road, r["第一网格"]) == u["county"]  # same region: the category beats its parent
    services.routing_rule_set(actor=admin, category=coordination, region=r["新华村"], unit=u["xinhua"])
    assert route_for(road, r["第一网格"]) == u["xinhua"]  # deepest region first
    assert route_for(road, r["民营第一网格"]) == u["county"]  # another township: the county's rule
    services.unit_update(actor=admin, unit=u["xinhua"], is_active=False)
    assert route_for(road, r["第一网格"]) == u["county"]  # an inactive unit is skipped


def test_template_render_prefers_the_category_and_fills_placeholders(world):
    case = case_bring_to(world, case_make(world), "assigned")
    assert template_render("file", case) == (
        f"您反映的问题已登记，编号{case.number}（道路损坏）。我们将尽快受理办理，请留意后续短信。"
    )
    assert template_render("assign", case) == (
        f"您反映的问题（编号{case.number}）已交由新华村村民委员会办理，预计"
        f"{case.resolve_deadline.astimezone().strftime('%Y年%m月%d日')} 18:00前办结。"
    )
    # A category's template beats the general one; brace text that is no placeholder (a row written
    # before validation, say) is left as it is rather than failing the transition.
    ResponseTemplate.objects.create(
        transition="file", category=cat("coordination"), text="道路问题 {number} 已登记，{unknown} 原样保留。"
    )
    assert template_render("file", case) == f"道路问题 {case.number} 已登记，{{unknown}} 原样保留。"
    assert template_render("note", case) is None


# --- configuration writes ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["township_admin", "village_secretary", "grid_leader", "nobody"])
def test_only_the_county_admin_writes(world, username):
    user = world.users[username]
    attempts = [
        lambda: services.category_create(actor=user, parent=cat("policy"), name="新类别"),
        lambda: services.category_update(actor=user, category=cat("policy-law"), is_active=False),
        lambda: services.category_delete(actor=user, category=cat("policy-law")),
        lambda: services.time_limit_set(
            actor=user, category=cat("policy"), urgency=Urgency.NORMAL, sign_days=1, resolve_days=2
        ),
        lambda: services.calendar_day_set(
            actor=user, date=__import__("datetime").date(2026, 7, 1), is_workday=False, name="假"
        ),
        lambda: services.unit_create(actor=user, name="新单位", region=world.regions["新华村"]),
        lambda: services.unit_member_add(actor=user, unit=world.units["xinhua"], username="nobody"),
        lambda: services.routing_rule_set(
            actor=user, category=cat("policy"), region=world.regions["新华村"], unit=world.units["xinhua"]
        ),
        lambda: services.template_save(actor=user, transition="file", text="x"),
    ]
    before = AuditEvent.objects.count()
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert AuditEvent.objects.count() == before
    assert not CaseCategory.objects.filter(name="新类别").exists()


def test_category_create_update_delete_with_audit(world):
    admin = world.users["county_admin"]
    created = services.category_create(
        actor=admin, parent=cat("dispute"), name="征地拆迁纠纷", idempotency_key="c-1"
    )
    assert (created.duty, created.is_mediable, created.code) == (
        "dispute_mediation",
        True,
        f"dispute-{created.pk}",
    )
    assert (
        services.category_create(
            actor=admin, parent=cat("dispute"), name="征地拆迁纠纷", idempotency_key="c-1"
        )
        == created
    )
    audit = AuditEvent.objects.get(object_type="grids.casecategory", object_id=str(created.pk))
    assert (audit.action, audit.changes["name"], audit.changes["idempotency_key"]) == (
        AuditAction.CREATE,
        [None, "征地拆迁纠纷"],
        [None, "c-1"],
    )
    for kwargs, code, field in (
        ({"parent": cat("dispute-family"), "name": "x"}, "category_too_deep", "parent"),
        ({"parent": cat("dispute"), "name": "征地拆迁纠纷"}, "category_name_taken", "name"),
        ({"parent": cat("dispute"), "name": "甲" * 41}, "name_too_long", "name"),
        ({"parent": cat("dispute"), "name": "新", "code": "Bad Code"}, "category_code_format", "code"),
        ({"parent": cat("dispute"), "name": "新", "code": "dispute-family"}, "category_code_taken", "code"),
    ):
        with pytest.raises(DomainError) as refused:
            services.category_create(actor=admin, **kwargs)
        assert (refused.value.code, refused.value.field) == (code, field)
    services.category_update(actor=admin, category=created, name="征地拆迁补偿纠纷", is_mediable=False)
    created.refresh_from_db()
    assert (created.name, created.is_mediable) == ("征地拆迁补偿纠纷", False)
    services.category_delete(actor=admin, category=created)
    assert not CaseCategory.objects.filter(pk=created.pk).exists()
    with pytest.raises(DomainError) as refused:
        services.category_delete(actor=admin, category=cat("dispute"))
    assert refused.value.code == "category_duty_required"
    with pytest.raises(NotFound):
        services.category_update(actor=admin, category=999999, name="x")


def test_a_category_in_use_is_deactivated_not_deleted(world):
    admin = world.users["county_admin"]
    road = world.categories["road"]
    case = case_make(world)
    with pytest.raises(DomainError) as refused:
        services.category_delete(actor=admin, category=road)
    assert (refused.value.code, str(refused.value.message)) == (
        "category_in_use",
        "该类别已被使用，不能删除，请改为停用。",
    )
    services.category_update(actor=admin, category=road, is_active=False)
    case.refresh_from_db()
    assert case.category_id == road.pk
    # A category with a routing rule is in use too.
    services.routing_rule_set(
        actor=admin, category=cat("policy-law"), region=world.regions["新华村"], unit=world.units["xinhua"]
    )
    with pytest.raises(DomainError):
        services.category_delete(actor=admin, category=cat("policy-law"))


def test_time_limits_set_is_all_or_nothing(world):
    admin = world.users["county_admin"]
    category = cat("policy-law")
    with pytest.raises(DomainError) as refused:
        services.time_limits_set(
            actor=admin,
            category=category,
            limits={Urgency.NORMAL: (1, 8), Urgency.URGENT: (4, 2)},
        )
    assert (refused.value.code, refused.value.field) == ("time_limit_order", "urgent_resolve_days")
    assert CaseTimeLimit.objects.filter(category=category).count() == 0
    services.time_limits_set(
        actor=admin, category=category, limits={Urgency.NORMAL: (1, 8), Urgency.URGENT: (1, 2)}
    )
    assert time_limit_for(category, Urgency.NORMAL) == (1, 8)
    assert time_limit_for(category, Urgency.CRITICAL) == (1, 1)  # the duty's
    with pytest.raises(DomainError) as refused:
        services.time_limit_set(actor=admin, category=category, urgency="slow", sign_days=1, resolve_days=2)
    assert refused.value.field == "urgency"
    with pytest.raises(DomainError) as refused:
        services.time_limit_set(
            actor=admin, category=category, urgency=Urgency.NORMAL, sign_days=1, resolve_days=61
        )
    assert refused.value.code == "time_limit_resolve_range"


def test_calendar_and_unit_services(world):
    import datetime as dt

    admin = world.users["county_admin"]
    row = services.calendar_day_set(actor=admin, date=dt.date(2026, 7, 4), is_workday=True)
    assert (row.is_workday, row.name) == (True, "调休上班")
    services.calendar_day_set(actor=admin, date=dt.date(2026, 7, 4), is_workday=False, name="防汛")
    assert CalendarDay.objects.get(date=dt.date(2026, 7, 4)).is_workday is False
    services.calendar_day_remove(actor=admin, date=dt.date(2026, 7, 4))
    with pytest.raises(NotFound):
        services.calendar_day_remove(actor=admin, date=dt.date(2026, 7, 4))

    unit = services.unit_create(
        actor=admin, name="谷城县水利局", region=world.regions["谷城县"], idempotency_key="u1"
    )
    assert (
        services.unit_create(
            actor=admin, name="谷城县水利局", region=world.regions["谷城县"], idempotency_key="u1"
        )
        == unit
    )
    with pytest.raises(DomainError) as refused:
        services.unit_create(
            actor=admin, name="谷城县水利局", region=world.regions["谷城县"], idempotency_key="u2"
        )
    assert refused.value.code == "unit_name_taken"
    with pytest.raises(DomainError) as refused:
        services.unit_create(actor=admin, name="x", region=None)
    assert (refused.value.code, refused.value.field) == ("region_required", "region")
    clerk = world.users["county_clerk"]
    services.unit_member_add(actor=admin, unit=unit, username="county_clerk", idempotency_key="m1")
    assert (
        services.unit_member_add(actor=admin, unit=unit, username="county_clerk", idempotency_key="m1")
        == clerk
    )
    with pytest.raises(DomainError) as refused:
        services.unit_member_add(actor=admin, unit=unit, username="county_clerk", idempotency_key="m2")
    assert refused.value.code == "member_exists"
    services.unit_member_remove(actor=admin, unit=unit, user=clerk)
    with pytest.raises(NotFound):
        services.unit_member_remove(actor=admin, unit=unit, user=clerk)
    with pytest.raises(DomainError) as refused:
        services.routing_rule_set(
            actor=admin, category=cat("policy"), region=world.regions["谷城县"], unit=world.units["xinhua"]
        )
    assert (refused.value.code, refused.value.field) == ("routing_unit_outside", "unit")


def test_template_save_validates_placeholders(world):
    admin = world.users["county_admin"]
    with pytest.raises(DomainError) as refused:
        services.template_save(actor=admin, transition="resolve", text="{number} {name}")
    assert (refused.value.code, refused.value.field) == ("template_placeholder_unknown", "text")
    with pytest.raises(DomainError) as refused:
        services.template_save(actor=admin, transition="fly", text="x")
    assert refused.value.field == "transition"
    row = services.template_save(
        actor=admin, transition="resolve", text="已办结 {number}", idempotency_key="t1"
    )
    assert (
        services.template_save(
            actor=admin, transition="resolve", text="已办结 {number}", idempotency_key="t1"
        )
        == row
    )
    updated = services.template_save(
        actor=admin, template=row, transition="resolve", text="已办结：{number}", is_active=False
    )
    assert (updated.pk, updated.text, updated.is_active) == (row.pk, "已办结：{number}", False)


# --- notifications and the SMS outbox ----------------------------------------------------------------


def test_notify_dedupes_and_skips_inactive_users(world):
    case = case_make(world)
    clerk, leader = world.users["xinhua_clerk"], world.users["grid_leader"]
    inactive = User.objects.create_user(username="left", password="x-long-password-1", is_active=False)
    before = Notification.objects.count()
    assert notify(users=[clerk, None, clerk, leader, inactive], case=case, text="测试通知") == 2
    assert Notification.objects.count() == before + 2
    mine = list(Notification.objects.filter(user=clerk, text="测试通知").values_list("pk", flat=True))
    others = list(Notification.objects.filter(user=leader, text="测试通知").values_list("pk", flat=True))
    assert notification_mark_read(user=clerk, notification_ids=[*mine, *others]) == 1
    assert Notification.objects.get(pk=others[0]).read_at is None


class FailingGateway:
    def send(self, *, phone: str, text: str) -> bool:
        raise ConnectionError("carrier down")


def test_acknowledgement_is_queued_on_filing_and_sent_by_the_gateway(world, settings, caplog):
    resident = world.people.residents["王建国"]
    case = case_make(world, resident=resident)
    message = ResidentMessage.objects.get(case=case)
    assert (message.status, message.text) == (
        MessageStatus.QUEUED,
        f"您反映的问题已登记，编号{case.number}（道路损坏）。我们将尽快受理办理，请留意后续短信。",
    )
    # No resident (the grid leader's own observation): no message.
    other = case_make(world)
    assert not ResidentMessage.objects.filter(case=other).exists()

    with caplog.at_level(logging.INFO, logger="grids.sms"):
        assert resident_messages_send() == {"sent": 1, "failed": 0}
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert "SMS to 138****1111" in caplog.text
    assert resident_messages_send() == {"sent": 0, "failed": 0}

    settings.GRIDS_SMS_GATEWAY = "tests.grids.test_config_services.FailingGateway"
    second = case_make(world, resident=resident)
    assert resident_messages_send() == {"sent": 0, "failed": 1}
    assert ResidentMessage.objects.get(case=second).status == MessageStatus.FAILED


def test_a_template_not_for_the_resident_queues_nothing(world):
    ResponseTemplate.objects.filter(transition="file").update(is_sent_to_resident=False)
    case = case_make(world, resident=world.people.residents["王建国"])
    assert not ResidentMessage.objects.filter(case=case).exists()


# --- the API -----------------------------------------------------------------------------------------


def api(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


READ_ANYONE = ("categories", "time-limits", "calendar", "templates")
READ_ADMIN = ("units", "routing")


def test_api_reads(world):
    admin, leader, nobody = api("county_admin"), api("grid_leader"), api("nobody")
    for name in READ_ANYONE:
        url = f"/api/v1/grids/config/{name}/"
        assert admin.get(url).status_code == 200
        body = leader.get(url + ("?year=2026" if name == "calendar" else "")).json()
        assert body, name
        assert nobody.get(url).json() == [], name
    for name in READ_ADMIN:
        url = f"/api/v1/grids/config/{name}/"
        assert admin.get(url).status_code == 200
        assert leader.get(url).status_code == 404
        assert nobody.get(url).status_code == 404
    assert Client().get("/api/v1/grids/config/categories/").status_code == 401
    calendar = leader.get("/api/v1/grids/config/calendar/?year=2026").json()
    assert calendar[0] == {"date": "2026-01-01", "is_workday": False, "name": "元旦"}
    limits = leader.get("/api/v1/grids/config/time-limits/").json()
    neighbour = [row for row in limits if row["category_name"] == "邻里纠纷" and row["urgency"] == "normal"]
    assert neighbour == [
        {
            "category": cat("dispute-neighbour").pk,
            "category_name": "邻里纠纷",
            "urgency": "normal",
            "sign_days": 1,
            "resolve_days": 15,
            "is_own": False,
        }
    ]
    units = admin.get("/api/v1/grids/config/units/").json()
    xinhua = next(u for u in units if u["name"] == "新华村村民委员会")
    assert [m["username"] for m in xinhua["members"]] == ["xinhua_clerk"]


def test_api_writes_by_the_county_admin(world):
    admin = api("county_admin")
    response = admin.post(
        "/api/v1/grids/config/categories/",
        {"idempotency_key": "a1", "parent": cat("livelihood").pk, "name": "危房改造"},
    )
    assert response.status_code == 201
    created_id = response.json()["id"]
    again = admin.post(
        "/api/v1/grids/config/categories/",
        {"idempotency_key": "a1", "parent": cat("livelihood").pk, "name": "危房改造"},
    )
    assert (again.status_code, again.json()["id"]) == (201, created_id)
    response = admin.patch("/api/v1/grids/config/categories/", {"id": created_id, "is_active": False})
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    response = admin.post(
        "/api/v1/grids/config/categories/",
        {"idempotency_key": "a2", "parent": cat("livelihood").pk, "name": "饮水供电"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "category_name_taken")
    response = admin.put(
        "/api/v1/grids/config/time-limits/",
        {"category": created_id, "urgency": "urgent", "sign_days": 1, "resolve_days": 4},
    )
    assert response.status_code == 200
    assert next(r for r in response.json() if r["urgency"] == "urgent")["resolve_days"] == 4
    response = admin.put(
        "/api/v1/grids/config/calendar/", {"date": "2026-07-01", "is_workday": False, "name": "防汛"}
    )
    assert response.json() == {"date": "2026-07-01", "is_workday": False, "name": "防汛"}
    assert admin.delete("/api/v1/grids/config/calendar/?date=2026-07-01").status_code == 204
    response = admin.post(
        "/api/v1/grids/config/units/",
        {"idempotency_key": "u1", "name": "城关镇卫生院", "region": world.regions["城关镇"].pk},
    )
    unit_id = response.json()["id"]
    response = admin.post(
        "/api/v1/grids/config/units/members/", {"unit": unit_id, "username": "chengguan_clerk"}
    )
    assert [m["username"] for m in response.json()["members"]] == ["chengguan_clerk"]
    clerk = world.users["chengguan_clerk"]
    response = admin.delete(f"/api/v1/grids/config/units/members/?unit={unit_id}&user={clerk.pk}")
    assert response.json()["members"] == []
    response = admin.put(
        "/api/v1/grids/config/routing/",
        {"category": created_id, "region": world.regions["城关镇"].pk, "unit": unit_id},
    )
    assert response.json()["unit_name"] == "城关镇卫生院"
    rule_id = response.json()["id"]
    assert admin.delete(f"/api/v1/grids/config/routing/?id={rule_id}").status_code == 204
    response = admin.post(
        "/api/v1/grids/config/templates/",
        {
            "idempotency_key": "t1",
            "transition": "resolve",
            "text": "已办结 {number}",
            "is_sent_to_resident": True,
        },
    )
    assert response.status_code == 201
    response = admin.patch(
        "/api/v1/grids/config/templates/",
        {
            "id": response.json()["id"],
            "transition": "resolve",
            "text": "已办结：{number}",
            "is_active": False,
        },
    )
    assert (response.json()["text"], response.json()["is_active"]) == ("已办结：{number}", False)


@pytest.mark.parametrize("username", ["township_admin", "grid_leader", "nobody"])
def test_api_writes_by_anyone_else_answer_404(world, username):
    client = api(username)
    calls = [
        (
            "post",
            "/api/v1/grids/config/categories/",
            {"idempotency_key": "x", "parent": cat("policy").pk, "name": "x"},
        ),
        ("patch", "/api/v1/grids/config/categories/", {"id": cat("policy-law").pk, "is_active": False}),
        (
            "put",
            "/api/v1/grids/config/time-limits/",
            {"category": cat("policy").pk, "urgency": "normal", "sign_days": 1, "resolve_days": 2},
        ),
        ("put", "/api/v1/grids/config/calendar/", {"date": "2026-07-01", "is_workday": False, "name": "x"}),
        ("delete", "/api/v1/grids/config/calendar/?date=2026-01-01", {}),
        (
            "post",
            "/api/v1/grids/config/units/",
            {"idempotency_key": "x", "name": "x", "region": world.regions["新华村"].pk},
        ),
        (
            "post",
            "/api/v1/grids/config/units/members/",
            {"unit": world.units["xinhua"].pk, "username": "nobody"},
        ),
        (
            "put",
            "/api/v1/grids/config/routing/",
            {
                "category": cat("policy").pk,
                "region": world.regions["新华村"].pk,
                "unit": world.units["xinhua"].pk,
            },
        ),
        (
            "post",
            "/api/v1/grids/config/templates/",
            {"idempotency_key": "x", "transition": "file", "text": "x"},
        ),
    ]
    for method, url, data in calls:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    assert cat("policy-law").is_active is True
    assert CalendarDay.objects.filter(date="2026-01-01").exists()
    assert not HandlingUnit.objects.filter(name="x").exists()
    assert RoutingRule.objects.count() == 0
