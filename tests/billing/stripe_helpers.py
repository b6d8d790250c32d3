"""Helpers for tests against localstripe (fixtures in tests/billing/conftest.py): the
browser's side of Stripe.js, events signed by Stripe's scheme, polling.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_PATH = Path("/tmp/localstripe.lock")
LOCK_WAIT_SECONDS = 900
WEBHOOK_SECRET = "whsec_test"
PUBLISHABLE_KEY = "pk_test_12345"
SECRET_KEY = "sk_test_12345"
WEBHOOK_ID = "cc-tests"

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches fine, declined when charged
CARD_3DS = "4000002760003184"  # always asks for 3-D Secure


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    method: str, url: str, *, data: dict[str, Any] | None = None, json_body: Any = None
) -> tuple[int, Any]:
    headers = {}
    body: bytes | None = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


@dataclass
class LocalStripe:
    base: str

    def clear(self) -> None:
        status, _ = http("DELETE", f"{self.base}/_config/data")
        assert status == 200

    def webhooks_to(self, url: str, events: list[str]) -> None:
        status, _ = http(
            "POST",
            f"{self.base}/_config/webhooks/{WEBHOOK_ID}",
            data={"url": url, "secret": WEBHOOK_SECRET, "events[]": events},
        )
        assert status == 200

    def webhooks_off(self) -> None:
        # localstripe cannot delete a webhook: point ours at an event type that never occurs.
        self.webhooks_to("http://127.0.0.1:9/", ["cc.tests.never"])

    def confirm_setup(self, client_secret: str, card_number: str) -> dict[str, Any]:
        """What Stripe.js's confirmCardSetup does with the card element (publishable key)."""
        seti = client_secret.split("_secret_")[0]
        status, body = http(
            "POST",
            f"{self.base}/v1/setup_intents/{seti}/confirm",
            json_body={
                "key": PUBLISHABLE_KEY,
                "use_stripe_sdk": True,
                "client_secret": client_secret,
                "payment_method_data": {
                    "type": "card",
                    "card": {
                        "number": card_number,
                        "exp_month": "12",
                        "exp_year": "2034",
                        "cvc": "123",
                    },
                },
            },
        )
        assert status == 200, body
        if body["status"] == "requires_action":  # the 3-D Secure box: "Complete"
            status, body = http(
                "POST",
                f"{self.base}/v1/setup_intents/{seti}/confirm",
                json_body={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
            )
            assert status == 200, body
        assert body["status"] == "succeeded", body
        return dict(body)

    def authenticate(self, payment_intent_id: str, client_secret: str, *, success: bool) -> Any:
        """What Stripe.js's confirmCardPayment does when the customer answers 3-D Secure."""
        status, body = http(
            "POST",
            f"{self.base}/v1/payment_intents/{payment_intent_id}/_authenticate"
            f"?success={'true' if success else 'false'}",
            json_body={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
        )
        assert status == 200, body
        return body


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header by Stripe's scheme: t=…,v1=HMAC-SHA256(secret, "t.body")."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_body(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    import uuid

    event = {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2024-06-20",
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def wait_for(predicate: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def start_deposit(client: Any, amount: str, **fields: str) -> Any:
    """Step 1 as the page's script does it: POST the amount, asking for JSON."""
    from django.urls import reverse

    return client.post(
        reverse("billing:add_credit"), {"amount": amount, **fields}, HTTP_ACCEPT="application/json"
    )


def pay(
    client: Any,
    local: LocalStripe,
    *,
    amount: str = "5.00",
    card: str = CARD_OK,
    save_card: bool = False,
) -> tuple[int, Any]:
    """Add Credit through the portal's endpoints and localstripe, as the browser does: amount,
    card set up with the publishable key, server confirmation. Returns (deposit id, the
    confirm response)."""
    fields = {"save_card": "on"} if save_card else {}
    started = start_deposit(client, amount, **fields)
    assert started.status_code == 200, started.content
    data = started.json()
    setup = local.confirm_setup(data["setup_client_secret"], card)
    confirmed = client.post(
        data["confirm_url"], {"setup_intent": setup["id"]}, HTTP_ACCEPT="application/json"
    )
    return data["deposit_id"], confirmed


def save_card(account: Any, number: str) -> str:
    """Put a card (any localstripe test number) on the account's Stripe Customer and keep it for
    auto-recharge, as a successful Add Credit with "keep this card" would. Returns its id."""
    from django.utils import timezone

    from billing import stripe_gateway
    from billing.services.cards import billing_card_save, stripe_customer_ensure

    customer = stripe_customer_ensure(account=account)
    pm = stripe_gateway.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    stripe_gateway.payment_method_attach(payment_method_id=pm.id, customer=customer)
    billing_card_save(
        account=account, card=stripe_gateway.payment_method_retrieve(pm.id), now=timezone.now()
    )
    return str(pm.id)
