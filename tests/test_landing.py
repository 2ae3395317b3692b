"""After logging in each demo role lands where its day starts (common.views.landing)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "landing"),
    [
        ("county_admin", "/"),
        ("township_admin", "/points/start/"),
        ("village_secretary", "/grids/queue/"),
        ("grid_leader", "/grids/"),
        ("canteen_manager", "/canteens/start/"),
    ],
)
def test_login_lands_by_role(demo_county, demo_password, username, landing):
    client = Client()
    response = client.post("/login/", {"username": username, "password": demo_password})
    assert response.status_code == 302
    assert response["Location"] == "/start/"
    response = client.get("/start/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_login_keeps_an_explicit_next(demo_county, demo_password):
    client = Client()
    response = client.post(
        "/login/?next=/governance/regions/", {"username": "grid_leader", "password": demo_password}
    )
    assert response["Location"] == "/governance/regions/"


def test_landing_needs_a_login():
    response = Client().get("/start/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
