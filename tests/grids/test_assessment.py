"""The assessment (考核): exact rates per grid, village and township, the scope of each role, the heat
map, a constant number of queries whatever the number of cases, the page, its export and the API.

Most cases here are direct rows (`case_row`): the assessment reads only the flags the workflow stores
(signed_on_time, resolved_on_time, satisfaction, rehandle_count, resolved_at, resolve_deadline), and
setting each combination by walking the workflow under a frozen clock would test the workflow, not the
arithmetic. `test_a_case_walked_through_the_services_is_counted` checks that a case moved by the real
services lands in the same counters.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from common.errors import DomainError, NotFound
from grids.models import Case, CaseStatus, HandlingLevel, Satisfaction
from grids.selectors.assessment import (
    AssessmentFilters,
    Tally,
    assessment_report,
    percent_display,
    rate,
)
from tests.grids.factories import PASSWORD, GridsWorld, case_bring_to, case_make, grids_world_make

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
NOW = timezone.make_aware(dt.datetime(2026, 1, 10, 12, 0))
_numbers = itertools.count(1)


@pytest.fixture
def world(demo_county) -> GridsWorld:
    return grids_world_make(demo_county)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def case_row(
    world: GridsWorld,
    grid: str,
    *,
    filed: dt.date = dt.date(2025, 6, 1),
    category: str = "road",
    status: str = CaseStatus.SUBMITTED,
    signed_on_time: bool | None = None,
    resolved_on_time: bool | None = None,
    resolved: bool = False,
    satisfaction: str = "",
    rehandle_count: int = 0,
    resolve_deadline: dt.datetime | None = None,
) -> Case:
    """A case row written directly with the stored flags given (see the module docstring)."""
    grid_row = world.regions[grid]
    assert grid_row.parent is not None
    number = next(_numbers)
    return Case.objects.create(
        number=f"TA{number:06d}",
        category=world.categories[category],
        description="测试用诉求",
        grid=grid_row,
        reporter=world.users["county_admin"],
        idempotency_key=f"assessment-{number}",
        status=status,
        level=HandlingLevel.VILLAGE,
        handling_region=grid_row.parent,
        filed_at=at(filed),
        signed_on_time=signed_on_time,
        resolved_on_time=resolved_on_time,
        resolved_at=at(filed + dt.timedelta(days=3)) if resolved else None,
        satisfaction=satisfaction,
        rehandle_count=rehandle_count,
        resolve_deadline=resolve_deadline,
    )


@pytest.fixture
def cases(world) -> GridsWorld:
    """Nine cases in 2025 and one in 2024 (outside the range):

    第一网格  A signed ✓ resolved ✓ 满意 · B signed ✓ resolved ✗ 基本满意 re-handled once ·
              C signed ✗ resolved ✓ 不满意 re-handled twice · D signed ✓, open, past its deadline ·
              E just filed · (J filed in 2024)
    第二网格  F signed ✓ resolved ✓ 满意 · G signed ✗
    东街第一网格 H signed ✓ resolved ✓ 基本满意 (category "boundary")
    民营第一网格 I signed ✗ resolved ✗ 不满意 re-handled once
    """
    S = Satisfaction
    case_row(
        world,
        "第一网格",
        status=CaseStatus.CLOSED,
        signed_on_time=True,
        resolved_on_time=True,
        resolved=True,
        satisfaction=S.SATISFIED,
    )
    case_row(
        world,
        "第一网格",
        status=CaseStatus.CLOSED,
        signed_on_time=True,
        resolved_on_time=False,
        resolved=True,
        satisfaction=S.BASICALLY,
        rehandle_count=1,
    )
    case_row(
        world,
        "第一网格",
        status=CaseStatus.REOPENED,
        signed_on_time=False,
        resolved_on_time=True,
        resolved=True,
        satisfaction=S.UNSATISFIED,
        rehandle_count=2,
    )
    case_row(
        world,
        "第一网格",
        status=CaseStatus.IN_PROGRESS,
        signed_on_time=True,
        resolve_deadline=NOW - dt.timedelta(days=2),
    )
    case_row(world, "第一网格")
    case_row(
        world,
        "第一网格",
        filed=dt.date(2024, 12, 31),
        signed_on_time=True,
        resolved_on_time=True,
        resolved=True,
        satisfaction=S.SATISFIED,
    )
    case_row(
        world,
        "第二网格",
        status=CaseStatus.FOLLOWED_UP,
        signed_on_time=True,
        resolved_on_time=True,
        resolved=True,
        satisfaction=S.SATISFIED,
    )
    case_row(
        world,
        "第二网格",
        status=CaseStatus.ASSIGNED,
        signed_on_time=False,
        resolve_deadline=timezone.now() + dt.timedelta(days=30),
    )
    case_row(
        world,
        "东街第一网格",
        category="boundary",
        status=CaseStatus.CLOSED,
        signed_on_time=True,
        resolved_on_time=True,
        resolved=True,
        satisfaction=S.BASICALLY,
    )
    case_row(
        world,
        "民营第一网格",
        status=CaseStatus.CLOSED,
        signed_on_time=False,
        resolved_on_time=False,
        resolved=True,
        satisfaction=S.UNSATISFIED,
        rehandle_count=1,
    )
    return world


def report(world: GridsWorld, user: str = "county_admin", region: str | None = None, **kwargs):
    filters = AssessmentFilters(
        date_from=kwargs.pop("date_from", YEAR[0]),
        date_to=kwargs.pop("date_to", YEAR[1]),
        region_id=world.regions[region].pk if region else None,
        **kwargs,
    )
    return assessment_report(user=world.users[user], filters=filters, now=NOW)


def shown(tally: Tally) -> tuple:
    """filed, the four rates as displayed, overdue."""
    return (
        tally.filed,
        tally.sign_rate_display,
        tally.resolve_rate_display,
        tally.satisfaction_rate_display,
        tally.rehandle_rate_display,
        tally.overdue,
    )


def counts(tally: Tally) -> tuple:
    return (
        tally.signed_on_time,
        tally.signed,
        tally.resolved_on_time,
        tally.resolved,
        tally.satisfied,
        tally.followed_up,
        tally.rehandled,
        tally.rehandle_base,
    )


# ---------------------------------------------------------------------------------------------------------
# Arithmetic


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected", "text"),
    [
        (2, 3, Decimal("66.7"), "66.7%"),
        (1, 3, Decimal("33.3"), "33.3%"),
        (1, 8, Decimal("12.5"), "12.5%"),
        (5, 7, Decimal("71.4"), "71.4%"),
        (187, 200, Decimal("93.5"), "93.5%"),
        (1, 16, Decimal("6.3"), "6.3%"),  # 6.25 rounds half up
        (3, 3, Decimal("100.0"), "100.0%"),
        (0, 4, Decimal("0.0"), "0.0%"),
        (0, 0, None, "—"),
    ],
)
def test_rates_are_percentages_with_one_decimal(numerator, denominator, expected, text):
    assert rate(numerator, denominator) == expected
    assert percent_display(rate(numerator, denominator)) == text


# ---------------------------------------------------------------------------------------------------------
# Exact values at each level


def test_a_village_one_row_per_grid_with_its_leader(cases):
    result = report(cases, region="新华村")
    assert result.child_level == "grid"
    rows = {row.name: row for row in result.rows}
    assert list(rows) == ["第一网格", "第二网格"]
    first, second = rows["第一网格"], rows["第二网格"]
    assert (first.leader, second.leader) == ("王秀英", "")
    assert shown(first.tally) == (5, "75.0%", "66.7%", "66.7%", "66.7%", 2)
    assert counts(first.tally) == (3, 4, 2, 3, 2, 3, 2, 3)
    assert shown(second.tally) == (2, "50.0%", "100.0%", "100.0%", "0.0%", 0)
    assert counts(second.tally) == (1, 2, 1, 1, 1, 1, 0, 1)
    assert shown(result.total) == (7, "66.7%", "75.0%", "75.0%", "50.0%", 2)
    assert [row.drillable for row in result.rows] == [False, False]


def test_a_township_one_row_per_village(cases):
    result = report(cases, region="城关镇")
    assert result.child_level == "village"
    rows = {row.name: row.tally for row in result.rows}
    assert list(rows) == ["东街社区", "新华村"]  # by statistical code
    assert shown(rows["新华村"]) == (7, "66.7%", "75.0%", "75.0%", "50.0%", 2)
    assert shown(rows["东街社区"]) == (1, "100.0%", "100.0%", "100.0%", "0.0%", 0)
    assert shown(result.total) == (8, "71.4%", "80.0%", "80.0%", "40.0%", 2)


def test_the_county_one_row_per_township_empty_ones_show_a_dash(cases):
    result = report(cases)
    assert result.root.name == "谷城县"
    assert result.child_level == "township"
    rows = {row.name: row.tally for row in result.rows}
    assert len(rows) == 10
    assert shown(rows["城关镇"]) == (8, "71.4%", "80.0%", "80.0%", "40.0%", 2)
    assert shown(rows["石花镇"]) == (1, "0.0%", "0.0%", "0.0%", "100.0%", 1)
    assert shown(rows["紫金镇"]) == (0, "—", "—", "—", "—", 0)
    assert shown(result.total) == (9, "62.5%", "66.7%", "66.7%", "50.0%", 3)


def test_both_ways_of_naming_the_grids_count_the_same(cases, monkeypatch):
    # A county's thousands of grids go to PostgreSQL as a semi-join, a township's as "= ANY(array)".
    expected = shown(report(cases).total)
    monkeypatch.setattr("grids.selectors.assessment.SCAN_FROM_GRIDS", 1)
    assert shown(report(cases).total) == expected == (9, "62.5%", "66.7%", "66.7%", "50.0%", 3)
    assert shown(report(cases, region="新华村").total) == (7, "66.7%", "75.0%", "75.0%", "50.0%", 2)


def test_a_grid_shows_its_own_row(cases):
    result = report(cases, region="第一网格")
    assert result.child_level is None
    assert [(row.name, row.leader) for row in result.rows] == [("第一网格", "王秀英")]
    assert shown(result.rows[0].tally) == (5, "75.0%", "66.7%", "66.7%", "66.7%", 2)


def test_the_range_includes_both_ends_in_local_days(cases):
    # J was filed at 10:00 on 2024-12-31 (Asia/Shanghai).
    assert (
        report(
            cases, region="第一网格", date_from=dt.date(2024, 12, 31), date_to=dt.date(2024, 12, 31)
        ).total.filed
        == 1
    )
    assert (
        report(
            cases, region="第一网格", date_from=dt.date(2024, 1, 1), date_to=dt.date(2025, 12, 31)
        ).total.filed
        == 6
    )
    assert (
        report(
            cases, region="第一网格", date_from=dt.date(2025, 6, 2), date_to=dt.date(2025, 12, 31)
        ).total.filed
        == 0
    )


def test_a_category_filter_takes_its_sub_categories(cases):
    road = cases.categories["road"]
    assert report(cases, category=road).total.filed == 8
    boundary = cases.categories["boundary"]
    assert shown(report(cases, category=boundary).total) == (1, "100.0%", "100.0%", "100.0%", "0.0%", 0)
    # The duty above "boundary" (矛盾调解) takes it in.
    assert report(cases, category=boundary.parent).total.filed == 1


def test_sorting_puts_what_needs_attention_first(cases):
    by_sign = [row.name for row in report(cases, region="新华村", sort="sign_rate").rows]
    assert by_sign == ["第二网格", "第一网格"]
    by_filed = [row.name for row in report(cases, region="城关镇", sort="-filed").rows]
    assert by_filed == ["新华村", "东街社区"]
    by_rehandle = [row.name for row in report(cases, sort="-rehandle_rate").rows][:2]
    assert by_rehandle == ["石花镇", "城关镇"]


def test_a_reversed_or_overlong_range_is_refused(cases):
    with pytest.raises(DomainError) as caught:
        report(cases, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 2, 1))
    assert (caught.value.code, caught.value.field) == ("date_range_reversed", "date_from")
    with pytest.raises(DomainError) as caught:
        report(cases, date_from=dt.date(2020, 1, 1), date_to=dt.date(2025, 2, 1))
    assert caught.value.code == "date_range_too_long"


# ---------------------------------------------------------------------------------------------------------
# The heat map


def test_the_heat_map_colours_each_grid_by_count_or_overdue_share(cases):
    by_count = report(cases, region="城关镇")
    assert by_count.heat_max == 5
    cells = {(block.name, cell.name): cell.step for block in by_count.heat for cell in block.cells}
    # ceil(5 × filed / 5): 5 → 5, 2 → 2, 1 → 1.
    assert cells == {("新华村", "第一网格"): 5, ("新华村", "第二网格"): 2, ("东街社区", "东街第一网格"): 1}
    by_overdue = report(cases, region="城关镇", heat_mode="overdue")
    cells = {cell.name: cell.step for block in by_overdue.heat for cell in block.cells}
    # 第一网格 2/5 = 40% (> 35%: the top step); the others none overdue.
    assert cells == {"第一网格": 5, "第二网格": 0, "东街第一网格": 0}


def test_the_county_overview_colours_villages_and_can_show_every_grid(cases):
    overview = report(cases)
    assert overview.heat_grain == "village"
    blocks = {
        block.name: [(cell.name, cell.level, cell.tally.filed) for cell in block.cells]
        for block in overview.heat
    }
    assert blocks["城关镇"] == [("东街社区", "village", 1), ("新华村", "village", 7)]
    assert blocks["石花镇"] == [("民营社区", "village", 1)]
    assert overview.heat_max == 7
    grids = report(cases, heat_grain="grid")
    assert grids.heat_grain == "grid"
    assert {cell.name for block in grids.heat for cell in block.cells} == {
        "第一网格",
        "第二网格",
        "东街第一网格",
        "民营第一网格",
    }
    # Below the township there is nothing to sum: a village always shows its grids.
    assert report(cases, region="新华村", heat_grain="village").heat_grain == "grid"
    assert report(cases, region="城关镇", heat_grain="village").heat_grain == "village"


def test_a_grid_without_cases_is_told_apart(cases):
    result = report(cases, region="民营社区", date_from=dt.date(2025, 7, 1))
    [block] = result.heat
    assert (block.name, block.parent) == ("民营社区", "石花镇")
    assert [(cell.name, cell.step) for cell in block.cells] == [("民营第一网格", None)]


# ---------------------------------------------------------------------------------------------------------
# Scope


def test_a_village_secretary_sees_only_their_village(cases):
    result = report(cases, user="village_secretary")
    assert result.root.name == "新华村"
    assert [row.name for row in result.rows] == ["第一网格", "第二网格"]
    assert result.total.filed == 7
    assert [block.name for block in result.heat] == ["新华村"]
    for outside in ("城关镇", "东街社区", "民营社区", "谷城县", "民营第一网格"):
        with pytest.raises(NotFound):
            report(cases, user="village_secretary", region=outside)


def test_a_grid_leader_sees_only_their_grid(cases):
    result = report(cases, user="grid_leader")
    assert [row.name for row in result.rows] == ["第一网格"]
    assert result.total.filed == 5
    with pytest.raises(NotFound):
        report(cases, user="grid_leader", region="第二网格")


def test_a_township_admin_sees_their_township(cases):
    result = report(cases, user="township_admin")
    assert result.root.name == "城关镇"
    assert result.total.filed == 8
    with pytest.raises(NotFound):
        report(cases, user="township_admin", region="石花镇")


@pytest.mark.parametrize("user", ["canteen_manager", "mediator", "nobody", "xinhua_clerk"])
def test_roles_without_assessment_see_nothing(cases, user):
    result = report(cases, user=user)
    assert (result.rows, result.heat, result.total.filed) == ([], [], 0)


# ---------------------------------------------------------------------------------------------------------
# A constant number of queries


def _many(world: GridsWorld, per_grid: int) -> None:
    for grid in ("第一网格", "第二网格", "东街第一网格", "民营第一网格"):
        for index in range(per_grid):
            case_row(
                world,
                grid,
                filed=dt.date(2025, 1 + index % 12, 1 + index % 28),
                signed_on_time=index % 3 != 0,
                resolved_on_time=(index % 4 != 0) if index % 2 else None,
                resolved=bool(index % 2),
                satisfaction=[Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED, ""][
                    index % 4
                ],
                rehandle_count=index % 5 == 0,
            )


@pytest.mark.parametrize("per_grid", [2, 60])
@pytest.mark.parametrize(
    ("user", "region"), [("county_admin", None), ("county_admin", "城关镇"), ("village_secretary", None)]
)
def test_the_report_costs_the_same_queries_whatever_the_number_of_cases(
    world, django_assert_max_num_queries, per_grid, user, region
):
    _many(world, per_grid)
    with django_assert_max_num_queries(5):
        result = report(world, user=user, region=region)
    assert result.total.filed == per_grid * (
        4 if user == "county_admin" and region is None else 3 if region else 2
    )


@pytest.mark.parametrize("per_grid", [2, 60])
def test_the_page_costs_the_same_queries_whatever_the_number_of_cases(
    world, django_assert_max_num_queries, per_grid
):
    _many(world, per_grid)
    client = client_for("county_admin")
    client.get(reverse("grids:assessment"))  # warm the session
    # Seven are the page's (roles, region, regions below it, the GROUP BY, filter regions, categories,
    # the trail); the rest are the shell's (session, user, the navigation's roles).
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("grids:assessment"), {"date_from": "2025-01-01", "date_to": "2025-12-31"}
        )
    assert response.status_code == 200
    assert f'<span class="as-kpi__value">{per_grid * 4}</span>' in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Through the real services


def test_a_case_walked_through_the_services_is_counted(world):
    case = case_make(world)
    case_bring_to(world, case, CaseStatus.CLOSED)
    case.refresh_from_db()
    assert (case.signed_on_time, case.resolved_on_time, case.satisfaction) == (
        True,
        True,
        Satisfaction.SATISFIED,
    )
    today = timezone.localdate()
    result = report(world, region="第一网格", date_from=today, date_to=today)
    assert shown(result.total) == (1, "100.0%", "100.0%", "100.0%", "0.0%", 0)
    assert counts(result.total) == (1, 1, 1, 1, 1, 1, 0, 1)


def test_a_case_sent_back_once_counts_as_re_handled(world):
    case = case_make(world)
    case_bring_to(world, case, CaseStatus.REOPENED)
    today = timezone.localdate()
    result = report(world, region="第一网格", date_from=today, date_to=today)
    assert (result.total.rehandled, result.total.rehandle_base) == (1, 1)
    assert (result.total.satisfied, result.total.followed_up) == (0, 1)


# ---------------------------------------------------------------------------------------------------------
# The page, its export, the API


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_page_shows_the_table_totals_and_heat_map(cases):
    response = client_for("county_admin").get(
        reverse("grids:assessment"),
        {"date_from": "2025-01-01", "date_to": "2025-12-31", "township": cases.regions["城关镇"].pk},
    )
    assert response.status_code == 200
    page = text(response)
    assert "各村（社区）" in page
    assert (
        f'?date_from=2025-01-01&amp;date_to=2025-12-31&amp;region={cases.regions["新华村"].pk}">新华村</a>'
        in page
    )
    assert '<span class="as-rate__v">71.4%</span>' in page  # the township's sign-for rate, in the total
    assert '<span class="as-rate__n">4/6</span>' in page  # 新华村's sign-for counts
    assert 'data-testid="heatmap"' in page
    assert "第一网格：上报 5 件，超期 2 件（40.0%）" in page
    assert "2025年1月1日 – 2025年12月31日" in page


def test_the_page_drills_down_to_grid_leaders(cases):
    page = text(
        client_for("county_admin").get(
            reverse("grids:assessment"),
            {"date_from": "2025-01-01", "date_to": "2025-12-31", "region": cases.regions["新华村"].pk},
        )
    )
    assert "各网格（网格长）" in page
    assert '<span class="as-table__leader">王秀英</span>' in page
    assert '<span class="as-table__leader muted">暂无网格长</span>' in page
    assert 'aria-current="page">新华村</span>' in page  # the trail: 谷城县 › 城关镇 › 新华村


def test_the_page_shows_a_dash_for_nothing_to_rate(cases):
    page = text(
        client_for("county_admin").get(
            reverse("grids:assessment"), {"date_from": "2025-01-01", "date_to": "2025-12-31"}
        )
    )
    assert '<span class="as-rate__v">—</span>' in page


def test_a_secretary_asking_for_another_region_gets_404(cases):
    client = client_for("village_secretary")
    assert client.get(reverse("grids:assessment"), {"region": cases.regions["城关镇"].pk}).status_code == 404
    assert (
        client.get(reverse("grids:assessment"), {"village": cases.regions["民营社区"].pk}).status_code == 404
    )
    assert client.get(reverse("grids:assessment")).status_code == 200


def test_roles_without_assessment_are_forbidden_the_page(cases):
    assert client_for("canteen_manager").get(reverse("grids:assessment")).status_code == 403
    assert client_for("nobody").get(reverse("grids:assessment")).status_code == 403


def test_a_bad_range_shows_its_message_and_the_default_range(cases):
    page = text(
        client_for("village_secretary").get(
            reverse("grids:assessment"), {"date_from": "2025-03-01", "date_to": "2025-02-01"}
        )
    )
    assert "开始日期不能晚于结束日期。" in page
    today = timezone.localdate()
    assert f"{today.year}年1月1日 – {today.year}年{today.month}月{today.day}日" in page


def test_the_export_is_the_table_with_its_total(cases):
    response = client_for("village_secretary").get(
        reverse("grids:assessment_export"), {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("区域", "网格长", "上报件数", "已签收", "按时签收")
    assert rows[1] == ("第一网格", "王秀英", 5, 4, 3, "75.0%", 3, 2, "66.7%", 3, 2, "66.7%", 3, 2, "66.7%", 2)
    assert rows[2][:3] == ("第二网格", None, 2)
    assert rows[3] == ("合计", None, 7, 6, 4, "66.7%", 4, 3, "75.0%", 4, 3, "75.0%", 4, 2, "50.0%", 2)


def api_for(username: str) -> APIClient:
    client = APIClient()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_the_api_answers_exact_rates_in_scope(cases):
    client = api_for("township_admin")
    url = reverse("v1:grids:assessment")
    body = client.get(url, {"date_from": "2025-01-01", "date_to": "2025-12-31"}).json()
    assert (body["root"]["name"], body["level"]) == ("城关镇", "village")
    assert [(row["name"], row["tally"]["filed"], row["tally"]["sign_rate"]) for row in body["results"]] == [
        ("东街社区", 1, 100.0),
        ("新华村", 7, 66.7),
    ]
    assert body["total"]["rehandle_rate"] == 40.0
    assert body["heat_grain"] == "grid"
    assert [
        (block["name"], block["township"], [c["name"] for c in block["cells"]]) for block in body["heat"]
    ] == [
        ("东街社区", "城关镇", ["东街第一网格"]),  # by statistical code, like the table
        ("新华村", "城关镇", ["第一网格", "第二网格"]),
    ]
    assert body["heat"][1]["cells"][0] == {
        "id": cases.regions["第一网格"].pk,
        "name": "第一网格",
        "level": "grid",
        "filed": 5,
        "overdue": 2,
        "step": 5,
    }
    empty = client.get(url, {"date_from": "2024-01-01", "date_to": "2024-01-31"}).json()
    assert empty["total"]["sign_rate"] is None
    assert client.get(url, {"region": cases.regions["石花镇"].pk}).status_code == 404
    nothing = api_for("canteen_manager").get(url).json()
    assert (nothing["root"], nothing["results"], nothing["heat"], nothing["total"]["filed"]) == (
        None,
        [],
        [],
        0,
    )
    bad = client.get(url, {"date_from": "2025-03-01", "date_to": "2025-02-01"})
    assert (bad.status_code, bad.json()["code"]) == (400, "date_range_reversed")


# ---------------------------------------------------------------------------------------------------------
# In a browser, at phone and desktop size


@pytest.mark.browser
def test_the_assessment_page_on_a_phone_and_a_desktop(cases, phone, desktop, screenshot):
    from governance.models import RegionKind
    from governance.services import regions as region_services
    from tests.browser_fixtures import login

    # More grids in 新华村, with cases in some of them, so the heat map has something to show.
    for index in range(3, 15):
        name = f"第{index}网格"
        cases.regions[name] = region_services.region_create(
            parent=cases.regions["新华村"], name=name, kind=RegionKind.GRID, code=f"420625100201{index:03d}"
        )
        for number in range(index % 6):
            case_row(
                cases,
                name,
                signed_on_time=number % 2 == 0,
                resolved=number % 3 == 0,
                resolved_on_time=number % 4 == 0 if number % 3 == 0 else None,
                resolve_deadline=NOW - dt.timedelta(days=1) if number == 4 else None,
                status=CaseStatus.IN_PROGRESS if number == 4 else CaseStatus.CLOSED,
            )
    query = "?date_from=2025-01-01&date_to=2025-12-31"
    login(phone, "township_admin")
    phone.goto(f"/grids/assessment/{query}")
    phone.get_by_test_id("table").wait_for()
    screenshot(phone, "township")
    phone.get_by_role("link", name="新华村", exact=True).first.click()
    phone.get_by_text("各网格（网格长）").wait_for()
    assert "王秀英" in phone.content()
    screenshot(phone, "village")
    login(desktop, "county_admin")
    desktop.goto(f"/grids/assessment/{query}")
    desktop.get_by_test_id("heatmap").wait_for()
    screenshot(desktop, "county")
    desktop.goto(f"/grids/assessment/{query}&region={cases.regions['城关镇'].pk}&heat=overdue")
    desktop.get_by_test_id("heatmap").wait_for()
    screenshot(desktop, "township-overdue")
