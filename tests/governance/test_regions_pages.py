"""The governance hub and the region browser pages."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import AuditAction, AuditEvent
from tests.governance.regions_fixture import build_people


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="xiangzhi-demo")
    return client


def hub_labels(page: str) -> list[str]:
    hub = page.split('data-testid="governance-hub"', 1)[1].split("</div>\n", 1)[0]
    return re.findall(r"<h2>(.*?)</h2>", hub)


def test_the_home_page_and_the_nav_lead_to_the_hub(county_admin_client):
    page = county_admin_client.get("/").content.decode()
    assert 'class="module-card" href="/governance/" data-module="governance"' in page
    assert 'href="/governance/" class="nav__link' in page
    hub = county_admin_client.get("/governance/").content.decode()
    # Inside the module, its navigation link is the current one.
    assert 'href="/governance/" class="nav__link is-active" aria-current="page"' in hub
    assert 'href="/" class="nav__link is-active"' not in hub  # governance:home is not the home page
    # The old placeholder address still answers and points at the module's own page.
    placeholder = county_admin_client.get("/m/governance/").content.decode()
    assert 'href="/governance/"' in placeholder
    assert "进入组织治理" in placeholder


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("county_admin", ["区域浏览", "户籍与居民", "党组织与党员", "花名册导入", "角色管理", "操作审计"]),
        ("township_admin", ["区域浏览", "户籍与居民", "党组织与党员", "花名册导入", "角色管理", "操作审计"]),
        ("village_secretary", ["区域浏览", "户籍与居民", "党组织与党员", "花名册导入"]),
        ("grid_leader", ["区域浏览", "户籍与居民", "党组织与党员", "花名册导入"]),
        ("canteen_manager", ["区域浏览", "户籍与居民", "党组织与党员"]),
    ],
)
def test_the_hub_shows_what_each_role_may_open(demo_county, username, expected):
    assert reverse("governance:home") == "/governance/"
    page = login(username).get("/governance/").content.decode()
    assert hub_labels(page) == expected
    assert 'href="/governance/regions/"' in page
    assert ('href="/governance/roles/"' in page) is ("角色管理" in expected)


def test_the_hub_without_a_role(demo_county):
    from governance.services import roles as role_services

    role_services.user_create(username="nobody", password="x-long-password-1")
    client = Client()
    assert client.login(username="nobody", password="x-long-password-1")
    page = client.get("/governance/").content.decode()
    assert "您的账号还没有分配角色，暂时看不到任何数据。请联系县委组织部管理员。" in page
    assert 'data-testid="governance-hub"' not in page


def test_browser_starts_at_the_users_top_region(people):
    r = people.regions
    response = login("township_admin").get("/governance/regions/")
    assert response.status_code == 302
    assert response["Location"] == f"/governance/regions/{r['城关镇'].pk}/"
    assert (
        login("grid_leader").get("/governance/regions/")["Location"]
        == f"/governance/regions/{r['第一网格'].pk}/"
    )


def test_browser_lists_several_top_regions_with_their_counts(people):
    from governance.models import User
    from governance.roles import Role
    from governance.services import roles as role_services

    role_services.role_assign(
        user=User.objects.get(username="grid_leader"), role=Role.VIEWER, region=people.regions["民营社区"]
    )
    response = login("grid_leader").get("/governance/regions/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "我的辖区" in page
    assert re.findall(r'data-testid="region-child" data-name="([^"]+)"', page) == ["第一网格", "民营社区"]
    minying = page.split('data-name="民营社区"', 1)[1].split("</a>", 1)[0]
    assert re.findall(r'data-metric="(\w+)"><b>(\d+)</b>', minying) == [
        ("households", "2"),
        ("residents", "3"),
        ("party_members", "1"),
        ("grid_leaders", "1"),
    ]


def test_node_page_shows_counts_children_and_breadcrumb(people):
    r = people.regions
    page = login("township_admin").get(f"/governance/regions/{r['新华村'].pk}/").content.decode()
    assert '<h1 id="region-title">新华村</h1>' in page
    assert '<span class="region-code" data-testid="region-code">420625100201</span>' in page
    counts = re.findall(r'<dd data-metric="(\w+)">(\d+)</dd>', page)
    assert counts == [("households", "3"), ("residents", "7"), ("party_members", "2"), ("grid_leaders", "1")]
    rows = re.findall(r'data-testid="region-child" data-name="([^"]+)"', page)
    assert rows == ["第一网格", "第二网格"]
    first = page.split('data-name="第一网格"', 1)[1].split("</a>", 1)[0]
    assert re.findall(r'data-metric="(\w+)"><b>(\d+)</b>', first) == [
        ("households", "2"),
        ("residents", "5"),
        ("party_members", "2"),
        ("grid_leaders", "1"),
    ]
    crumbs = page.split('data-testid="region-crumbs"', 1)[1].split("</nav>", 1)[0]
    # The breadcrumb starts at the top of the township admin's scope: no link to the county.
    assert f'href="/governance/regions/{r["城关镇"].pk}/">城关镇</a>' in crumbs
    assert "谷城县" not in crumbs
    assert '<span aria-current="page">新华村</span>' in crumbs
    # A township admin may grant roles here.
    assert f'href="/governance/roles/grant/?region={r["新华村"].pk}"' in page


def test_grid_page_has_no_children_and_no_grant_link_for_a_grid_leader(people):
    page = login("grid_leader").get(f"/governance/regions/{people.regions['第一网格'].pk}/").content.decode()
    assert "网格是最小的区域单元，没有下级区域。" in page
    assert "在此授予角色" not in page
    assert re.findall(r'<dd data-metric="(\w+)">(\d+)</dd>', page) == [
        ("households", "2"),
        ("residents", "5"),
        ("party_members", "2"),
        ("grid_leaders", "1"),
    ]


def test_children_sort(people):
    page = (
        login("county_admin")
        .get(f"/governance/regions/{people.regions['谷城县'].pk}/", {"sort": "residents"})
        .content.decode()
    )
    rows = re.findall(r'data-testid="region-child" data-name="([^"]+)"', page)
    assert rows[:2] == ["城关镇", "石花镇"]
    assert 'class="region-sort is-current" aria-current="true">居民从多到少</a>' in page


def test_node_export_to_excel(people):
    response = login("county_admin").get(
        f"/governance/regions/{people.regions['城关镇'].pk}/", {"export": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["名称", "层级", "统计用区划代码", "户数", "居民", "党员", "在任网格长"],
        ["东街社区", "村（社区）", "420625100002", 1, 1, 1, 1],
        ["新华村", "村（社区）", "420625100201", 3, 7, 2, 1],
    ]
    # Counts are not personal data: the export is not an audited personal-data export.
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize(
    ("username", "region"),
    [("township_admin", "民营社区"), ("township_admin", "谷城县"), ("grid_leader", "第二网格")],
)
def test_out_of_scope_node_is_404(people, username, region):
    response = login(username).get(f"/governance/regions/{people.regions[region].pk}/")
    assert response.status_code == 404
    assert "页面不存在，或者不在您的管辖范围内。" in response.content.decode()


def test_search_page(people):
    client = login("township_admin")
    page = client.get("/governance/regions/search/", {"q": "420625100201"}).content.decode()
    assert "“420625100201”：找到 3 个区域" in page
    results = re.findall(
        r'data-testid="search-result">\s*<span class="region-result__name"><strong>(.*?)</strong>', page
    )
    assert results == ["新华村", "第一网格", "第二网格"]
    assert "城关镇 › 新华村 · 420625100201001" in page
    none = client.get("/governance/regions/search/", {"q": "民营"}).content.decode()
    assert "“民营”：找到 0 个区域" in none
    assert "您的管辖范围内没有名称或代码以此开头的区域。" in none
    # The search box on the browser's start page goes to the same results.
    assert client.get("/governance/regions/", {"q": "新华"}).status_code == 200


def test_pages_need_login(db):
    for url in ("/governance/", "/governance/regions/", "/governance/regions/search/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_node_page_shows_the_regions_designations(people):
    """A village's development type and featured-village theme (industry) show on its node page as chips;
    a region without designations shows none."""
    from industry.models import DesignationKind, RegionDesignation

    r = people.regions
    RegionDesignation.objects.create(
        region=r["新华村"], kind=DesignationKind.DEVELOPMENT_TYPE, theme="liveable", designated_year=2022
    )
    RegionDesignation.objects.create(
        region=r["新华村"], kind=DesignationKind.FEATURED_VILLAGE, theme="茶旅特色村"
    )
    page = login("township_admin").get(f"/governance/regions/{r['新华村'].pk}/").content.decode()
    chips = page.split('data-testid="region-designations"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'<span class="ie-tag__kind">([^<]+)</span>([^<]+)', chips) == [
        ("村庄发展类型", "生态宜居村"),
        ("特色村", "茶旅特色村"),
    ]
    assert '<span class="ie-tag__year">2022</span>' in chips
    other = login("township_admin").get(f"/governance/regions/{r['第一网格'].pk}/").content.decode()
    assert 'data-testid="region-designations"' not in other
