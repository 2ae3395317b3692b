"""Property-based tests (issue 9, Bad input) on the text parsers the project owns: ID numbers, phones,
money in yuan, points and stock quantities, dates in Chinese formats.

The contract each one keeps: whatever is typed, the answer is the clean value or a DomainError with a
Chinese message next to the field — never another exception (which would be a 500). Valid input built
from the rules (an ID number with its right check character, an amount in fen) comes back exactly.
docs/reliability.md lists these parsers and what each property asserts.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from canteens.services import _common as canteen_money
from common.errors import DomainError
from governance import pii
from governance.services import roster
from industry.services import economy, sales_rules
from points.services import stores as points_stores

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CJK = re.compile(r"[\u4e00-\u9fff]")

# Anything a person or a spreadsheet could put in a field: text of every kind (full-width digits,
# exponents, signs, NaN and Infinity spelled out), numbers, dates, booleans, None.
NUMBERISH = st.one_of(
    st.from_regex(r"\A[ ¥￥+-]?[0-9０-９]{0,12}([.,，][0-9]{0,4})?([eE][+-]?[0-9]{1,7})?(元)?\Z"),
    st.sampled_from(
        ["NaN", "nan", "-nan", "Infinity", "-Infinity", "inf", "sNaN", "1e999999", "-0", "0e-9999999"]
    ),
    st.text(max_size=40),
)
CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.dates(),
    st.datetimes(),
    NUMBERISH,
)


def attempt(parse, *args):
    """(value, None) when `parse` accepts, (None, the DomainError) when it refuses; anything else raises."""
    try:
        return parse(*args), None
    except DomainError as error:
        return None, error


def assert_domain_error(error: DomainError, field: str) -> None:
    """A refusal a person can act on: a Chinese message, next to the named field."""
    assert error.field == field
    assert CJK.search(str(error.message)), error.message


# --- ID numbers -------------------------------------------------------------------------------------------


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """A valid 18-character ID number: any 6-digit region, a real birth date, any sequence, right check."""
    region = draw(st.integers(min_value=110000, max_value=659999))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()))
    sequence = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{region:06d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + pii.id_number_check_char(first17)


@PROPERTY
@given(id_numbers())
def test_a_valid_id_number_is_accepted_with_its_birth_date_and_gender(value):
    parsed = pii.id_number_parse(value)
    assert parsed.value == value
    assert parsed.birth_date == dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    assert parsed.gender == ("M" if int(value[16]) % 2 else "F")


@PROPERTY
@given(id_numbers(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=9))
def test_one_changed_digit_is_refused(value, position, shift):
    """The check character catches every single changed character (GB 11643's mod-11 design)."""
    if value[position] == "X":
        changed = value[:position] + str(shift) + value[position + 1 :]
    else:
        digit = (int(value[position]) + shift) % 10
        changed = value[:position] + str(digit) + value[position + 1 :]
    with pytest.raises(DomainError) as caught:
        pii.id_number_parse(changed)
    assert caught.value.code in {"id_number_checksum", "id_number_birth_date"}
    assert_domain_error(caught.value, "id_number")


@PROPERTY
@given(id_numbers())
def test_full_width_digits_are_read_as_the_same_id_number(value):
    """Chinese input methods type full-width digits (４２０６…): the same number, stored in ASCII."""
    full_width = value.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert pii.id_number_parse(full_width).value == value


@PROPERTY
@given(st.text(max_size=30))
@example("٤٢٠٦٢٥١٩٨٠٠١٠٢٠٠١٥")  # Arabic-Indic digits: \d matches them, int() reads them
@example("42062519800102001５")
def test_any_text_is_an_ascii_id_number_or_refused(raw):
    parsed, error = attempt(pii.id_number_parse, raw)
    if error is not None:
        assert_domain_error(error, "id_number")
    else:
        assert re.fullmatch(r"[0-9]{17}[0-9X]", parsed.value), parsed.value


# --- phones -----------------------------------------------------------------------------------------------


@PROPERTY
@given(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    st.sampled_from(["", "+86", "0086", "+86 "]),
    st.sampled_from(["{a}{b}{c}", "{a} {b} {c}", "{a}-{b}-{c}"]),
)
def test_a_mobile_number_is_accepted_however_it_is_written(number, prefix, layout):
    typed = prefix + layout.format(a=number[:3], b=number[3:7], c=number[7:])
    assert pii.phone_parse(typed) == number


@PROPERTY
@given(st.text(max_size=24))
@example("１３８１２３４５６７８")
@example("١٣٨١٢٣٤٥٦٧٨")
def test_any_text_is_an_ascii_mobile_number_or_refused(raw):
    value, error = attempt(pii.phone_parse, raw)
    if error is not None:
        assert error.code == "phone_format"
        assert_domain_error(error, "phone")
    else:
        assert re.fullmatch(r"1[3-9][0-9]{9}", value), value


# --- money (yuan ↔ fen) -----------------------------------------------------------------------------------

# Every parser of a yuan figure, with its maximum in fen and the field its errors name.
MONEY_PARSERS = {
    "points.stores.yuan_to_fen": (
        lambda v: points_stores.yuan_to_fen(v),
        points_stores.VALUE_MAX_FEN,
        "value_yuan",
    ),
    "canteens.yuan_to_fen": (
        lambda v: canteen_money.yuan_to_fen(v, field="amount"),
        canteen_money.MONEY_MAX_FEN,
        "amount",
    ),
    "industry.economy.yuan_to_fen": (
        lambda v: economy.yuan_to_fen(v, field="amount", maximum=10**12),
        10**12,
        "amount",
    ),
    "industry.sales_rules.amount_fen_parse": (
        lambda v: sales_rules.amount_fen_parse(v, field="amount"),
        sales_rules.AMOUNT_MAX_FEN,
        "amount",
    ),
}


def yuan_text(fen: int, *, style: int) -> str:
    yuan, cents = divmod(fen, 100)
    plain = f"{yuan}.{cents:02d}"
    return [plain, f"¥{yuan:,}.{cents:02d}", f"￥{plain}", f" {plain} "][style]


@pytest.mark.parametrize("name", sorted(MONEY_PARSERS))
def test_yuan_text_comes_back_as_exactly_the_same_fen(name):
    parse, maximum, _field = MONEY_PARSERS[name]
    minimum = 1 if name.endswith("amount_fen_parse") else 0

    @PROPERTY
    @given(st.integers(min_value=minimum, max_value=maximum), st.integers(min_value=0, max_value=3))
    def check(fen, style):
        assert parse(yuan_text(fen, style=style)) == fen

    check()


@pytest.mark.parametrize("name", sorted(MONEY_PARSERS))
def test_negative_and_too_large_amounts_are_refused(name):
    parse, maximum, field = MONEY_PARSERS[name]

    @PROPERTY
    @given(
        st.one_of(
            st.integers(max_value=-1).map(lambda fen: f"-{abs(fen) // 100}.{abs(fen) % 100:02d}"),
            st.integers(min_value=maximum + 1, max_value=maximum * 1000).map(
                lambda fen: yuan_text(fen, style=0)
            ),
            st.integers(min_value=1, max_value=10**6).map(lambda fen: f"{fen}.001"),
        )
    )
    def check(text):
        with pytest.raises(DomainError) as caught:
            parse(text)
        assert_domain_error(caught.value, field)

    check()


@pytest.mark.parametrize("name", sorted(MONEY_PARSERS))
def test_any_input_is_fen_in_range_or_a_chinese_refusal(name):
    parse, maximum, field = MONEY_PARSERS[name]

    @PROPERTY
    @given(CELL)
    @example("1e999999")
    @example("1e30")
    @example("NaN")
    @example("sNaN")
    @example("-Infinity")
    def check(value):
        fen, error = attempt(parse, value)
        if error is not None:
            assert_domain_error(error, field)
        else:
            assert fen is None or (isinstance(fen, int) and 0 <= fen <= maximum), fen

    check()


# --- points and stock quantities ---------------------------------------------------------------------------


@PROPERTY
@given(CELL)
def test_a_quantity_is_a_whole_number_in_range_or_refused(value):
    """Points and stock are integers: 2.5 items or "1e3" must not become 2 or 1000 silently."""
    number, error = attempt(
        lambda v: points_stores._positive_int(
            v, field="quantity", maximum=10_000, message="数量应为正整数。"
        ),
        value,
    )
    if error is not None:
        assert_domain_error(error, "quantity")
    else:
        assert isinstance(number, int)
        assert 1 <= number <= 10_000
        assert Decimal(str(value).strip()) == number


@PROPERTY
@given(CELL)
def test_a_sales_quantity_is_two_decimals_in_range_or_refused(value):
    quantity, error = attempt(sales_rules.quantity_parse, value)
    if error is not None:
        assert_domain_error(error, "quantity")
    else:
        assert Decimal(0) <= quantity <= sales_rules.QUANTITY_MAX
        assert quantity == quantity.quantize(Decimal("0.01"))


# --- dates in Chinese formats ------------------------------------------------------------------------------

DATE_LAYOUTS = (
    "{y}-{m:02d}-{d:02d}",
    "{y}/{m}/{d}",
    "{y}.{m}.{d}",
    "{y}年{m}月{d}日",
    "{y}{m:02d}{d:02d}",
)


@PROPERTY
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)), st.sampled_from(DATE_LAYOUTS)
)
def test_a_date_typed_in_any_chinese_layout_is_that_date(day, layout):
    text = layout.format(y=day.year, m=day.month, d=day.day)
    assert sales_rules.date_parse(text) == day
    assert roster._birth_parts(text) == (day.year, day.month, day.day)


@PROPERTY
@given(CELL)
@example("99999999999-1-1")
@example("2022年13月1日")
@example("2022-02-30")
@example("0-1-1")
def test_any_input_is_a_date_or_a_chinese_refusal(value):
    day, error = attempt(sales_rules.date_parse, value)
    if error is not None:
        assert_domain_error(error, "sold_on")
    else:
        assert isinstance(day, dt.date)


@PROPERTY
@given(CELL)
def test_a_roster_birth_date_is_plausible_parts_or_nothing(value):
    parts = roster._birth_parts(value)
    if parts is not None:
        _year, month, day = parts
        assert 1 <= month <= 12
        assert day is None or 1 <= day <= 31
