"""The role-assignments API: scoped list, POST grants, DELETE revokes; Chinese errors; all audited."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import AuditAction, AuditEvent, RoleAssignment, User

URL = "/api/v1/governance/role-assignments/"


def client_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def rows(response) -> list[tuple[str, str, str]]:
    assert response.status_code == 200, response.content
    return [(r["user"]["username"], r["role"], r["region"]["name"]) for r in response.json()["results"]]


def test_list_is_scoped_to_the_admins_subtree(demo_county):
    assert sorted(rows(client_for("township_admin").get(URL))) == [
        ("grid_leader", "grid_leader", "第一网格"),
        ("township_admin", "township_admin", "城关镇"),
        ("village_secretary", "village_secretary", "新华村"),
    ]
    assert len(rows(client_for("county_admin").get(URL))) == 5
    # Roles that administer nobody see no assignments at all, not even their own.
    for username in ("village_secretary", "grid_leader", "canteen_manager"):
        assert rows(client_for(username).get(URL)) == []


def test_list_filters(demo_county):
    admin = client_for("county_admin")
    assert rows(admin.get(URL, {"role": "canteen_manager"})) == [
        ("canteen_manager", "canteen_manager", "民营社区")
    ]
    assert rows(admin.get(URL, {"region": demo_county["新华村"].pk})) == [
        ("village_secretary", "village_secretary", "新华村")
    ]
    grid_leader = User.objects.get(username="grid_leader")
    assert rows(admin.get(URL, {"user": grid_leader.pk})) == [("grid_leader", "grid_leader", "第一网格")]


def test_detail_and_404_outside(demo_county):
    canteen = RoleAssignment.objects.get(user__username="canteen_manager")
    body = client_for("county_admin").get(f"{URL}{canteen.pk}/").json()
    assert body["role"] == "canteen_manager"
    assert body["role_label"] == "爱心食堂管理员"
    assert body["region"] == {
        "id": demo_county["民营社区"].pk,
        "name": "民营社区",
        "level": "village",
        "path": demo_county["民营社区"].path,
    }
    assert body["user"]["full_name"] == "赵敏"
    response = client_for("township_admin").get(f"{URL}{canteen.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到该记录，或者它不在您的管辖范围内。"


def test_grant_by_post(demo_county):
    client = client_for("township_admin")
    target = User.objects.get(username="grid_leader")
    response = client.post(
        URL, {"user": target.pk, "role": "viewer", "region": demo_county["新华村"].pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["user"]["username"], body["role"], body["region"]["name"], body["granted_by"]) == (
        "grid_leader",
        "viewer",
        "新华村",
        "陈静",
    )
    event = AuditEvent.objects.get(action=AuditAction.GRANT)
    assert event.object_id == str(body["id"])
    assert event.ip_address == "127.0.0.1"


def test_grant_refusals_in_chinese(demo_county):
    client = client_for("township_admin")
    target = User.objects.get(username="village_secretary")
    response = client.post(
        URL, {"user": target.pk, "role": "county_admin", "region": demo_county["城关镇"].pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "role_not_grantable",
        "detail": "您不能授予“县委组织部管理员”角色：只能授予不高于您本人所持有的角色。",
        "fields": {"role": ["您不能授予“县委组织部管理员”角色：只能授予不高于您本人所持有的角色。"]},
    }
    response = client.post(
        URL,
        {"user": target.pk, "role": "village_secretary", "region": demo_county["民营社区"].pk},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到该区域，或者它不在您的管辖范围内。"
    canteen = User.objects.get(username="canteen_manager")
    response = client.post(
        URL, {"user": canteen.pk, "role": "viewer", "region": demo_county["新华村"].pk}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到该用户，或者其不在您的管辖范围内。"
    response = client.post(URL, {"user": target.pk, "role": "chief", "region": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"role", "region"}
    assert not AuditEvent.objects.exists()


def test_revoke_by_delete(demo_county):
    assignment = RoleAssignment.objects.get(user__username="grid_leader")
    response = client_for("township_admin").delete(f"{URL}{assignment.pk}/")
    assert response.status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.get(action=AuditAction.REVOKE).object_id == str(assignment.pk)


def test_revoke_refusals(demo_county):
    canteen = RoleAssignment.objects.get(user__username="canteen_manager")
    assert client_for("township_admin").delete(f"{URL}{canteen.pk}/").status_code == 404
    assert client_for("village_secretary").delete(f"{URL}{canteen.pk}/").status_code == 404
    own = RoleAssignment.objects.get(user__username="county_admin")
    response = client_for("county_admin").delete(f"{URL}{own.pk}/")
    assert response.status_code == 403
    assert response.json() == {"code": "role_revoke_self", "detail": "不能撤销您自己的角色。"}
    assert RoleAssignment.objects.count() == 5
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_401(db, method):
    assert getattr(APIClient(), method)(URL).status_code == 401
