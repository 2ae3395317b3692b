"""Regressions found by the schema fuzzer (issue 9, docs/reliability.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.models import User


@pytest.mark.parametrize("year", ["30486669184", "0", "-1", "10000"])
def test_a_calendar_year_out_of_range_is_a_400_not_a_500(demo_county, year):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="grid_leader"))
    response = client.get("/api/v1/grids/config/calendar/", {"year": year})
    assert response.status_code == 400
    message = "年份应在 1900 到 2100 之间。"
    assert response.json() == {"code": "year_invalid", "detail": message, "fields": {"year": [message]}}


def test_a_calendar_year_in_range_answers(demo_county):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="grid_leader"))
    assert client.get("/api/v1/grids/config/calendar/", {"year": "2026"}).status_code == 200


def test_a_category_sort_order_beyond_the_column_is_a_400_not_a_500(demo_county):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="county_admin"))
    # The input is checked before the category is looked up: any id shows it.
    response = client.patch(
        "/api/v1/grids/config/categories/",
        {"id": 1, "sort_order": 1630049954635274496},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "提交的数据有误，请按字段说明修改后重试。",
        "fields": {"sort_order": ["请确保该值小于或者等于 32767。"]},
    }
