"""The password policy: at least 10 characters, not all digits, not a common password, not like the
user's own names — each refusal in Chinese, wherever a password is set (the admin's forms included)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from governance.models import User


def refusals(password: str, user: User | None = None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as error:
            return list(error.messages)
    return []


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Xz9-road", ["密码太短，至少需要 10 个字符。"]),
        ("1234509876", ["这个密码太常见了。", "密码只包含数字。"]),
        ("2718281828459", ["密码只包含数字。"]),
        ("1234567890", ["这个密码太常见了。", "密码只包含数字。"]),
        ("password123", ["这个密码太常见了。"]),
        ("qwertyuiop", ["这个密码太常见了。"]),
        ("Xz9-villagE-road", []),
        ("谷城县新华村第一网格长", []),
    ],
)
def test_rules_and_their_chinese_messages(password, messages):
    assert refusals(password) == messages


def test_not_like_the_username(db):
    user = User(username="wangxiuying", full_name="王秀英")
    assert refusals("wangxiuying1", user) == ["密码跟 用户名 太相似了。"]
    assert refusals("Wangxiuying2026", user) == ["密码跟 用户名 太相似了。"]
    assert refusals("Xz9-villagE-road", user) == []


def test_help_texts_in_chinese():
    with translation.override("zh-hans"):
        assert password_validators_help_texts() == [
            "你的密码不能与你的其他个人信息太相似。",
            "密码至少需要 10 个字符。",
            "你的密码不能是一个常见密码。",
            "你的密码不能全都是数字。",
        ]


def test_admin_password_form_refuses_a_weak_password(demo_county):
    admin = Client()
    assert admin.login(username="county_admin", password="xiangzhi-demo")
    user = User.objects.get(username="grid_leader")
    response = admin.post(
        f"/admin/governance/user/{user.pk}/password/", {"password1": "12345", "password2": "12345"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    for message in ("密码太短，至少需要 10 个字符。", "这个密码太常见了。", "密码只包含数字。"):
        assert message in page
    user.refresh_from_db()
    assert user.check_password("xiangzhi-demo")
