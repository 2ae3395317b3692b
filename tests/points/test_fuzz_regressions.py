"""Regressions found by the property tests (issue 9, docs/reliability.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import DomainError
from points.services import stores


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "1e30", "1e999999", "-0.01", "1.005"])
def test_a_yuan_value_that_is_not_an_amount_is_refused_in_chinese(text):
    with pytest.raises(DomainError) as caught:
        stores.yuan_to_fen(text)
    assert caught.value.code == "bad_value"
    assert caught.value.field == "value_yuan"
    assert str(caught.value.message) == "金额格式不对，例如 12.50。"


def test_the_largest_value_still_converts_exactly():
    assert stores.yuan_to_fen("100,000,000.00") == stores.VALUE_MAX_FEN
    assert stores.yuan_to_fen("¥0.01") == 1


@pytest.mark.parametrize(
    "value", [2.5, float("inf"), float("nan"), Decimal("2.5"), Decimal("NaN"), True, "2.5"]
)
def test_a_quantity_must_be_a_whole_number(value):
    with pytest.raises(DomainError) as caught:
        stores._positive_int(value, field="quantity", maximum=100, message="数量应为 1 到 100 之间的整数。")
    assert caught.value.code == "bad_quantity"
    assert str(caught.value.message) == "数量应为 1 到 100 之间的整数。"


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (3.0, 3), (Decimal("3"), 3), ("3", 3)])
def test_a_whole_quantity_is_accepted_whatever_its_type(value, expected):
    assert stores._positive_int(value, field="quantity", maximum=100, message="数量有误。") == expected


def test_a_nul_character_in_the_rules_search_is_dropped_not_a_500(demo_county):
    from rest_framework.test import APIClient

    from governance.models import User

    client = APIClient()
    client.force_authenticate(User.objects.get(username="county_admin"))
    response = client.get("/api/v1/points/rules/", {"q": "\x00", "category": "\x00"})
    assert response.status_code == 200
