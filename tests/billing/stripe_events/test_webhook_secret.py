"""The webhook secret outside development: an empty one verifies nothing, and production has
no default one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billing import stripe_gateway
from billing.models import StripeEvent
from tests.billing.stripe_helpers import event_body, sign


def test_webhook_with_no_configured_secret_is_refused(settings: Any, db: None) -> None:
    """An empty secret is a key anyone can sign with: refuse rather than verify with it."""
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = event_body("customer.created", {"id": "cus_x", "object": "customer"})
    with pytest.raises(stripe_gateway.BadWebhook):
        stripe_gateway.event_verify(payload=body, signature=sign(body, secret=""))
    response = Client().post(
        reverse("stripe:webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret=""),
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_production_has_no_default_webhook_secret() -> None:
    """With DEBUG off and no STRIPE_WEBHOOK_SECRET, the development secret (in the source, so
    known to anyone) must not verify webhooks: forged events would credit balances."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update({"DEBUG": "0", "TESTING": "0", "SECRET_KEY": "x" * 50})
    # Production refuses to start without Redis; the settings module never connects to it.
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    code = "import portal.settings as s; print(repr(s.STRIPE_WEBHOOK_SECRET))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "''"
