"""Regressions found by the schema fuzzer and the property tests (issue 9, docs/reliability.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from canteens.services._common import yuan_to_fen
from common.errors import DomainError

PAGED_LISTS = [
    "orders",
    "products",
    "service-logs",
    "sessions",
    "station-services",
    "volunteer-hours",
    "volunteers",
    "wages",
    "workers",
]


@pytest.fixture
def schema(db):
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.mark.parametrize("name", PAGED_LISTS)
def test_the_community_lists_are_documented_as_pages(schema, name):
    """They answer {count, next, previous, results}; the schema used to say a bare array."""
    ok = schema["paths"][f"/api/v1/canteens/community/{name}/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    page = schema["components"]["schemas"][ref]
    assert page["type"] == "object"
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"


def test_session_times_are_documented_as_hours_and_minutes(schema):
    session = schema["components"]["schemas"]["SessionOut"]["properties"]
    assert session["starts"] == {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "example": "18:00",
        "nullable": True,
    }


@pytest.mark.parametrize("text", ["1e30", "1e999999", "12345678901234567890123456789"])
def test_a_yuan_figure_too_large_for_the_decimal_context_is_refused_in_chinese(text):
    with pytest.raises(DomainError) as caught:
        yuan_to_fen(text, field="amount")
    assert caught.value.code == "amount_too_large"
    assert caught.value.field == "amount"
    assert str(caught.value.message) == "金额不能超过 1000.00 元。"


@pytest.mark.parametrize("text", ["NaN", "sNaN", "-Infinity", "4.555"])
def test_a_yuan_figure_that_is_not_an_amount_is_refused_in_chinese(text):
    with pytest.raises(DomainError) as caught:
        yuan_to_fen(text, field="amount")
    assert caught.value.code == "bad_amount"
    assert str(caught.value.message) == "金额格式不对，例如 4.50。"
