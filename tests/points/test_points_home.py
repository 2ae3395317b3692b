"""The points hub (/points/, points:home) per role, the module card, and the township admin's landing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from common.modules import MODULES_BY_SLUG
from points.models import DayStatus, RedemptionDay
from tests.points.factories import points_world  # noqa: F401


def _hub(username: str) -> tuple[int, str]:
    client = Client()
    client.login(username=username, password="xiangzhi-demo")
    response = client.get("/points/")
    return response.status_code, response.content.decode()


def test_module_points_at_the_hub(db):
    assert MODULES_BY_SLUG["points"].url == "/points/"


@pytest.mark.parametrize(
    ("username", "present", "absent", "primary"),
    [
        ("grid_leader", ["propose", "board", "rules"], ["review", "till", "reports"], "propose"),
        ("village_secretary", ["propose", "review", "evaluations", "reports", "board"], ["till"], "review"),
        ("township_admin", ["till", "review", "reports", "board"], [], "till"),
        ("county_admin", ["review", "reports", "evaluations"], ["till"], "reports"),
        ("till_clerk", ["till"], ["review", "reports", "board"], "till"),
    ],
)
def test_hub_links_by_role(points_world, username, present, absent, primary):  # noqa: F811
    status, html = _hub(username)
    assert status == 200
    for key in present:
        assert f'data-hub="{key}"' in html, key
    for key in absent:
        assert f'data-hub="{key}"' not in html, key
    assert 'ph-link--primary" href' in html
    assert html.index("ph-link--primary") < html.index(f'data-hub="{primary}"')


def test_hub_without_points_role(points_world):  # noqa: F811
    status, html = _hub("canteen_manager")
    assert status == 200
    assert 'data-testid="points-hub-empty"' in html
    assert Client().get("/points/").status_code == 302


def test_township_admin_lands_on_the_open_till(points_world):  # noqa: F811
    w = points_world
    client = Client()
    client.login(username="township_admin", password="xiangzhi-demo")
    assert client.get("/start/")["Location"] == "/points/start/"
    assert client.get("/points/start/")["Location"] == "/points/"
    day = RedemptionDay.objects.create(
        store=w.stores["城关镇"], date=timezone.localdate(), status=DayStatus.OPEN, opened_at=timezone.now()
    )
    RedemptionDay.objects.create(store=w.stores["城关镇"], date=timezone.localdate() - dt.timedelta(days=1))
    assert client.get("/points/start/")["Location"] == f"/points/till/{day.pk}/"
    # Another township's open day is not theirs.
    RedemptionDay.objects.filter(pk=day.pk).update(status=DayStatus.CLOSED)
    RedemptionDay.objects.create(store=w.stores["石花镇"], date=timezone.localdate(), status=DayStatus.OPEN)
    assert client.get("/points/start/")["Location"] == "/points/"
