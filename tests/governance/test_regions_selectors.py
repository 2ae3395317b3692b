"""The region browser's reads: counts at every node, search, scope, bounded queries, the prefix index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import NotFound
from governance.models import Region, RegionCode, User
from governance.roles import Role
from governance.selectors import regions as region_selectors
from governance.selectors.regions import RegionCounts
from governance.services import roles as role_services
from tests.governance.regions_fixture import build_people


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def test_counts_at_every_node(people):
    admin = _user("county_admin")
    r = people.regions
    county = region_selectors.region_node(user=admin, region_id=r["谷城县"].pk)
    assert county.counts == RegionCounts(households=6, residents=11, party_members=4, grid_leaders=3)
    assert county.ancestors == []
    assert [(c.region.name, c.counts) for c in county.children] == [
        ("城关镇", RegionCounts(4, 8, 3, 2)),
        ("石花镇", RegionCounts(2, 3, 1, 1)),
        ("盛康镇", RegionCounts(0, 0, 0, 0)),
        ("庙滩镇", RegionCounts(0, 0, 0, 0)),
        ("五山镇", RegionCounts(0, 0, 0, 0)),
        ("茨河镇", RegionCounts(0, 0, 0, 0)),
        ("南河镇", RegionCounts(0, 0, 0, 0)),
        ("紫金镇", RegionCounts(0, 0, 0, 0)),
        ("冷集镇", RegionCounts(0, 0, 0, 0)),
        ("赵湾乡", RegionCounts(0, 0, 0, 0)),
    ]
    town = region_selectors.region_node(user=admin, region_id=r["城关镇"].pk)
    assert town.counts == RegionCounts(4, 8, 3, 2)
    # Children come in statistical-code order: 东街社区 420625100002 before 新华村 420625100201.
    assert [(c.region.name, c.counts) for c in town.children] == [
        ("东街社区", RegionCounts(1, 1, 1, 1)),
        ("新华村", RegionCounts(3, 7, 2, 1)),
    ]
    village = region_selectors.region_node(user=admin, region_id=r["新华村"].pk)
    assert village.counts == RegionCounts(3, 7, 2, 1)
    assert [(c.region.name, c.counts) for c in village.children] == [
        ("第一网格", RegionCounts(2, 5, 2, 1)),
        ("第二网格", RegionCounts(1, 2, 0, 0)),
    ]
    grid = region_selectors.region_node(user=admin, region_id=r["第一网格"].pk)
    assert grid.counts == RegionCounts(2, 5, 2, 1)
    assert grid.children == []
    assert [a.name for a in grid.ancestors] == ["谷城县", "城关镇", "新华村"]
    shihua = region_selectors.region_node(user=admin, region_id=r["民营社区"].pk)
    assert shihua.counts == RegionCounts(2, 3, 1, 1)
    assert [(c.region.name, c.counts) for c in shihua.children] == [
        ("民营第一网格", RegionCounts(2, 3, 1, 1))
    ]


def test_breadcrumb_stops_at_the_top_of_the_users_scope(people):
    secretary = _user("village_secretary")
    grid = region_selectors.region_node(user=secretary, region_id=people.regions["第一网格"].pk)
    assert [a.name for a in grid.ancestors] == ["新华村"]
    assert grid.counts == RegionCounts(2, 5, 2, 1)
    township = region_selectors.region_node(
        user=_user("township_admin"), region_id=people.regions["新华村"].pk
    )
    assert [a.name for a in township.ancestors] == ["城关镇"]


def test_out_of_scope_nodes_are_not_found(people):
    r = people.regions
    for username, region in (
        ("township_admin", "谷城县"),
        ("township_admin", "民营社区"),
        ("village_secretary", "城关镇"),
        ("grid_leader", "第二网格"),
        ("canteen_manager", "新华村"),
    ):
        with pytest.raises(NotFound):
            region_selectors.region_node(user=_user(username), region_id=r[region].pk)


def test_roots_are_the_top_of_each_users_scope(people):
    r = people.regions
    assert [x.region.name for x in region_selectors.region_roots_with_counts(user=_user("county_admin"))] == [
        "谷城县"
    ]
    grid_leader = _user("grid_leader")
    # A second, separate assignment adds a second root; one inside the first does not.
    role_services.role_assign(user=grid_leader, role=Role.VIEWER, region=r["民营社区"])
    role_services.role_assign(user=grid_leader, role=Role.VIEWER, region=r["民营第一网格"])
    roots = region_selectors.region_roots_with_counts(user=grid_leader)
    assert [(x.region.name, x.counts) for x in roots] == [
        ("第一网格", RegionCounts(2, 5, 2, 1)),
        ("民营社区", RegionCounts(2, 3, 1, 1)),
    ]


def test_region_counts_for_siblings_and_for_regions_at_different_depths(people):
    r = people.regions
    siblings = [r["第一网格"], r["第二网格"]]
    with CaptureQueriesContext(connection) as queries:
        counts = region_selectors.region_counts(regions=siblings)
    assert len(queries) == 4  # one GROUP BY per metric, whatever the number of siblings
    assert counts == {r["第一网格"].pk: RegionCounts(2, 5, 2, 1), r["第二网格"].pk: RegionCounts(1, 2, 0, 0)}
    mixed = region_selectors.region_counts(regions=[r["东街社区"], r["石花镇"], r["第二网格"]])
    assert mixed == {
        r["东街社区"].pk: RegionCounts(1, 1, 1, 1),
        r["石花镇"].pk: RegionCounts(2, 3, 1, 1),
        r["第二网格"].pk: RegionCounts(1, 2, 0, 0),
    }


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        # the scope's assignments, the region, its children, one GROUP BY per metric (4): no ancestors
        ("谷城县", 7),
        # ... and one query for the ancestors (the breadcrumb)
        ("城关镇", 8),
        ("新华村", 8),
        ("第一网格", 8),
    ],
)
def test_node_queries_are_bounded(people, region, expected):
    admin = _user("county_admin")
    with CaptureQueriesContext(connection) as queries:
        region_selectors.region_node(user=admin, region_id=people.regions[region].pk)
    assert len(queries) == expected


def test_query_count_does_not_grow_with_the_number_of_children(people):
    from governance.models import RegionKind
    from governance.services import regions as region_services

    admin = _user("county_admin")
    village = people.regions["东街社区"]
    with CaptureQueriesContext(connection) as before:
        region_selectors.region_node(user=admin, region_id=village.pk)
    for n in range(2, 12):
        region_services.region_create(parent=village, name=f"东街第{n}网格", kind=RegionKind.GRID)
    with CaptureQueriesContext(connection) as after:
        node = region_selectors.region_node(user=admin, region_id=village.pk)
    assert len(node.children) == 11
    assert len(after) == len(before) == 8


def test_everything_under_a_region_is_one_indexed_prefix_query(people):
    town = people.regions["城关镇"]
    with CaptureQueriesContext(connection) as queries:
        names = set(region_selectors.region_subtree(region=town).values_list("name", flat=True))
    assert names == {"城关镇", "新华村", "第一网格", "第二网格", "东街社区", "东街第一网格"}
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert f"LIKE '{town.path}%'" in sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # The varchar_pattern_ops index serves the prefix LIKE (as a range on the path).
    assert "region_path_prefix_idx" in plan
    assert f"~>=~ '{town.path}'" in plan


def test_search_by_name_or_code_prefix_within_scope(people):
    r = people.regions
    township = _user("township_admin")
    admin = _user("county_admin")

    def names(user: User, q: str) -> list[str]:
        return [x.name for x in region_selectors.region_search(user=user, q=q)]

    assert names(admin, "新华") == ["新华村"]
    assert names(admin, "第") == ["第一网格", "第二网格"]
    assert names(admin, "东街") == ["东街社区", "东街第一网格"]
    # Code prefixes: the whole 新华村 subtree shares 420625100201.
    assert names(admin, "420625100201") == ["新华村", "第一网格", "第二网格"]
    assert names(admin, "420625100201002") == ["第二网格"]
    assert names(admin, "4206251010") == ["石花镇", "民营社区", "民营第一网格"]
    # Prefix, not substring: "华村" starts no name.
    assert names(admin, "华村") == []
    # Within scope only: the township admin of 城关镇 does not find 石花镇's regions.
    assert names(township, "4206251010") == []
    assert names(township, "民营") == []
    assert names(township, "42062510") == [
        "城关镇",
        "东街社区",
        "东街第一网格",
        "新华村",
        "第一网格",
        "第二网格",
    ]
    assert names(_user("canteen_manager"), "第") == []
    assert names(admin, "  ") == []
    assert r["新华村"].code == "420625100201"


def test_search_finds_a_region_by_a_former_code(people):
    admin = _user("county_admin")
    grid = people.regions["第二网格"]
    RegionCode.objects.create(region=grid, code="420625100299001", valid_from=dt.date(2010, 1, 1))
    assert [x.name for x in region_selectors.region_search(user=admin, q="4206251002990")] == ["第二网格"]
    assert Region.objects.get(pk=grid.pk).code == "420625100201002"
