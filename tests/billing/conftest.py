"""localstripe for the billing tests: one real fake-Stripe process per test session.

``localstripe`` keeps its state in a fixed file (/tmp/localstripe.pickle), so only one instance
may run on the machine at a time: the session fixture takes an exclusive ``fcntl`` lock on
/tmp/localstripe.lock (waiting while another test run holds it), starts it on a free port, and
points the official ``stripe`` SDK at it through settings. Each test starts with empty Stripe
data and webhook delivery off; ``stripe_webhooks`` turns delivery on to the live server.
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.billing.stripe_helpers import (
    LOCK_PATH,
    LOCK_WAIT_SECONDS,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    free_port,
    http,
)


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[str]:
    binary = Path(sys.executable).parent / "localstripe"
    if not binary.exists():
        pytest.fail(f"localstripe is not installed at {binary} (it is a dev dependency)")
    lock = LOCK_PATH.open("a")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail("another localstripe has held /tmp/localstripe.lock for 15 minutes")
            time.sleep(0.5)
    port = free_port()
    log = Path("/tmp") / f"localstripe-tests-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "--port", str(port), "--from-scratch"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if process.poll() is not None:
                pytest.fail(f"localstripe exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                status, _ = http("DELETE", f"{base}/_config/data")
                if status == 200:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("localstripe did not start within 15 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        with contextlib.suppress(OSError):
            log.unlink()


@pytest.fixture
def stripe_local(localstripe_server: str, settings: Any) -> Iterator[LocalStripe]:
    """The SDK pointed at localstripe, with empty data and webhook delivery off."""
    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_JS_URL = f"{localstripe_server}/js.stripe.com/v3/"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    local = LocalStripe(localstripe_server)
    local.webhooks_off()
    local.clear()
    yield local
    local.webhooks_off()
    local.clear()


@pytest.fixture
def stripe_webhooks(stripe_local: LocalStripe, live_server: Any) -> LocalStripe:
    """localstripe delivers its events, signed, to the live server's webhook endpoint."""
    stripe_local.webhooks_to(
        live_server.url + reverse("stripe:webhook"),
        ["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    return stripe_local
