"""Webhooks arriving out of order: a refund or dispute before the credit is not lost.

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

from billing.models import Deposit, LedgerEntry, StripeEvent
from billing.services.stripe_events import stripe_event_process, stripe_event_record
from portal.models import Account

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
    stripe_event_record(payload=payload, now=NOW)
    return event_id


def _process(event_id: str) -> StripeEvent:
    try:
        return stripe_event_process(event_id=event_id, now=NOW)
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
