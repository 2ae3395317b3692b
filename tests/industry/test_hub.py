"""The industry hub (/industry/): links by role, figures of the reader's scope, the polite empty page for
someone without an industry role, the navigation entry, and the money filters every industry page uses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from common.modules import MODULES_BY_SLUG
from industry.models import CollectiveIncome, CollectiveThreshold
from industry.templatetags.industry_tags import count_cn, url_or_blank, yuan, yuan_big, yuan_wan, yuan_yi
from industry.views.hub import hub_figures
from tests.industry.factories import CG_TOTAL, SH_TOTAL, IndustryWorld, industry_world, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_county) -> IndustryWorld:
    return industry_world(demo_county)


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def keys(response) -> set[str]:
    return {link.key for group in response.context["groups"] for link in group.links}


def test_the_module_entry_points_at_the_hub():
    assert MODULES_BY_SLUG["industry"].url == "/industry/" == reverse("industry:home")


def test_county_admin_sees_every_area_and_the_county_figures(world):
    year = today().year
    CollectiveThreshold.objects.create(year=year - 1, weak_below_fen=10_000_000)
    for village, fen in (("新华村", 8_000_000), ("民营社区", 12_000_000), ("花圃村", 9_999_999)):
        CollectiveIncome.objects.create(
            village=world.regions[village], year=year - 1, source="land_rent", amount_fen=fen
        )
    response = client_for("county_admin").get(reverse("industry:home"))
    assert response.status_code == 200
    assert {"go-events", "go-sales", "go-imports", "go-products", "go-economy", "go-businesses"} <= keys(
        response
    )
    figures = response.context["figures"]
    events_this_year = sum(1 for e in (world.chengguan_event, world.shihua_event) if e.starts_on.year == year)
    assert figures.events == events_this_year
    assert figures.businesses == 6
    assert (figures.weak_villages, figures.weak_year) == (2, year - 1)
    if events_this_year == 2:
        assert figures.sales_fen == SH_TOTAL + CG_TOTAL
        assert figures.products_sold == 3
    html = response.content.decode()
    assert 'data-testid="fig-weak">2<' in html
    assert [e.name for e in response.context["running"]] == ["城关镇农旅展览会"]


def test_township_admin_sees_its_town(world):
    response = client_for("township_admin").get(reverse("industry:home"))
    assert {"go-events", "go-sales", "go-imports", "go-businesses", "go-economy"} <= keys(response)
    figures = hub_figures(response.wsgi_request.user)
    assert figures.businesses == 3
    assert figures.events == 1
    assert figures.sales_fen == CG_TOTAL
    assert [e.name for e in response.context["running"]] == ["城关镇农旅展览会"]


def test_village_secretary_sees_the_village_work_not_events(world):
    response = client_for("village_secretary").get(reverse("industry:home"))
    present = keys(response)
    assert "go-sales" not in present
    assert "go-imports" not in present
    assert "go-businesses" in present
    assert response.context["running"] == []
    assert hub_figures(response.wsgi_request.user).businesses == 3


def test_organiser_sees_its_event_only(world):
    response = client_for("expo_organiser").get(reverse("industry:home"))
    assert response.status_code == 200
    present = keys(response)
    assert {"go-events", "go-sales"} <= present
    assert "go-economy" not in present
    figures = hub_figures(response.wsgi_request.user)
    assert figures.sales_fen == SH_TOTAL
    assert figures.businesses == 2  # the two exhibiting at its event


def test_someone_without_an_industry_role_gets_a_polite_page(world):
    for username in ("grid_leader", "canteen_manager"):
        response = client_for(username).get(reverse("industry:home"))
        assert response.status_code == 200
        assert response.context["empty"] is True
        assert "您的账号没有产业发展方面的角色" in response.content.decode()
    get_user_model().objects.create_user(username="nobody", password="x-long-password-1")
    client = Client()
    client.login(username="nobody", password="x-long-password-1")
    assert client.get(reverse("industry:events")).context["empty"] is True
    assert client.get(reverse("industry:products")).context["empty"] is True
    assert Client().get(reverse("industry:home")).status_code == 302  # log in first


def test_money_and_count_filters():
    assert yuan(123450) == "¥1,234.50"
    assert yuan(-5) == "-¥0.05"
    assert yuan(None) == "—"
    assert yuan_wan(1_234_567) == "1.23 万元"
    assert yuan_yi(32_000_000_000) == "3.20 亿元"
    assert yuan_big(32_000_000_000) == "3.2 亿元"
    assert yuan_big(12_345_000) == "12.3 万元"
    assert yuan_big(1_000_000) == "1.0 万元"
    assert yuan_big(98_000) == "¥980.00"
    assert count_cn(1234) == "1,234"
    with translation.override("en"):
        assert yuan_big(32_000_000_000) == "¥320.0 million"
        assert yuan_big(712_070_000_00) == "¥712.1 million"
        assert yuan_big(3_200_000_000_00) == "¥3.2 billion"
        assert yuan_big(12_345_00) == "¥12,345.00"
        assert yuan_wan(1_234_567) == "¥12,345.67"
        assert yuan_yi(32_000_000_000) == "¥320.00 million"
    assert count_cn(Decimal("12.50")) == "12.5"
    assert count_cn(Decimal("3.00")) == "3"
    assert url_or_blank("industry:no-such-page") == ""
    assert url_or_blank("industry:event-detail", 7) == "/industry/events/7/"
