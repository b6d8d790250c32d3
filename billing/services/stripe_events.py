"""Stripe webhook events: stored once by id, then one handler per event type."""

from __future__ import annotations

import datetime as dt
import logging
import re
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

MAX_EVENT_FIELD = 100  # StripeEvent.event_id and .type columns
# Stripe's largest charge is 8 digits of cents; far larger is a malformed payload, not money.
MAX_MINOR_UNITS = 10**12
# PostgreSQL's text and jsonb refuse NUL, and a lone surrogate is not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class MalformedEvent(Exception):
    """A correctly signed body that is not a usable Stripe event: delivering it again cannot
    help, so it is answered 400 (a 500 would make Stripe redeliver it for days)."""

    def __init__(self, message: str, *, event_id: str = "") -> None:
        super().__init__(message)
        self.event_id = event_id


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return not _UNSTORABLE.search(value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def _short_string(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_EVENT_FIELD and _storable(value)


def _event_problem(payload: dict[str, Any]) -> str:
    if not _short_string(payload.get("type")):
        return f"type must be a string of 1-{MAX_EVENT_FIELD} characters"
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object must be an object"
    if not _storable(payload):
        return "a string holds a NUL character or invalid Unicode"
    return ""


def stripe_event_record(*, payload: Any, now: dt.datetime) -> StripeEvent:
    """Store a verified event once by its Stripe id (redeliveries find the stored row).
    Raises ``MalformedEvent`` for a body without a usable id (nothing stored) or with a usable
    id but a bad shape (stored as failed, with what was wrong)."""
    event_id = payload.get("id") if isinstance(payload, dict) else None
    if not _short_string(event_id) or not str(event_id).isprintable():
        raise MalformedEvent(f"not a Stripe event with an id of 1-{MAX_EVENT_FIELD} characters")
    assert isinstance(payload, dict) and isinstance(event_id, str)
    problem = _event_problem(payload)
    if problem:
        kind = payload.get("type")
        StripeEvent.objects.get_or_create(
            event_id=event_id,
            defaults={
                "type": str(kind) if _short_string(kind) else "",
                "payload": payload if _storable(payload) else {"id": event_id},
                "received_at": now,
                "status": StripeEvent.Status.FAILED,
                "error": f"malformed: {problem}",
            },
        )
        raise MalformedEvent(problem, event_id=event_id)
    event, _created = StripeEvent.objects.get_or_create(
        event_id=event_id,
        defaults={"type": payload["type"], "payload": payload, "received_at": now},
    )
    return event


_ID = (str,)
_REF = (str, dict, type(None))  # an id, or the expanded object
_TEXT = (str, type(None))
_MAP = (dict, type(None))
_COUNT = (int, type(None))

# The fields each handler reads, and the JSON types it can read them as.
_INTENT_FIELDS = {
    "id": _ID,
    "status": _TEXT,
    "amount": _COUNT,
    "currency": _TEXT,
    "customer": _REF,
    "payment_method": _REF,
    "latest_charge": _REF,
    "client_secret": _TEXT,
    "metadata": _MAP,
    "last_payment_error": _MAP,
}
_REFUND_FIELDS = {"id": _ID, "payment_intent": _REF, "amount_refunded": _COUNT}
_DISPUTE_FIELDS = {
    "id": _ID,
    "charge": _REF,
    "payment_intent": _REF,
    "amount": _COUNT,
    "reason": _TEXT,
}


def _object_problem(obj: dict[str, Any], fields: dict[str, tuple[type, ...]]) -> str:
    for key, types in fields.items():
        value = obj.get(key)
        if key == "id" and not (isinstance(value, str) and value):
            return "data.object.id must be a non-empty string"
        if not isinstance(value, types) or isinstance(value, bool):
            return f"data.object.{key} has the wrong type ({type(value).__name__})"
        if isinstance(value, int) and not 0 <= value <= MAX_MINOR_UNITS:
            return f"data.object.{key} is out of range"
    return ""


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
    "payment_intent.succeeded": (_on_payment_intent, _INTENT_FIELDS),
    "payment_intent.payment_failed": (_on_payment_intent, _INTENT_FIELDS),
    "payment_intent.requires_action": (_on_payment_intent, _INTENT_FIELDS),
    "charge.refunded": (_on_charge_refunded, _REFUND_FIELDS),
    "charge.dispute.created": (_on_dispute_created, _DISPUTE_FIELDS),
}


def stripe_event_process(*, event_id: str, now: dt.datetime) -> StripeEvent:
    """Process a stored event in one transaction. Processed or ignored events are left alone,
    failed ones may be processed again (Stripe's retry, or staff in the admin). An object the
    handler cannot read is marked failed and returned (redelivery cannot fix it); any other
    error is marked failed and raised (it may be transient)."""
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(event_id=event_id)
            if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
                return event
            event.attempts += 1
            handler, fields = _EVENT_HANDLERS.get(event.type, (None, {}))
            obj: Any = (event.payload.get("data") or {}).get("object")
            problem = _object_problem(obj, fields) if isinstance(obj, dict) else "no data.object"
            if handler is None:
                event.status, event.error = StripeEvent.Status.IGNORED, ""
            elif problem:
                event.status, event.error = StripeEvent.Status.FAILED, f"malformed: {problem}"
            else:
                note = handler(obj, now)
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
