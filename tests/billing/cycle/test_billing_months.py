"""The cycle opens each account's periods at its own local midnight of its billing day,
clamped to the month's last day, across a leap year and DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import ClosedPeriod, LedgerEntry
from billing.services.cycle import billing_cycle_run_account
from billing.tasks.cycle import billing_cycle_scan
from tests.billing.cycle.conftest import MONTHLY, account_created_at

pytestmark = pytest.mark.django_db

# 2028 is a leap year; the month lengths are written out, not computed by billing.periods.
DAYS_2028 = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def opened_dates(account) -> list[dt.date]:
    starts = ClosedPeriod.objects.filter(account=account).order_by("period_start")
    return [p.period_start.astimezone(account.tz).date() for p in starts]


@pytest.mark.parametrize("billing_day", [1, 15, 28, 29, 30, 31])
def test_it_opens_one_period_per_month_on_the_clamped_billing_day(monthly, billing_day) -> None:
    account = account_created_at(
        dt.datetime(2028, 1, 1, tzinfo=dt.UTC), billing_day=billing_day, timezone="UTC"
    )
    day = dt.datetime(2028, 1, 1, 0, 30, tzinfo=dt.UTC)
    while day.year == 2028:  # the beat job, daily here, for a whole year
        billing_cycle_run_account(account_id=account.pk, now=day)
        day += dt.timedelta(days=1)

    expected = [
        dt.date(2028, month, min(billing_day, DAYS_2028[month - 1])) for month in range(1, 13)
    ]
    expected = [d for d in expected if d > dt.date(2028, 1, 1)]  # Jan 1 is the sign-up period
    assert opened_dates(account) == expected
    assert LedgerEntry.objects.filter(account=account).count() == 2 * len(expected)
    account.refresh_from_db()
    assert account.balance == -MONTHLY * len(expected)


def test_a_period_ends_where_the_next_one_starts(monthly) -> None:
    account = account_created_at(
        dt.datetime(2028, 1, 5, tzinfo=dt.UTC), billing_day=31, timezone="UTC"
    )
    billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 1, 5, tzinfo=dt.UTC))
    billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 4, 1, tzinfo=dt.UTC))
    rows = list(ClosedPeriod.objects.filter(account=account).order_by("period_start"))
    assert [(r.period_start.date(), r.period_end.date()) for r in rows] == [
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),
        (dt.date(2028, 2, 29), dt.date(2028, 3, 31)),
        (dt.date(2028, 3, 31), dt.date(2028, 4, 30)),
    ]


def test_accounts_roll_over_at_their_own_local_midnight(monthly) -> None:
    created = dt.datetime(2028, 1, 10, tzinfo=dt.UTC)
    auckland = account_created_at(created, timezone="Pacific/Auckland", billing_day=1)
    los_angeles = account_created_at(created, timezone="America/Los_Angeles", billing_day=1)
    # Feb 1 00:00 in Auckland (NZDT, +13) is Jan 31 11:00 UTC; in Los Angeles (PST, -8) it is
    # Feb 1 08:00 UTC.
    moments = {
        dt.datetime(2028, 1, 31, 10, 59, tzinfo=dt.UTC): ([], []),
        dt.datetime(2028, 1, 31, 11, 0, tzinfo=dt.UTC): ([dt.date(2028, 2, 1)], []),
        dt.datetime(2028, 2, 1, 7, 59, tzinfo=dt.UTC): ([dt.date(2028, 2, 1)], []),
        dt.datetime(2028, 2, 1, 8, 0, tzinfo=dt.UTC): (
            [dt.date(2028, 2, 1)],
            [dt.date(2028, 2, 1)],
        ),
    }
    for moment, (in_auckland, in_los_angeles) in moments.items():
        with time_machine.travel(moment, tick=False):
            billing_cycle_scan()
        assert opened_dates(auckland) == in_auckland, moment
        assert opened_dates(los_angeles) == in_los_angeles, moment


def test_a_period_across_a_dst_change_starts_at_local_midnight_both_sides(monthly) -> None:
    # US daylight saving time starts on Sunday, March 12, 2028 at 02:00.
    account = account_created_at(
        dt.datetime(2028, 2, 20, tzinfo=dt.UTC), timezone="America/Los_Angeles", billing_day=12
    )
    tz = ZoneInfo("America/Los_Angeles")
    billing_cycle_run_account(
        account_id=account.pk, now=dt.datetime(2028, 3, 12, 7, 59, tzinfo=dt.UTC)
    )
    assert opened_dates(account) == []
    billing_cycle_run_account(
        account_id=account.pk, now=dt.datetime(2028, 3, 12, 8, 0, tzinfo=dt.UTC)
    )
    billing_cycle_run_account(
        account_id=account.pk, now=dt.datetime(2028, 4, 12, 6, 59, tzinfo=dt.UTC)
    )
    assert opened_dates(account) == [dt.date(2028, 3, 12)]
    billing_cycle_run_account(
        account_id=account.pk, now=dt.datetime(2028, 4, 12, 7, 0, tzinfo=dt.UTC)
    )
    rows = list(ClosedPeriod.objects.filter(account=account).order_by("period_start"))
    assert [r.period_start.astimezone(tz).time() for r in rows] == [dt.time(0, 0)] * 2
    march = rows[0]
    assert march.period_end - march.period_start == dt.timedelta(days=31, hours=-1)
