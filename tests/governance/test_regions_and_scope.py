"""The region tree's materialized path and the scope filter every selector uses."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction

from common.errors import DomainError
from governance import access, selectors
from governance.models import Region, RegionKind, RegionLevel, User
from governance.roles import Role
from governance.services import regions as region_services
from governance.services import roles as role_services


def test_paths_follow_the_tree(demo_county):
    county, town, village, grid = (demo_county[n] for n in ("谷城县", "城关镇", "新华村", "第一网格"))
    assert county.path == f"{county.pk}/"
    assert town.path == f"{county.pk}/{town.pk}/"
    assert village.path == f"{town.path}{village.pk}/"
    assert grid.path == f"{village.path}{grid.pk}/"
    assert [r.level for r in (county, town, village, grid)] == ["county", "township", "village", "grid"]
    assert [r.depth for r in (county, town, village, grid)] == [0, 1, 2, 3]


def test_grid_takes_no_children(demo_county):
    with pytest.raises(DomainError) as raised:
        region_services.region_create(parent=demo_county["第一网格"], name="子网格", kind=RegionKind.GRID)
    assert raised.value.code == "region_grid_has_no_children"
    assert raised.value.message == "网格下不能再设下级区域。"


def test_duplicate_name_under_one_parent_is_refused(demo_county):
    with pytest.raises(DomainError) as raised:
        region_services.region_create(parent=demo_county["城关镇"], name="新华村", kind=RegionKind.VILLAGE)
    assert raised.value.message == "“城关镇”下已有名为“新华村”的区域。"
    assert raised.value.field == "name"


def test_database_refuses_a_second_county_root(demo_county):
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(
            parent=None, level=RegionLevel.TOWNSHIP, kind=RegionKind.TOWN, name="x", path="x/"
        )


def test_scope_reaches_the_whole_subtree_and_nothing_else(demo_county):
    secretary = User.objects.get(username="village_secretary")
    visible = set(selectors.region_list_visible(user=secretary).values_list("name", flat=True))
    assert visible == {"新华村", "第一网格"}
    township = User.objects.get(username="township_admin")
    assert set(selectors.region_list_visible(user=township).values_list("name", flat=True)) == {
        "城关镇",
        "新华村",
        "第一网格",
    }
    county = User.objects.get(username="county_admin")
    assert selectors.region_list_visible(user=county).count() == Region.objects.count() == 16


def test_no_role_sees_nothing(demo_county):
    nobody = role_services.user_create(username="nobody", password="x-long-password-1")
    assert selectors.region_list_visible(user=nobody).count() == 0
    assert selectors.region_list_visible(user=AnonymousUser()).count() == 0


def test_nested_assignments_collapse_to_the_outermost(demo_county):
    user = User.objects.get(username="township_admin")
    role_services.role_assign(user=user, role=Role.VIEWER, region=demo_county["新华村"])
    q = access.scope_q(user)
    assert len(q.children) == 1
    assert selectors.region_list_visible(user=user).count() == 3


def test_role_assign_is_idempotent(demo_county):
    user = User.objects.get(username="grid_leader")
    first = role_services.role_assign(user=user, role=Role.GRID_LEADER, region=demo_county["第一网格"])
    again = role_services.role_assign(user=user, role=Role.GRID_LEADER, region=demo_county["第一网格"])
    assert first.pk == again.pk


def test_subtree_filter_uses_the_path_index(demo_county):
    """On PostgreSQL the prefix LIKE is served by the varchar_pattern_ops index."""
    town = demo_county["城关镇"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Region.objects.filter(path__startswith=town.path).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "region_path_prefix_idx" in plan
