"""A payment held for 3-D Secure that nobody completes is cancelled at Stripe after a day by a
beat job (one query, one idempotent task each), and the customer sees why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from billing import stripe_gateway
from billing.declines import decline_reason
from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.services.auto_recharge import auto_recharge_run
from billing.services.ledger import ledger_post
from billing.tasks.deposits import deposit_authentication_expire, deposit_authentication_expire_scan
from portal.models import Account
from tests.billing.stripe_helpers import CARD_3DS, LocalStripe, pay, save_card

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)


def at(moment: dt.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def held_payment(client: Client, local: LocalStripe) -> tuple[Deposit, str]:
    deposit_id, confirmed = pay(client, local, amount="20.00", card=CARD_3DS)
    assert confirmed.json()["status"] == "requires_action"
    return Deposit.objects.get(pk=deposit_id), confirmed.json()["client_secret"]


def stripe_status(deposit: Deposit) -> str:
    return stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id).status


def test_the_beat_schedule_runs_the_expiry_scan() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "billing.tasks.deposit_authentication_expire_scan" in tasks


def test_it_expires_a_held_payment_after_a_day_and_says_why(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    with at(T0):
        deposit, _ = held_payment(customer_client, stripe_local)
    with at(T0 + dt.timedelta(hours=23, minutes=59)):
        assert deposit_authentication_expire_scan() == 0
        deposit.refresh_from_db()
        assert deposit.status == Deposit.Status.REQUIRES_ACTION

    with at(T0 + dt.timedelta(days=1, minutes=1)):
        assert deposit_authentication_expire_scan() == 1

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.EXPIRED
    assert deposit.failure_code == "authentication_expired"
    assert deposit.completed_at == T0 + dt.timedelta(days=1, minutes=1)
    assert stripe_status(deposit) == "canceled"
    assert not LedgerEntry.objects.exists()
    page = customer_client.get(reverse("billing:payments")).content.decode()
    assert "Expired" in page
    assert decline_reason("authentication_expired") in page
    assert "within a day" in page
    assert reverse("billing:deposit_authenticate", args=[deposit.pk]) not in page

    # Run again, or the task redelivered: nothing changes.
    with at(T0 + dt.timedelta(days=1, hours=1)):
        assert deposit_authentication_expire_scan() == 0
        assert deposit_authentication_expire(deposit.pk) == "expired"
    deposit.refresh_from_db()
    assert deposit.completed_at == T0 + dt.timedelta(days=1, minutes=1)


def test_a_payment_confirmed_at_the_last_minute_is_credited_not_expired(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    with at(T0):
        deposit, client_secret = held_payment(customer_client, stripe_local)
    stripe_local.authenticate(deposit.stripe_payment_intent_id, client_secret, success=True)
    with at(T0 + dt.timedelta(days=2)):
        assert deposit_authentication_expire_scan() == 1
        assert deposit_authentication_expire_scan() == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")
    assert LedgerEntry.objects.count() == 1


def test_it_expires_a_held_auto_recharge_and_tells_the_customer(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    with at(T0):
        ledger_post(
            account=account.pk,
            amount=Decimal("5"),
            kind="adjustment",
            description="start",
            idempotency_key="start",
            now=T0,
        )
        save_card(account, CARD_3DS)
        BillingProfile.objects.filter(account=account).update(
            auto_recharge_enabled=True, auto_recharge_threshold=Decimal("10")
        )
        attempt = auto_recharge_run(account_id=account.pk, now=T0)
        assert attempt is not None and attempt.status == Deposit.Status.REQUIRES_ACTION
    with at(T0 + dt.timedelta(days=1, minutes=5)):
        assert deposit_authentication_expire_scan() == 1
    attempt.refresh_from_db()
    assert attempt.status == Deposit.Status.EXPIRED
    assert stripe_status(attempt) == "canceled"
    note = BillingProfile.objects.get(account=account).auto_recharge_note
    assert "was not confirmed with your bank within a day" in note
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "within a day" in page
    assert "Your bank asked you to confirm the auto-recharge" not in page
