"""Cancel racing a success, on PostgreSQL with real threads: the money is credited exactly once
when Stripe took it, and never when Stripe cancelled it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing import stripe_gateway
from billing.models import Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.deposit_authentication import deposit_cancel
from billing.services.deposits import deposit_refresh
from portal.errors import DomainError
from portal.models import Account
from tests.billing.stripe_events.test_webhook import deliver, intent_dict
from tests.billing.stripe_helpers import (
    CARD_3DS,
    PUBLISHABLE_KEY,
    LocalStripe,
    event_body,
    http,
    pay,
    sign,
)
from tests.conftest import run_in_threads

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgres")]

ROUNDS = 3


def held_payment(client: Client, local: LocalStripe, amount: str) -> tuple[Deposit, str]:
    deposit_id, confirmed = pay(client, local, amount=amount, card=CARD_3DS)
    assert confirmed.json()["status"] == "requires_action"
    return Deposit.objects.get(pk=deposit_id), confirmed.json()["client_secret"]


def _cancel(deposit_id: int) -> str:
    try:
        return deposit_cancel(
            deposit=Deposit.objects.get(pk=deposit_id), user=None, now=timezone.now()
        ).status
    except DomainError as exc:
        return exc.code


def test_cancel_racing_the_success_webhook_credits_exactly_once(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    for round_ in range(ROUNDS):
        deposit, client_secret = held_payment(customer_client, stripe_local, "20.00")
        # The customer confirmed with the bank; Stripe's webhook and their Cancel click race.
        stripe_local.authenticate(deposit.stripe_payment_intent_id, client_secret, success=True)
        body = event_body(
            "payment_intent.succeeded",
            intent_dict(deposit.stripe_payment_intent_id),
            event_id=f"evt_race_{round_}",
        )

        def webhook(body: bytes = body) -> str:
            return str(deliver(body, sign(body)).status_code)

        results = run_in_threads(
            lambda who, deposit_id: _cancel(deposit_id) if who == "cancel" else webhook(),
            [("cancel", deposit.pk), ("webhook", deposit.pk)],
        )

        assert results[1] == "200", results
        deposit.refresh_from_db()
        assert deposit.status == Deposit.Status.SUCCEEDED, results
        entries = LedgerEntry.objects.filter(
            idempotency_key=f"stripe:{deposit.stripe_payment_intent_id}"
        )
        assert entries.count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000") * ROUNDS
    assert ledger_problems() == []


def _confirm_and_return(
    base: str, payment_intent_id: str, client_secret: str, deposit_id: int
) -> str:
    """The customer's browser: 3-D Secure answered (refused by Stripe if already cancelled),
    then the return page asks Stripe."""
    status, _ = http(
        "POST",
        f"{base}/v1/payment_intents/{payment_intent_id}/_authenticate?success=true",
        json_body={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
    )
    deposit_refresh(deposit=Deposit.objects.get(pk=deposit_id), now=timezone.now())
    return str(status)


def test_cancel_racing_the_customers_confirmation_ends_as_stripe_says(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    expected = Decimal(0)
    for _ in range(ROUNDS):
        deposit, client_secret = held_payment(customer_client, stripe_local, "15.00")
        pi = deposit.stripe_payment_intent_id
        run_in_threads(
            lambda who, d=deposit, s=client_secret: (
                _cancel(d.pk)
                if who == "cancel"
                else _confirm_and_return(stripe_local.base, pi, s, d.pk)
            ),
            [("cancel",), ("confirm",)],
        )
        deposit.refresh_from_db()
        at_stripe = stripe_gateway.payment_intent_retrieve(pi).status
        credited = LedgerEntry.objects.filter(idempotency_key=f"stripe:{pi}").count()
        if at_stripe == "succeeded":
            assert (deposit.status, credited) == (Deposit.Status.SUCCEEDED, 1)
            expected += Decimal("15.00")
        else:
            assert at_stripe == "canceled"
            assert (deposit.status, credited) == (Deposit.Status.CANCELED, 0)
    account.refresh_from_db()
    assert account.balance == expected
    assert ledger_problems() == []
