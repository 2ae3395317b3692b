"""Working days for case deadlines: Monday to Friday, except the county's calendar rows (CalendarDay): a
public holiday on a weekday is a day off, a make-up day (调休) on a weekend is a working day.

The rules, in one place:
- A deadline of N working days from `start` is 18:00 Asia/Shanghai (the end of the office day,
  WORKDAY_END) on the Nth working day *after* the day of `start`: the day the clock starts never counts,
  whatever the hour, so a case assigned at 17:50 gets as much time as one assigned at 08:30. N = 0 is
  18:00 on the day of `start` when that is a working day, else on the next working day.
- working_days_between(a, b) counts the working days d with a's date < d ≤ b's date (local dates), so
  working_days_between(start, add_working_days(start, n)) == n; negative when b is before a.

Caching: none across requests. Each call reads the calendar rows of the span it needs with one indexed
query (CalendarDay.date is UNIQUE), so an edit by the county takes effect at once in every process, and a
test that rolls its rows back never leaves a stale cache behind. Callers that work through many cases (the
deadline task) load one WorkCalendar for the whole span and ask it directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.utils import timezone

# The county's office day ends at 18:00 local time (the deadline on the last working day).
WORKDAY_END = dt.time(18, 0)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Enough calendar days to cover N working days even around the 9-day Spring Festival break.
_MARGIN_DAYS = 21


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """The Asia/Shanghai calendar date of `moment` (a date is returned as it is)."""
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            return moment.date()
        return moment.astimezone(LOCAL_TZ).date()
    return moment


def day_end(day: dt.date) -> dt.datetime:
    """18:00 Asia/Shanghai on `day`, as an aware datetime."""
    return dt.datetime.combine(day, WORKDAY_END, tzinfo=LOCAL_TZ)


def day_start(day: dt.date) -> dt.datetime:
    """00:00 Asia/Shanghai on `day`, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL_TZ)


class WorkCalendar:
    """The calendar exceptions of a date span, read with one query; answers for any day (outside the
    loaded span it loads more on demand)."""

    def __init__(self, exceptions: dict[dt.date, bool] | None = None) -> None:
        self._exceptions: dict[dt.date, bool] = dict(exceptions or {})
        self._loaded: tuple[dt.date, dt.date] | None = None

    @classmethod
    def for_span(cls, first: dt.date, last: dt.date) -> WorkCalendar:
        """A calendar with the rows from `first` to `last` (inclusive) loaded."""
        calendar = cls()
        calendar._load(first, last)
        return calendar

    def _load(self, first: dt.date, last: dt.date) -> None:
        from grids.models import CalendarDay

        if self._loaded is not None:
            # Widen to one contiguous span so "not in the dict" keeps meaning "an ordinary day".
            first, last = min(first, self._loaded[0]), max(last, self._loaded[1])
        rows = CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "is_workday")
        self._exceptions = dict(rows)
        self._loaded = (first, last)

    def _ensure(self, day: dt.date) -> None:
        if self._loaded is None or not (self._loaded[0] <= day <= self._loaded[1]):
            self._load(day - dt.timedelta(days=_MARGIN_DAYS), day + dt.timedelta(days=_MARGIN_DAYS * 3))

    def is_workday(self, day: dt.date) -> bool:
        self._ensure(day)
        exception = self._exceptions.get(day)
        if exception is not None:
            return exception
        return day.weekday() < 5

    def workdays(self, days: Iterable[dt.date]) -> list[dt.date]:
        return [day for day in days if self.is_workday(day)]

    def nth_workday_after(self, day: dt.date, n: int) -> dt.date:
        """The nth working day after `day` (n ≥ 1); n = 0: `day` itself if it is a working day, else the
        next working day."""
        if n <= 0:
            while not self.is_workday(day):
                day += dt.timedelta(days=1)
            return day
        found = 0
        while found < n:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                found += 1
        return day

    def nth_workday_before(self, day: dt.date, n: int) -> dt.date:
        """The nth working day before `day` (n ≥ 1)."""
        found = 0
        while found < n:
            day -= dt.timedelta(days=1)
            if self.is_workday(day):
                found += 1
        return day

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """18:00 local on the `days`-th working day after the local date of `start` (module docstring)."""
        return day_end(self.nth_workday_after(local_date(start), days))

    def working_days_between(self, a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> int:
        """Working days d with date(a) < d ≤ date(b); negative when b is before a."""
        first, last = local_date(a), local_date(b)
        if last < first:
            return -self.working_days_between(b, a)
        self._ensure(first)
        self._ensure(last)
        count = 0
        day = first
        while day < last:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def is_workday(day: dt.date) -> bool:
    """Whether `day` is a working day (weekday unless a holiday row says otherwise; a make-up row makes
    a weekend day a working day)."""
    from grids.models import CalendarDay

    row = CalendarDay.objects.filter(date=day).values_list("is_workday", flat=True).first()
    if row is not None:
        return bool(row)
    return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The deadline `days` working days after `start`: 18:00 Asia/Shanghai on the `days`-th working day
    after the local date of `start` (aware datetime). One query."""
    first = local_date(start)
    calendar = WorkCalendar.for_span(first, first + dt.timedelta(days=max(days, 0) * 2 + _MARGIN_DAYS))
    return calendar.add_working_days(start, days)


def working_days_between(a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> int:
    """The working days d with local date(a) < d ≤ local date(b); negative when b is before a. One
    query."""
    first, last = sorted((local_date(a), local_date(b)))
    return WorkCalendar.for_span(first, last).working_days_between(a, b)
