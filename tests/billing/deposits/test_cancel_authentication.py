"""A payment the bank held for 3-D Secure: completed or cancelled from the payment lists, by
owner and billing only; cancelling asks Stripe first, and a payment Stripe already took is
credited once instead. Against localstripe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing import stripe_gateway
from billing.declines import decline_reason
from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.auto_recharge import auto_recharge_run
from billing.services.deposit_authentication import deposit_cancel
from billing.services.ledger import ledger_post
from billing.services.reconcile import stripe_reconcile
from portal.models import Account, User
from tests.billing.stripe_helpers import CARD_3DS, LocalStripe, pay, save_card
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def held_payment(client: Client, local: LocalStripe, amount: str = "20.00") -> tuple[Deposit, str]:
    """An Add Credit the bank holds for 3-D Secure, and its client secret."""
    deposit_id, confirmed = pay(client, local, amount=amount, card=CARD_3DS)
    data = confirmed.json()
    assert data["status"] == "requires_action"
    return Deposit.objects.get(pk=deposit_id), data["client_secret"]


def stripe_status(deposit: Deposit) -> str:
    return stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id).status


def cancel(client: Client, deposit: Deposit, next_page: str = "per_minute") -> Any:
    return client.post(
        reverse("billing:deposit_cancel", args=[deposit.pk]), {"next": next_page}, follow=True
    )


def test_it_offers_complete_and_cancel_for_a_held_add_credit(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    for name in ("billing:per_minute", "billing:payments"):
        page = customer_client.get(reverse(name)).content.decode()
        assert reverse("billing:deposit_authenticate", args=[deposit.pk]) in page
        assert reverse("billing:deposit_cancel", args=[deposit.pk]) in page
        assert "Complete authentication" in page
        assert "Needs authentication" in page


def test_it_cancels_a_held_payment_at_stripe_and_charges_nothing(
    customer_client: Client, stripe_local: LocalStripe, account: Account, user: User
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)

    response = cancel(customer_client, deposit, "payments")

    assert response.redirect_chain[-1][0] == reverse("billing:payments")
    assert "The payment of $20.00 was cancelled. Nothing was charged." in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.CANCELED
    assert deposit.canceled_by == user
    assert deposit.completed_at is not None
    assert stripe_status(deposit) == "canceled"
    assert not LedgerEntry.objects.exists()
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "Cancelled" in page and decline_reason("canceled_by_customer") in page
    assert reverse("billing:deposit_cancel", args=[deposit.pk]) not in page

    # Twice (a double click, another tab): nothing changes, Stripe is not asked again.
    again = cancel(customer_client, deposit)
    assert "no longer waiting for your bank" in again.content.decode()
    assert deposit_cancel(deposit=deposit, user=None, now=timezone.now()).status == "canceled"
    deposit.refresh_from_db()
    assert deposit.canceled_by == user


def test_it_credits_once_a_payment_the_customer_had_confirmed_meanwhile(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit, client_secret = held_payment(customer_client, stripe_local)
    # Confirmed in another tab; no webhook nor return page has told the portal yet.
    stripe_local.authenticate(deposit.stripe_payment_intent_id, client_secret, success=True)

    response = cancel(customer_client, deposit)

    assert "could not be cancelled: it was added to your balance" in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    assert stripe_status(deposit) == "succeeded"
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")
    assert LedgerEntry.objects.get().idempotency_key == f"stripe:{deposit.stripe_payment_intent_id}"
    # The return page, later, credits nothing more.
    customer_client.get(reverse("billing:deposit_return", args=[deposit.pk]))
    assert LedgerEntry.objects.count() == 1
    assert ledger_problems() == []


def test_complete_authentication_pays_a_held_add_credit(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local, amount="30.00")
    page = customer_client.get(reverse("billing:deposit_authenticate", args=[deposit.pk]))
    assert page.status_code == 200
    assert "Confirm $30.00 with my bank" in page.content.decode()
    stripe_local.authenticate(
        deposit.stripe_payment_intent_id, page.context["client_secret"], success=True
    )
    back = customer_client.get(page.context["return_url"], follow=True)
    assert "Payment received: $30.00 was added to your balance." in back.content.decode()
    account.refresh_from_db()
    assert account.balance == Decimal("30.0000")


def test_a_cancelled_payment_stays_cancelled_when_stripe_is_asked_again(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    cancel(customer_client, deposit)
    # The daily reconciliation and the return page read the PaymentIntent as "canceled".
    stripe_reconcile(now=timezone.now())
    customer_client.get(reverse("billing:deposit_return", args=[deposit.pk]))
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.CANCELED
    assert deposit.failure_code == "canceled_by_customer"


def test_stripe_not_answering_leaves_the_payment_waiting(
    customer_client: Client, stripe_local: LocalStripe, settings: Any
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nobody listens
    settings.STRIPE_CONNECT_TIMEOUT = 1.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    response = cancel(customer_client, deposit)

    assert "was not cancelled" in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REQUIRES_ACTION
    settings.STRIPE_API_BASE = stripe_local.base
    assert stripe_status(deposit) == "requires_action"


def test_it_cancels_a_held_auto_recharge_and_says_so(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    now = timezone.now()
    ledger_post(
        account=account.pk,
        amount=Decimal("5"),
        kind="adjustment",
        description="start",
        idempotency_key="start",
        now=now,
    )
    save_card(account, CARD_3DS)
    BillingProfile.objects.filter(account=account).update(
        auto_recharge_enabled=True, auto_recharge_threshold=Decimal("10")
    )
    attempt = auto_recharge_run(account_id=account.pk, now=now)
    assert attempt is not None and attempt.status == Deposit.Status.REQUIRES_ACTION
    mail.outbox.clear()
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "confirm the auto-recharge of $25.00" in page
    assert reverse("billing:deposit_cancel", args=[attempt.pk]) in page

    cancel(customer_client, attempt)

    attempt.refresh_from_db()
    assert attempt.status == Deposit.Status.CANCELED
    assert stripe_status(attempt) == "canceled"
    profile = BillingProfile.objects.get(account=account)
    assert profile.auto_recharge_note == (
        "You cancelled the auto-recharge of $25.00 your bank asked you to confirm."
    )
    assert not LedgerEntry.objects.filter(kind="auto_recharge").exists()
    assert profile.payment_method_id  # the saved card is kept for later recharges


@pytest.mark.parametrize("role", [User.Role.MEMBER])
def test_members_see_a_held_payment_but_cannot_complete_or_cancel_it(
    customer_client: Client, stripe_local: LocalStripe, account: Account, role: str
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    member = Client()
    member.force_login(UserFactory(account=account, role=role))
    for name in ("billing:per_minute", "billing:payments"):
        page = member.get(reverse(name)).content.decode()
        assert "Needs authentication" in page
        assert "can complete or cancel it" in page
        assert reverse("billing:deposit_cancel", args=[deposit.pk]) not in page
    refused = member.post(reverse("billing:deposit_cancel", args=[deposit.pk]))
    assert refused.status_code == 403
    assert member.get(reverse("billing:deposit_authenticate", args=[deposit.pk])).status_code == 403
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REQUIRES_ACTION
    assert stripe_status(deposit) == "requires_action"


def test_another_accounts_payment_is_not_found(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    stranger = Client()
    stranger.force_login(UserFactory(account=AccountFactory()))
    assert stranger.post(reverse("billing:deposit_cancel", args=[deposit.pk])).status_code == 404
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REQUIRES_ACTION
    assert stripe_status(deposit) == "requires_action"


def test_the_confirm_page_offers_cancel_and_the_return_page_says_cancelled(
    customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit, _ = held_payment(customer_client, stripe_local)
    page = customer_client.get(reverse("billing:deposit_authenticate", args=[deposit.pk]))
    assert reverse("billing:deposit_cancel", args=[deposit.pk]) in page.content.decode()
    cancel(customer_client, deposit)
    # A tab still open on the confirm page comes back through the return page.
    back = customer_client.get(reverse("billing:deposit_return", args=[deposit.pk]), follow=True)
    html = back.content.decode()
    assert "The payment of $20.00 was cancelled." in html
    assert "being processed" not in html
    again = customer_client.get(
        reverse("billing:deposit_authenticate", args=[deposit.pk]), follow=True
    )
    assert "does not need your confirmation any more" in again.content.decode()
