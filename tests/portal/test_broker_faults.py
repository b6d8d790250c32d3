"""The broker down or unwritable: the web keeps answering and keeps what it saved, ``/healthz``
says so, and the beat scans do the lost work once — exactly once — when the broker is back.

The Redis test starts its own throwaway ``redis-server`` on a free port (skipped when the
binary is missing), so stopping it never disturbs the suite's Redis.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingProfile, LedgerEntry
from billing.services.cards import billing_profile_ensure
from billing.services.ledger import ledger_post
from billing.tasks.low_balance import low_balance_scan
from portal.celery import app as celery_app
from portal.models import Account
from tests.portal.test_celery import _reset_connection_pools

SETTINGS = {"enabled": "on", "threshold": "20", "amount": "25", "low_balance_threshold": "15"}


def _credit(account: Account, amount: str, key: str) -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="adjustment",
        description="Credit",
        idempotency_key=key,
        now=timezone.now(),
    )


def _with_saved_card(account: Account) -> None:
    # No task reaches Stripe in these tests (the broker is down), so a recorded id is enough.
    billing_profile_ensure(account=account)
    BillingProfile.objects.filter(account=account).update(payment_method_id="pm_fault_test")


@pytest.fixture
def unwritable_broker(tmp_path: Path) -> Iterator[None]:
    """The filesystem broker's folders sit under a plain file: every write fails (even as
    root, unlike a chmod)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.broker_url = "filesystem://"
    celery_app.conf.broker_transport_options = {
        "data_folder_in": str(blocker / "out"),
        "data_folder_out": str(blocker / "out"),
        "processed_folder": str(blocker / "processed"),
        "control_folder": str(blocker / "control"),
    }
    _reset_connection_pools()
    try:
        yield
    finally:
        _reset_connection_pools()
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = previous


@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True)
def test_it_saves_auto_recharge_settings_when_the_broker_is_unwritable(
    unwritable_broker: None,
    account: Account,
    customer_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _with_saved_card(account)
    _credit(account, "12", "start")  # below the new threshold: the save enqueues an attempt
    with caplog.at_level(logging.ERROR, logger="portal.enqueue"):
        response = customer_client.post(reverse("billing:auto_recharge"), SETTINGS)
    assert response.status_code == 302
    profile = BillingProfile.objects.get(account=account)
    assert profile.auto_recharge_enabled
    assert profile.auto_recharge_threshold == Decimal("20.0000")
    assert "could not enqueue billing.tasks.auto_recharge_run" in caplog.text


@pytest.mark.django_db
def test_healthz_reports_an_unwritable_filesystem_broker(
    unwritable_broker: None, client: Client
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] != "ok"
    assert response.json()["database"] == "ok"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayRedis:
    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the throwaway redis-server did not start within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    redis = ThrowawayRedis(binary, _free_port())
    redis.start()
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    celery_app.conf.broker_url = redis.url
    celery_app.conf.broker_transport_options = {}
    _reset_connection_pools()
    try:
        yield redis
    finally:
        _reset_connection_pools()
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = previous
        redis.stop()


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _low_balance_mails() -> list[str]:
    return [m.subject for m in mail.outbox if "balance is low" in m.subject]


@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_mid_test_loses_no_work_and_does_none_twice(
    throwaway_redis: ThrowawayRedis, account: Account, user, customer_client: Client
) -> None:
    _with_saved_card(account)
    _credit(account, "12", "start")
    assert customer_client.get("/healthz").json()["broker"] == "ok"

    throwaway_redis.stop()
    started = time.monotonic()
    saved = customer_client.post(reverse("billing:auto_recharge"), SETTINGS)
    took = time.monotonic() - started
    assert saved.status_code == 302
    assert BillingProfile.objects.get(account=account).low_balance_threshold == Decimal("15")
    _credit(account, "-1", "call:1")  # a posting whose alert task is lost: 11, below 15
    assert LedgerEntry.objects.filter(account=account).count() == 2
    assert customer_client.get(reverse("billing:per_minute")).status_code == 200
    health = customer_client.get("/healthz")
    assert health.status_code == 503 and health.json()["broker"] != "ok"
    assert took < 10, f"saving waited {took:.1f} s for the broker"
    assert _low_balance_mails() == []

    throwaway_redis.start()
    _reset_connection_pools()  # drop the dead connections, as a restarted worker would
    assert customer_client.get("/healthz").json()["broker"] == "ok"
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert low_balance_scan() == 1  # beat's scan finds the lost alert, the worker sends it
        _wait_for(_low_balance_mails)
        assert low_balance_scan() == 0  # nothing left to do: no second e-mail
    assert _low_balance_mails() == ["[Control Center] Your balance is low: $11.00"]
    assert LedgerEntry.objects.filter(account=account).count() == 2  # nothing posted twice
