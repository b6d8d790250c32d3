"""Billing months, computed in the account's time zone, with month-end clamping.

A billing day of 31 gives 31 Jan → 28/29 Feb → 31 Mar: the anchor day is kept, and each month
clamps it to the month's length. Period boundaries are local midnights, returned as aware
datetimes (convert with ``.astimezone(UTC)`` to store).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Period:
    start: dt.datetime  # aware, local midnight of the period's first day
    end: dt.datetime  # aware, local midnight of the next period's first day (exclusive)

    @property
    def start_date(self) -> dt.date:
        return self.start.date()

    @property
    def end_date(self) -> dt.date:
        """The first day of the next period (the reset date)."""
        return self.end.date()

    @property
    def last_day(self) -> dt.date:
        return self.end.date() - dt.timedelta(days=1)

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The start of ``day`` in ``tz`` (an aware datetime)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


def period_containing(moment: dt.datetime, *, billing_day: int, tz: ZoneInfo) -> Period:
    """The billing period that contains ``moment`` (an aware datetime)."""
    if moment.tzinfo is None:
        raise ValueError("period_containing needs an aware datetime")
    if not 1 <= billing_day <= 31:
        raise ValueError("billing_day must be 1..31")
    local = moment.astimezone(tz).date()
    start = _clamped(local.year, local.month, billing_day)
    if local < start:
        year, month = _add_months(local.year, local.month, -1)
        start = _clamped(year, month, billing_day)
    next_year, next_month = _add_months(start.year, start.month, 1)
    end = _clamped(next_year, next_month, billing_day)
    return Period(local_midnight(start, tz), local_midnight(end, tz))


def next_period(period: Period, *, billing_day: int, tz: ZoneInfo) -> Period:
    return period_containing(period.end, billing_day=billing_day, tz=tz)


def periods_between(
    first: dt.datetime, last: dt.datetime, *, billing_day: int, tz: ZoneInfo
) -> list[Period]:
    """Every period from the one containing ``first`` up to the one containing ``last``."""
    periods = [period_containing(first, billing_day=billing_day, tz=tz)]
    while periods[-1].end <= last:
        periods.append(next_period(periods[-1], billing_day=billing_day, tz=tz))
    return periods
