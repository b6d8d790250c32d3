"""The Calls page: newest first, filters, keyset pagination, CSV export, one account only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from billing.exports import safe_cell
from billing.models import Call, ServicePlan, UsageCounter
from billing.selectors.calls import CallFilters, call_count, calls_for_account
from billing.selectors.plans import billing_period
from billing.services.plans import account_plan_set
from portal.models import Account
from tests.billing.call_factories import T0, CallFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
URL = "/calls/"


def test_url_name() -> None:
    assert reverse("billing:calls") == URL


def ids_on_page(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tbody class="call" id="call-(\d+)"', html)]


def csv_rows(response) -> list[dict[str, str]]:
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_lists_the_accounts_calls_newest_first_with_the_explanation(
    customer_client: Client, account: Account
) -> None:
    old = CallFactory(account=account, started_at=T0 - dt.timedelta(days=2))
    new = CallFactory(
        account=account,
        started_at=T0,
        to_number="+35722123456",
        destination="Cyprus",
        category=Call.Category.RATED,
        billed_seconds=180,
        included_seconds=0,
        paid_seconds=180,
        rate=Decimal("0.1500"),
        charge=Decimal("0.4500"),
        explanation="Cyprus — 3 min at $0.1500/min = $0.4500",
    )
    CallFactory(account=AccountFactory(), explanation="someone else's call")
    response = customer_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert ids_on_page(html) == [new.pk, old.pk]
    assert "Cyprus — 3 min at $0.1500/min = $0.4500" in html
    assert "USA — 3 min included (10→13 of 500)" in html
    assert "$0.4500" in html and "3 min paid" in html and "3 min included" in html
    assert "someone else" not in html
    assert "2 calls." in " ".join(html.split())


def test_times_are_shown_in_the_accounts_time_zone(customer_client: Client, account) -> None:
    # 2026-11-20 15:00 UTC is 10:00 in New York (EST, UTC-5).
    CallFactory(account=account, started_at=T0)
    html = customer_client.get(URL).content.decode()
    assert "Nov 20, 2026, 10:00 AM" in html
    assert html.count("Times in America/New York (E") == 1  # the zone, labelled once


def test_row_shows_the_split_of_a_call_straddling_the_included_minutes(
    customer_client: Client, account
) -> None:
    CallFactory(
        account=account,
        category=Call.Category.OVERAGE,
        billed_seconds=300,
        included_seconds=120,
        paid_seconds=180,
        rate=Decimal("0.0250"),
        charge=Decimal("0.0750"),
        explanation="USA — 2 min included (498→500 of 500), 3 min overage at $0.0250/min = $0.0750",
    )
    html = customer_client.get(URL).content.decode()
    assert "Included + overage" in html
    assert "2 min included · 3 min paid" in html
    assert "$0.0750" in html
    assert "3 min overage at $0.0250/min = $0.0750" in html


def test_unanswered_call_shows_no_duration_and_no_charge(customer_client: Client, account):
    CallFactory(
        account=account,
        answered_at=None,
        billsec=0,
        disposition="NO ANSWER",
        category=Call.Category.UNANSWERED,
        billed_seconds=0,
        included_seconds=0,
        explanation="Not answered — no charge",
    )
    html = customer_client.get(URL).content.decode()
    assert "Not answered" in html and "$0.00" in html


def test_empty_page(customer_client: Client) -> None:
    html = customer_client.get(URL).content.decode()
    assert "No calls yet." in html


# --- filters --------------------------------------------------------------------------------


def test_date_filter_uses_the_accounts_days(customer_client: Client, account) -> None:
    # 03:00 UTC on Nov 21 is 22:00 on Nov 20 in New York: it belongs to Nov 20 there.
    late_on_20th = CallFactory(
        account=account, started_at=dt.datetime(2026, 11, 21, 3, tzinfo=dt.UTC)
    )
    on_21st = CallFactory(account=account, started_at=dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC))
    on_19th = CallFactory(account=account, started_at=dt.datetime(2026, 11, 19, 12, tzinfo=dt.UTC))
    html = customer_client.get(URL, {"date_from": "2026-11-20", "date_to": "2026-11-20"}).content
    assert ids_on_page(html.decode()) == [late_on_20th.pk]
    html = customer_client.get(URL, {"date_from": "2026-11-20"}).content
    assert ids_on_page(html.decode()) == [on_21st.pk, late_on_20th.pk]
    html = customer_client.get(URL, {"date_to": "2026-11-19"}).content
    assert ids_on_page(html.decode()) == [on_19th.pk]


def test_direction_filter(customer_client: Client, account) -> None:
    out = CallFactory(account=account, direction=Call.Direction.OUTBOUND)
    inc = CallFactory(account=account, direction=Call.Direction.INBOUND, to_number="+12025550100")
    html = customer_client.get(URL, {"direction": "inbound"}).content.decode()
    assert ids_on_page(html) == [inc.pk]
    html = customer_client.get(URL, {"direction": "outbound"}).content.decode()
    assert ids_on_page(html) == [out.pk]
    assert "1 call match the filters" in " ".join(html.split())


def test_number_filter_matches_any_part_of_either_number(customer_client: Client, account):
    to_germany = CallFactory(account=account, from_number="101", to_number="+493012345678")
    from_us = CallFactory(
        account=account,
        direction=Call.Direction.INBOUND,
        from_number="+13055550199",
        to_number="+12025550100",
    )
    CallFactory(account=account, from_number="102", to_number="+442071234567")
    assert ids_on_page(customer_client.get(URL, {"number": "+49 30 123"}).content.decode()) == [
        to_germany.pk
    ]
    assert ids_on_page(customer_client.get(URL, {"number": "305-555"}).content.decode()) == [
        from_us.pk
    ]
    assert ids_on_page(customer_client.get(URL, {"number": "101"}).content.decode()) == [
        to_germany.pk
    ]
    html = customer_client.get(URL, {"number": "999999"}).content.decode()
    assert "No calls match these filters." in html


def test_bad_filters_are_reported_and_show_no_table(customer_client: Client, account) -> None:
    # An unfiltered table under "From is after To" would read as the answer to the filter.
    call = CallFactory(account=account)
    assert ids_on_page(customer_client.get(URL).content.decode()) == [call.pk]
    response = customer_client.get(URL, {"date_from": "2026-11-21", "date_to": "2026-11-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is after the" in html
    assert ids_on_page(html) == []
    assert 'class="calls"' not in html
    assert "Correct the filter above to see calls." in html
    html = customer_client.get(URL, {"direction": "sideways", "number": "abc"}).content.decode()
    assert "Select a valid choice" in html
    assert "Enter digits of a phone number" in html


# --- pagination -----------------------------------------------------------------------------


def _next_link(html: str, rel: str) -> str | None:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return URL + match[1].replace("&amp;", "&") if match else None


def test_keyset_pagination_walks_every_call_once_both_ways(customer_client: Client, account):
    # Ties on started_at are broken by id, so no call is skipped or repeated.
    calls = [
        CallFactory(account=account, started_at=T0 - dt.timedelta(minutes=i // 3))
        for i in range(120)
    ]
    expected = [c.pk for c in sorted(calls, key=lambda c: (c.started_at, c.pk), reverse=True)]
    html = customer_client.get(URL).content.decode()
    pages = [ids_on_page(html)]
    assert _next_link(html, "prev") is None
    while (link := _next_link(html, "next")) is not None:
        html = customer_client.get(link).content.decode()
        pages.append(ids_on_page(html))
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [pk for page in pages for pk in page] == expected
    # ... and back, from the last page to the first.
    back = []
    while (link := _next_link(html, "prev")) is not None:
        html = customer_client.get(link).content.decode()
        back.append(ids_on_page(html))
    assert back == [pages[1], pages[0]]


def test_pagination_keeps_the_filters(customer_client: Client, account) -> None:
    for i in range(55):
        CallFactory(account=account, direction="inbound", started_at=T0 - dt.timedelta(hours=i))
    CallFactory(account=account, direction="outbound")
    html = customer_client.get(URL, {"direction": "inbound"}).content.decode()
    link = _next_link(html, "next")
    assert link is not None and "direction=inbound" in link
    html = customer_client.get(link).content.decode()
    assert len(ids_on_page(html)) == 5


def test_a_garbled_cursor_shows_the_first_page(customer_client: Client, account) -> None:
    call = CallFactory(account=account)
    for cursor in ("x", "1.2.3", "99999999999999999999.1", "-99999999999999999.1"):
        response = customer_client.get(URL, {"after": cursor})
        assert response.status_code == 200
    assert ids_on_page(customer_client.get(URL, {"after": "junk"}).content.decode()) == [call.pk]


def test_the_count_stops_at_the_cap(account) -> None:
    for _ in range(7):
        CallFactory(account=account)
    calls = calls_for_account(account=account, filters=CallFilters())
    assert call_count(calls=calls, cap=5) == (5, True)
    assert call_count(calls=calls, cap=7) == (7, False)


# --- CSV export -----------------------------------------------------------------------------


def test_csv_export_of_the_filtered_set(customer_client: Client, account) -> None:
    CallFactory(account=account, direction="outbound", call_id="out-1")
    CallFactory(
        account=account,
        call_id="in-1",
        direction="inbound",
        from_number="+13055550199",
        to_number="+12025550100",
        destination="USA PN Group A",
        category=Call.Category.DID_RATE,
        billed_seconds=120,
        included_seconds=0,
        paid_seconds=120,
        rate=Decimal("0.0450"),
        charge=Decimal("0.0900"),
        explanation="Incoming to USA PN Group A — 2 min at $0.0450/min = $0.0900",
    )
    CallFactory(account=AccountFactory(), call_id="other-account")
    response = customer_client.get(URL, {"direction": "inbound", "export": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f"calls-{account.code}-" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["call_id"] for r in rows] == ["in-1"]
    row = rows[0]
    assert row["start"] == "2026-11-20T10:00:00-05:00"
    assert row["direction"] == "Incoming"
    assert row["from"] == "+13055550199"
    assert row["billed_seconds"] == "120"
    assert row["included_seconds"] == "0"
    assert row["paid_seconds"] == "120"
    assert row["rate_per_minute"] == "0.0450"
    assert row["charge"] == "0.0900"
    assert row["explanation"] == "Incoming to USA PN Group A — 2 min at $0.0450/min = $0.0900"
    all_rows = csv_rows(customer_client.get(URL, {"export": "csv"}))
    assert {r["call_id"] for r in all_rows} == {"out-1", "in-1"}


def test_csv_export_ignores_the_page_cursor(customer_client: Client, account) -> None:
    for i in range(60):
        CallFactory(account=account, started_at=T0 - dt.timedelta(minutes=i))
    html = customer_client.get(URL).content.decode()
    older = _next_link(html, "next")
    assert older is not None
    assert len(csv_rows(customer_client.get(older + "&export=csv"))) == 60


def test_csv_cells_cannot_become_formulas(customer_client: Client, account) -> None:
    CallFactory(account=account, direction="inbound", from_number="=HYPERLINK(1)")
    row = csv_rows(customer_client.get(URL, {"export": "csv"}))[0]
    assert row["from"] == "'=HYPERLINK(1)"
    assert row["to"] == "+12025550123"  # phone numbers stay as they are
    assert safe_cell("-0.0250") == "-0.0250"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+1 (202) x") == "'+1 (202) x"


@time_machine.travel(dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC), tick=False)
def test_page_says_where_the_included_minutes_stand(customer_client: Client, account) -> None:
    now = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=now)
    period = billing_period(account=account, at=now)
    counter = UsageCounter.objects.create(
        account=account, period_start=period.start, included_seconds_used=312 * 60
    )
    html = " ".join(customer_client.get(URL).content.decode().split())
    assert "This billing month (Nov 1 \u2013 Nov 30): <strong>312 of 500 included" in html
    assert "minutes used</strong>, 188 left" in html
    counter.included_seconds_used = 500 * 60
    counter.save()
    html = " ".join(customer_client.get(URL).content.decode().split())
    assert "now billed as overage at $0.0250/min. They reset on Dec 1." in html
