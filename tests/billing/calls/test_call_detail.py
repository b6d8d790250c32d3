"""A call's own page: everything about its charge, for the account's calls only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Call
from tests.billing.call_factories import CallFactory, DIDFactory, DIDGroupFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_shows_the_charge_split_and_explanation(customer_client: Client, account) -> None:
    call = CallFactory(
        account=account,
        to_number="+4930123456",
        destination="Germany landline",
        category=Call.Category.OVERAGE,
        billsec=290,
        billed_seconds=300,
        included_seconds=120,
        paid_seconds=180,
        rate=Decimal("0.0250"),
        charge=Decimal("0.0750"),
        explanation="Germany landline — 2 min included (498→500 of 500), 3 min overage at "
        "$0.0250/min = $0.0750",
    )
    url = reverse("billing:call_detail", args=[call.pk])
    assert url == f"/calls/{call.pk}/"
    response = customer_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Call to +49 30 123456" in html
    assert "Germany landline" in html
    assert "3 min overage at $0.0250/min = $0.0750" in html
    assert "4:50" in html  # talk time
    assert "5 min" in html  # billed
    assert "2 min" in html and "3 min at $0.0250/min" in html
    assert "Nov 20, 2026, 10:00 AM" in html  # New York time, the one format
    assert str(call.call_id) in html


def test_incoming_call_names_the_did_and_its_group(customer_client: Client, account) -> None:
    group = DIDGroupFactory(name="Test PN group", rate=Decimal("0.0450"), included=False)
    did = DIDFactory(account=account, group=group, number="+14065550100")
    call = CallFactory(account=account, direction="inbound", to_number=did.number, did=did)
    html = customer_client.get(reverse("billing:call_detail", args=[call.pk])).content.decode()
    assert "+1 406-555-0100 (Test PN group)" in html
    assert "Incoming" in html


def test_another_accounts_call_is_404(customer_client: Client) -> None:
    other = CallFactory(account=AccountFactory(name="Secret Co"))
    response = customer_client.get(reverse("billing:call_detail", args=[other.pk]))
    assert response.status_code == 404
    assert "Secret Co" not in response.content.decode()


def test_missing_call_is_404(customer_client: Client) -> None:
    assert customer_client.get("/calls/999999/").status_code == 404
