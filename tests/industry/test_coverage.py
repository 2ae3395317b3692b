"""Coverage (村村有产业、户户有项目、人人有事干) on a small hand-computed county, its API, its scope and its
constant number of queries (industry.selectors.coverage)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import User
from governance.roles import Role
from governance.services import roles as role_services
from industry.selectors import coverage as selectors
from tests.industry.factories_chains import D, larger_county, small_county

pytestmark = pytest.mark.django_db


def _figures(row: selectors.CoverageRow) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    return (
        (row.villages.numerator, row.villages.denominator),
        (row.households.numerator, row.households.denominator),
        (row.residents.numerator, row.residents.denominator),
    )


def test_coverage_of_the_small_county_per_village_township_and_county():
    world = small_county()
    coverage = selectors.coverage_for(world.admin, on=D)
    assert coverage.region == world.county
    assert _figures(coverage.total) == ((2, 3), (2, 6), (4, 7))
    assert (
        coverage.total.villages.percent,
        coverage.total.households.percent,
        coverage.total.residents.percent,
    ) == (
        Decimal("66.7"),
        Decimal("33.3"),
        Decimal("57.1"),
    )
    townships = {row.name: _figures(row) for row in coverage.townships}
    assert townships == {"东镇": ((1, 2), (2, 5), (3, 6)), "西乡": ((1, 1), (0, 1), (1, 1))}
    villages = {row.name: _figures(row) for row in coverage.villages}
    assert villages == {
        "甲村": ((1, 1), (2, 3), (2, 4)),
        "乙村": ((0, 1), (0, 2), (1, 2)),
        "丙村": ((1, 1), (0, 1), (1, 1)),
    }
    assert [row.name for row in coverage.rows()] == ["小测县", "东镇", "西乡", "甲村", "乙村", "丙村"]


def test_coverage_moves_with_the_day():
    world = small_county()
    # The day before D: H2's project and 乙村食品公司's participation still count, R6 still works,
    # R4 (born 1966-06-16) is 59, R5 (born 1966-06-15) is 59 too, R2 is 15.
    before = selectors.coverage_for(world.admin, on=D - dt.timedelta(days=1))
    villages = {row.name: _figures(row) for row in before.villages}
    assert villages == {
        "甲村": ((1, 1), (2, 3), (3, 4)),  # R1, R4, R5, R6 counted; R1, R4, R6 work
        "乙村": ((1, 1), (0, 2), (1, 2)),
        "丙村": ((1, 1), (0, 1), (1, 1)),
    }
    # The day after: 乙村合作社 has joined and R9 works; H3's project has not started yet.
    after = selectors.coverage_for(world.admin, on=D + dt.timedelta(days=1))
    villages = {row.name: _figures(row) for row in after.villages}
    assert villages["乙村"] == ((1, 1), (0, 2), (2, 2))


def test_a_township_reader_gets_its_township_and_not_the_county():
    world = small_county()
    reader = role_services.user_create(username="dongzhen", password="x-long-password-1")
    role_services.role_assign(user=reader, role=Role.TOWNSHIP_ADMIN, region=world.regions["东镇"])
    coverage = selectors.coverage_for(reader, on=D)
    assert coverage.region == world.regions["东镇"]
    assert _figures(coverage.total) == ((1, 2), (2, 5), (3, 6))
    assert [row.name for row in coverage.rows()] == ["东镇", "甲村", "乙村"]
    village = selectors.coverage_for(reader, on=D, code="429999100201")
    assert [(row.name, _figures(row)) for row in village.rows()] == [("甲村", ((1, 1), (2, 3), (2, 4)))]
    with pytest.raises(selectors.NotFound):
        selectors.coverage_for(reader, on=D, code="429999200201")  # 丙村, in 西乡
    with pytest.raises(selectors.NotFound):
        selectors.coverage_for(reader, on=D, code="429999000000")  # the county


def _api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_coverage_api_rows_and_percentages():
    world = small_county()
    response = _api(world.admin).get(
        "/api/v1/industry/coverage/", {"region": "429999100000", "on": D.isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert [(row["name"], row["level"]) for row in body] == [
        ("东镇", "township"),
        ("甲村", "village"),
        ("乙村", "village"),
    ]
    assert body[0]["villages"] == {"numerator": 1, "denominator": 2, "percent": "50.0"}
    assert body[0]["households"] == {"numerator": 2, "denominator": 5, "percent": "40.0"}
    assert body[0]["residents"] == {"numerator": 3, "denominator": 6, "percent": "50.0"}
    assert body[1]["residents"] == {"numerator": 2, "denominator": 4, "percent": "50.0"}
    outsider = role_services.user_create(username="xixiang", password="x-long-password-1")
    role_services.role_assign(user=outsider, role=Role.VILLAGE_SECRETARY, region=world.regions["丙村"])
    hidden = _api(outsider).get("/api/v1/industry/coverage/", {"region": "429999100000"})
    missing = _api(outsider).get("/api/v1/industry/coverage/", {"region": "000000000000"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    own = _api(outsider).get("/api/v1/industry/coverage/", {"on": D.isoformat()}).json()
    assert [(row["name"], row["households"]["percent"]) for row in own] == [("丙村", "0.0")]
    bad = _api(outsider).get("/api/v1/industry/coverage/", {"on": "2026-13-01"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_date"
    nobody = role_services.user_create(username="no-roles", password="x-long-password-1")
    assert _api(nobody).get("/api/v1/industry/coverage/").json() == []


def test_empty_denominators_give_no_percentage():
    world = small_county()
    row = selectors.Share(0, 0)
    assert row.percent is None
    coverage = selectors.coverage_for(world.admin, on=dt.date(1990, 1, 1))
    # On 1990-01-01 only R4 and R5 (born 1966, aged 23) are of working age; 丙村茶厂 joined on an unknown
    # day, which counts as long ago, so 丙村 has an industry.
    assert (coverage.total.residents.numerator, coverage.total.residents.denominator) == (1, 2)
    assert (coverage.total.villages.numerator, coverage.total.villages.denominator) == (1, 3)


@pytest.mark.parametrize("size", [(1, 2, 2), (4, 6, 8)])
def test_coverage_takes_a_constant_number_of_queries(size, django_assert_max_num_queries):
    townships, villages, households = size
    county = larger_county(
        townships=townships, villages_per_township=villages, households_per_village=households
    )
    admin = role_services.user_create(username=f"big-{townships}", password="x-long-password-1")
    role_services.role_assign(user=admin, role=Role.COUNTY_ADMIN, region=county)
    with django_assert_max_num_queries(6):
        coverage = selectors.coverage_for(admin, on=dt.date(2026, 1, 1))
    total_villages = townships * villages
    # Every village has a household with a project (every other household has one).
    assert (coverage.total.villages.numerator, coverage.total.villages.denominator) == (total_villages,) * 2
    assert coverage.total.households.denominator == total_villages * households
    assert coverage.total.residents.denominator == total_villages * households * 2
    assert len(coverage.villages) == total_villages
    assert len(coverage.townships) == townships
