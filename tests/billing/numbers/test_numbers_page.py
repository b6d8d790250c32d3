"""The Numbers page: the account's DIDs with how their incoming minutes are billed, and its
extensions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.billing.call_factories import DIDFactory, DIDGroupFactory, ExtensionFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_lists_dids_with_their_billing_and_extensions(customer_client: Client, account) -> None:
    standard = DIDGroupFactory(name="USA standard", rate=Decimal("0.0100"), included=True)
    pn_a = DIDGroupFactory(name="Test PN group", rate=Decimal("0.0450"), included=False)
    capped = DIDGroupFactory(
        name="Test UK capped",
        rate=Decimal("0.0200"),
        included=True,
        monthly_included_cap_minutes=300,
    )
    DIDFactory(account=account, group=standard, number="+12025550123", label="Main line")
    DIDFactory(account=account, group=pn_a, number="+14065550100")
    DIDFactory(account=account, group=capped, number="+442071234567")
    ExtensionFactory(account=account, number="101", name="Reception")
    ExtensionFactory(account=account, number="102")
    DIDFactory(account=AccountFactory(), group=standard, number="+12025559999")
    ExtensionFactory(account=AccountFactory(), number="777", name="Not ours")

    response = customer_client.get(reverse("billing:numbers"))
    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert reverse("billing:numbers") == "/numbers/"
    assert "+1 202-555-0123" in html and "Main line" in html and "USA standard" in html
    assert "Included in plan" in html
    assert "+1 406-555-0100" in html and "Test PN group" in html
    assert "Billed per minute" in html and "$0.0450/min" in html
    assert "does not use included minutes" in html
    assert "up to 300 min a month, then $0.0200/min" in html
    assert "Reception" in html and ">102<" in html
    assert "+1 202-555-9999" not in html and "Not ours" not in html
    assert "Port numbers in" in html and "No port requests yet." in html


def test_empty_account(customer_client: Client) -> None:
    html = customer_client.get(reverse("billing:numbers")).content.decode()
    assert "No phone numbers on this account yet." in html
    assert "No extensions yet." in html


def test_nav_shows_calls_and_numbers(customer_client: Client) -> None:
    html = customer_client.get(reverse("portal:dashboard")).content.decode()
    assert 'href="/calls/"' in html and 'href="/numbers/"' in html


def test_the_page_title_is_plain_text_and_the_port_requests_appear_once(
    customer_client: Client,
) -> None:
    html = customer_client.get(reverse("billing:numbers")).content.decode()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and title.startswith("Numbers")
    assert html.count('data-testid="port-requests"') == 1
