"""Audit: webhooks arriving out of order, and the webhook secret outside development.

Stripe does not guarantee the order of events: a ``charge.refunded`` (or a dispute) may be
processed before the ``payment_intent.succeeded`` of the same payment (its first delivery failed,
or the refund was made at once). The refund must not be lost: the event fails and is delivered
again, and once the payment is credited the refund is debited."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billing import services, stripe_gateway
from billing.models import Deposit, LedgerEntry, StripeEvent
from portal.models import Account
from tests.billing.stripe_helpers import event_body, sign

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def _processing_deposit(account: Account) -> Deposit:
    return Deposit.objects.create(
        account=account,
        kind=Deposit.Kind.DEPOSIT,
        amount=Decimal("20.0000"),
        status=Deposit.Status.PROCESSING,
        key=uuid.uuid4(),
        stripe_payment_intent_id="pi_audit_1",
        created_at=NOW,
        updated_at=NOW,
    )


def _intent(deposit: Deposit) -> dict[str, Any]:
    return {
        "id": "pi_audit_1",
        "object": "payment_intent",
        "amount": 2000,
        "currency": "usd",
        "status": "succeeded",
        "latest_charge": "ch_audit_1",
        "metadata": {"deposit_id": str(deposit.pk), "account_id": str(deposit.account_id)},
    }


def _store(event_id: str, event_type: str, obj: dict[str, Any]) -> str:
    payload = {"id": event_id, "type": event_type, "data": {"object": obj}}
    services.stripe_event_record(payload=payload, now=NOW)
    return event_id


def _process(event_id: str) -> StripeEvent:
    try:
        return services.stripe_event_process(event_id=event_id, now=NOW)
    except Exception:
        return StripeEvent.objects.get(event_id=event_id)


@pytest.mark.parametrize("kind", ["refund", "dispute"])
def test_refund_or_dispute_before_the_credit_is_not_lost(account: Account, kind: str) -> None:
    deposit = _processing_deposit(account)
    if kind == "refund":
        early = _store(
            "evt_early",
            "charge.refunded",
            {
                "id": "ch_audit_1",
                "object": "charge",
                "payment_intent": "pi_audit_1",
                "amount_refunded": 2000,
            },
        )
    else:
        early = _store(
            "evt_early",
            "charge.dispute.created",
            {
                "id": "dp_audit_1",
                "object": "dispute",
                "charge": "ch_audit_1",
                "payment_intent": "pi_audit_1",
                "amount": 2000,
                "reason": "fraudulent",
            },
        )
    first = _process(early)
    assert first.status == StripeEvent.Status.FAILED  # Stripe delivers it again later
    assert not LedgerEntry.objects.exists()

    credit = _store("evt_credit", "payment_intent.succeeded", _intent(deposit))
    assert _process(credit).status == StripeEvent.Status.PROCESSED
    account.refresh_from_db()
    assert account.balance == Decimal("20.0000")

    again = _process(early)  # Stripe's redelivery of the refund / dispute
    assert again.status == StripeEvent.Status.PROCESSED
    account.refresh_from_db()
    assert account.balance == Decimal("0.0000")
    assert LedgerEntry.objects.filter(kind=kind).count() == 1


def test_webhook_with_no_configured_secret_is_refused(settings: Any, db: None) -> None:
    """An empty secret is a key anyone can sign with: refuse rather than verify with it."""
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = event_body("customer.created", {"id": "cus_x", "object": "customer"})
    with pytest.raises(stripe_gateway.BadWebhook):
        stripe_gateway.event_verify(payload=body, signature=sign(body, secret=""))
    response = Client().post(
        reverse("stripe:webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret=""),
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_production_has_no_default_webhook_secret() -> None:
    """With DEBUG off and no STRIPE_WEBHOOK_SECRET, the development secret (in the source, so
    known to anyone) must not verify webhooks: forged events would credit balances."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"DEBUG": "0", "TESTING": "0", "SECRET_KEY": "x" * 50})
    code = "import portal.settings as s; print(repr(s.STRIPE_WEBHOOK_SECRET))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "''"
