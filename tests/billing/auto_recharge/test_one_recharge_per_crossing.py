"""One auto-recharge per downward crossing of the threshold.

The incident: a staff debit left the balance far below the threshold; each $50 recharge left it
still below, its own posting started the next one, and the card was charged 10 x $50 in a minute
(stopped only by the daily cap). A recharge that leaves the balance below the threshold must not
start another: it tells the customer, and auto-recharge waits until a payment lifts the balance
to the threshold again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.ledger import ledger_adjust
from billing.tasks.auto_recharge import auto_recharge_scan
from portal.models import Account
from tests.billing.auto_recharge.test_auto_recharge import post, recharges, turn_on
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _staff_debit(account: Account, amount: str) -> None:
    ledger_adjust(
        account=account,
        amount=Decimal(amount),
        customer_description="Fraudulent calls written back",
        internal_note="Fraudulent calls written back",
        staff_user=UserFactory(account=None, is_staff=True),
        confirmed=True,
        now=timezone.now(),
    )


def test_it_charges_once_when_a_staff_debit_leaves_the_balance_far_below_the_threshold(
    stripe_local: LocalStripe, account: Account, user, customer_client: Client
) -> None:
    post(account, "20", "start")
    save_card(account, CARD_OK)
    turn_on(account, threshold="10", amount="50")
    mail.outbox.clear()

    _staff_debit(account, "-500")  # -480: one $50 recharge, which leaves -430

    assert [d.status for d in recharges(account)] == [Deposit.Status.SUCCEEDED]
    assert LedgerEntry.objects.filter(account=account, kind="auto_recharge").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("-430.0000")
    assert sorted(m.subject for m in mail.outbox) == [
        "[Control Center] Auto-recharge paused: your balance is still below $10.00",
        "[Control Center] Receipt: $50.00 added to your balance",
    ]
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "still below your threshold of $10.00" in page

    # More calls, and the beat scan, do not restart it while nothing lifted the balance.
    post(account, "-1", "call:1")
    assert auto_recharge_scan.delay().get() == 0
    assert len(recharges(account)) == 1
    assert len(mail.outbox) == 2  # the notice went out once
    assert ledger_problems() == []


def test_a_deposit_lifting_the_balance_to_the_threshold_rearms_it(
    stripe_local: LocalStripe, account: Account, user, customer_client: Client
) -> None:
    post(account, "20", "start")
    save_card(account, CARD_OK)
    turn_on(account, threshold="10", amount="50")
    _staff_debit(account, "-100")  # -80 → one recharge → -30, still below
    assert len(recharges(account)) == 1

    post(account, "30", "payment:1")  # 0: a payment, still below: stays paused
    assert len(recharges(account)) == 1
    post(account, "15", "payment:2")  # 15: at/above the threshold → armed again
    assert len(recharges(account)) == 1
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "still below your threshold" not in page

    post(account, "-6", "call:1")  # 9: a new downward crossing → one recharge
    assert [d.status for d in recharges(account)] == [Deposit.Status.SUCCEEDED] * 2
    account.refresh_from_db()
    assert account.balance == Decimal("59.0000")
    post(account, "-1", "call:2")
    assert len(recharges(account)) == 2
    assert ledger_problems() == []


def test_the_beat_scan_recharges_an_account_rearmed_by_a_deposit(
    stripe_local: LocalStripe, account: Account
) -> None:
    post(account, "20", "start")
    save_card(account, CARD_OK)
    turn_on(account, threshold="10", amount="50")
    _staff_debit(account, "-100")  # recharged once, paused at -30
    assert len(recharges(account)) == 1
    post(account, "45", "payment:1")  # 15: armed again
    # A debit crossing down whose task was lost: the scan follows the same rule.
    from billing.services.ledger import ledger_post

    ledger_post(
        account=account,
        amount=Decimal("-6"),
        kind="call",
        description="Call",
        idempotency_key="call:lost",
        now=timezone.now(),
        announce=False,  # no balance_changed: the receiver never enqueues
    )
    assert len(recharges(account)) == 1
    assert auto_recharge_scan.delay().get() == 1
    assert len(recharges(account)) == 2
