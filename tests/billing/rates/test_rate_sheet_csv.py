"""The customer's rate sheet: the whole deck that prices their calls, as CSV for Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import AccountRating, Rate, RateDeck, ServicePlan
from billing.services.plans import account_plan_set

pytestmark = pytest.mark.django_db
URL = "/rates/rate-sheet.csv"


def _download(client: Client) -> tuple[str, list[list[str]]]:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="rates-')
    raw = b"".join(response.streaming_content)
    text = raw.decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def deck(account) -> RateDeck:
    deck = RateDeck.objects.create(name="Customer deck")
    Rate.objects.bulk_create(
        [
            Rate(deck=deck, prefix="49", destination="Germany — landline", rate=Decimal("0.012")),
            Rate(
                deck=deck,
                prefix="4915",
                destination="Germany • mobile",
                rate=Decimal("0.09"),
                connect_fee=Decimal("0.01"),
                initial=30,
                increment=6,
            ),
            Rate(deck=deck, prefix="357", destination="Cyprus", rate=Decimal("0.0450")),
        ]
        + [
            Rate(deck=deck, prefix=f"88{i:04d}", destination=f"Zone {i}", rate=Decimal("1"))
            for i in range(2500)  # more than one read chunk
        ]
    )
    AccountRating.objects.create(account=account, rate_deck=deck)
    return deck


def test_url_name() -> None:
    assert reverse("billing:rate_sheet_csv") == URL


def test_it_streams_every_row_of_the_accounts_deck_with_a_bom(
    customer_client: Client, deck: RateDeck
) -> None:
    text, rows = _download(customer_client)
    assert text.startswith("\ufeffprefix,destination,")
    assert rows[0] == [
        "prefix",
        "destination",
        "rate_per_minute",
        "connect_fee",
        "initial_seconds",
        "increment_seconds",
    ]
    body = rows[1:]
    assert len(body) == 2503
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    assert ["49", "Germany — landline", "0.0120", "0.0000", "60", "60"] in body
    assert ["4915", "Germany • mobile", "0.0900", "0.0100", "30", "6"] in body
    assert ["357", "Cyprus", "0.0450", "0.0000", "60", "60"] in body


def test_it_uses_the_plans_deck_when_the_account_has_none_of_its_own(
    customer_client: Client, account
) -> None:
    plan = ServicePlan.objects.get(name="Starter")
    deck = RateDeck.objects.create(name="Plan deck")
    Rate.objects.create(deck=deck, prefix="44", destination="United Kingdom", rate=Decimal("0.02"))
    plan.rate_deck = deck
    plan.save()
    account_plan_set(account=account, plan=plan, now=dt.datetime.now(dt.UTC))
    _, rows = _download(customer_client)
    assert rows[1:] == [["44", "United Kingdom", "0.0200", "0.0000", "60", "60"]]


def test_another_decks_rows_never_appear(customer_client: Client, deck: RateDeck) -> None:
    other = RateDeck.objects.create(name="Other deck")
    Rate.objects.create(deck=other, prefix="1", destination="Secret North America", rate=1)
    text, _ = _download(customer_client)
    assert "Secret North America" not in text


def test_without_a_deck_the_sheet_is_its_header(customer_client: Client) -> None:
    _, rows = _download(customer_client)
    assert len(rows) == 1


def test_the_lookup_page_offers_the_download_beside_the_included_destinations(
    customer_client: Client, deck: RateDeck
) -> None:
    html = " ".join(customer_client.get("/rates/").content.decode().split())
    assert f'href="{URL}" download' in html
    assert "(2,503 prefixes)" in html
    assert html.index("Your rate sheet") < html.index("Included in")
