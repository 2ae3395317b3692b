"""industry/admin.py: every industry model is listed; reference data (chains, links, products,
thresholds, designations) is editable with an audit row, sales records never (append-only), the rest is
read-only; a designation saved in the admin obeys the same rules as the pages."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from governance.models import AuditEvent
from industry import models
from industry.models import CollectiveThreshold, RegionDesignation
from tests.industry.factories_places import PASSWORD, places_world

pytestmark = pytest.mark.django_db

EDITABLE = {"industrychain", "chainlink", "product", "collectivethreshold", "regiondesignation"}


@pytest.fixture
def world(demo_county):
    return places_world(demo_county, incomes=False)


def test_every_model_registered_and_who_may_write(world):
    client = Client()
    assert client.login(username="county_admin", password=PASSWORD)
    names = [name for name in models.__all__ if hasattr(getattr(models, name), "_meta")]
    concrete = [getattr(models, n) for n in names if not getattr(models, n)._meta.abstract]
    concrete = [m for m in concrete if "ObjectPermission" not in m.__name__]
    for model in concrete:
        assert model in admin.site._registry, model.__name__
        model_name = model._meta.model_name
        changelist = client.get(f"/admin/industry/{model_name}/")
        assert changelist.status_code == 200, model_name
        add = client.get(f"/admin/industry/{model_name}/add/")
        assert add.status_code == (200 if model_name in EDITABLE else 403), model_name
    sales = admin.site._registry[models.SalesRecord]
    request = client.get("/admin/").wsgi_request
    assert (
        sales.has_add_permission(request),
        sales.has_change_permission(request),
        sales.has_delete_permission(request),
    ) == (
        False,
        False,
        False,
    )


def test_threshold_and_designation_through_the_admin(world):
    client = Client()
    assert client.login(username="county_admin", password=PASSWORD)
    saved = client.post(
        "/admin/industry/collectivethreshold/add/",
        {"year": 2025, "weak_below_fen": 10_000_000, "strong_from_fen": 50_000_000},
    )
    assert saved.status_code == 302
    threshold = CollectiveThreshold.objects.get(year=2025)
    assert AuditEvent.objects.filter(
        object_type="industry.collectivethreshold", object_id=str(threshold.pk)
    ).exists()
    bad = client.post(
        "/admin/industry/regiondesignation/add/",
        {"region": world.r["新华村"].pk, "kind": "development_type", "theme": "小康村"},
    )
    assert bad.status_code == 200
    assert (
        "村庄发展类型只能是：红色美丽村、绿色发展村、乡风文明村、和谐善治村、生态宜居村。"
        in bad.content.decode()
    )
    wrong_level = client.post(
        "/admin/industry/regiondesignation/add/",
        {"region": world.r["新华村"].pk, "kind": "featured_town", "theme": "茶旅小镇"},
    )
    assert "特色乡镇须命名在乡镇上。" in wrong_level.content.decode()
    good = client.post(
        "/admin/industry/regiondesignation/add/",
        {"region": world.r["新华村"].pk, "kind": "development_type", "theme": "生态宜居村"},
    )
    assert good.status_code == 302
    assert RegionDesignation.objects.get(region=world.r["新华村"]).theme == "liveable"
