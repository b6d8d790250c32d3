"""The admin writes money as the customer pages do: cents for balances and amounts (the exact
value beside them when it differs), 4 places for rates and call charges, never raw 163.4400."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.services.ledger import ledger_post
from portal.models import Account
from tests.billing.call_factories import CallFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    return client


def test_the_ledger_list_and_entry_show_dollars(staff_client: Client, account: Account) -> None:
    ledger_post(
        account=account,
        amount=Decimal("163.44"),
        kind="adjustment",
        description="Credit",
        idempotency_key="a:1",
        now=NOW,
    )
    entry = ledger_post(
        account=account,
        amount=Decimal("-0.0750"),
        kind="adjustment",
        description="Debit",
        idempotency_key="a:2",
        now=NOW,
    ).entry
    listing = staff_client.get(reverse("admin:billing_ledgerentry_changelist")).content.decode()
    assert "$163.44" in listing and "163.4400" not in listing
    assert "\N{MINUS SIGN}$0.08 (exact \N{MINUS SIGN}$0.0750)" in listing
    assert "$163.3650 " not in listing
    assert "$163.37 (exact $163.3650)" in listing  # the balance after the second entry
    detail = staff_client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "\N{MINUS SIGN}$0.08 (exact \N{MINUS SIGN}$0.0750)" in html
    assert "-0.0750" not in html


def test_a_calls_rate_and_charge_keep_four_places(staff_client: Client, account: Account) -> None:
    CallFactory(account=account, rate=Decimal("0.025"), charge=Decimal("0.075"))
    listing = staff_client.get(reverse("admin:billing_call_changelist")).content.decode()
    assert "$0.0750" in listing
    assert "0.0750<" not in listing.replace("$0.0750<", "")
