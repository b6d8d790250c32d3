"""The daily reconciliation: a payment whose webhook never came is credited, once."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from billing import stripe_gateway
from billing.models import Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services import reconcile as service_reconcile
from billing.services.cards import stripe_customer_ensure
from billing.tasks.reconcile import stripe_reconcile
from portal.models import Account
from tests.billing.stripe_events.test_webhook import authenticated_3ds_deposit
from tests.billing.stripe_helpers import LocalStripe

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconciliation_credits_a_missed_webhook_payment_once(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    # Paid at Stripe (3-D Secure completed) but no webhook and no return page ever came.
    deposit = authenticated_3ds_deposit(customer_client, stripe_local, amount="20.00")
    assert not LedgerEntry.objects.exists()

    report = service_reconcile.stripe_reconcile(now=timezone.now())
    assert report.credited == [deposit.stripe_payment_intent_id]
    assert report.mismatches == []
    entry = LedgerEntry.objects.get()
    assert entry.amount == Decimal("20.0000")
    assert entry.metadata["credited_by"] == "reconciliation"
    assert len(mail.outbox) == 1  # the receipt

    # The beat job again (and again): nothing more.
    assert stripe_reconcile.delay().get() == {
        "checked": 1,
        "credited": 0,
        "closed": 0,
        "mismatches": 0,
    }
    service_reconcile.stripe_reconcile(now=timezone.now())
    assert LedgerEntry.objects.count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")
    assert ledger_problems() == []


def test_reconciliation_finds_a_payment_whose_id_the_portal_never_saved(
    customer_client: Client, stripe_local: LocalStripe, account: Account
) -> None:
    # As if the worker died right after Stripe answered: the deposit has no PaymentIntent id.
    deposit = authenticated_3ds_deposit(customer_client, stripe_local, amount="9.99")
    pi = deposit.stripe_payment_intent_id
    Deposit.objects.filter(pk=deposit.pk).update(
        stripe_payment_intent_id="", status=Deposit.Status.PROCESSING
    )
    report = service_reconcile.stripe_reconcile(now=timezone.now())
    assert report.credited == [pi]
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED and deposit.stripe_payment_intent_id == pi
    account.refresh_from_db()
    assert account.balance == Decimal("9.9900")


def test_unknown_stripe_payment_is_reported_to_staff(
    stripe_local: LocalStripe, account: Account, settings
) -> None:
    settings.STAFF_ALERT_EMAILS = ["billing-team@example.com"]
    customer = stripe_customer_ensure(account=account)
    intent = stripe_gateway.payment_intent_create(
        amount_cents=1500,
        customer=customer,
        payment_method="pm_card_visa",
        metadata={},
        idempotency_key="outside-the-portal",
    )
    report = service_reconcile.stripe_reconcile(now=timezone.now())
    assert report.credited == []
    assert len(report.mismatches) == 1 and intent.id in report.mismatches[0]
    assert not LedgerEntry.objects.exists()
    staff_mail = [m for m in mail.outbox if m.to == ["billing-team@example.com"]]
    assert len(staff_mail) == 1 and intent.id in staff_mail[0].body


def test_abandoned_deposits_are_closed(stripe_local: LocalStripe, account: Account) -> None:
    now = timezone.now()
    old = Deposit.objects.create(
        account=account,
        amount=Decimal("5"),
        key=uuid.uuid4(),
        created_at=now - dt.timedelta(hours=3),
        updated_at=now - dt.timedelta(hours=3),
    )
    fresh = Deposit.objects.create(
        account=account, amount=Decimal("5"), key=uuid.uuid4(), created_at=now, updated_at=now
    )
    report = service_reconcile.stripe_reconcile(now=now)
    assert report.closed == [str(old.pk)]
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Deposit.Status.FAILED
    assert fresh.status == Deposit.Status.CREATED
