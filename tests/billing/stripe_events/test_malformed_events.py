"""Correctly signed webhooks whose body is not a usable Stripe event: 400 (so Stripe stops
redelivering), stored as failed where the id can be stored, never a 500, nothing posted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from billing.models import LedgerEntry, StripeEvent
from tests.billing.stripe_helpers import WEBHOOK_SECRET, event_body, sign

pytestmark = pytest.mark.django_db
WEBHOOK = "/stripe/webhook/"


@pytest.fixture(autouse=True)
def _secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def deliver(body: bytes) -> Any:
    return Client().post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )


def event(**fields: Any) -> bytes:
    base = json.loads(event_body("customer.created", {"id": "cus_1", "object": "customer"}))
    base.update(fields)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'[{"id": "evt_1", "type": "customer.created"}]',
        b'"evt_1"',
        b"null",
        event(id=None),
        event(id=12345),
        event(id={"nested": "evt"}),
        event(id="evt_" + "x" * 200),
        event(id="evt_\x00nul"),
        event(id="evt_\ud800"),
        b"{" * 50_000 + b"}" * 50_000,
    ],
    ids=[
        "top-level empty array",
        "top-level array of events",
        "top-level string",
        "null",
        "no id",
        "numeric id",
        "object id",
        "over-long id",
        "NUL in id",
        "lone surrogate in id",
        "nested past the recursion limit",
    ],
)
def test_it_refuses_a_signed_body_without_a_usable_id(body: bytes) -> None:
    response = deliver(body)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"type": ["payment_intent.succeeded"]}, "type"),
        ({"type": None}, "type"),
        ({"type": "x" * 300}, "type"),
        ({"data": []}, "data"),
        ({"data": {"object": "pi_1"}}, "data"),
        ({"data": {"object": {"id": "cus_1", "name": "A\x00B"}}}, "NUL"),
    ],
)
def test_it_stores_a_signed_malformed_event_as_failed(fields: dict[str, Any], problem: str) -> None:
    body = event(id="evt_malformed", **fields)
    for _ in range(2):  # redelivered: still 400, still one row
        response = deliver(body)
        assert response.status_code == 400
        assert response.json() == {"id": "evt_malformed", "status": "failed"}
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.status) == ("evt_malformed", "failed")
    assert problem in stored.error


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("payment_intent.succeeded", {"id": "pi_1", "amount": "a lot", "status": "succeeded"}),
        ("payment_intent.succeeded", {"id": ["pi_1"], "amount": 500}),
        ("payment_intent.succeeded", {"amount": 500}),
        ("payment_intent.payment_failed", {"id": "pi_1", "metadata": ["x"]}),
        ("payment_intent.payment_failed", {"id": "pi_1", "last_payment_error": "declined"}),
        ("charge.refunded", {"id": "ch_1", "amount_refunded": "10"}),
        ("charge.refunded", {"id": "ch_1", "amount_refunded": 10**40}),
        ("charge.refunded", {"id": 7, "payment_intent": "pi_1", "amount_refunded": 10}),
        ("charge.dispute.created", {"id": "dp_1", "charge": 5, "amount": 100}),
        ("charge.dispute.created", {"charge": "ch_1", "amount": 100}),
        ("charge.dispute.created", {"id": "dp_1", "charge": "ch_1", "amount": 1.5}),
    ],
)
def test_a_handler_object_with_wrong_types_is_failed_not_a_500(
    event_type: str, obj: dict[str, Any]
) -> None:
    body = event_body(event_type, obj, event_id="evt_types")
    response = deliver(body)
    assert response.status_code == 400
    assert response.json() == {"id": "evt_types", "status": "failed"}
    stored = StripeEvent.objects.get()
    assert stored.status == "failed" and stored.error.startswith("malformed")
    assert not LedgerEntry.objects.exists()


def test_a_well_formed_event_for_no_deposit_is_still_ignored() -> None:
    body = event_body("charge.refunded", {"id": "ch_1", "amount_refunded": 10})
    response = deliver(body)
    assert response.status_code == 200
    assert StripeEvent.objects.get().status == "ignored"
