"""Regressions found by the schema fuzzer and the property tests (issue 9, docs/reliability.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.errors import DomainError
from governance.models import User
from industry.services import economy, sales_rules

YEAR_MESSAGE = "年份应在 1900 到 2100 之间。"


def api_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("path", "year"),
    [
        ("/api/v1/industry/joint-communities/", "-4917770"),
        ("/api/v1/industry/events/", "50000"),
        ("/api/v1/industry/collective-incomes/", "99999999999"),
    ],
)
def test_a_year_out_of_range_is_a_400_with_a_chinese_message(demo_county, path, year):
    response = api_for("county_admin").get(path, {"year": year})
    assert response.status_code == 400
    assert response.json() == {"code": "bad_year", "detail": YEAR_MESSAGE, "fields": {"year": [YEAR_MESSAGE]}}


def test_an_id_filter_beyond_bigint_is_ignored_not_a_500(demo_county):
    response = api_for("county_admin").get("/api/v1/industry/events/", {"town": str(2**70), "year": "2024"})
    assert response.status_code == 200
    response = api_for("county_admin").get("/api/v1/industry/designations/", {"region": str(-(2**70))})
    assert response.status_code == 200


@pytest.mark.parametrize("text", ["1e30", "1e999999", "NaN", "sNaN", "-Infinity"])
def test_a_yuan_figure_that_overflows_is_refused_in_chinese(text):
    with pytest.raises(DomainError) as caught:
        economy.yuan_to_fen(text, field="amount", maximum=100_000_000)
    assert str(caught.value.message) in {
        "金额应为不小于 0 的数字（元），最多两位小数。",
        "金额不能超过 100 万元，请核对。",
    }
    with pytest.raises(DomainError) as caught:
        sales_rules.amount_fen_parse(text)
    assert str(caught.value.message) in {
        "销售额应为大于 0 的金额（元），最多两位小数，例如 1200.50。",
        "单条销售额不能超过 1000 万元，请核对。",
    }


def test_a_huge_amount_names_the_limit():
    with pytest.raises(DomainError) as caught:
        sales_rules.amount_fen_parse("1e999999")
    assert str(caught.value.message) == "单条销售额不能超过 1000 万元，请核对。"
    with pytest.raises(DomainError) as caught:
        economy.yuan_to_fen("1e30", field="amount", maximum=100_000_000)
    assert caught.value.code == "amount_too_large"
    assert str(caught.value.message) == "金额不能超过 100 万元，请核对。"


def test_a_date_whose_year_overflows_is_refused_in_chinese():
    with pytest.raises(DomainError) as caught:
        sales_rules.date_parse("99999999999-1-1")
    assert caught.value.code == "bad_date"
    assert str(caught.value.message) == "日期格式不对，例如 2022-03-05 或 2022年3月5日。"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/industry/events/", {"series": "a\x00b", "q": "\x00"}),
        ("/api/v1/industry/joint-communities/", {"q": "\x00"}),
        ("/api/v1/industry/designations/", {"theme": "\x00"}),
        ("/api/v1/industry/businesses/", {"q": "茶\x00"}),
    ],
)
def test_a_nul_character_in_a_text_filter_is_dropped_not_a_500(demo_county, path, params):
    response = api_for("county_admin").get(path, params)
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}
