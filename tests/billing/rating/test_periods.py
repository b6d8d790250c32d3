"""Billing months: month-end clamping, local midnights across DST, and the tiling property."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.periods import Period, next_period, period_containing, periods_between

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TIMEZONES = [
    NEW_YORK,
    LONDON,
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Auckland"),
    ZoneInfo("America/Santiago"),  # DST changes at midnight: some local midnights do not exist
    ZoneInfo("America/Havana"),
    UTC,
]


def local(tz: ZoneInfo | dt.timezone, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def dates(period: Period) -> tuple[dt.date, dt.date]:
    return period.start_date, period.end_date


def elapsed(period: Period) -> dt.timedelta:
    """Real time in the period. (Subtracting two datetimes with the same ZoneInfo gives
    wall-clock time and ignores the DST hour, so go through UTC.)"""
    return period.end.astimezone(UTC) - period.start.astimezone(UTC)


def starts_a_local_day(moment: dt.datetime, tz: ZoneInfo | dt.timezone) -> bool:
    """The first instant of a local day: midnight, or where midnight does not exist (a DST
    jump at 00:00, e.g. Santiago or Havana) the moment the clocks jump to."""
    just_before = (moment.astimezone(UTC) - dt.timedelta(microseconds=1)).astimezone(tz)
    return just_before.date() < moment.astimezone(tz).date()


# --- clamping -------------------------------------------------------------------------------


def test_day_31_clamps_to_29_february_in_a_leap_year() -> None:
    january = period_containing(local(NEW_YORK, 2028, 2, 10, 12), billing_day=31, tz=NEW_YORK)
    assert dates(january) == (dt.date(2028, 1, 31), dt.date(2028, 2, 29))
    february = next_period(january, billing_day=31, tz=NEW_YORK)
    assert dates(february) == (dt.date(2028, 2, 29), dt.date(2028, 3, 31))
    assert february.last_day == dt.date(2028, 3, 30)


def test_day_31_clamps_to_28_february_and_returns_to_31_march() -> None:
    february = period_containing(local(NEW_YORK, 2027, 3, 5), billing_day=31, tz=NEW_YORK)
    assert dates(february) == (dt.date(2027, 2, 28), dt.date(2027, 3, 31))
    march = next_period(february, billing_day=31, tz=NEW_YORK)
    assert dates(march) == (dt.date(2027, 3, 31), dt.date(2027, 4, 30))
    april = next_period(march, billing_day=31, tz=NEW_YORK)
    assert dates(april) == (dt.date(2027, 4, 30), dt.date(2027, 5, 31))


def test_day_30_in_february_and_the_year_boundary() -> None:
    assert dates(period_containing(local(UTC, 2027, 2, 28), billing_day=30, tz=UTC)) == (
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 30),
    )
    assert dates(period_containing(local(UTC, 2027, 1, 3), billing_day=15, tz=UTC)) == (
        dt.date(2026, 12, 15),
        dt.date(2027, 1, 15),
    )


def test_the_start_moment_belongs_to_the_new_period() -> None:
    start = local(NEW_YORK, 2027, 6, 15)
    period = period_containing(start, billing_day=15, tz=NEW_YORK)
    assert period.start == start
    before = period_containing(start - dt.timedelta(microseconds=1), billing_day=15, tz=NEW_YORK)
    assert before.end == start
    assert dates(before) == (dt.date(2027, 5, 15), dt.date(2027, 6, 15))


def test_the_period_is_decided_in_the_accounts_time_zone() -> None:
    # 1 March 03:00 UTC is still 28 February in New York and already 1 March in London.
    moment = local(UTC, 2027, 3, 1, 3)
    assert period_containing(moment, billing_day=1, tz=NEW_YORK).start_date == dt.date(2027, 2, 1)
    assert period_containing(moment, billing_day=1, tz=LONDON).start_date == dt.date(2027, 3, 1)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_containing(dt.datetime(2027, 1, 1), billing_day=1, tz=UTC)
    for day in (0, 32):
        with pytest.raises(ValueError, match=r"1\.\.31"):
            period_containing(local(UTC, 2027, 1, 1), billing_day=day, tz=UTC)


# --- DST: boundaries are local midnights ------------------------------------------------------


def test_new_york_spring_forward_month_is_an_hour_short() -> None:
    # DST starts 14 March 2027 in New York: the March period has 30 days 23 hours.
    period = period_containing(local(NEW_YORK, 2027, 3, 20), billing_day=1, tz=NEW_YORK)
    assert period.start.astimezone(UTC) == local(UTC, 2027, 3, 1, 5)  # EST, UTC-5
    assert period.end.astimezone(UTC) == local(UTC, 2027, 4, 1, 4)  # EDT, UTC-4
    assert elapsed(period) == dt.timedelta(days=31) - dt.timedelta(hours=1)


def test_new_york_fall_back_month_is_an_hour_long() -> None:
    # DST ends 7 November 2027: the period 1 Nov → 1 Dec has 30 days 1 hour.
    period = period_containing(local(NEW_YORK, 2027, 11, 7, 1, 30), billing_day=1, tz=NEW_YORK)
    assert period.start.astimezone(UTC) == local(UTC, 2027, 11, 1, 4)
    assert period.end.astimezone(UTC) == local(UTC, 2027, 12, 1, 5)
    assert elapsed(period) == dt.timedelta(days=30, hours=1)


def test_a_period_starting_on_the_dst_day_starts_at_local_midnight() -> None:
    # Billing day 14: the period starts on the very day New York springs forward.
    period = period_containing(local(UTC, 2027, 3, 14, 12), billing_day=14, tz=NEW_YORK)
    assert period.start.astimezone(UTC) == local(UTC, 2027, 3, 14, 5)
    assert period.end.astimezone(UTC) == local(UTC, 2027, 4, 14, 4)


def test_london_summer_time_boundaries() -> None:
    # BST starts 28 March 2027 and ends 31 October 2027.
    march = period_containing(local(UTC, 2027, 3, 29), billing_day=1, tz=LONDON)
    assert march.start.astimezone(UTC) == local(UTC, 2027, 3, 1, 0)
    assert march.end.astimezone(UTC) == local(UTC, 2027, 3, 31, 23)  # midnight BST
    october = period_containing(local(UTC, 2027, 10, 31, 12), billing_day=1, tz=LONDON)
    assert october.start.astimezone(UTC) == local(UTC, 2027, 9, 30, 23)
    assert october.end.astimezone(UTC) == local(UTC, 2027, 11, 1, 0)
    # Just before midnight BST on 31 March is still March's period; just after is April's.
    assert march.contains(local(UTC, 2027, 3, 31, 22, 59, 59))
    assert not march.contains(local(UTC, 2027, 3, 31, 23))


@time_machine.travel(dt.datetime(2028, 3, 1, 4, 59, tzinfo=dt.UTC), tick=False)
def test_current_period_when_now_is_just_before_local_midnight() -> None:
    # 04:59 UTC on 1 March 2028 is 23:59 on 29 February in New York.
    period = period_containing(timezone.now(), billing_day=31, tz=NEW_YORK)
    assert dates(period) == (dt.date(2028, 2, 29), dt.date(2028, 3, 31))
    assert period.last_day == dt.date(2028, 3, 30)


@time_machine.travel(dt.datetime(2028, 3, 1, 5, 0, tzinfo=dt.UTC), tick=False)
def test_current_period_when_now_is_local_midnight() -> None:
    period = period_containing(timezone.now(), billing_day=1, tz=NEW_YORK)
    assert period.start == timezone.now()
    assert dates(period) == (dt.date(2028, 3, 1), dt.date(2028, 4, 1))


def test_periods_between_lists_consecutive_periods() -> None:
    periods = periods_between(
        local(NEW_YORK, 2027, 12, 20), local(NEW_YORK, 2028, 3, 31), billing_day=31, tz=NEW_YORK
    )
    assert [dates(p) for p in periods] == [
        (dt.date(2027, 11, 30), dt.date(2027, 12, 31)),
        (dt.date(2027, 12, 31), dt.date(2028, 1, 31)),
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),
        (dt.date(2028, 2, 29), dt.date(2028, 3, 31)),
        (dt.date(2028, 3, 31), dt.date(2028, 4, 30)),
    ]


# --- properties ---------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
)
billing_days = st.integers(min_value=1, max_value=31)
zones = st.sampled_from(TIMEZONES)


@settings(max_examples=300, deadline=None)
@given(moment=moments, billing_day=billing_days, tz=zones)
def test_every_moment_lies_in_exactly_one_period(
    moment: dt.datetime, billing_day: int, tz: ZoneInfo
) -> None:
    period = period_containing(moment, billing_day=billing_day, tz=tz)
    assert period.contains(moment)
    previous = period_containing(
        period.start - dt.timedelta(microseconds=1), billing_day=billing_day, tz=tz
    )
    following = next_period(period, billing_day=billing_day, tz=tz)
    assert not previous.contains(moment)
    assert not following.contains(moment)
    # Every moment of a period maps back to that same period.
    assert period_containing(period.start, billing_day=billing_day, tz=tz) == period
    last = period.end - dt.timedelta(microseconds=1)
    assert period_containing(last, billing_day=billing_day, tz=tz) == period


@settings(max_examples=200, deadline=None)
@given(moment=moments, billing_day=billing_days, tz=zones)
def test_consecutive_periods_touch_and_start_at_local_midnight(
    moment: dt.datetime, billing_day: int, tz: ZoneInfo
) -> None:
    period = period_containing(moment, billing_day=billing_day, tz=tz)
    for _ in range(14):
        following = next_period(period, billing_day=billing_day, tz=tz)
        assert following.start == period.end  # no gap, no overlap
        assert starts_a_local_day(period.start, tz)
        assert period.start.astimezone(tz).date() == period.start_date
        # The start day is the billing day, clamped to the month's length.
        assert period.start_date.day == billing_day or (
            period.start_date.day < billing_day
            and (period.start_date + dt.timedelta(days=1)).month != period.start_date.month
        )
        assert dt.timedelta(days=27) < elapsed(period) < dt.timedelta(days=32)
        period = following
