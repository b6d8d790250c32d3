"""Staff admin for rating: plans, decks (CSV import, browse), numbers, API tokens, calls."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    AccountPlan,
    ApiClient,
    Call,
    CallReservation,
    LedgerEntry,
    Rate,
    RateDeck,
    ServicePlan,
)
from billing.selectors.api_clients import api_client_for_token
from billing.selectors.plans import billing_period, plan_for_account
from billing.services.ledger import ledger_post
from tests.billing.call_factories import CallFactory, DIDFactory, ExtensionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/billing/ratedeck/import/"


@pytest.fixture
def staff_client(db) -> Client:
    staff = UserFactory(account=None, is_staff=True, is_superuser=True, email="ops@example.com")
    client = Client()
    client.force_login(staff)
    return client


def upload(name: str, text: str | bytes) -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


GOOD = (
    "prefix,destination,rate,connect_fee,initial,increment\n"
    "357,Cyprus,0.0600,,,\n"
    "3579,Cyprus mobile,0.0900,0.01,30,6\n"
)


def test_import_a_deck_through_the_admin(staff_client: Client) -> None:
    response = staff_client.post(
        IMPORT_URL, {"deck_name": "Wholesale", "csv_file": upload("w.csv", GOOD)}
    )
    deck = RateDeck.objects.get(name="Wholesale")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_ratedeck_change", args=[deck.pk])
    rows = {r.prefix: r for r in Rate.objects.filter(deck=deck)}
    assert set(rows) == {"357", "3579"}
    assert rows["3579"].rate == Decimal("0.0900")
    assert rows["3579"].connect_fee == Decimal("0.0100")
    assert (rows["3579"].initial, rows["3579"].increment) == (30, 6)
    assert (rows["357"].initial, rows["357"].increment) == (60, 60)
    page = staff_client.get(response["Location"]).content.decode()
    assert "2 rows read, 2 created" in page


def test_a_bad_file_imports_nothing_and_lists_every_bad_row(staff_client: Client) -> None:
    deck = RateDeck.objects.create(name="Wholesale")
    Rate.objects.create(deck=deck, prefix="44", destination="UK", rate=Decimal("0.02"))
    bad = (
        "prefix,destination,rate\n"
        "49,Germany,0.0200\n"
        "4x9,Germany odd,0.0200\n"
        "33,France,-1\n"
        "34,Spain,0.123456\n"
        "49,Germany again,0.03\n"
    )
    response = staff_client.post(
        IMPORT_URL, {"deck_name": "Wholesale", "csv_file": upload("bad.csv", bad), "replace": "on"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "nothing was imported" in html
    problems = re.findall(r"<li>(line \d+: [^<]*)</li>", html)
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6"]
    assert "prefix" in problems[0]
    assert "negative" in problems[1]
    assert "more than 4 decimal places" in problems[2]
    assert "repeats line 2" in problems[3]
    # The deck is exactly as it was (replace was ticked, but nothing happened).
    assert list(Rate.objects.filter(deck=deck).values_list("prefix", flat=True)) == ["44"]
    assert not RateDeck.objects.filter(name="Germany").exists()


def test_a_file_that_is_not_utf8_is_refused(staff_client: Client) -> None:
    data = "prefix,destination,rate\n33,Fran\xe7e,0.02\n".encode("latin-1")
    response = staff_client.post(
        IMPORT_URL, {"deck_name": "Latin", "csv_file": upload("l.csv", data)}
    )
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert not Rate.objects.filter(deck__name="Latin").exists()


def test_replace_makes_the_deck_exactly_the_file(staff_client: Client) -> None:
    deck = RateDeck.objects.create(name="Wholesale")
    Rate.objects.create(deck=deck, prefix="44", destination="UK", rate=Decimal("0.02"))
    staff_client.post(
        IMPORT_URL, {"deck_name": "Wholesale", "csv_file": upload("w.csv", GOOD), "replace": "on"}
    )
    assert set(Rate.objects.filter(deck=deck).values_list("prefix", flat=True)) == {"357", "3579"}


def test_browse_rates_by_prefix_and_destination(staff_client: Client) -> None:
    deck = RateDeck.objects.get(name="Standard")
    url = reverse("admin:billing_rate_changelist")
    html = staff_client.get(url, {"deck__id__exact": deck.pk, "q": "357"}).content.decode()
    assert "Cyprus mobile" in html and "Germany" not in html
    html = staff_client.get(url, {"q": "germany"}).content.decode()
    assert "Germany mobile" in html and "Cyprus" not in html
    deck_page = staff_client.get(reverse("admin:billing_ratedeck_changelist")).content.decode()
    assert "Import CSV" in deck_page and "Browse rates" in deck_page


def test_api_client_token_is_shown_once_and_only_its_hash_is_stored(staff_client: Client):
    response = staff_client.post(reverse("admin:billing_apiclient_add"), {"name": "asterisk-1"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'<code id="api-token"[^>]*>([^<]+)</code>', response.content.decode())
    assert match is not None
    token = match[1]
    client = ApiClient.objects.get(name="asterisk-1")
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {client.token_hash, client.token_prefix, client.name}
    assert token.startswith(client.token_prefix)
    assert api_client_for_token(token=token) == client
    # Nowhere else shows it again.
    for url in (
        reverse("admin:billing_apiclient_change", args=[client.pk]),
        reverse("admin:billing_apiclient_changelist"),
    ):
        assert token not in staff_client.get(url).content.decode()
    # A second client with the same name is refused on the form.
    again = staff_client.post(reverse("admin:billing_apiclient_add"), {"name": "asterisk-1"})
    assert "exists" in again.content.decode()
    assert ApiClient.objects.count() == 1


def test_calls_reservations_and_ledger_are_read_only(staff_client: Client, account) -> None:
    call = CallFactory(account=account)
    reservation = CallReservation.objects.create(
        account=account,
        call_id="r-1",
        direction="outbound",
        to_number="+12025550123",
        created_at=timezone.now(),
        expires_at=timezone.now(),
    )
    entry = ledger_post(
        account=account,
        amount=Decimal("5"),
        kind="adjustment",
        description="x",
        idempotency_key="t:1",
        now=timezone.now(),
    ).entry
    for model, obj in (("call", call), ("callreservation", reservation), ("ledgerentry", entry)):
        change = reverse(f"admin:billing_{model}_change", args=[obj.pk])
        page = staff_client.get(change)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert staff_client.post(change, {}).status_code == 403
        assert staff_client.get(reverse(f"admin:billing_{model}_add")).status_code == 403
        delete = reverse(f"admin:billing_{model}_delete", args=[obj.pk])
        assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    call.refresh_from_db()
    assert Call.objects.filter(pk=call.pk).exists() and LedgerEntry.objects.count() == 1
    html = staff_client.get(
        reverse("admin:billing_call_changelist"), {"q": call.call_id}
    ).content.decode()
    assert call.to_number in html


def test_changing_an_accounts_plan_goes_through_the_service(staff_client: Client, account):
    starter = ServicePlan.objects.get(name="Starter")
    bigger = ServicePlan.objects.create(
        name="Pro", monthly_price=Decimal("49"), included_minutes=2000, overage_rate=Decimal("0.02")
    )
    add = reverse("admin:billing_accountplan_add")
    now = timezone.now()
    period = billing_period(account=account, at=now)
    # No plan yet: from the start of the current billing month.
    assert staff_client.post(add, {"account": account.pk, "plan": starter.pk}).status_code == 302
    assert AccountPlan.objects.get(account=account).starts_at == period.start
    # A change: from the next billing month.
    assert staff_client.post(add, {"account": account.pk, "plan": bigger.pk}).status_code == 302
    assert plan_for_account(account=account, at=now) == starter
    assert plan_for_account(account=account, at=period.end + dt.timedelta(seconds=1)) == bigger


def test_admin_pages_load(staff_client: Client, account) -> None:
    DIDFactory(account=account)
    ExtensionFactory(account=account)
    for name in (
        "serviceplan",
        "ratedeck",
        "rate",
        "didgroup",
        "did",
        "extension",
        "apiclient",
        "call",
        "callreservation",
        "accountplan",
        "accountrating",
    ):
        assert staff_client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
    plan = ServicePlan.objects.get(name="Starter")
    page = staff_client.get(reverse("admin:billing_serviceplan_change", args=[plan.pk]))
    assert "Germany" in page.content.decode()  # the included-destinations inline
    assert staff_client.get(IMPORT_URL).status_code == 200


def test_customers_cannot_reach_the_import(customer_client: Client) -> None:
    response = customer_client.get(IMPORT_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_account_page_links_to_plan_change_and_calls(staff_client: Client, account) -> None:
    page = staff_client.get(reverse("admin:portal_account_change", args=[account.pk]))
    html = page.content.decode()
    add = reverse("admin:billing_accountplan_add") + f"?account={account.pk}"
    assert add in html
    assert reverse("admin:billing_call_changelist") + f"?q={account.code}" in html
    form = staff_client.get(add).content.decode()
    assert f'<option value="{account.pk}" selected>' in form


def test_call_list_counts_at_most_the_cap(staff_client: Client, account, monkeypatch) -> None:
    from billing.admin.base import CappedCountPaginator

    for _ in range(5):
        CallFactory(account=account)
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    assert CappedCountPaginator(Call.objects.all(), 2).count == 3
    assert staff_client.get(reverse("admin:billing_call_changelist")).status_code == 200
