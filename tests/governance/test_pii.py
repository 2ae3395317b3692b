"""ID numbers, phones, encryption, keyed hashes and masks (governance.pii)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import DomainError
from governance import pii

# A valid ID number built from the standard's published example weights: 11010519491231002X.
VALID_ID = "11010519491231002X"


def make_id(prefix: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{prefix}{birth:%Y%m%d}{sequence:03d}"
    return first17 + pii.id_number_check_char(first17)


def test_known_valid_id_number():
    parsed = pii.id_number_parse(VALID_ID)
    assert parsed.value == VALID_ID
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender == "F"


def test_lower_case_x_and_spaces_are_normalised():
    assert pii.id_number_parse(" 11010519491231002x ").value == VALID_ID


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("110105194912310021", "id_number_checksum", "身份证号校验码不正确，请核对后重新输入。"),
        ("11010519491331002X", "id_number_birth_date", "身份证号中的出生日期无效。"),
        ("1101051949123100", "id_number_format", "身份证号应为18位，前17位为数字，末位为数字或X。"),
        ("", "id_number_format", "身份证号应为18位，前17位为数字，末位为数字或X。"),
        ("A1010519491231002X", "id_number_format", "身份证号应为18位，前17位为数字，末位为数字或X。"),
    ],
)
def test_bad_id_numbers_are_refused_with_the_reason(raw, code, message):
    with pytest.raises(DomainError) as raised:
        pii.id_number_parse(raw)
    assert (raised.value.code, str(raised.value.message), raised.value.field) == (code, message, "id_number")


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_every_generated_id_round_trips(birth, sequence):
    value = make_id("420625", birth, sequence)
    parsed = pii.id_number_parse(value)
    assert parsed.birth_date == birth
    assert parsed.gender == ("M" if (sequence % 10) % 2 else "F")


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)), digit=st.integers(0, 16)
)
def test_any_single_digit_change_breaks_the_checksum_or_the_date(birth, digit):
    value = make_id("420625", birth, 123)
    changed = value[:digit] + str((int(value[digit]) + 1) % 10) + value[digit + 1 :]
    with pytest.raises(DomainError):
        pii.id_number_parse(changed)


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678"])
def test_phone_numbers_are_normalised(raw):
    assert pii.phone_parse(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "0710-1234567", "abc"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(DomainError) as raised:
        pii.phone_parse(raw)
    assert str(raised.value.message) == "手机号应为11位数字，以1开头。"


def test_masks():
    assert pii.mask_id_number("420625199001011234") == "4206**********1234"
    assert pii.mask_phone("13812345678") == "138****5678"


@given(st.text(min_size=1, max_size=40))
def test_encryption_round_trips_and_is_not_the_plaintext(value):
    token = pii.encrypt(value)
    assert token != value
    assert pii.decrypt(token) == value


def test_lookup_hash_is_stable_and_keyed(settings):
    first = pii.lookup_hash(VALID_ID)
    assert first == pii.lookup_hash(VALID_ID)
    assert len(first) == 64
    settings.PII_KEY = "another-key"
    assert pii.lookup_hash(VALID_ID) != first


def test_a_different_key_cannot_decrypt(settings):
    token = pii.encrypt(VALID_ID)
    settings.PII_KEY = "another-key-entirely"
    with pytest.raises(DomainError) as raised:
        pii.decrypt(token)
    assert raised.value.code == "pii_key_mismatch"
