"""At most BILLING_AUTO_RECHARGE_BURST_LIMIT auto-recharges per rolling
BILLING_AUTO_RECHARGE_BURST_HOURS, on top of the money caps: a safety net should anything start
recharges in a loop again."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from billing.models import BillingProfile
from portal.models import Account
from tests.billing.auto_recharge.test_auto_recharge import post, recharges, turn_on
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_refuses_a_fourth_recharge_within_24_hours(
    stripe_local: LocalStripe, account: Account, settings
) -> None:
    settings.BILLING_AUTO_RECHARGE_BURST_LIMIT = 3
    settings.BILLING_AUTO_RECHARGE_BURST_HOURS = 24
    start = dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC)

    def at(hours: float) -> time_machine.travel:
        return time_machine.travel(start + dt.timedelta(hours=hours), tick=False)

    with at(0):
        post(account, "12", "start")
        save_card(account, CARD_OK)
        turn_on(account, threshold="10", amount="25")
    for n, hours in enumerate([1, 2, 3]):  # three crossings, three recharges ($37 → $12 each)
        with at(hours):
            post(account, "-25", f"call:{n}")
        assert len(recharges(account)) == n + 1
    with at(4):  # a fourth crossing the same day: well within the $500 daily cap, refused
        post(account, "-25", "call:3")
        assert len(recharges(account)) == 3
        note = BillingProfile.objects.get(account=account).auto_recharge_note
        assert "already ran 3 times in the last 24 hours" in note
    with at(25.5):  # the first attempt (1 h) has left the rolling window
        post(account, "-0.01", "call:4")
        assert len(recharges(account)) == 4
