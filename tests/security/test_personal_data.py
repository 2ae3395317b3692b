"""Personal data never leaves in a log line, an error page or an API error, and never on the public
board: ID numbers and mobile numbers are masked by common.logging.PersonalDataFilter on every handler
of settings.LOGGING."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from common.logging import PersonalDataFilter, personal_data_mask
from governance.models import Household, Resident, User
from tests.security.urls_boom import ID_NUMBER, PHONE

# Any unmasked 18-character ID number or 11-digit mobile number.
LEAK = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


@pytest.fixture
def log_output():
    """What the project's own console handler writes (not pytest's capture, which has no filter)."""
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, PersonalDataFilter) for f in h.filters)
    ]
    assert len(handlers) == 1
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证 420625197005010011 已登记", "身份证 4206**********0011 已登记"),
        ("ID 42062519700501001x", "ID 4206**********001X"),
        ("电话13800001111", "电话138****1111"),
        ("phone +86 138-0000-1111.", "phone 138****1111."),
        ("两个：420625197005010011，13912345678", "两个：4206**********0011，139****5678"),
        # Not personal data: a 16-digit order number, a 19-digit number, a date. (An amount that looks
        # like a phone is masked too: better one figure too many than one number too few.)
        ("单号 2026112900012345", "单号 2026112900012345"),
        ("流水 4206251970050100111", "流水 4206251970050100111"),
        ("金额 13800001111.50 元", "金额 138****1111.50 元"),
        ("2026-11-29 10:00", "2026-11-29 10:00"),
    ],
)
def test_mask(text, masked):
    assert personal_data_mask(text) == masked


def test_log_line_is_masked(log_output):
    logger = logging.getLogger("grids.notifications")
    logger.warning("短信发送给 %s（居民 %s）", PHONE, ID_NUMBER)
    try:
        raise ValueError(f"身份证号 {ID_NUMBER} 重复")
    except ValueError:
        logger.exception("导入第 %d 行失败", 7)
    written = log_output.getvalue()
    assert "WARNING grids.notifications 短信发送给 138****1111（居民 4206**********0011）\n" in written
    assert "ERROR grids.notifications 导入第 7 行失败\nTraceback (most recent call last):" in written
    assert "ValueError: 身份证号 4206**********0011 重复" in written
    assert ID_NUMBER not in written
    assert PHONE not in written


@override_settings(ROOT_URLCONF="tests.security.urls_boom")
@pytest.mark.parametrize(
    ("url", "content_type"),
    [("/security-boom/", "text/html"), ("/api/v1/security-boom/", "application/json")],
)
def test_500_answer_and_its_log_carry_no_personal_data(db, log_output, url, content_type):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    assert response["Content-Type"].startswith(content_type)
    body = response.content.decode()
    assert "服务器内部错误，我们已记录此问题，请稍后再试。" in body
    assert LEAK.search(body) is None
    assert "4206" not in body
    written = log_output.getvalue()
    assert f"ERROR django.request Internal Server Error: {url}\n" in written
    assert "RuntimeError: 居民 4206**********0011 电话 138****1111 写入失败" in written
    assert LEAK.search(written) is None


def test_api_validation_error_echoes_no_id_number(demo_county, log_output):
    from tests.governance.people_factories import people_world_build

    world = people_world_build(demo_county)
    household = next(iter(world.households.values()))
    client = APIClient()
    client.force_authenticate(User.objects.get(username="county_admin"))
    before = Resident.objects.count()
    response = client.post(
        "/api/v1/governance/residents/",
        {
            "household": household.pk,
            "name": "测试",
            "id_number": "420625197005010012",  # the checksum is wrong
            "relation_to_head": "other",
            "phone": PHONE,
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "420625197005010012" not in body
    assert LEAK.search(body) is None
    assert response.json() == {
        "code": "id_number_checksum",
        "detail": "身份证号校验码不正确，请核对后重新输入。",
        "fields": {"id_number": ["身份证号校验码不正确，请核对后重新输入。"]},
    }
    assert Resident.objects.count() == before
    assert LEAK.search(log_output.getvalue()) is None


def test_drf_messages_that_repeat_the_input_mask_it(demo_county):
    """DRF's own messages repeat a refused value ("…" is not a valid choice): an ID number or a phone
    sent in the wrong field comes back masked."""
    from tests.governance.people_factories import people_world_build

    world = people_world_build(demo_county)
    household = next(iter(world.households.values()))
    client = APIClient()
    client.force_authenticate(User.objects.get(username="county_admin"))
    response = client.post(
        "/api/v1/governance/residents/",
        {
            "household": household.pk,
            "name": "测试",
            "id_number": ID_NUMBER,
            "relation_to_head": ID_NUMBER,
            "gender": PHONE,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "relation_to_head": ["“4206**********0011” 不是合法选项。"],
        "gender": ["“138****1111” 不是合法选项。"],
    }


def test_public_board_shows_no_id_number_or_phone(demo_county):
    from tests.governance.people_factories import people_world_build

    people_world_build(demo_county)
    assert Resident.objects.count() >= 6
    assert Household.objects.count() >= 2
    village = demo_county["新华村"]
    client = Client()
    for url in (f"/points/board/{village.code}/", f"/points/board/{village.code}/poster/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert LEAK.search(body) is None, url
        for resident in Resident.objects.all():
            assert resident.id_number_masked not in body
            assert resident.name not in body
