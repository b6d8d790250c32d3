"""``make run``'s localstripe webhook registration: ``bin/localstripe-webhook`` points
localstripe's deliveries at the portal's endpoint."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from billing.models import Deposit
from tests.billing.stripe_events.test_webhook import authenticated_3ds_deposit
from tests.billing.stripe_helpers import LocalStripe, http, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]


def test_bin_localstripe_webhook_registers_the_portals_endpoint(
    live_server, customer_client: Client, stripe_local: LocalStripe
) -> None:
    env = {
        **os.environ,
        "STRIPE_API_BASE": stripe_local.base,
        "STRIPE_WEBHOOK_SECRET": "whsec_test",
    }
    try:
        result = subprocess.run(
            [str(ROOT / "bin" / "localstripe-webhook"), live_server.url],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        assert "/stripe/webhook/" in result.stdout
        deposit = authenticated_3ds_deposit(customer_client, stripe_local, amount="7.00")
        wait_for(lambda: Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.SUCCEEDED)
    finally:  # the registration outlives the test: point it at nothing
        http(
            "POST",
            f"{stripe_local.base}/_config/webhooks/control-center",
            data={"url": "http://127.0.0.1:9/", "secret": "x", "events[]": ["cc.tests.never"]},
        )
