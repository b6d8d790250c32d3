"""Dates at the ends of the calendar in the balance history filters (page and CSV): a form
error, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from portal.models import Account

pytestmark = pytest.mark.django_db
URL = "/per-minute/"


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize(
    "query", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_to": "9999-12-30"}]
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
    assert response["Content-Type"].startswith("text/html")
    assert "Enter a date between 2000-01-01 and 2099-12-31." in response.content.decode()


def test_a_nul_in_a_filter_is_a_form_error(customer_client: Client) -> None:
    response = customer_client.get(URL, {"date_to": "2026-01-01\x00", "kind": "call\x00"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
