"""Minutes per day by how they were billed: local days, one query, the Calls page's filters."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.models import Call
from billing.selectors.calls import CallFilters
from billing.selectors.usage_charts import (
    MAX_CHART_DAYS,
    DayMinutes,
    calls_chart_range,
    calls_minutes_chart,
    minutes_by_day,
)
from tests.billing.call_factories import CallFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
Category = Call.Category


def _call(account, started_at: dt.datetime, **fields: object) -> None:
    CallFactory(account=account, started_at=started_at, **fields)


def test_a_call_across_local_midnight_counts_once_on_the_day_it_started(
    account, django_assert_num_queries
) -> None:
    # 23:50 in New York on Nov 20 is 04:50 UTC on Nov 21; the call ends after midnight.
    _call(
        account,
        dt.datetime(2026, 11, 21, 4, 50, tzinfo=UTC),
        billsec=1200,
        billed_seconds=1200,
        included_seconds=1200,
    )
    with django_assert_num_queries(1):
        days = minutes_by_day(
            account=account, first=dt.date(2026, 11, 20), last=dt.date(2026, 11, 21)
        )
    assert days == [
        DayMinutes(day=dt.date(2026, 11, 20), included=1200),
        DayMinutes(day=dt.date(2026, 11, 21)),
    ]


def test_a_call_that_straddles_the_allowance_splits_into_included_and_overage(account) -> None:
    _call(
        account,
        dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        category=Category.OVERAGE,
        billed_seconds=600,
        included_seconds=120,
        paid_seconds=480,
    )
    _call(
        account,
        dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        category=Category.OVERAGE,
        billed_seconds=240,
        included_seconds=0,
        paid_seconds=240,
    )
    _call(
        account,
        dt.datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
        category=Category.RATED,
        billed_seconds=180,
        included_seconds=0,
        paid_seconds=180,
    )
    _call(
        account,
        dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC),
        category=Category.DID_RATE,
        direction=Call.Direction.INBOUND,
        billed_seconds=60,
        included_seconds=0,
        paid_seconds=60,
    )
    # Unanswered and on-net calls bill nothing and draw nothing.
    _call(
        account,
        dt.datetime(2026, 11, 20, 19, 0, tzinfo=UTC),
        category=Category.UNANSWERED,
        billed_seconds=0,
        included_seconds=0,
        answered_at=None,
        billsec=0,
    )
    (day,) = minutes_by_day(
        account=account, first=dt.date(2026, 11, 20), last=dt.date(2026, 11, 20)
    )
    assert day == DayMinutes(
        day=dt.date(2026, 11, 20), included=120, overage=720, per_minute=180, incoming_did=60
    )
    assert day.total == 1080


def test_the_day_the_clocks_go_back_holds_its_25_hours(account) -> None:
    # New York leaves daylight time on Sun Nov 1, 2026: that day runs 04:00 UTC to 05:00 UTC
    # the next day.
    _call(account, dt.datetime(2026, 11, 1, 4, 30, tzinfo=UTC))  # 00:30 EDT, Nov 1
    _call(account, dt.datetime(2026, 11, 2, 4, 30, tzinfo=UTC))  # 23:30 EST, Nov 1
    _call(account, dt.datetime(2026, 11, 2, 5, 10, tzinfo=UTC))  # 00:10 EST, Nov 2
    _call(account, dt.datetime(2026, 11, 1, 3, 59, tzinfo=UTC))  # 23:59 EDT, Oct 31
    days = minutes_by_day(account=account, first=dt.date(2026, 10, 31), last=dt.date(2026, 11, 2))
    assert [(d.day.day, d.included) for d in days] == [(31, 180), (1, 360), (2, 180)]


def test_an_empty_range_is_every_day_at_zero_in_one_query(
    account, django_assert_num_queries
) -> None:
    with django_assert_num_queries(1):
        days = minutes_by_day(
            account=account, first=dt.date(2026, 11, 1), last=dt.date(2026, 11, 30)
        )
    assert len(days) == 30
    assert all(d.total == 0 for d in days)


def test_it_counts_only_the_accounts_own_calls(account) -> None:
    other = AccountFactory()
    _call(other, dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    _call(account, dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC), included_seconds=60)
    (day,) = minutes_by_day(
        account=account, first=dt.date(2026, 11, 20), last=dt.date(2026, 11, 20)
    )
    assert day.included == 60


def test_it_applies_the_calls_pages_direction_and_number_filters(account) -> None:
    _call(account, dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC), to_number="+12025550123")
    _call(
        account,
        dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        to_number="+4930901820",
        included_seconds=60,
    )
    _call(
        account,
        dt.datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
        direction="inbound",
        to_number="+12025550199",
        included_seconds=120,
    )
    first = last = dt.date(2026, 11, 20)
    outbound = CallFilters(direction="outbound")
    berlin = CallFilters(number="4930")
    assert (
        minutes_by_day(account=account, first=first, last=last, filters=outbound)[0].included == 240
    )
    assert minutes_by_day(account=account, first=first, last=last, filters=berlin)[0].included == 60


def test_the_calls_chart_covers_the_filtered_days_or_this_billing_month(
    account, django_assert_num_queries
) -> None:
    now = dt.datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert calls_chart_range(account=account, filters=CallFilters(), now=now) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 24),
    )
    chosen = CallFilters(date_from=dt.date(2026, 10, 5), date_to=dt.date(2026, 10, 9))
    assert calls_chart_range(account=account, filters=chosen, now=now) == (
        dt.date(2026, 10, 5),
        dt.date(2026, 10, 9),
    )
    since = CallFilters(date_from=dt.date(2026, 11, 20))
    assert calls_chart_range(account=account, filters=since, now=now) == (
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 24),
    )
    until = CallFilters(date_to=dt.date(2026, 10, 15))
    assert calls_chart_range(account=account, filters=until, now=now) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 15),
    )
    years = CallFilters(date_from=dt.date(2020, 1, 1), date_to=dt.date(2026, 11, 24))
    first, last = calls_chart_range(account=account, filters=years, now=now)
    assert (last - first).days + 1 == MAX_CHART_DAYS and last == dt.date(2026, 11, 24)
    _call(account, dt.datetime(2026, 10, 6, 15, 0, tzinfo=UTC))
    with django_assert_num_queries(1):
        days = calls_minutes_chart(account=account, filters=chosen, now=now)
    assert [d.included for d in days] == [0, 180, 0, 0, 0]
