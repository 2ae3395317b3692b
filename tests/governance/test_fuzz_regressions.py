"""Regressions found by the schema fuzzer and the property tests (issue 9, docs/reliability.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.errors import DomainError
from governance import pii
from governance.models import User

VALID_ID = "11010519491231002X"


def api_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


@pytest.mark.parametrize("year", ["-2.900804183393743e+16", "30000", "1999.5", "abc"])
def test_a_party_member_year_out_of_range_is_a_400_not_a_500(demo_county, year):
    response = api_for("county_admin").get("/api/v1/governance/party-members/", {"year_joined": year})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "提交的数据有误，请按字段说明修改后重试。",
        "fields": {"year_joined": ["入党年份应为 1900 到 2100 之间的整数。"]},
    }


def test_a_party_member_year_in_range_still_filters(demo_county):
    response = api_for("county_admin").get("/api/v1/governance/party-members/", {"year_joined": "1990"})
    assert response.status_code == 200


def test_the_gatherings_list_is_documented_as_a_page(demo_county):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ok = schema["paths"]["/api/v1/governance/shennong-gatherings/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    page = schema["components"]["schemas"][ref]
    assert page["required"] == ["count", "results"]
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/GatheringOutput"}


def test_full_width_digits_in_an_id_number_are_read_as_ascii():
    assert pii.id_number_parse("１１０１０５１９４９１２３１００２Ｘ").value == VALID_ID
    assert pii.id_number_parse("１１０１０５１９４９１２３１００２ｘ").value == VALID_ID


def test_other_scripts_digits_in_an_id_number_are_refused():
    arabic_indic = VALID_ID[:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "X"
    with pytest.raises(DomainError) as caught:
        pii.id_number_parse(arabic_indic)
    assert caught.value.code == "id_number_format"
    assert str(caught.value.message) == "身份证号应为18位，前17位为数字，末位为数字或X。"


def test_full_width_phone_numbers_are_read_as_ascii_and_other_digits_refused():
    assert pii.phone_parse("＋８６ １３８１２３４５６７８") == "13812345678"
    with pytest.raises(DomainError) as caught:
        pii.phone_parse("١٣٨١٢٣٤٥٦٧٨")
    assert str(caught.value.message) == "手机号应为11位数字，以1开头。"
