"""The only module that talks to Stripe. A thin wrapper over the official SDK's StripeClient.

Configured from settings at each call (STRIPE_SECRET_KEY; STRIPE_API_BASE empty = real Stripe,
else localstripe in development and tests; STRIPE_CONNECT_TIMEOUT, STRIPE_READ_TIMEOUT and
STRIPE_MAX_NETWORK_RETRIES bound how long any call may wait). It returns plain dataclasses,
never SDK objects, and turns SDK errors into :class:`CardDeclined` (the card said no; safe to
show) or :class:`GatewayError` (Stripe unreachable or refused the request).

Written to work on real Stripe and on localstripe alike (see the notes on what localstripe
does not support: no ``description``/``setup_future_usage`` on PaymentIntents, card attach is
explicit, ``latest_charge`` may come back expanded).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings

from portal.errors import DomainError

logger = logging.getLogger(__name__)


class GatewayError(DomainError):
    def __init__(self, message: str = "", *, code: str = "stripe_error") -> None:
        super().__init__(
            message or "The card processor is not answering right now; please try again shortly.",
            code=code,
        )


class CardDeclined(DomainError):
    """Stripe refused the card. ``message`` is Stripe's, fit for the customer."""

    def __init__(self, message: str, *, code: str, payment_intent_id: str = "") -> None:
        super().__init__(message or "Your card was declined.", code=code or "card_declined")
        self.payment_intent_id = payment_intent_id


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    customer: str


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent, as much of it as the portal uses."""

    id: str
    status: str
    amount: int  # cents
    currency: str
    customer: str
    payment_method: str
    charge_id: str
    client_secret: str
    metadata: dict[str, str] = field(default_factory=dict)
    error_code: str = ""
    error_message: str = ""
    created: int = 0


@dataclass(frozen=True)
class SetupIntent:
    id: str
    status: str
    customer: str
    payment_method: str
    client_secret: str
    metadata: dict[str, str] = field(default_factory=dict)


def _http_client() -> stripe.HTTPClient:
    """The SDK's requests-based client with (connect, read) timeouts from settings: the SDK's
    own default waits 80 s per read, so a Stripe that accepts and never answers held Add Credit
    for minutes (3 tries x 80 s)."""
    return stripe.RequestsClient(
        timeout=(float(settings.STRIPE_CONNECT_TIMEOUT), float(settings.STRIPE_READ_TIMEOUT))
    )


@functools.lru_cache(maxsize=8)
def _client(
    api_key: str, api_base: str, connect: float, read: float, retries: int
) -> stripe.StripeClient:
    # The SDK retries only what is safe to repeat: a POST is retried with the same
    # Idempotency-Key, so Stripe answers the retry with the first attempt's result.
    kwargs: dict[str, Any] = {"max_network_retries": retries, "http_client": _http_client()}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(api_key, **kwargs)


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or "",
        float(settings.STRIPE_CONNECT_TIMEOUT),
        float(settings.STRIPE_READ_TIMEOUT),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def object_id(value: Any) -> str:
    """An id from a field that may be an id string or an expanded object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(getattr(value, "id", "") or "")


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    result: dict[str, Any] = obj.to_dict(recursive=True)
    return result


def intent_from(obj: Any) -> Intent:
    """A PaymentIntent from an SDK object or a webhook payload's ``data.object``."""
    data = _as_dict(obj)
    error = data.get("last_payment_error") or {}
    return Intent(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").lower(),
        customer=object_id(data.get("customer")),
        payment_method=object_id(data.get("payment_method")),
        charge_id=object_id(data.get("latest_charge")),
        client_secret=data.get("client_secret") or "",
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        error_code=str(error.get("decline_code") or error.get("code") or ""),
        error_message=str(error.get("message") or ""),
        created=int(data.get("created") or 0),
    )


def _card_declined(exc: stripe.CardError) -> CardDeclined:
    body = (exc.json_body or {}).get("error", {}) if isinstance(exc.json_body, dict) else {}
    return CardDeclined(
        exc.user_message or "Your card was declined.",
        code=str(body.get("decline_code") or exc.code or "card_declined"),
        payment_intent_id=object_id(body.get("payment_intent")),
    )


def _call(what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except stripe.CardError as exc:
        logger.info("stripe: %s declined: %s", what, exc.code)
        raise _card_declined(exc) from exc
    except stripe.StripeError as exc:
        logger.warning("stripe: %s failed: %s %s", what, type(exc).__name__, exc)
        raise GatewayError() from exc


# --- Customers and cards ---------------------------------------------------------------------


def customer_create(
    *, account_id: int, account_code: str, name: str, email: str, idempotency_key: str
) -> str:
    customer = _call(
        "customer create",
        client().v1.customers.create,
        params={
            "name": name,
            "email": email,
            "metadata": {"account_id": str(account_id), "account_code": account_code},
        },
        options={"idempotency_key": idempotency_key},
    )
    return str(customer.id)


def setup_intent_create(*, customer: str, metadata: dict[str, str]) -> SetupIntent:
    si = _call(
        "setup intent create",
        client().v1.setup_intents.create,
        params={
            "customer": customer,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": metadata,
        },
    )
    return _setup_intent(si)


def setup_intent_retrieve(setup_intent_id: str) -> SetupIntent:
    return _setup_intent(
        _call("setup intent retrieve", client().v1.setup_intents.retrieve, setup_intent_id)
    )


def _setup_intent(obj: Any) -> SetupIntent:
    data = _as_dict(obj)
    return SetupIntent(
        id=data["id"],
        status=data.get("status") or "",
        customer=object_id(data.get("customer")),
        payment_method=object_id(data.get("payment_method")),
        client_secret=data.get("client_secret") or "",
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def payment_method_retrieve(payment_method_id: str) -> Card:
    pm = _as_dict(
        _call("payment method retrieve", client().v1.payment_methods.retrieve, payment_method_id)
    )
    card = pm.get("card") or {}
    return Card(
        payment_method_id=pm["id"],
        brand=str(card.get("brand") or ""),
        last4=str(card.get("last4") or ""),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        customer=object_id(pm.get("customer")),
    )


def payment_method_attach(*, payment_method_id: str, customer: str) -> None:
    _call(
        "payment method attach",
        client().v1.payment_methods.attach,
        payment_method_id,
        params={"customer": customer},
    )


def payment_method_detach(payment_method_id: str) -> None:
    _call("payment method detach", client().v1.payment_methods.detach, payment_method_id)


# --- PaymentIntents --------------------------------------------------------------------------


def payment_intent_create(
    *,
    amount_cents: int,
    customer: str,
    payment_method: str,
    metadata: dict[str, str],
    idempotency_key: str,
    off_session: bool = False,
) -> Intent:
    """Create and confirm a card PaymentIntent. A decline raises :class:`CardDeclined`;
    3-D Secure comes back as status ``requires_action`` (or, off-session on real Stripe, as a
    ``CardDeclined`` with code ``authentication_required``)."""
    params: dict[str, Any] = {
        "amount": amount_cents,
        "currency": settings.BILLING_CURRENCY,
        "customer": customer,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "confirm": True,
        "metadata": metadata,
    }
    if off_session:
        params["off_session"] = True
    intent = _call(
        "payment intent create",
        client().v1.payment_intents.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )
    return intent_from(intent)


def payment_intent_retrieve(payment_intent_id: str) -> Intent:
    return intent_from(
        _call("payment intent retrieve", client().v1.payment_intents.retrieve, payment_intent_id)
    )


def payment_intent_cancel(payment_intent_id: str, *, idempotency_key: str) -> Intent:
    """Cancel a PaymentIntent that has not been paid (waiting for 3-D Secure). Stripe refuses
    (``GatewayError``) when it already succeeded or is processing: ask it then with
    :func:`payment_intent_retrieve`. No ``cancellation_reason``: localstripe refuses it."""
    return intent_from(
        _call(
            "payment intent cancel",
            client().v1.payment_intents.cancel,
            payment_intent_id,
            options={"idempotency_key": idempotency_key},
        )
    )


def payment_intents_since(created_gte: int) -> Iterator[Intent]:
    """PaymentIntents created at or after ``created_gte`` (a Unix time), newest first.

    localstripe has no ``created`` filter on this list: there, filter on our side.
    """
    api = client().v1.payment_intents
    try:
        page = _call(
            "payment intent list", api.list, params={"limit": 100, "created": {"gte": created_gte}}
        )
    except GatewayError:
        page = _call("payment intent list", api.list, params={"limit": 100})
    for obj in page.auto_paging_iter():
        intent = intent_from(obj)
        if intent.created >= created_gte:
            yield intent


# --- Webhooks --------------------------------------------------------------------------------


class BadWebhook(Exception):
    """A webhook request whose signature or payload does not check out."""


def event_verify(*, payload: bytes, signature: str | None) -> Any:
    """The signed body, parsed, after checking its ``Stripe-Signature`` with Stripe's own code.
    Its shape is the caller's to judge (``stripe_event_record``): a signed but malformed body
    is stored as failed where it can be, not refused like a forgery."""
    if not signature:
        raise BadWebhook("no Stripe-Signature header")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
        )
        return json.loads(payload)
    except (ValueError, RecursionError, stripe.SignatureVerificationError) as exc:
        raise BadWebhook(f"{type(exc).__name__}: {exc}"[:200]) from exc
