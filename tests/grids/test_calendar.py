"""grids/calendar.py: working days over weekends, holidays and make-up days, with the 2026 State Council
schedule installed by grids_defaults_install (国办发明电〔2025〕7号)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from grids.calendar import WorkCalendar, add_working_days, is_workday, working_days_between
from grids.defaults import calendar_2026, grids_defaults_install
from grids.models import CalendarDay

pytestmark = pytest.mark.django_db

GUCHENG = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=GUCHENG)


@pytest.fixture
def calendar_2026_installed() -> None:
    grids_defaults_install()


def test_ordinary_week_without_rows() -> None:
    assert [is_workday(dt.date(2025, 3, d)) for d in range(3, 10)] == [True] * 5 + [False, False]


def test_add_working_days_across_a_weekend() -> None:
    # Thursday 5 March 2026 + 3 working days: Fri 6, Mon 9, Tue 10.
    assert add_working_days(at(2026, 3, 5), 3) == at(2026, 3, 10, 18)
    # The start day never counts, whatever the hour; a Saturday start counts from Monday.
    assert add_working_days(at(2026, 3, 5, 17, 59), 1) == at(2026, 3, 6, 18)
    assert add_working_days(at(2026, 3, 7, 9), 1) == at(2026, 3, 9, 18)
    assert add_working_days(at(2026, 3, 6, 23, 30), 1) == at(2026, 3, 9, 18)


def test_add_zero_working_days() -> None:
    assert add_working_days(at(2026, 3, 5), 0) == at(2026, 3, 5, 18)
    assert add_working_days(at(2026, 3, 7), 0) == at(2026, 3, 9, 18)


def test_deadline_is_in_gucheng_time_whatever_the_input_zone() -> None:
    utc_evening = dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.UTC)  # Friday 6 March 01:00 in Gucheng
    assert add_working_days(utc_evening, 1) == at(2026, 3, 9, 18)


def test_add_working_days_across_a_holiday(calendar_2026_installed: None) -> None:
    # Qingming: Sat 4 – Mon 6 April off. Friday 3 April + 1 → Tuesday 7 April.
    assert add_working_days(at(2026, 4, 3), 1) == at(2026, 4, 7, 18)
    # Labour Day: Fri 1 – Tue 5 May off, Saturday 9 May worked. Thursday 30 April + 2 → Thu 7 May.
    assert add_working_days(at(2026, 4, 30), 2) == at(2026, 5, 7, 18)
    # National Day: 1–7 October off. Wednesday 30 September + 1 → Thursday 8 October.
    assert add_working_days(at(2026, 9, 30), 1) == at(2026, 10, 8, 18)


def test_add_working_days_onto_a_make_up_saturday(calendar_2026_installed: None) -> None:
    # Spring Festival: Saturday 14 February is worked, 15–23 February off, Saturday 28 February worked.
    assert add_working_days(at(2026, 2, 13), 1) == at(2026, 2, 14, 18)
    assert add_working_days(at(2026, 2, 13), 2) == at(2026, 2, 24, 18)
    assert add_working_days(at(2026, 2, 27), 1) == at(2026, 2, 28, 18)
    # New Year: Sunday 4 January worked.
    assert add_working_days(at(2025, 12, 31), 1) == at(2026, 1, 4, 18)


def test_working_days_between(calendar_2026_installed: None) -> None:
    assert working_days_between(at(2026, 2, 13), at(2026, 2, 24)) == 2
    assert working_days_between(at(2026, 2, 24), at(2026, 2, 13)) == -2
    assert working_days_between(dt.date(2026, 3, 2), dt.date(2026, 3, 2)) == 0
    assert working_days_between(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == 22
    start = at(2026, 9, 28)
    for days in (1, 3, 10, 30):
        assert working_days_between(start, add_working_days(start, days)) == days


def test_2026_schedule_rows(calendar_2026_installed: None) -> None:
    holidays = CalendarDay.objects.filter(date__year=2026, is_workday=False)
    make_up = CalendarDay.objects.filter(date__year=2026, is_workday=True)
    assert holidays.count() == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(make_up.values_list("date", flat=True)) == [
        dt.date(2026, 1, 4),
        dt.date(2026, 2, 14),
        dt.date(2026, 2, 28),
        dt.date(2026, 5, 9),
        dt.date(2026, 9, 20),
        dt.date(2026, 10, 10),
    ]
    assert all(day.weekday() >= 5 for day in make_up.values_list("date", flat=True))
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 17)).name == "春节"
    # Weekday holidays in 2026 = official days off minus those falling on weekends.
    weekday_off = [day for day, workday, _name in calendar_2026() if not workday and day.weekday() < 5]
    assert len(weekday_off) == 19
    # 2026 has 261 weekdays; minus 19 holidays plus 6 make-up days.
    assert working_days_between(dt.date(2025, 12, 31), dt.date(2026, 12, 31)) == 261 - 19 + 6


def test_county_edit_takes_effect_at_once() -> None:
    monday = at(2026, 3, 2)
    assert add_working_days(monday, 1) == at(2026, 3, 3, 18)
    CalendarDay.objects.create(date=dt.date(2026, 3, 3), is_workday=False, name="防汛停工")
    assert add_working_days(monday, 1) == at(2026, 3, 4, 18)
    assert is_workday(dt.date(2026, 3, 3)) is False


def test_work_calendar_loads_more_on_demand() -> None:
    CalendarDay.objects.create(date=dt.date(2026, 12, 31), is_workday=False, name="测试")
    calendar = WorkCalendar.for_span(dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert calendar.is_workday(dt.date(2026, 12, 31)) is False
    assert calendar.is_workday(dt.date(2026, 1, 5)) is True
