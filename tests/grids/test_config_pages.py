"""The county's configuration pages (/grids/config/...): county admins only (everyone else 404), each
form's success, and its refusals in Chinese next to the field with what was typed kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from governance.models import AuditEvent
from grids.models import (
    CalendarDay,
    CaseCategory,
    CaseTimeLimit,
    HandlingUnit,
    ResponseTemplate,
    RoutingRule,
    Urgency,
)
from tests.grids.factories import PASSWORD, GridsWorld, case_make, grids_world_make

pytestmark = pytest.mark.django_db

PAGES = (
    "grids:config_categories",
    "grids:config_time_limits",
    "grids:config_calendar",
    "grids:config_units",
    "grids:config_routing",
    "grids:config_templates",
)


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


@pytest.fixture
def admin() -> Client:
    client = Client()
    assert client.login(username="county_admin", password=PASSWORD)
    return client


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_errors(response, name: str) -> list[str]:
    """The error messages shown inside the field wrappers data-field=`name` (any form on the page)."""
    html = response.content.decode()
    blocks = re.findall(
        rf'data-field="{re.escape(name)}".*?(?=<div class="field|<fieldset|<button|</form>)', html, re.S
    )
    assert blocks, f"no field {name}"
    return [error for block in blocks for error in re.findall(r'class="field__error"[^>]*>([^<]+)<', block)]


# --- access ------------------------------------------------------------------------------------------


def test_every_page_answers_the_county_admin(world, admin):
    unit = world.units["xinhua"]
    template = ResponseTemplate.objects.order_by("pk").first()
    urls = [reverse(name) for name in PAGES] + [
        reverse("grids:config_unit", kwargs={"unit_id": unit.pk}),
        reverse("grids:config_template", kwargs={"template_id": template.pk}),
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert 'href="/static/css/grids-config.css"' in response.content.decode()
    assert admin.get(reverse("grids:config_home")).url == reverse("grids:config_categories")


@pytest.mark.parametrize(
    "username", ["township_admin", "village_secretary", "grid_leader", "xinhua_clerk", "viewer", "nobody"]
)
def test_everyone_else_gets_404_on_every_page_and_post(world, username):
    client = client_for(username)
    unit = world.units["xinhua"]
    urls = [reverse(name) for name in PAGES] + [reverse("grids:config_unit", kwargs={"unit_id": unit.pk})]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"action": "create", "name": "偷改", "parent": 1}).status_code == 404, url
    assert CaseCategory.objects.filter(name="偷改").count() == 0


def test_pages_need_a_login(world):
    response = Client().get(reverse("grids:config_categories"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_missing_unit_and_template_are_404(world, admin):
    assert admin.get(reverse("grids:config_unit", kwargs={"unit_id": 999999})).status_code == 404
    assert admin.get(reverse("grids:config_template", kwargs={"template_id": 999999})).status_code == 404


# --- categories --------------------------------------------------------------------------------------


def test_category_tree_shows_the_five_duties(world, admin):
    body = text(admin.get(reverse("grids:config_categories")))
    for name in (
        "政策宣传",
        "矛盾调解",
        "社情民意",
        "治理协调",
        "民生服务",
        "邻里纠纷",
        "饮水供电",
        "低保救助",
    ):
        assert name in body


def test_category_create_and_replay(world, admin):
    duty = CaseCategory.objects.get(code="livelihood")
    data = {
        "action": "create",
        "idempotency_key": "k-cat-1",
        "parent": duty.pk,
        "name": "危房改造",
        "is_mediable": "",
    }
    response = admin.post(reverse("grids:config_categories"), data)
    assert response.status_code == 302
    created = CaseCategory.objects.get(parent=duty, name="危房改造")
    assert (created.duty, created.is_active, created.is_mediable) == (duty.duty, True, False)
    # The same submit again (a retried POST): still one row, and a success.
    assert admin.post(reverse("grids:config_categories"), data).status_code == 302
    assert CaseCategory.objects.filter(name="危房改造").count() == 1
    assert AuditEvent.objects.filter(object_type="grids.casecategory", object_id=str(created.pk)).count() == 1


def test_category_create_refusals_next_to_the_field(world, admin):
    duty = CaseCategory.objects.get(code="dispute")
    url = reverse("grids:config_categories")
    response = admin.post(url, {"action": "create", "idempotency_key": "k1", "parent": duty.pk, "name": "  "})
    assert response.status_code == 400
    assert field_errors(response, "name") == ["请填写类别名称。"]
    response = admin.post(
        url, {"action": "create", "idempotency_key": "k2", "parent": duty.pk, "name": "邻里纠纷"}
    )
    assert response.status_code == 400
    assert field_errors(response, "name") == ["该职责下已有同名类别。"]
    assert 'value="邻里纠纷"' in response.content.decode()
    sub = CaseCategory.objects.get(code="dispute-neighbour")
    response = admin.post(
        url, {"action": "create", "idempotency_key": "k3", "parent": sub.pk, "name": "新类"}
    )
    assert response.status_code == 400
    assert field_errors(response, "parent") == ["请选择所属职责。"]
    response = admin.post(url, {"action": "create", "idempotency_key": "k4", "parent": "", "name": "新类"})
    assert field_errors(response, "parent") == ["请选择所属职责。"]
    assert CaseCategory.objects.filter(name="新类").count() == 0


def test_category_rename_and_refusal(world, admin):
    sub = CaseCategory.objects.get(code="dispute-neighbour")
    url = reverse("grids:config_categories")
    response = admin.post(
        url,
        {
            "action": "rename",
            "category": sub.pk,
            f"c{sub.pk}-name": "婚姻家庭纠纷",
            f"c{sub.pk}-is_mediable": "on",
        },
    )
    assert response.status_code == 400
    assert field_errors(response, "name") == ["同一上级下已有同名类别。"]
    assert 'value="婚姻家庭纠纷"' in response.content.decode()
    response = admin.post(url, {"action": "rename", "category": sub.pk, f"c{sub.pk}-name": "邻里矛盾纠纷"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.name, sub.is_mediable) == ("邻里矛盾纠纷", False)


def test_deactivate_never_delete_a_category_in_use(world, admin):
    road = world.categories["road"]
    case_make(world, category="road")
    url = reverse("grids:config_categories")
    response = admin.post(url, {"action": "delete", "category": road.pk}, follow=True)
    assert "该类别已被使用，不能删除，请改为停用。" in text(response)
    assert CaseCategory.objects.filter(pk=road.pk).exists()
    assert admin.post(url, {"action": "deactivate", "category": road.pk}).status_code == 302
    road.refresh_from_db()
    assert road.is_active is False
    assert admin.post(url, {"action": "activate", "category": road.pk}).status_code == 302
    road.refresh_from_db()
    assert road.is_active is True
    unused = CaseCategory.objects.get(code="policy-customs")
    assert admin.post(url, {"action": "delete", "category": unused.pk}).status_code == 302
    assert not CaseCategory.objects.filter(pk=unused.pk).exists()
    duty = CaseCategory.objects.get(code="policy")
    response = admin.post(url, {"action": "deactivate", "category": duty.pk}, follow=True)
    assert "五项职责不能停用。" in text(response)
    duty.refresh_from_db()
    assert duty.is_active is True


# --- time limits -------------------------------------------------------------------------------------


def test_time_limits_save_and_inherit(world, admin):
    sub = CaseCategory.objects.get(code="dispute-neighbour")
    p = f"t{sub.pk}"
    data = {"category": sub.pk, f"{p}-normal_sign_days": "2", f"{p}-normal_resolve_days": "12"}
    response = admin.post(reverse("grids:config_time_limits"), data)
    assert response.status_code == 302
    assert CaseTimeLimit.objects.filter(category=sub).count() == 1
    row = CaseTimeLimit.objects.get(category=sub, urgency=Urgency.NORMAL)
    assert (row.sign_days, row.resolve_days) == (2, 12)
    # Emptying the pair removes the category's own row: the duty's limits apply again.
    response = admin.post(reverse("grids:config_time_limits"), {"category": sub.pk})
    assert response.status_code == 302
    assert CaseTimeLimit.objects.filter(category=sub).count() == 0


def test_time_limits_refusals_next_to_the_field(world, admin):
    sub = CaseCategory.objects.get(code="dispute-neighbour")
    p = f"t{sub.pk}"
    url = reverse("grids:config_time_limits")
    response = admin.post(
        url, {"category": sub.pk, f"{p}-urgent_sign_days": "5", f"{p}-urgent_resolve_days": "3"}
    )
    assert response.status_code == 400
    assert field_errors(response, "urgent_resolve_days") == ["办结时限不能短于签收时限。"]
    assert f'name="{p}-urgent_sign_days" id="id_{p}-urgent_sign_days" value="5"' in response.content.decode()
    response = admin.post(
        url, {"category": sub.pk, f"{p}-normal_sign_days": "1", f"{p}-normal_resolve_days": "0"}
    )
    assert response.status_code == 400
    assert field_errors(response, "normal_resolve_days") == ["不能小于 1。"]
    response = admin.post(url, {"category": sub.pk, f"{p}-critical_resolve_days": "2"})
    assert response.status_code == 400
    assert field_errors(response, "critical_sign_days") == ["签收时限应为 1 至 60 个工作日。"]
    assert CaseTimeLimit.objects.filter(category=sub).count() == 0


# --- calendar ----------------------------------------------------------------------------------------


def test_calendar_year_view(world, admin):
    response = admin.get(reverse("grids:config_calendar") + "?year=2026")
    body = text(response)
    assert "2026 年节假日与调休" in body
    assert "全年工作日 248 天" in body
    assert 'class="cfg-day is-holiday" title="春节" data-date="2026-02-17"' in body
    assert 'class="cfg-day is-makeup" title="春节调休上班" data-date="2026-02-28"' in body


def test_calendar_add_and_remove(world, admin):
    url = reverse("grids:config_calendar")
    response = admin.post(url, {"action": "set", "date": "2026-07-01", "kind": "holiday", "name": "防汛停工"})
    assert response.status_code == 302
    assert response.url == f"{url}?year=2026"
    row = CalendarDay.objects.get(date=dt.date(2026, 7, 1))
    assert (row.is_workday, row.name) == (False, "防汛停工")
    response = admin.post(url, {"action": "set", "date": "2026-07-04", "kind": "workday", "name": ""})
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=dt.date(2026, 7, 4)).is_workday is True
    assert admin.post(url, {"action": "remove", "date": "2026-07-01"}).status_code == 302
    assert not CalendarDay.objects.filter(date=dt.date(2026, 7, 1)).exists()


def test_calendar_refusals_next_to_the_field(world, admin):
    url = reverse("grids:config_calendar")
    response = admin.post(url, {"action": "set", "date": "2026-07-01", "kind": "workday", "name": "调休"})
    assert response.status_code == 400
    assert field_errors(response, "date") == ["该日期本来就是工作日，调休上班只能设在周末。"]
    response = admin.post(url, {"action": "set", "date": "2026-07-01", "kind": "holiday", "name": ""})
    assert field_errors(response, "name") == ["请填写节假日名称，如“春节”。"]
    assert 'value="2026-07-01"' in response.content.decode()
    response = admin.post(url, {"action": "set", "date": "2026-13-01", "kind": "holiday", "name": "错"})
    assert field_errors(response, "date") == ["请输入有效的日期，如 2026-10-01。"]
    assert not CalendarDay.objects.filter(date__month=7).exists()
    assert admin.post(url, {"action": "remove", "date": "2026-07-02"}).status_code == 404


# --- units -------------------------------------------------------------------------------------------


def test_unit_create_members_and_edit(world, admin):
    url = reverse("grids:config_units")
    data = {
        "idempotency_key": "u-1",
        "name": "城关镇水利站",
        "region": world.regions["城关镇"].pk,
        "phone": "0710-7221234",
    }
    response = admin.post(url, data)
    unit = HandlingUnit.objects.get(name="城关镇水利站")
    assert response.url == reverse("grids:config_unit", kwargs={"unit_id": unit.pk})
    assert admin.post(url, data).status_code == 302
    assert HandlingUnit.objects.filter(name="城关镇水利站").count() == 1

    unit_url = reverse("grids:config_unit", kwargs={"unit_id": unit.pk})
    response = admin.post(
        unit_url, {"action": "member_add", "idempotency_key": "m-1", "username": "nosuchuser"}
    )
    assert response.status_code == 400
    assert field_errors(response, "username") == ["没有这个用户名的在用账号。"]
    assert 'value="nosuchuser"' in response.content.decode()
    clerk = world.users["chengguan_clerk"]
    member = {"action": "member_add", "idempotency_key": "m-2", "username": clerk.username}
    assert admin.post(unit_url, member).status_code == 302
    assert admin.post(unit_url, member).status_code == 302  # a replay
    assert list(unit.members.all()) == [clerk]
    response = admin.post(unit_url, {**member, "idempotency_key": "m-3"})
    assert field_errors(response, "username") == ["该用户已是本单位承办人员。"]
    assert admin.post(unit_url, {"action": "member_remove", "user": clerk.pk}).status_code == 302
    assert unit.members.count() == 0

    response = admin.post(
        unit_url, {"action": "edit", "name": "城关镇水利服务站", "phone": "abc", "is_active": "on"}
    )
    assert response.status_code == 400
    assert field_errors(response, "phone") == ["联系电话只能包含数字和连字符。"]
    assert (
        admin.post(unit_url, {"action": "edit", "name": "城关镇水利服务站", "phone": ""}).status_code == 302
    )
    unit.refresh_from_db()
    assert (unit.name, unit.phone, unit.is_active) == ("城关镇水利服务站", "", False)


def test_unit_create_refusals(world, admin):
    url = reverse("grids:config_units")
    response = admin.post(
        url, {"idempotency_key": "u-2", "name": "新华村村民委员会", "region": world.regions["新华村"].pk}
    )
    assert response.status_code == 400
    assert field_errors(response, "name") == ["该区域已有同名承办单位。"]
    response = admin.post(
        url, {"idempotency_key": "u-3", "name": "网格服务队", "region": world.regions["第一网格"].pk}
    )
    assert field_errors(response, "region") == ["请选择县、乡镇或村（社区）。"]
    assert 'value="网格服务队"' in response.content.decode()
    assert not HandlingUnit.objects.filter(name="网格服务队").exists()


# --- routing -----------------------------------------------------------------------------------------


def test_routing_set_replace_delete(world, admin):
    url = reverse("grids:config_routing")
    road = world.categories["road"]
    data = {
        "action": "set",
        "category": road.pk,
        "region": world.regions["城关镇"].pk,
        "unit": world.units["chengguan"].pk,
    }
    assert admin.post(url, data).status_code == 302
    rule = RoutingRule.objects.get(category=road, region=world.regions["城关镇"])
    assert rule.unit == world.units["chengguan"]
    assert admin.post(url, {**data, "unit": world.units["county"].pk}).status_code == 302
    assert RoutingRule.objects.get(pk=rule.pk).unit == world.units["county"]
    assert RoutingRule.objects.count() == 1
    assert admin.post(url, {"action": "delete", "rule": rule.pk}).status_code == 302
    assert RoutingRule.objects.count() == 0


def test_routing_refuses_a_unit_outside_the_region(world, admin):
    url = reverse("grids:config_routing")
    data = {
        "action": "set",
        "category": world.categories["road"].pk,
        "region": world.regions["城关镇"].pk,
        "unit": world.units["minying"].pk,
    }
    response = admin.post(url, data)
    assert response.status_code == 400
    assert field_errors(response, "unit") == ["承办单位须位于适用区域或其上级，不能跨区域派单。"]
    response = admin.post(url, {**data, "unit": ""})
    assert field_errors(response, "unit") == ["请选择承办单位。"]
    assert RoutingRule.objects.count() == 0


# --- templates ---------------------------------------------------------------------------------------


def test_template_create_edit_and_refusal(world, admin):
    url = reverse("grids:config_templates")
    data = {
        "idempotency_key": "t-1",
        "transition": "resolve",
        "category": world.categories["road"].pk,
        "text": "道路问题（{number}）已修复，感谢{resident}。",
        "is_sent_to_resident": "on",
        "is_active": "on",
    }
    response = admin.post(url, data)
    assert response.status_code == 400
    assert field_errors(response, "text") == [
        "不认识的占位符：{resident}。可用：{number}、{category}、{deadline}、{unit}。"
    ]
    assert "感谢{resident}" in response.content.decode()
    data["text"] = "道路问题（{number}）已修复，感谢您的反映。"
    assert admin.post(url, data).status_code == 302
    assert admin.post(url, data).status_code == 302  # a replay
    created = ResponseTemplate.objects.get(transition="resolve", category=world.categories["road"])
    assert created.is_sent_to_resident is True
    edit_url = reverse("grids:config_template", kwargs={"template_id": created.pk})
    assert admin.post(edit_url, {**data, "idempotency_key": "t-2", "is_active": ""}).status_code == 302
    created.refresh_from_db()
    assert created.is_active is False
    assert (
        ResponseTemplate.objects.filter(transition="resolve", category=world.categories["road"]).count() == 1
    )


# --- in a browser ------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_config_pages_at_phone_and_desktop_size(phone, desktop, demo_county, screenshot):
    from tests.browser_fixtures import login

    grids_world_make(demo_county)
    for page, size in ((phone, "phone"), (desktop, "desktop")):
        login(page, "county_admin")
        for name in PAGES:
            page.goto(reverse(name) + ("?year=2026" if name == "grids:config_calendar" else ""))
            assert page.locator("[data-testid=config-tabs] [aria-current=page]").count() == 1
            # Nothing wider than the screen: the page never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
                name,
                size,
            )
            screenshot(page, f"{size}-{name.split(':')[1]}")
    # A refusal shown next to the field in the browser, the typed text kept.
    page = phone
    page.goto(reverse("grids:config_categories"))
    form = page.get_by_test_id("category-create-form")
    form.get_by_label("所属职责").select_option(label="矛盾调解")
    form.get_by_label("类别名称").fill("邻里纠纷")
    form.get_by_test_id("submit").click()
    assert form.locator(".field__error").inner_text() == "该职责下已有同名类别。"
    assert page.get_by_test_id("category-create-form").get_by_label("类别名称").input_value() == "邻里纠纷"
    screenshot(page, "phone-category-error")
