"""Writes of the region tree: statistical codes with validity dates, and moving a grid with its history."""

from __future__ import annotations

import datetime as dt

import pytest

from common.errors import DomainError, NotFound
from governance.models import AuditAction, AuditEvent, Region, RegionCode, RegionKind, RegionMove, User
from governance.selectors import regions as region_selectors
from governance.selectors.regions import RegionCounts
from governance.services import regions as region_services
from tests.governance.regions_fixture import build_people


@pytest.fixture
def people(demo_county):
    return build_people(demo_county)


def _user(username: str) -> User:
    return User.objects.get(username=username)


# ---------- region codes ----------


def test_region_create_with_a_start_date_opens_the_first_code_period(demo_county):
    grid = region_services.region_create(
        parent=demo_county["新华村"],
        name="第三网格",
        kind=RegionKind.GRID,
        code="420625100201003",
        valid_from=dt.date(2021, 3, 1),
    )
    assert list(RegionCode.objects.filter(region=grid).values_list("code", "valid_from", "valid_to")) == [
        ("420625100201003", dt.date(2021, 3, 1), None)
    ]


def test_code_change_closes_the_old_period_and_opens_the_new_one(demo_county):
    admin = _user("county_admin")
    village = demo_county["新华村"]
    first = region_services.region_code_change(
        actor=admin, region=village, code="420625100202", valid_from=dt.date(2024, 1, 1)
    )
    second = region_services.region_code_change(
        actor=admin, region=village, code="420625100203", valid_from=dt.date(2025, 7, 1)
    )
    village.refresh_from_db()
    assert village.code == "420625100203"
    history = list(
        RegionCode.objects.filter(region=village)
        .order_by("valid_from")
        .values_list("code", "valid_from", "valid_to")
    )
    # The code in use before the first change had no period (seeded without a start date): it is
    # back-filled, beginning the day before the change, and closed on the change's date.
    assert history == [
        ("420625100201", dt.date(2023, 12, 31), dt.date(2024, 1, 1)),
        ("420625100202", dt.date(2024, 1, 1), dt.date(2025, 7, 1)),
        ("420625100203", dt.date(2025, 7, 1), None),
    ]
    assert (first.code, second.code) == ("420625100202", "420625100203")
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(village.pk)).latest("id")
    assert event.changes == {"code": ["420625100202", "420625100203"]}
    assert event.detail == "区划代码自 2025-07-01 起变更"
    assert event.actor_name == "李华"
    assert event.region_path == village.path


def test_code_change_back_fills_from_the_regions_own_start(demo_county):
    admin = _user("county_admin")
    grid = demo_county["第一网格"]
    Region.objects.filter(pk=grid.pk).update(valid_from=dt.date(2015, 5, 1))
    region_services.region_code_change(
        actor=admin, region=grid, code="420625100201009", valid_from=dt.date(2024, 1, 1)
    )
    assert list(
        RegionCode.objects.filter(region=grid)
        .order_by("valid_from")
        .values_list("code", "valid_from", "valid_to")
    ) == [
        ("420625100201001", dt.date(2015, 5, 1), dt.date(2024, 1, 1)),
        ("420625100201009", dt.date(2024, 1, 1), None),
    ]


@pytest.mark.parametrize(
    ("region", "code", "valid_from", "message", "field"),
    [
        ("新华村", "4206251002", dt.date(2024, 1, 1), "村（社区）的统计用区划代码应为12位数字。", "code"),
        ("第一网格", "420625100201", dt.date(2024, 1, 1), "网格的统计用区划代码应为15位数字。", "code"),
        ("新华村", "42062510020A", dt.date(2024, 1, 1), "村（社区）的统计用区划代码应为12位数字。", "code"),
        ("新华村", "420625100201", dt.date(2024, 1, 1), "新代码与现用代码相同。", "code"),
        (
            "新华村",
            "420625101002",
            dt.date(2024, 1, 1),
            "代码 420625101002 正被其他区域使用，不能重复启用。",
            "code",
        ),
    ],
)
def test_code_change_refusals(demo_county, region, code, valid_from, message, field):
    with pytest.raises(DomainError) as raised:
        region_services.region_code_change(
            actor=_user("county_admin"), region=demo_county[region], code=code, valid_from=valid_from
        )
    assert (raised.value.message, raised.value.field) == (message, field)
    assert RegionCode.objects.filter(region=demo_county[region]).count() == 0


def test_code_change_must_start_after_the_current_period(demo_county):
    admin = _user("county_admin")
    village = demo_county["新华村"]
    region_services.region_code_change(
        actor=admin, region=village, code="420625100202", valid_from=dt.date(2024, 1, 1)
    )
    with pytest.raises(DomainError) as raised:
        region_services.region_code_change(
            actor=admin, region=village, code="420625100203", valid_from=dt.date(2024, 1, 1)
        )
    assert raised.value.message == "启用日期须晚于现用代码的启用日期（2024-01-01）。"
    assert raised.value.field == "valid_from"
    village.refresh_from_db()
    assert village.code == "420625100202"


def test_code_change_outside_the_editors_reach_is_not_found(demo_county):
    with pytest.raises(NotFound):
        region_services.region_code_change(
            actor=_user("township_admin"),
            region=demo_county["民营社区"],
            code="420625101009",
            valid_from=dt.date(2024, 1, 1),
        )
    # A village secretary holds no editing role, even over the village.
    with pytest.raises(NotFound):
        region_services.region_code_change(
            actor=_user("village_secretary"),
            region=demo_county["新华村"],
            code="420625100209",
            valid_from=dt.date(2024, 1, 1),
        )


# ---------- moving a grid ----------


def test_grid_move_rewrites_the_path_keeps_history_and_counts_follow(people):
    admin = _user("county_admin")
    r = people.regions
    grid = r["第二网格"]
    old_path = grid.path
    move = region_services.region_grid_move(
        actor=admin, grid=grid, to_village=r["东街社区"], reason="村界调整：第二网格并入东街社区"
    )
    grid.refresh_from_db()
    assert grid.parent_id == r["东街社区"].pk
    assert grid.path == f"{r['东街社区'].path}{grid.pk}/"
    assert (move.old_path, move.new_path) == (old_path, grid.path)
    assert (move.from_parent_id, move.to_parent_id) == (r["新华村"].pk, r["东街社区"].pk)
    assert move.moved_by_id == admin.pk
    assert move.reason == "村界调整：第二网格并入东街社区"
    assert list(RegionMove.objects.filter(region=grid).values_list("old_path", "new_path")) == [
        (old_path, grid.path)
    ]
    event = AuditEvent.objects.get(action=AuditAction.MOVE, object_id=str(grid.pk))
    assert event.changes == {"parent": ["新华村", "东街社区"], "path": [old_path, grid.path]}
    assert event.detail == "村界调整：第二网格并入东街社区"
    assert event.region_path == grid.path
    assert event.object_type == "governance.region"
    # The household on the grid follows it: counts move from 新华村 to 东街社区, 城关镇 is unchanged.
    node = region_selectors.region_node(user=admin, region_id=r["城关镇"].pk)
    assert node.counts == RegionCounts(4, 8, 3, 2)
    assert {c.region.name: c.counts for c in node.children} == {
        "新华村": RegionCounts(2, 5, 2, 1),
        "东街社区": RegionCounts(2, 3, 1, 1),
    }
    # Scope follows the path too: the village secretary of 新华村 no longer reaches the grid.
    with pytest.raises(NotFound):
        region_selectors.region_node(user=_user("village_secretary"), region_id=grid.pk)


def test_grid_move_across_townships_and_back_keeps_every_move(people):
    admin = _user("county_admin")
    r = people.regions
    grid = r["第一网格"]
    first_path = grid.path
    region_services.region_grid_move(actor=admin, grid=grid, to_village=r["民营社区"], reason="试点调整")
    grid.refresh_from_db()
    assert grid.path == f"{r['民营社区'].path}{grid.pk}/"
    assert grid.path.startswith(r["石花镇"].path)
    region_services.region_grid_move(
        actor=admin, grid=grid, to_village=r["新华村"], reason="试点结束，恢复原属"
    )
    grid.refresh_from_db()
    assert grid.path == first_path
    assert list(
        RegionMove.objects.filter(region=grid).order_by("id").values_list("old_path", "new_path", "reason")
    ) == [
        (first_path, f"{r['民营社区'].path}{grid.pk}/", "试点调整"),
        (f"{r['民营社区'].path}{grid.pk}/", first_path, "试点结束，恢复原属"),
    ]
    assert AuditEvent.objects.filter(action=AuditAction.MOVE, object_id=str(grid.pk)).count() == 2


def test_the_path_update_is_one_statement_on_the_old_prefix_for_the_whole_subtree(people):
    """Grids have no children, but the rewrite is general: moving a subtree rewrites every path under it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = _user("county_admin")
    r = people.regions
    with CaptureQueriesContext(connection) as queries:
        region_services.region_grid_move(
            actor=admin, grid=r["第一网格"], to_village=r["东街社区"], reason="调整"
        )
    updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "governance_region"')
    ]
    assert len(updates) == 2  # the parent, then every path under the old prefix at once
    assert f"LIKE '{r['第一网格'].path}%'" in updates[1]
    # The same statement on a deeper prefix moves a whole village's subtree, whatever its depth.
    village, town = r["新华村"], r["石花镇"]
    old_prefix, new_prefix = village.path, f"{town.path}{village.pk}/"
    from django.db.models import F, Value
    from django.db.models.functions import Concat, Substr

    Region.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr(F("path"), len(old_prefix) + 1))
    )
    assert Region.objects.get(pk=r["第二网格"].pk).path == f"{new_prefix}{r['第二网格'].pk}/"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("城关镇", "网格只能调整到村（社区）下，“城关镇”不是村（社区）。"),
        ("东街第一网格", "网格只能调整到村（社区）下，“东街第一网格”不是村（社区）。"),
        ("谷城县", "网格只能调整到村（社区）下，“谷城县”不是村（社区）。"),
        ("新华村", "“第二网格”已在“新华村”下。"),
    ],
)
def test_grid_move_refusals(people, target, message):
    r = people.regions
    before = r["第二网格"].path
    with pytest.raises(DomainError) as raised:
        region_services.region_grid_move(
            actor=_user("county_admin"), grid=r["第二网格"], to_village=r[target], reason="调整"
        )
    assert raised.value.message == message
    assert raised.value.field == "to_village"
    assert Region.objects.get(pk=r["第二网格"].pk).path == before
    assert RegionMove.objects.count() == 0


def test_grid_move_needs_a_reason_a_grid_and_a_free_name(people):
    admin = _user("county_admin")
    r = people.regions
    with pytest.raises(DomainError) as raised:
        region_services.region_grid_move(
            actor=admin, grid=r["第二网格"], to_village=r["东街社区"], reason="  "
        )
    assert (raised.value.message, raised.value.field) == ("请填写调整原因。", "reason")
    with pytest.raises(DomainError) as raised:
        region_services.region_grid_move(
            actor=admin, grid=r["新华村"], to_village=r["东街社区"], reason="调整"
        )
    assert raised.value.message == "只能调整网格的归属。"
    region_services.region_create(parent=r["东街社区"], name="第二网格", kind=RegionKind.GRID)
    with pytest.raises(DomainError) as raised:
        region_services.region_grid_move(
            actor=admin, grid=r["第二网格"], to_village=r["东街社区"], reason="调整"
        )
    assert raised.value.message == "“东街社区”下已有名为“第二网格”的区域。"


def test_grid_move_scope(people):
    r = people.regions
    township = _user("township_admin")
    # A township admin re-zones grids inside the township...
    region_services.region_grid_move(
        actor=township, grid=r["第二网格"], to_village=r["东街社区"], reason="调整"
    )
    # ...but not into another township, nor a grid of another township, nor as a village secretary.
    with pytest.raises(NotFound):
        region_services.region_grid_move(
            actor=township, grid=r["第一网格"], to_village=r["民营社区"], reason="调整"
        )
    with pytest.raises(NotFound):
        region_services.region_grid_move(
            actor=township, grid=r["民营第一网格"], to_village=r["新华村"], reason="调整"
        )
    with pytest.raises(NotFound):
        region_services.region_grid_move(
            actor=_user("village_secretary"), grid=r["第一网格"], to_village=r["东街社区"], reason="调整"
        )
    assert RegionMove.objects.count() == 1
