"""The Per Minute page: balance, history (newest first, paginated, filtered), CSV, dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import LedgerEntry
from billing.services.ledger import ledger_post
from portal.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
URL = "/per-minute/"


def post(account: Account, amount: str, key: str, kind: str, when: dt.datetime, text: str) -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind=kind,
        description=text,
        idempotency_key=key,
        now=when,
    )


@pytest.fixture
def history(account: Account) -> Account:
    base = dt.datetime(2026, 11, 1, 14, 0, tzinfo=dt.UTC)
    post(account, "50", "d1", "deposit", base, "Credit added by card (Visa •••• 4242)")
    for i in range(30):
        post(
            account,
            "-0.0250",
            f"call:{i}",
            "call",
            base + dt.timedelta(days=1, minutes=i),
            f"Call to Cyprus +357 22 00000{i % 10}, 1 min at $0.025/min",
        )
    post(account, "-2", "p1", "port_fee", base + dt.timedelta(days=5), "Number port fee")
    return account


def test_url_name_and_login_required(client: Client) -> None:
    assert reverse("billing:per_minute") == URL
    assert client.get(URL).status_code == 302


def test_page_shows_balance_add_credit_and_newest_first(
    customer_client: Client, history: Account
) -> None:
    response = customer_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="balance">$47.25<' in html
    assert "Add Credit" in html and 'id="add-credit-form"' in html
    page = response.context["page"]
    entries = list(page.object_list)
    assert len(entries) == 25 and page.paginator.count == 32
    assert entries[0].description == "Number port fee"  # newest first
    assert entries == sorted(entries, key=lambda e: (e.created_at, e.pk), reverse=True)
    assert "\u2212$2.00" in html and "+$50.00" not in html  # the deposit is on page 2
    second = customer_client.get(URL, {"page": 2})
    assert [e.description for e in second.context["page"].object_list][-1].startswith("Credit")
    assert "+$50.00" in second.content.decode()


def test_filters_by_kind_and_date_in_the_accounts_time_zone(
    customer_client: Client, history: Account
) -> None:
    deposits = customer_client.get(URL, {"kind": "deposit"}).context["page"]
    assert [e.kind for e in deposits.object_list] == ["deposit"]
    # 2026-11-01 14:00 UTC is 09:00 on Nov 1 in New York.
    day = customer_client.get(URL, {"date_from": "2026-11-01", "date_to": "2026-11-01"})
    assert [e.kind for e in day.context["page"].object_list] == ["deposit"]
    calls = customer_client.get(URL, {"kind": "call", "date_from": "2026-11-02"})
    assert calls.context["page"].paginator.count == 30
    # The page links keep the filters.
    assert "kind=call" in calls.context["filter_query"]
    bad = customer_client.get(URL, {"date_from": "2026-11-05", "date_to": "2026-11-01"})
    assert "is after" in bad.content.decode()


def test_csv_is_the_filtered_set_on_every_page(customer_client: Client, history: Account) -> None:
    response = customer_client.get(URL, {"kind": "call", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Date",
        "Posted",
        "Time zone",
        "Type",
        "Description",
        "Amount (USD)",
        "Balance after (USD)",
    ]
    assert len(rows) == 31  # all 30 calls, not one page of them
    assert {r[3] for r in rows[1:]} == {"Call"}
    assert rows[1][5] == "-0.0250"
    everything = customer_client.get(URL, {"export": "csv"})
    assert (
        len(
            list(
                csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig")))
            )
        )
        == 33
    )


def test_csv_defuses_formula_like_descriptions(customer_client: Client, account: Account) -> None:
    post(account, "1", "x", "adjustment", dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "=HYPERLINK(1)")
    body = b"".join(customer_client.get(URL, {"export": "csv"}).streaming_content).decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK(1)" in body


def test_only_the_users_own_history(customer_client: Client, history: Account) -> None:
    other = AccountFactory()
    post(other, "99", "other", "deposit", dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "Other co")
    html = customer_client.get(URL, {"kind": "deposit"}).content.decode()
    assert "Other co" not in html
    assert LedgerEntry.objects.filter(account=other).count() == 1


def test_dashboard_shows_the_balance(customer_client: Client, history: Account) -> None:
    html = customer_client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="dashboard-balance">$47.25<' in html
    assert "Auto-recharge is off." in html


def test_negative_balance_says_calls_are_paused(customer_client: Client, account: Account) -> None:
    post(account, "-1", "neg", "plan_fee", dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "Plan fee")
    html = customer_client.get(URL).content.decode()
    assert "\u2212$1.00" in html
    assert "Paid calls are paused" in html
