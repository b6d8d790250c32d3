"""Changing the account's time zone must not hand out a fresh month of included minutes.

The owner may change the time zone on the account settings page at any time. The billing month
is then read in the new zone (same dates, local midnights of another zone), and the minutes
already used in it still count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.selectors.usage import minutes_summary
from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account

pytestmark = pytest.mark.django_db


def test_a_new_time_zone_keeps_the_minutes_used_this_month(account: Account) -> None:
    acct = set_up_account(account)
    assert acct.timezone == "America/New_York"
    used = call_record(cdr=cdr(acct, "+12025550123", 450 * 60), now=NOW)
    assert used.included_seconds == 450 * 60

    acct.timezone = "Asia/Tokyo"  # what the account settings page does
    acct.save(update_fields=["timezone", "updated_at"])
    acct.refresh_from_db()
    later = NOW + dt.timedelta(hours=1)

    assert minutes_summary(account=acct, now=later).used_seconds == 450 * 60
    auth = call_authorize(
        request=AuthorizeInput("tz-a", acct.code, "outbound", "101", "+12025550124"), now=later
    )
    assert auth.included_seconds == 50 * 60
    r = call_record(cdr=cdr(acct, "+12025550123", 60 * 60, start=later), now=later)
    assert r.included_seconds == 50 * 60
    assert r.charge == Decimal("0.2500")  # 10 min overage at $0.025
    assert minutes_summary(account=acct, now=later).used_seconds == 500 * 60
