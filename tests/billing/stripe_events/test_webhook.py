"""The Stripe webhook: signature, events stored once, credit once, refunds and disputes.

Payment events come from localstripe's own objects (and, in one test, from localstripe's own
delivery); refund and dispute events, which localstripe does not send, are built from
localstripe's charge and signed with Stripe's scheme."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing import stripe_gateway
from billing.models import Deposit, LedgerEntry, StripeEvent
from billing.selectors.ledger import ledger_problems
from portal.models import Account
from tests.billing.stripe_helpers import (
    CARD_3DS,
    LocalStripe,
    event_body,
    pay,
    sign,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
WEBHOOK = "/stripe/webhook/"


def deliver(body: bytes, signature: str | None = None) -> Any:
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return Client().post(WEBHOOK, body, content_type="application/json", **headers)


def authenticated_3ds_deposit(client: Client, local: LocalStripe, amount: str = "20.00") -> Deposit:
    """A 3-D Secure payment the customer completed, before any webhook or return page."""
    deposit_id, confirmed = pay(client, local, amount=amount, card=CARD_3DS)
    data = confirmed.json()
    assert data["status"] == "requires_action"
    deposit = Deposit.objects.get(pk=deposit_id)
    local.authenticate(deposit.stripe_payment_intent_id, data["client_secret"], success=True)
    return deposit


def intent_dict(payment_intent_id: str) -> dict[str, Any]:
    pi = stripe_gateway.client().v1.payment_intents.retrieve(payment_intent_id)
    return pi.to_dict()


def charge_dict(charge_id: str) -> dict[str, Any]:
    return stripe_gateway.client().v1.charges.retrieve(charge_id).to_dict()


def test_the_webhook_url_is_the_stripe_namespace() -> None:
    assert reverse("stripe:webhook") == WEBHOOK


@pytest.mark.parametrize(
    "case", ["missing", "wrong secret", "tampered body", "too old", "garbage header"]
)
def test_bad_signature_is_400_and_stores_nothing(
    customer_client: Client, stripe_local: LocalStripe, account: Account, case: str
) -> None:
    deposit = authenticated_3ds_deposit(customer_client, stripe_local)
    body = event_body("payment_intent.succeeded", intent_dict(deposit.stripe_payment_intent_id))
    signature = {
        "missing": None,
        "wrong secret": sign(body, secret="whsec_not_ours"),
        "tampered body": sign(body.replace(b"succeeded", b"succeedeD")),
        "too old": sign(body, timestamp=1_700_000_000),
        "garbage header": "nonsense",
    }[case]
    response = deliver(body, signature)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert not LedgerEntry.objects.exists()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REQUIRES_ACTION


def test_unknown_event_type_is_200_stored_and_ignored(stripe_local: LocalStripe, db: None) -> None:
    body = event_body("customer.created", {"id": "cus_x", "object": "customer"}, event_id="evt_1")
    for _ in range(2):
        response = deliver(body, sign(body))
        assert response.status_code == 200
        assert response.json()["status"] == "ignored"
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.status) == ("evt_1", "customer.created", "ignored")
    assert event.payload["data"]["object"]["id"] == "cus_x"


def test_webhook_delivered_five_times_credits_once(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit = authenticated_3ds_deposit(customer_client, stripe_local)
    body = event_body(
        "payment_intent.succeeded", intent_dict(deposit.stripe_payment_intent_id), event_id="evt_5x"
    )
    for _ in range(5):
        response = deliver(body, sign(body))
        assert response.status_code == 200, response.content
    event = StripeEvent.objects.get()
    assert event.status == "processed" and event.attempts == 1 and event.processed_at
    entry = LedgerEntry.objects.get()
    assert entry.idempotency_key == f"stripe:{deposit.stripe_payment_intent_id}"
    assert entry.metadata["credited_by"] == "webhook"
    assert entry.description == "Credit added by card (Visa •••• 3184)"
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")
    assert len(mail.outbox) == 1

    # A different event about the same payment, then the return page: still one credit.
    other = event_body("payment_intent.succeeded", intent_dict(deposit.stripe_payment_intent_id))
    assert deliver(other, sign(other)).status_code == 200
    customer_client.get(reverse("billing:deposit_return", args=[deposit.pk]))
    assert LedgerEntry.objects.count() == 1
    assert StripeEvent.objects.count() == 2
    assert len(mail.outbox) == 1
    assert ledger_problems() == []


def test_localstripe_delivers_the_signed_webhook_which_credits(
    customer_client: Client, stripe_webhooks: LocalStripe, account: Account
) -> None:
    deposit = authenticated_3ds_deposit(customer_client, stripe_webhooks, amount="12.34")
    # No return page: the webhook, sent by localstripe about a second later, credits.
    try:
        wait_for(
            lambda: Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.SUCCEEDED,
            timeout=30,
        )
    except AssertionError:
        events = list(StripeEvent.objects.values_list("event_id", "type", "status", "error"))
        raise AssertionError(f"no credit from the webhook; events received: {events}") from None
    account.refresh_from_db()
    assert account.balance == Decimal("12.3400")
    event = StripeEvent.objects.get(
        type="payment_intent.succeeded",
        payload__data__object__id=deposit.stripe_payment_intent_id,
    )
    assert event.event_id.startswith("evt_") and event.status == "processed"
    assert LedgerEntry.objects.get().metadata["credited_by"] == "webhook"
    customer_client.get(reverse("billing:deposit_return", args=[deposit.pk]))
    assert LedgerEntry.objects.count() == 1


def test_payment_failed_event_marks_the_deposit_failed(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit_id, confirmed = pay(customer_client, stripe_local, card=CARD_3DS)
    deposit = Deposit.objects.get(pk=deposit_id)
    stripe_local.authenticate(
        deposit.stripe_payment_intent_id, confirmed.json()["client_secret"], success=False
    )
    body = event_body(
        "payment_intent.payment_failed", intent_dict(deposit.stripe_payment_intent_id)
    )
    assert deliver(body, sign(body)).status_code == 200
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.FAILED
    assert not LedgerEntry.objects.exists()


def test_refunds_post_negative_entries_once_each(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, _ = pay(customer_client, stripe_local, amount="20.00")
    deposit = Deposit.objects.get(pk=deposit_id)
    assert deposit.stripe_charge_id.startswith("ch_")
    refunds = stripe_gateway.client().v1.refunds
    refunds.create(params={"payment_intent": deposit.stripe_payment_intent_id, "amount": 500})
    first = event_body("charge.refunded", charge_dict(deposit.stripe_charge_id))
    for _ in range(3):
        assert deliver(first, sign(first)).status_code == 200
    account.refresh_from_db()
    assert account.balance == Decimal("15.0000")

    refunds.create(params={"payment_intent": deposit.stripe_payment_intent_id, "amount": 1500})
    second = event_body("charge.refunded", charge_dict(deposit.stripe_charge_id))
    assert deliver(second, sign(second)).status_code == 200
    assert deliver(first, sign(first)).status_code == 200  # an old event, late: no change

    entries = list(LedgerEntry.objects.filter(kind="refund").order_by("pk"))
    assert [e.amount for e in entries] == [Decimal("-5.0000"), Decimal("-15.0000")]
    assert "Refund of card payment of" in entries[0].description
    assert "Visa •••• 4242" in entries[0].description
    account.refresh_from_db()
    assert account.balance == 0
    deposit.refresh_from_db()
    assert deposit.refunded_amount == Decimal("20.0000")
    assert ledger_problems() == []


def test_dispute_posts_one_negative_entry(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, _ = pay(customer_client, stripe_local, amount="30.00")
    deposit = Deposit.objects.get(pk=deposit_id)
    dispute = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": 3000,
        "currency": "usd",
        "charge": deposit.stripe_charge_id,
        "payment_intent": deposit.stripe_payment_intent_id,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    for n in range(2):  # two events (e.g. a replay with a new id) about one dispute
        body = event_body("charge.dispute.created", dispute, event_id=f"evt_dispute_{n}")
        assert deliver(body, sign(body)).status_code == 200
    entry = LedgerEntry.objects.get(kind="dispute")
    assert entry.amount == Decimal("-30.0000")
    assert entry.idempotency_key == "stripe:dispute:dp_test_1"
    assert "disputed" in entry.description
    account.refresh_from_db()
    assert account.balance == 0


def test_processing_error_answers_500_records_it_and_posts_nothing(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit = authenticated_3ds_deposit(customer_client, stripe_local)
    obj = intent_dict(deposit.stripe_payment_intent_id)
    obj["amount"] = 999_999  # Stripe says a different amount than the deposit: never credit
    body = event_body("payment_intent.succeeded", obj, event_id="evt_bad")
    for attempt in (1, 2):
        response = deliver(body, sign(body))
        assert response.status_code == 500  # Stripe will deliver it again
        event = StripeEvent.objects.get()
        assert event.status == "failed" and event.attempts == attempt
        assert "999999" in event.error
    assert not LedgerEntry.objects.exists()


def test_event_for_a_payment_the_portal_does_not_know_is_ignored(
    stripe_local: LocalStripe, db: None
) -> None:
    obj = {
        "id": "pi_unknown",
        "object": "payment_intent",
        "amount": 500,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {},
    }
    body = event_body("payment_intent.succeeded", obj)
    response = deliver(body, sign(body))
    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert event.status == "ignored" and "No deposit" in event.error
    assert json.loads(body)["id"] == event.event_id
