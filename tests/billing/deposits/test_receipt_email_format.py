"""The receipt e-mail: amounts in cents with the true minus sign and no markup, the payment's
time in the one format in the account's zone, the zone named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import time_machine
from django.template.loader import render_to_string

from tests.factories import AccountFactory


def test_the_receipt_reads_in_the_accounts_zone_and_cents() -> None:
    account = AccountFactory.build(name="Harbor Dental", code="HD1", timezone="Asia/Tokyo")
    deposit = SimpleNamespace(
        amount=Decimal("25.0000"),
        card_label="Visa •••• 4242",
        completed_at=dt.datetime(2026, 12, 31, 20, 30, tzinfo=dt.UTC),
        stripe_payment_intent_id="pi_1",
    )
    entry = SimpleNamespace(balance_after=Decimal("-0.6650"))
    with time_machine.travel(dt.datetime(2026, 12, 31, 21, tzinfo=dt.UTC), tick=False):
        text = render_to_string(
            "billing/email/receipt.txt",
            {"account": account, "deposit": deposit, "entry": entry, "what": "Added"},
        )
    assert "Date:            Jan 1, 2027, 5:30 AM, Asia/Tokyo (JST)" in text
    assert "New balance:     \N{MINUS SIGN}$0.67" in text
    assert "$25.00" in text
    assert "<data" not in text and "&" not in text
