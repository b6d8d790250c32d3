"""Add Credit: the amount rules, a card payment credited once, declines and 3-D Secure.

Against localstripe (a real HTTP fake of Stripe); the browser's Stripe.js calls are made the
way Stripe.js makes them (publishable key, client secret)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing import stripe_gateway
from billing.declines import GENERIC_REASON
from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from portal.models import Account
from tests.billing.stripe_helpers import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    LocalStripe,
    pay,
    start_deposit,
)
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _stripe_objects(kind: str) -> list[object]:
    api = getattr(stripe_gateway.client().v1, kind)
    return list(api.list(params={"limit": 100}).data)


BAD_AMOUNTS = [
    ("", "Enter an amount"),
    ("   ", "Enter an amount"),
    ("abc", "Enter the amount as a number"),
    ("5,00", "Enter the amount as a number"),
    ("NaN", "Enter the amount as a number"),
    ("-10", "must be a positive number"),
    ("0", "must be a positive number"),
    ("4.99", "The minimum is $5.00"),
    ("500.01", "The maximum per payment is $500.00"),
    ("1e6", "The maximum per payment is $500.00"),
    ("5.001", "at most 2 decimal places"),
    ("10.999", "at most 2 decimal places"),
]


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_bad_amount_gets_a_clear_message_and_charges_nothing(
    customer_client: Client, stripe_local: LocalStripe, amount: str, message: str
) -> None:
    response = start_deposit(customer_client, amount)
    assert response.status_code == 400
    errors = response.json()["errors"]["amount"]
    assert any(message in e["message"] for e in errors), errors
    # Without JavaScript the page itself shows the message on the form.
    page = customer_client.post(reverse("billing:add_credit"), {"amount": amount})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not Deposit.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert _stripe_objects("payment_intents") == []
    assert _stripe_objects("setup_intents") == []


def test_maximum_follows_the_setting(
    customer_client: Client, stripe_local: LocalStripe, settings
) -> None:
    settings.BILLING_MAX_DEPOSIT = Decimal("100.00")
    response = start_deposit(customer_client, "100.01")
    assert "The maximum per payment is $100.00" in response.json()["errors"]["amount"][0]["message"]
    assert start_deposit(customer_client, "100").status_code == 200


@pytest.mark.parametrize("amount", ["5", "5.00", "$25.5", " 499.99 "])
def test_good_amounts_start_a_card_setup(
    customer_client: Client, stripe_local: LocalStripe, account: Account, amount: str
) -> None:
    response = start_deposit(customer_client, amount)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["setup_client_secret"].startswith("seti_")
    deposit = Deposit.objects.get(pk=data["deposit_id"])
    assert deposit.account == account
    assert deposit.status == Deposit.Status.CREATED
    # Recorded before Stripe was asked for anything: no PaymentIntent yet.
    assert _stripe_objects("payment_intents") == []


def test_five_dollar_deposit_is_credited_once(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, confirmed = pay(customer_client, stripe_local, amount="5.00")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "succeeded"
    deposit = Deposit.objects.get(pk=deposit_id)
    account.refresh_from_db()
    assert account.balance == Decimal("5.0000")
    entry = LedgerEntry.objects.get(account=account)
    assert entry.kind == "deposit"
    assert entry.amount == Decimal("5.0000")
    assert entry.idempotency_key == f"stripe:{deposit.stripe_payment_intent_id}"
    assert entry.description == "Credit added by card (Visa •••• 4242)"
    assert deposit.ledger_entry == entry
    # Stripe charged exactly the deposit, with the deposit's own id in its metadata.
    intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
    assert (intent.amount, intent.currency, intent.status) == (500, "usd", "succeeded")
    assert intent.metadata["deposit_id"] == str(deposit.pk)
    # A receipt, once.
    assert len(mail.outbox) == 1
    assert "Receipt: $5.00 added to your balance" in mail.outbox[0].subject
    assert "Visa •••• 4242" in mail.outbox[0].body

    # The return page, a second confirm (double click) and the page reload change nothing.
    back = customer_client.get(reverse("billing:deposit_return", args=[deposit_id]))
    assert back.status_code == 302
    again = customer_client.post(
        reverse("billing:deposit_confirm", args=[deposit_id]), HTTP_ACCEPT="application/json"
    )
    assert again.json()["status"] == "succeeded"
    assert LedgerEntry.objects.count() == 1
    assert len(mail.outbox) == 1
    account.refresh_from_db()
    assert account.balance == Decimal("5.0000")
    assert ledger_problems() == []
    page = customer_client.get(reverse("billing:per_minute"))
    html = page.content.decode()
    assert "$5.00" in html
    assert "Credit added by card (Visa •••• 4242)" in html


def test_card_not_kept_is_detached_and_kept_card_is_saved(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    first, _ = pay(customer_client, stripe_local, amount="10.00", save_card=False)
    pm = Deposit.objects.get(pk=first).stripe_payment_method_id
    assert stripe_gateway.payment_method_retrieve(pm).customer == ""
    assert not BillingProfile.objects.get(account=account).has_card

    second, _ = pay(customer_client, stripe_local, amount="10.00", save_card=True)
    profile = BillingProfile.objects.get(account=account)
    saved = Deposit.objects.get(pk=second).stripe_payment_method_id
    assert profile.payment_method_id == saved
    assert profile.card_label == "Visa •••• 4242"
    assert stripe_gateway.payment_method_retrieve(saved).customer == profile.stripe_customer_id

    # Paying with the saved card: no card entry, straight to the charge.
    started = start_deposit(customer_client, "7.50", use_saved_card="on")
    data = started.json()
    assert data["setup_client_secret"] == ""
    confirmed = customer_client.post(data["confirm_url"], HTTP_ACCEPT="application/json")
    assert confirmed.json()["status"] == "succeeded"
    account.refresh_from_db()
    assert account.balance == Decimal("27.5000")


def test_one_stripe_customer_per_account(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    pay(customer_client, stripe_local, amount="5.00")
    pay(customer_client, stripe_local, amount="6.00")
    customers = _stripe_objects("customers")
    assert len(customers) == 1
    assert BillingProfile.objects.get(account=account).stripe_customer_id == customers[0].id


def test_declined_card_shows_plain_words_and_credits_nothing(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, confirmed = pay(customer_client, stripe_local, card=CARD_DECLINED)
    assert confirmed.status_code == 402
    assert confirmed.json()["error"] == GENERIC_REASON
    deposit = Deposit.objects.get(pk=deposit_id)
    assert deposit.status == Deposit.Status.FAILED
    assert deposit.failure_code == "card_declined"
    assert deposit.failure_message == "Your card was declined."  # Stripe's, kept for staff
    account.refresh_from_db()
    assert account.balance == 0
    assert not LedgerEntry.objects.exists()
    assert mail.outbox == []
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "Failed" in page and GENERIC_REASON in page
    assert "Your card was declined." not in page


def test_three_d_secure_card_is_credited_after_authentication(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, confirmed = pay(customer_client, stripe_local, amount="20.00", card=CARD_3DS)
    data = confirmed.json()
    assert data["status"] == "requires_action"
    assert data["client_secret"].startswith("pi_")
    deposit = Deposit.objects.get(pk=deposit_id)
    assert deposit.status == Deposit.Status.REQUIRES_ACTION
    assert not LedgerEntry.objects.exists()

    stripe_local.authenticate(deposit.stripe_payment_intent_id, data["client_secret"], success=True)
    back = customer_client.get(data["return_url"], follow=True)
    assert "Payment received: $20.00 was added to your balance." in back.content.decode()
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")
    assert LedgerEntry.objects.get().idempotency_key == f"stripe:{deposit.stripe_payment_intent_id}"


def test_three_d_secure_failed_charges_nothing(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit_id, confirmed = pay(customer_client, stripe_local, amount="20.00", card=CARD_3DS)
    data = confirmed.json()
    deposit = Deposit.objects.get(pk=deposit_id)
    stripe_local.authenticate(
        deposit.stripe_payment_intent_id, data["client_secret"], success=False
    )
    back = customer_client.get(data["return_url"], follow=True)
    assert "did not go through" in back.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.FAILED
    account.refresh_from_db()
    assert account.balance == 0
    assert not LedgerEntry.objects.exists()


def test_another_accounts_payment_is_404(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    other = Client()
    other.force_login(UserFactory(account=AccountFactory()))
    started = start_deposit(other, "5.00").json()
    deposit_id = started["deposit_id"]
    for name in ("billing:deposit_confirm", "billing:deposit_return"):
        url = reverse(name, args=[deposit_id])
        assert customer_client.get(url).status_code == 404
        assert customer_client.post(url).status_code == 404
    setup = stripe_local.confirm_setup(started["setup_client_secret"], CARD_OK)
    response = customer_client.post(
        started["confirm_url"], {"setup_intent": setup["id"]}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert Deposit.objects.get(pk=deposit_id).status == Deposit.Status.CREATED
    assert _stripe_objects("payment_intents") == []


def test_setup_intent_of_another_deposit_is_refused(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    first = start_deposit(customer_client, "5.00").json()
    second = start_deposit(customer_client, "6.00").json()
    setup = stripe_local.confirm_setup(first["setup_client_secret"], CARD_OK)
    response = customer_client.post(
        second["confirm_url"], {"setup_intent": setup["id"]}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert not LedgerEntry.objects.exists()
