"""Stripe webhook events: stored once by id, then one handler per event type."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import models, transaction

from billing import stripe_gateway
from billing.models import (
    StripeEvent,
)
from billing.money import from_minor_units
from billing.selectors.deposits import deposit_for_charge, deposit_for_intent
from billing.services.deposits import deposit_apply_intent
from billing.services.refunds import deposit_dispute_record, deposit_refund_record

logger = logging.getLogger(__name__)


def stripe_event_record(*, payload: dict[str, Any], now: dt.datetime) -> StripeEvent:
    """Store a verified event once by its Stripe id (redeliveries find the stored row)."""
    event, _created = StripeEvent.objects.get_or_create(
        event_id=str(payload["id"]),
        defaults={"type": str(payload["type"])[:100], "payload": payload, "received_at": now},
    )
    return event


def _on_payment_intent(obj: dict[str, Any], now: dt.datetime) -> str:
    intent = stripe_gateway.intent_from(obj)
    deposit = deposit_for_intent(intent)
    if deposit is None:
        return f"No deposit in the portal for {intent.id}."
    deposit_apply_intent(deposit=deposit, intent=intent, now=now, source="webhook")
    return ""


def _on_charge_refunded(obj: dict[str, Any], now: dt.datetime) -> str:
    charge_id = str(obj.get("id") or "")
    payment_intent_id = stripe_gateway.object_id(obj.get("payment_intent"))
    refunded_cents = int(obj.get("amount_refunded") or 0)
    deposit = deposit_for_charge(payment_intent_id, charge_id)
    if deposit is None:
        return f"No deposit in the portal for charge {charge_id}."
    deposit_refund_record(
        deposit=deposit,
        charge_id=charge_id,
        refunded_total=from_minor_units(refunded_cents),
        now=now,
    )
    return ""


def _on_dispute_created(obj: dict[str, Any], now: dt.datetime) -> str:
    charge_id = stripe_gateway.object_id(obj.get("charge"))
    payment_intent_id = stripe_gateway.object_id(obj.get("payment_intent"))
    deposit = deposit_for_charge(payment_intent_id, charge_id)
    if deposit is None:
        return f"No deposit in the portal for charge {charge_id}."
    deposit_dispute_record(
        deposit=deposit,
        dispute_id=str(obj["id"]),
        amount=from_minor_units(int(obj.get("amount") or 0)),
        reason=str(obj.get("reason") or ""),
        now=now,
    )
    return ""


_EVENT_HANDLERS = {
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.requires_action": _on_payment_intent,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
}


def stripe_event_process(*, event_id: str, now: dt.datetime) -> StripeEvent:
    """Process a stored event in one transaction. Processed or ignored events are left alone,
    failed ones may be processed again (Stripe's retry, or staff in the admin)."""
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(event_id=event_id)
            if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
                return event
            event.attempts += 1
            handler = _EVENT_HANDLERS.get(event.type)
            if handler is None:
                event.status, event.error = StripeEvent.Status.IGNORED, ""
            else:
                note = handler(event.payload["data"]["object"], now)
                event.status = StripeEvent.Status.IGNORED if note else StripeEvent.Status.PROCESSED
                event.error = note
            event.processed_at = now
            event.save()
            return event
    except Exception as exc:
        logger.exception("stripe event %s failed", event_id)
        StripeEvent.objects.filter(event_id=event_id).update(
            status=StripeEvent.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=models.F("attempts") + 1,
        )
        raise
