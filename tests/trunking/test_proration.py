"""An increase charges the rest of the current billing month at once, by whole days in the
account's time zone (today included): the first day pays the month, the last day one day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.models import LedgerEntry
from portal.models import Account
from tests.factories import AccountFactory
from tests.trunking.conftest import give_credit
from trunking.services.trunks import channels_change

pytestmark = pytest.mark.django_db

TWO_WAY = {"outbound": 0, "inbound": 0, "two_way": 2}

# (year, month, days in it): a 28-, a 30- and a 31-day month.
MONTHS = [(2026, 2, 28), (2026, 11, 30), (2026, 12, 31)]
ZONES = ["America/Los_Angeles", "Pacific/Auckland"]


def _increase_at(account: Account, local: dt.datetime) -> LedgerEntry:
    now = local.astimezone(dt.UTC)
    give_credit(account, "100.00", now=now)
    outcome = channels_change(account=account, user=None, counts=TWO_WAY, version=0, now=now)
    assert outcome.increase is not None and outcome.increase.ledger_entry is not None
    return outcome.increase.ledger_entry


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("year", "month", "days"), MONTHS)
@pytest.mark.parametrize("day", ["first", "mid", "last"])
def test_it_prorates_the_rest_of_the_month_in_the_accounts_time_zone(
    zone: str, year: int, month: int, days: int, day: str
) -> None:
    tz = ZoneInfo(zone)
    account = AccountFactory(timezone=zone, billing_day=1)
    today = {"first": 1, "mid": 15, "last": days}[day]
    # 00:30 and 23:30 local are another calendar day in UTC in both zones: the local day counts.
    for n, hour_minute in enumerate(((0, 30), (23, 30))):
        other = account if n == 0 else AccountFactory(timezone=zone, billing_day=1)
        local = dt.datetime(year, month, today, *hour_minute, tzinfo=tz)
        entry = _increase_at(other, local)
        left = days - today + 1
        expected = (Decimal(24) * left / days).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert entry.kind == LedgerEntry.Kind.PRORATION
        assert entry.amount == -expected
        assert f"2 two-way channels × $12.00 × {left}/{days} days = ${expected}" in (
            entry.description
        )


def test_the_explanation_reads_as_the_issue_shows() -> None:
    account = AccountFactory(timezone="America/Los_Angeles", billing_day=1)
    local = dt.datetime(2026, 12, 15, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    entry = _increase_at(account, local)
    assert entry.description == (
        "SIP trunk channels added: 2 two-way channels × $12.00 × 17/31 days = $13.16"
    )
    assert entry.amount == Decimal("-13.1600")


def test_it_prorates_by_the_accounts_billing_month_not_the_calendar_month() -> None:
    # Billing day 20: Nov 24 is in the Nov 20 to Dec 20 month (30 days), 26 of them left.
    account = AccountFactory(timezone="America/New_York", billing_day=20)
    local = dt.datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    entry = _increase_at(account, local)
    assert "× 26/30 days = $20.80" in entry.description
