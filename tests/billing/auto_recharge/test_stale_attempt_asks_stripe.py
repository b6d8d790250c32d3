"""A stale auto-recharge attempt whose Stripe answer was lost is settled from what Stripe says.

Without a PaymentIntent id on our side, closing it as "interrupted" would let the next attempt
charge the card again although Stripe charged it the first time (and no webhook came)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.services.auto_recharge import auto_recharge_resolve_stale, auto_recharge_run
from portal.models import Account
from tests.billing.deposits.test_stripe_faults import _answers_lost_off, answer_lost  # noqa: F401
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_credits_a_stale_attempt_that_stripe_charged(
    answer_lost: None,  # noqa: F811
    stripe_local: LocalStripe,
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_card(account, CARD_OK)
    BillingProfile.objects.filter(account=account).update(
        auto_recharge_enabled=True,
        auto_recharge_threshold=Decimal("10"),
        auto_recharge_amount=Decimal("25"),
    )
    now = timezone.now()
    attempt = auto_recharge_run(account_id=account.pk, now=now)
    assert attempt is not None and not attempt.stripe_payment_intent_id
    _answers_lost_off(monkeypatch)

    assert auto_recharge_resolve_stale(now=now + dt.timedelta(minutes=61)) == 1

    attempt.refresh_from_db()
    assert attempt.status == Deposit.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(kind="auto_recharge").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("25.0000")
    assert auto_recharge_run(account_id=account.pk, now=now + dt.timedelta(minutes=62)) is None
    assert Deposit.objects.filter(kind="auto_recharge").count() == 1
