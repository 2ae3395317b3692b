"""Role management pages: list users and roles in scope, open an account, grant, revoke."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from governance.models import AuditAction, AuditEvent, RoleAssignment, User


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def field_errors(page: str) -> dict[str, list[str]]:
    """{field id: [messages]} as shown next to each field."""
    found: dict[str, list[str]] = {}
    for field, message in re.findall(r'<p class="field__error" id="id_(\w+)-error">(.*?)</p>', page):
        found.setdefault(field, []).append(message)
    return found


def test_list_shows_the_users_and_roles_in_the_admins_scope(demo_county):
    page = login("township_admin").get("/governance/roles/").content.decode()
    # By name in pinyin order: 陈静 (Chen), 刘强 (Liu), 王秀英 (Wang).
    assert re.findall(r'<li class="card person" data-username="([^"]+)"', page) == [
        "township_admin",
        "village_secretary",
        "grid_leader",
    ]
    assert re.findall(r'data-testid="assignment" data-role="(\w+)" data-region="([^"]+)"', page) == [
        ("township_admin", "城关镇"),
        ("village_secretary", "新华村"),
        ("grid_leader", "第一网格"),
    ]
    assert "共 3 人" in page
    # No revoke link on one's own role.
    own = RoleAssignment.objects.get(user__username="township_admin")
    assert f"/governance/roles/{own.pk}/revoke/" not in page
    county = login("county_admin").get("/governance/roles/").content.decode()
    assert "共 5 人" in county


def test_list_filters_by_name_and_role(demo_county):
    client = login("county_admin")
    page = client.get("/governance/roles/", {"q": "王秀"}).content.decode()
    assert re.findall(r'data-username="([^"]+)"', page) == ["grid_leader"]
    page = client.get("/governance/roles/", {"role": "canteen_manager"}).content.decode()
    assert re.findall(r'data-username="([^"]+)"', page) == ["canteen_manager"]


def test_list_export_is_audited(demo_county):
    response = login("township_admin").get("/governance/roles/", {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["姓名", "用户名", "角色", "管辖区域", "区划代码", "授权人", "授权时间"]
    assert sorted(row[:5] for row in rows[1:]) == [
        ["刘强", "village_secretary", "村党组织书记", "新华村", "420625100201"],
        ["王秀英", "grid_leader", "百户网格长", "第一网格", "420625100201001"],
        ["陈静", "township_admin", "乡镇管理员", "城关镇", "420625100000"],
    ]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor_name == "陈静"


@pytest.mark.parametrize("username", ["village_secretary", "grid_leader", "canteen_manager"])
def test_non_admins_get_404(demo_county, username):
    client = login(username)
    assignment = RoleAssignment.objects.get(user__username="grid_leader")
    for url in (
        "/governance/roles/",
        "/governance/roles/grant/",
        "/governance/roles/users/new/",
        f"/governance/roles/{assignment.pk}/revoke/",
    ):
        assert client.get(url).status_code == 404


def test_grant_form_offers_only_what_the_admin_may_grant(demo_county):
    page = login("township_admin").get("/governance/roles/grant/").content.decode()
    roles = re.findall(r'<option value="(\w+)">', page.split('name="role"', 1)[1].split("</select>", 1)[0])
    assert roles == [
        "township_admin",
        "village_secretary",
        "grid_leader",
        "canteen_manager",
        "mediator",
        "viewer",
    ]
    regions = page.split('name="region"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="\d+">[　]*([^（<]+)', regions) == ["城关镇", "新华村"]
    # Reached from a grid in the region browser, the grid is offered and chosen.
    grid = demo_county["第一网格"]
    page = login("township_admin").get("/governance/roles/grant/", {"region": grid.pk}).content.decode()
    assert f'<option value="{grid.pk}" selected>　　　第一网格（网格）</option>' in page


def test_grant_through_the_form(demo_county):
    client = login("township_admin")
    response = client.post(
        "/governance/roles/grant/",
        {"username": "grid_leader", "role": "viewer", "region": demo_county["新华村"].pk},
    )
    assert response.status_code == 302
    assert response["Location"] == "/governance/roles/"
    page = client.get("/governance/roles/").content.decode()
    assert "已授予王秀英“只读查看”角色，范围：新华村。" in page
    assert RoleAssignment.objects.filter(user__username="grid_leader", role="viewer").exists()
    assert AuditEvent.objects.filter(action=AuditAction.GRANT).count() == 1


def test_grant_errors_show_next_to_the_field_and_keep_the_input(demo_county):
    client = login("township_admin")
    response = client.post(
        "/governance/roles/grant/",
        {"username": "canteen_manager", "role": "viewer", "region": demo_county["新华村"].pk},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert field_errors(page) == {"username": ["未找到该用户，或者其不在您的管辖范围内。"]}
    assert 'value="canteen_manager"' in page
    response = client.post(
        "/governance/roles/grant/",
        {"username": "grid_leader", "role": "grid_leader", "region": demo_county["新华村"].pk},
    )
    assert field_errors(response.content.decode()) == {"region": ["“百户网格长”只能在网格一级授予。"]}
    # A region outside the township is not even offered.
    response = client.post(
        "/governance/roles/grant/",
        {"username": "grid_leader", "role": "viewer", "region": demo_county["民营社区"].pk},
    )
    assert field_errors(response.content.decode()) == {"region": ["请选择列表中的区域。"]}
    response = client.post("/governance/roles/grant/", {})
    assert field_errors(response.content.decode()) == {
        "username": ["请填写用户名。"],
        "role": ["请选择角色。"],
        "region": ["请选择管辖区域。"],
    }
    # County admin is not offered to a township admin at all.
    response = client.post(
        "/governance/roles/grant/",
        {"username": "grid_leader", "role": "county_admin", "region": demo_county["城关镇"].pk},
    )
    assert field_errors(response.content.decode()) == {"role": ["请选择列表中的角色。"]}
    assert not AuditEvent.objects.exists()


def test_open_an_account_with_its_first_role(demo_county):
    client = login("township_admin")
    form = {
        "full_name": "孙悦",
        "username": "sun.yue",
        "password": "Qiaotou-2024!",
        "password_again": "Qiaotou-2025!",
        "role": "grid_leader",
        "region": demo_county["第一网格"].pk,
    }
    response = client.post(f"/governance/roles/users/new/?region={demo_county['第一网格'].pk}", form)
    page = response.content.decode()
    assert field_errors(page) == {"password_again": ["两次输入的密码不一致。"]}
    assert 'value="孙悦"' in page
    assert 'value="sun.yue"' in page
    form["password_again"] = form["password"]
    response = client.post(f"/governance/roles/users/new/?region={demo_county['第一网格'].pk}", form)
    assert response.status_code == 302
    user = User.objects.get(username="sun.yue")
    assert user.full_name == "孙悦"
    assert list(user.role_assignments.values_list("role", "region__name")) == [("grid_leader", "第一网格")]
    assert (
        "已开设账号 sun.yue（孙悦），并授予“百户网格长”角色。"
        in client.get("/governance/roles/").content.decode()
    )
    again = client.post(f"/governance/roles/users/new/?region={demo_county['第一网格'].pk}", form)
    assert field_errors(again.content.decode()) == {"username": ["用户名“sun.yue”已被使用。"]}


def test_revoke_asks_then_revokes_and_audits(demo_county):
    client = login("township_admin")
    assignment = RoleAssignment.objects.get(user__username="grid_leader")
    page = client.get(f"/governance/roles/{assignment.pk}/revoke/").content.decode()
    assert "王秀英（grid_leader）" in page
    assert "百户网格长" in page
    response = client.post(f"/governance/roles/{assignment.pk}/revoke/")
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE)
    assert event.actor_name == "陈静"
    assert event.ip_address == "127.0.0.1"
    assert "已撤销王秀英在“第一网格”的“百户网格长”角色。" in client.get("/governance/roles/").content.decode()


def test_revoke_outside_scope_is_404_and_own_role_is_refused(demo_county):
    client = login("township_admin")
    canteen = RoleAssignment.objects.get(user__username="canteen_manager")
    assert client.get(f"/governance/roles/{canteen.pk}/revoke/").status_code == 404
    assert client.post(f"/governance/roles/{canteen.pk}/revoke/").status_code == 404
    own = RoleAssignment.objects.get(user__username="township_admin")
    response = client.post(f"/governance/roles/{own.pk}/revoke/")
    assert response.status_code == 403
    assert "不能撤销您自己的角色。" in response.content.decode()
    assert RoleAssignment.objects.count() == 5
