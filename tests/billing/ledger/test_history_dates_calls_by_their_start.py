"""A call's ledger entry is dated by the call's start: the history shows it, the date filter
finds it on that day, and the CSV keeps the posting time beside it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import LedgerEntry
from billing.services.ledger import ledger_post
from portal.models import Account
from tests.billing.call_factories import CallFactory

pytestmark = pytest.mark.django_db
URL = "/per-minute/"

# 11:50 PM on Nov 20 in New York; its record arrives and is posted at 12:20 AM on Nov 21.
STARTED = dt.datetime(2026, 11, 21, 4, 50, tzinfo=dt.UTC)
POSTED = dt.datetime(2026, 11, 21, 5, 20, tzinfo=dt.UTC)


@pytest.fixture
def late_call(account: Account) -> LedgerEntry:
    posting = ledger_post(
        account=account,
        amount=Decimal("-0.0750"),
        kind="call",
        description="Call to Cyprus",
        idempotency_key="call:late-1",
        now=POSTED,
    )
    CallFactory(account=account, started_at=STARTED, ledger_entry=posting.entry, charge="0.0750")
    ledger_post(
        account=account,
        amount=Decimal("10"),
        kind="adjustment",
        description="Goodwill credit",
        idempotency_key="adj:1",
        now=POSTED,
    )
    return posting.entry


def test_the_history_shows_the_calls_start(customer_client: Client, late_call) -> None:
    html = customer_client.get(URL).content.decode()
    assert "Nov 20, 2026, 11:50 PM" in html  # the call, in New York time
    assert "Nov 21, 2026, 12:20 AM" in html  # the adjustment, posted at the same moment


def test_the_date_filter_finds_the_call_on_the_day_it_was_made(
    customer_client: Client, late_call
) -> None:
    day_of_call = customer_client.get(URL, {"date_from": "2026-11-20", "date_to": "2026-11-20"})
    html = day_of_call.content.decode()
    assert "Call to Cyprus" in html and "Goodwill credit" not in html
    next_day = customer_client.get(URL, {"date_from": "2026-11-21", "date_to": "2026-11-21"})
    html = next_day.content.decode()
    assert "Goodwill credit" in html and "Call to Cyprus" not in html


def test_the_csv_has_the_calls_start_and_its_posting_time(
    customer_client: Client, late_call
) -> None:
    response = customer_client.get(URL, {"kind": "call", "export": "csv"})
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert len(rows) == 1
    assert rows[0]["Date"] == "2026-11-20 23:50:00"
    assert rows[0]["Posted"] == "2026-11-21 00:20:00"
    assert rows[0]["Amount (USD)"] == "-0.0750"
