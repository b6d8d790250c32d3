"""Add Credit and auto-recharge when Stripe is down, hangs, or loses its answer after charging.

"Down" is a port nobody listens on; "hanging" is a local TCP server that accepts connections
and never answers; "answer lost" sends the request to localstripe (which charges the card) and
then fails as a reset connection would. Money must end up credited exactly once, and no billing
row may stay locked while Stripe is being waited for."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.db import DatabaseError, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing import stripe_gateway
from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.auto_recharge import auto_recharge_run
from portal.models import Account
from tests.billing.stripe_events.test_webhook import deliver, intent_dict
from tests.billing.stripe_helpers import (
    CARD_OK,
    LocalStripe,
    event_body,
    free_port,
    save_card,
    sign,
    start_deposit,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOT_ANSWERING = "The card processor is not answering right now"


class HangingServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                self.accepted.append(conn)
                self.connected.set()

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def short_stripe_timeouts(settings: Any) -> Iterator[None]:
    settings.STRIPE_CONNECT_TIMEOUT = 1.0
    settings.STRIPE_READ_TIMEOUT = 1.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    stripe_gateway._client.cache_clear()
    yield
    stripe_gateway._client.cache_clear()


@pytest.fixture
def hanging_stripe(
    stripe_local: LocalStripe, settings: Any, short_stripe_timeouts: None
) -> Iterator[HangingServer]:
    server = HangingServer()
    settings.STRIPE_API_BASE = server.url
    yield server
    server.close()


class AnswerLost(stripe.RequestsClient):
    """Sends a PaymentIntent create to localstripe, which charges the card, then fails as if
    the connection dropped before the answer arrived."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        result = super().request(method, url, *args, **kwargs)
        if method == "post" and url.rstrip("/").endswith("/v1/payment_intents"):
            raise stripe.APIConnectionError("Connection reset by peer", should_retry=False)
        return result


@pytest.fixture
def answer_lost(stripe_local: LocalStripe, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(stripe_gateway, "_http_client", lambda: AnswerLost(timeout=(5, 10)))
    stripe_gateway._client.cache_clear()
    yield
    stripe_gateway._client.cache_clear()


def _answers_lost_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    stripe_gateway._client.cache_clear()


def _add_credit_in_thread(client: Client) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = start_deposit(client, "25.00")
        finally:
            outcome["seconds"] = time.monotonic() - started
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _only_payment_intent() -> str:
    [intent] = stripe_gateway.client().v1.payment_intents.list(params={"limit": 10}).data
    return str(intent.id)


def test_it_tells_the_customer_at_once_when_stripe_is_down(
    stripe_local: LocalStripe, settings: Any, customer_client: Client, short_stripe_timeouts: None
) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    response = start_deposit(customer_client, "25.00")
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert NOT_ANSWERING in response.json()["errors"]["__all__"][0]["message"]
    assert not LedgerEntry.objects.exists()


def test_it_gives_up_on_a_hanging_stripe_within_the_timeouts(
    hanging_stripe: HangingServer, customer_client: Client
) -> None:
    thread, outcome = _add_credit_in_thread(customer_client)
    thread.join(timeout=10)  # 1 s connect + 1 s read, one retry: about 3 s at most
    assert not thread.is_alive(), "Add Credit still waiting for Stripe after 10 s"
    assert outcome["seconds"] < 8
    response = outcome["response"]
    assert response.status_code == 400
    assert NOT_ANSWERING in response.json()["errors"]["__all__"][0]["message"]
    assert len(hanging_stripe.accepted) == 2  # the call and its one retry
    assert not LedgerEntry.objects.exists()


def test_it_holds_no_billing_row_lock_while_stripe_hangs(
    on_postgres: None, hanging_stripe: HangingServer, account: Account, customer_client: Client
) -> None:
    profile = BillingProfile.objects.create(account=account)
    thread, outcome = _add_credit_in_thread(customer_client)
    try:
        assert hanging_stripe.connected.wait(timeout=10)
        with transaction.atomic():  # Stripe is being waited for right now
            BillingProfile.objects.select_for_update(nowait=True).get(pk=profile.pk)
            Account.objects.select_for_update(nowait=True).get(pk=account.pk)
    except DatabaseError as exc:
        pytest.fail(f"a billing row is locked while Stripe is waited for: {exc}")
    finally:
        thread.join(timeout=15)
        hanging_stripe.close()
        thread.join(timeout=15)
    assert outcome["response"].status_code == 400


def test_a_payment_whose_answer_was_lost_is_credited_once_by_the_webhook(
    answer_lost: None,
    stripe_local: LocalStripe,
    account: Account,
    customer_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.billing.stripe_helpers import pay

    deposit_id, confirmed = pay(customer_client, stripe_local, amount="25.00", card=CARD_OK)
    assert confirmed.status_code == 400
    assert NOT_ANSWERING in confirmed.json()["error"]
    deposit = Deposit.objects.get(pk=deposit_id)
    assert deposit.status == Deposit.Status.PROCESSING  # Stripe may have charged: not failed
    assert not LedgerEntry.objects.exists()

    _answers_lost_off(monkeypatch)
    intent_id = _only_payment_intent()  # localstripe did charge the card
    body = event_body("payment_intent.succeeded", intent_dict(intent_id))
    for _ in range(2):  # delivered, and re-delivered
        assert deliver(body, sign(body)).status_code == 200
    customer_client.get(reverse("billing:deposit_return", args=[deposit_id]))

    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.SUCCEEDED
    assert deposit.stripe_payment_intent_id == intent_id
    [entry] = LedgerEntry.objects.all()
    assert entry.idempotency_key == f"stripe:{intent_id}"
    account.refresh_from_db()
    assert account.balance == Decimal("25.0000")
    assert ledger_problems() == []


def test_an_auto_recharge_whose_answer_was_lost_is_not_charged_again(
    answer_lost: None,
    stripe_local: LocalStripe,
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_card(account, CARD_OK)
    BillingProfile.objects.filter(account=account).update(
        auto_recharge_enabled=True,
        auto_recharge_threshold=Decimal("10"),
        auto_recharge_amount=Decimal("25"),
    )
    now = timezone.now()
    first = auto_recharge_run(account_id=account.pk, now=now)
    assert first is not None
    assert first.status == Deposit.Status.PROCESSING  # Stripe may have charged: not failed

    _answers_lost_off(monkeypatch)
    # Later runs (the beat scan, the next call) must not charge again while it is unresolved.
    assert auto_recharge_run(account_id=account.pk, now=now + dt.timedelta(minutes=16)) is None
    intent_id = _only_payment_intent()

    body = event_body("payment_intent.succeeded", intent_dict(intent_id))
    for _ in range(2):
        assert deliver(body, sign(body)).status_code == 200
    first.refresh_from_db()
    assert first.status == Deposit.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(kind="auto_recharge").count() == 1
    assert Deposit.objects.filter(kind="auto_recharge").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("25.0000")
    assert ledger_problems() == []
