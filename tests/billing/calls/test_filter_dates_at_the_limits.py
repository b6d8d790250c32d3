"""Dates at the ends of the calendar in the Calls filters (page and CSV): a form error, never a
500 from ``date_to + 1 day`` or from converting a local midnight to UTC."""

from __future__ import annotations

import pytest
from django.test import Client

from portal.models import Account

pytestmark = pytest.mark.django_db
URL = "/calls/"


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_to": "9999-12-30"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("export", [False, True])
def test_it_refuses_dates_outside_the_range_with_a_message(
    customer_client: Client, account: Account, zone: str, query: dict[str, str], export: bool
) -> None:
    account.timezone = zone
    account.save()
    params = {**query, **({"export": "csv"} if export else {})}
    response = customer_client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")  # the page with the error, no CSV
    assert "Enter a date between 2000-01-01 and 2099-12-31." in response.content.decode()


def test_a_date_in_range_still_filters_and_exports(customer_client: Client) -> None:
    response = customer_client.get(URL, {"date_to": "2099-12-31", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
