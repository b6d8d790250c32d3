"""Attempts waiting for the customer's 3-D Secure count against the auto-recharge caps.

An off-session attempt the bank wants confirmed can still be completed (and charged) at any time
through the e-mailed link, so until it is settled it is money auto-recharge may charge. A new
attempt a day later must not take the month past its cap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from billing.models import BillingProfile, Deposit
from portal.models import Account
from tests.billing.auto_recharge.test_auto_recharge import post, recharges, turn_on
from tests.billing.stripe_helpers import CARD_3DS, LocalStripe, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_attempts_waiting_for_authentication_count_against_the_caps(
    stripe_local: LocalStripe, account: Account
) -> None:
    def on(day: int) -> time_machine.travel:
        return time_machine.travel(dt.datetime(2026, 11, day, 15, 0, tzinfo=dt.UTC), tick=False)

    with on(10):
        post(account, "5", "start")
        save_card(account, CARD_3DS)
        BillingProfile.objects.get_or_create(account=account)
        BillingProfile.objects.filter(account=account).update(
            auto_recharge_daily_cap=Decimal("30"), auto_recharge_monthly_cap=Decimal("60")
        )
        turn_on(account, threshold="10", amount="25")
        assert [d.status for d in recharges(account)] == [Deposit.Status.REQUIRES_ACTION]
    with on(12):  # past the 24 h wait: a second attempt ($50 of $60 this month)
        post(account, "-0.01", "call:b")
        assert len(recharges(account)) == 2
    with on(14):  # a third would make $75 this month if the customer confirms all three
        post(account, "-0.01", "call:c")
        assert len(recharges(account)) == 2
        profile = BillingProfile.objects.get(account=account)
        assert "monthly limit of $60.00" in profile.auto_recharge_note
