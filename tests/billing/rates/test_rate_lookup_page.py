"""The customer's rate lookup: destination and price per minute, or "included in your plan"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import AccountRating, Rate, RateDeck, ServicePlan
from billing.services.plans import account_plan_set
from tests.billing.call_factories import ExtensionFactory

pytestmark = pytest.mark.django_db
URL = "/rates/"


@pytest.fixture
def starter(account) -> ServicePlan:
    plan = ServicePlan.objects.get(name="Starter")
    account_plan_set(account=account, plan=plan, now=dt.datetime.now(dt.UTC))
    return plan


def lookup(client: Client, number: str) -> str:
    response = client.get(URL, {"number": number})
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_url_name() -> None:
    assert reverse("billing:rate_lookup") == URL


def test_page_lists_the_plans_included_destinations(customer_client: Client, starter) -> None:
    html = " ".join(customer_client.get(URL).content.decode().split())
    assert "Included in your Starter plan" in html
    assert 'Germany <span class="muted small">landlines only</span>' in html
    assert 'USA <span class="muted small">landlines and mobiles</span>' in html
    assert "$0.0250/min" in html
    assert "This field is required" not in html  # an empty page is not an error


def test_germany_landline_is_included(customer_client: Client, starter) -> None:
    html = lookup(customer_client, "+49 30 1234567")
    assert "Germany landline" in html
    assert "Included in your plan" in html
    assert "500 of 500 left" in html
    assert "Once they are used up, calls cost <strong>$0.0250/min</strong>" in html


def test_usa_mobile_is_included(customer_client: Client, starter) -> None:
    html = lookup(customer_client, "+1 202 555 0123")
    assert "Included in your plan" in html


def test_cyprus_is_billed_at_its_deck_rate(customer_client: Client, starter) -> None:
    html = lookup(customer_client, "+357 22 123456")
    assert "Cyprus" in html
    assert "$0.0600/min" in html
    assert "Included in your plan</span>" not in html
    assert "Not included in your plan's minutes" in html
    assert "Billed per started minute" in html


def test_uk_mobile_is_billed_at_the_deck_rate(customer_client: Client, starter) -> None:
    html = lookup(customer_client, "+44 7911 123456")
    assert "United Kingdom mobile" in html
    assert "$0.0450/min" in html


def test_connection_fee_and_blocks_are_shown(customer_client: Client, account, starter) -> None:
    deck = RateDeck.objects.create(name="Fees")
    Rate.objects.create(
        deck=deck,
        prefix="357",
        destination="Cyprus premium route",
        rate=Decimal("0.1234"),
        connect_fee=Decimal("0.0500"),
        initial=30,
        increment=6,
    )
    AccountRating.objects.create(account=account, rate_deck=deck)
    html = lookup(customer_client, "+35722123456")
    assert "Cyprus premium route" in html
    assert "$0.1234/min" in html
    assert "First 30 s, then every 6 s, plus $0.0500 per answered call" in html


def test_own_extension_is_free(customer_client: Client, account, starter) -> None:
    ExtensionFactory(account=account, number="101")
    html = lookup(customer_client, "101")
    assert "calls to it are free" in html


def test_bad_and_unknown_numbers_get_a_clear_message(customer_client: Client, starter) -> None:
    assert "does not look like a phone number" in lookup(customer_client, "hello")
    deck = RateDeck.objects.get(name="Standard")
    Rate.objects.filter(deck=deck, prefix__startswith="357").delete()
    assert "We have no rate for this number" in lookup(customer_client, "+35722123456")


def test_account_without_a_plan(customer_client: Client) -> None:
    html = lookup(customer_client, "+35722123456")
    assert "has no service plan with included minutes" in html
