"""CSV downloads start with a UTF-8 byte-order mark, so Excel shows → — • instead of mojibake."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.exports import csv_lines
from billing.services.ledger import ledger_post
from portal.models import Account

pytestmark = pytest.mark.django_db


def test_every_export_starts_with_one_bom_and_round_trips_non_ascii_text() -> None:
    text = "".join(
        csv_lines([["Germany → mobile — 2 min • overage", "-0.0750"]], header=["a", "b"])
    )
    assert text.startswith("\ufeff") and text.count("\ufeff") == 1
    data = text.encode("utf-8")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["a", "b"], ["Germany → mobile — 2 min • overage", "-0.0750"]]


def test_the_balance_history_csv_has_the_bom_and_plain_numbers(
    customer_client: Client, account: Account
) -> None:
    ledger_post(
        account=account,
        amount=Decimal("-0.0750"),
        kind="adjustment",
        description="Credit → debit — test • one",
        idempotency_key="t:1",
        now=dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC),
    )
    response = customer_client.get(reverse("billing:per_minute"), {"export": "csv"})
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Description"] == "Credit → debit — test • one"
    assert row["Amount (USD)"] == "-0.0750"  # machine-readable: a hyphen-minus, 4 places, no $
