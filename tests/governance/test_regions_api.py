"""The regions API: scoped lists with ?parent= and ?q=, detail with counts, children with counts."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import User
from tests.governance.regions_fixture import build_people

BASE = "/api/v1/governance"


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def client_for(username: str) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_list_is_scoped(people):
    assert names(client_for("township_admin").get(f"{BASE}/regions/")) == [
        "城关镇",
        *sorted(
            ["新华村", "第一网格", "第二网格", "东街社区", "东街第一网格"],
            key=lambda n: people.regions[n].path,
        ),
    ]
    assert names(client_for("grid_leader").get(f"{BASE}/regions/")) == ["第一网格"]
    assert names(client_for("canteen_manager").get(f"{BASE}/regions/")) == ["民营社区", "民营第一网格"]
    assert client_for("county_admin").get(f"{BASE}/regions/").json()["count"] == 20


def test_list_of_children_and_search(people):
    r = people.regions
    township = client_for("township_admin")
    assert names(township.get(f"{BASE}/regions/", {"parent": r["新华村"].pk})) == ["第一网格", "第二网格"]
    # The county is out of scope, but its in-scope child is listed: the filter never widens the scope.
    assert names(township.get(f"{BASE}/regions/", {"parent": r["谷城县"].pk})) == ["城关镇"]
    assert names(township.get(f"{BASE}/regions/", {"parent": r["石花镇"].pk})) == []
    assert names(township.get(f"{BASE}/regions/", {"q": "420625100201001"})) == ["第一网格"]
    assert names(township.get(f"{BASE}/regions/", {"q": "东街"})) == ["东街社区", "东街第一网格"]
    assert names(township.get(f"{BASE}/regions/", {"q": "民营"})) == []
    assert names(township.get(f"{BASE}/regions/", {"level": "village"})) == sorted(
        ["新华村", "东街社区"], key=lambda n: r[n].path
    )


def test_detail_with_counts_and_ancestors(people):
    r = people.regions
    body = client_for("township_admin").get(f"{BASE}/regions/{r['新华村'].pk}/").json()
    assert body == {
        "id": r["新华村"].pk,
        "name": "新华村",
        "level": "village",
        "level_label": "村（社区）",
        "kind": "village",
        "kind_label": "村",
        "code": "420625100201",
        "parent_id": r["城关镇"].pk,
        "path": r["新华村"].path,
        "counts": {"households": 3, "residents": 7, "party_members": 2, "grid_leaders": 1},
        "ancestors": [{"id": r["城关镇"].pk, "name": "城关镇", "level": "township"}],
        "children_count": 2,
    }
    county = client_for("county_admin").get(f"{BASE}/regions/{r['谷城县'].pk}/").json()
    assert county["counts"] == {"households": 6, "residents": 11, "party_members": 4, "grid_leaders": 3}
    assert county["ancestors"] == []
    assert county["children_count"] == 10


def test_children_with_counts(people):
    r = people.regions
    body = client_for("county_admin").get(f"{BASE}/regions/{r['城关镇'].pk}/children/").json()
    assert body["count"] == 2
    assert [(row["name"], row["code"], row["counts"]) for row in body["results"]] == [
        (
            "东街社区",
            "420625100002",
            {"households": 1, "residents": 1, "party_members": 1, "grid_leaders": 1},
        ),
        ("新华村", "420625100201", {"households": 3, "residents": 7, "party_members": 2, "grid_leaders": 1}),
    ]
    grid = client_for("grid_leader").get(f"{BASE}/regions/{r['第一网格'].pk}/children/").json()
    assert grid["count"] == 0


@pytest.mark.parametrize(
    ("username", "region"),
    [
        ("township_admin", "谷城县"),
        ("township_admin", "民营社区"),
        ("grid_leader", "第二网格"),
        ("canteen_manager", "第一网格"),
        ("village_secretary", "东街社区"),
    ],
)
def test_out_of_scope_is_404(people, username, region):
    client = client_for(username)
    pk = people.regions[region].pk
    for url in (f"{BASE}/regions/{pk}/", f"{BASE}/regions/{pk}/children/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "detail": "未找到该区域，或者它不在您的管辖范围内。"}
    missing = client.get(f"{BASE}/regions/999999/")
    assert missing.json() == response.json()


def test_anonymous_is_401(people):
    response = APIClient().get(f"{BASE}/regions/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_user_without_roles_sees_nothing(people):
    from governance.services import roles as role_services

    role_services.user_create(username="nobody", password="x-long-password-1")
    client = client_for("nobody")
    assert names(client.get(f"{BASE}/regions/")) == []
    assert client.get(f"{BASE}/regions/{people.regions['谷城县'].pk}/").status_code == 404
