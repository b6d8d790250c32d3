"""The Statements page, its PDF and CSV, and card-payment receipts: each shows the account's
own figures, and another account's id is a 404."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from billing.models import Call, Deposit
from billing.periods import Period
from billing.services.statements import statement_close
from tests.billing.statements.conftest import FEB_1, MAR_1, post
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(account):
    account.timezone = "America/Los_Angeles"
    account.save()
    at = FEB_1 + dt.timedelta(days=5)
    post(account, "deposit", "100", FEB_1 - dt.timedelta(days=3))
    post(account, "call", "-1.2345", at, category=Call.Category.RATED)
    post(account, "plan_fee", "-20", at)
    post(account, "refund", "-5", at)
    return statement_close(account_id=account.pk, period=Period(FEB_1, MAR_1), now=MAR_1)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_list_shows_each_statement(customer_client, statement) -> None:
    page = customer_client.get(reverse("billing:statements")).content.decode()
    assert "INV-000001" in page
    # The closing balance in cents, the exact value to the ten-thousandth in its tooltip.
    assert '<data class="money" value="73.7655" title="Exact: $73.7655">$73.77</data>' in page
    assert reverse("billing:statement_pdf", args=[statement.pk]) in page


def test_the_statement_page_shows_every_total(customer_client, statement) -> None:
    page = customer_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    for text in (
        "Control Center Communications",
        "Calls: per-minute destinations",
        'title="Exact: \N{MINUS SIGN}$1.2345">\N{MINUS SIGN}$1.23</data>',
        "Service plan fee",
        "\N{MINUS SIGN}$20.00",
        "Refund",
        "$100.00",  # opening
        'title="Exact: $73.7655">$73.77</data>',  # closing
        # The period in the account's time zone: Feb 1 00:00 UTC is Jan 31 in Los Angeles.
        "Jan 31, 2028 \N{EN DASH} Feb 28, 2028",
        # Closed at midnight UTC on Mar 1: still Feb 29 in Los Angeles.
        "Issued</dt><dd>Feb 29, 2028",
    ):
        assert text in page, text


def test_the_pdf_has_the_invoice_number_and_closing_balance(customer_client, statement) -> None:
    response = customer_client.get(reverse("billing:statement_pdf", args=[statement.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "INV-000001" in text
    assert "$73.77" in text  # in cents; the exact value is in the CSV
    assert "Control Center Communications" in text
    assert "Opening balance" in text


def test_the_csv_has_the_lines_and_totals(customer_client, statement) -> None:
    response = customer_client.get(reverse("billing:statement_csv", args=[statement.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Section", "Line", "Entries", "Amount (USD)"]
    assert ["Opening balance", "", "", "100.0000"] in rows
    assert ["Usage", "Calls: per-minute destinations", "1", "-1.2345"] in rows
    assert ["Total recurring charges", "", "", "-20.0000"] in rows
    assert rows[-1] == ["Closing balance", "", "", "73.7655"]


def test_a_member_reads_the_statements(statement) -> None:
    client = Client()
    client.force_login(UserFactory(account=statement.account, role="member"))
    assert client.get(reverse("billing:statement", args=[statement.pk])).status_code == 200


def test_another_accounts_statement_is_a_404(statement) -> None:
    stranger = Client()
    stranger.force_login(UserFactory(account=AccountFactory()))
    for name in ("billing:statement", "billing:statement_pdf", "billing:statement_csv"):
        assert stranger.get(reverse(name, args=[statement.pk])).status_code == 404
    assert "INV-000001" not in stranger.get(reverse("billing:statements")).content.decode()


def make_deposit(account, status=Deposit.Status.SUCCEEDED) -> Deposit:
    now = dt.datetime(2028, 2, 3, 18, 30, tzinfo=dt.UTC)
    return Deposit.objects.create(
        account=account,
        amount=Decimal("25.00"),
        status=status,
        key=uuid.uuid4(),
        card_brand="visa",
        card_last4="4242",
        stripe_payment_intent_id="pi_test_123",
        created_at=now,
        updated_at=now,
        completed_at=now,
    )


def test_a_paid_card_payment_has_a_receipt(customer_client, account) -> None:
    account.timezone = "America/Los_Angeles"
    account.save()
    deposit = make_deposit(account)
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    url = reverse("billing:deposit_receipt", args=[deposit.pk])
    assert url in page
    response = customer_client.get(url)
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert f"R-{deposit.pk:06d}" in text
    assert "$25.00" in text
    assert "Visa •••• 4242" in text
    # Paid at 18:30 UTC: the customer's own clock.
    assert "Feb 3, 2028, 10:30 AM" in text


def test_a_failed_payment_has_no_receipt(customer_client, account) -> None:
    deposit = make_deposit(account, status=Deposit.Status.FAILED)
    url = reverse("billing:deposit_receipt", args=[deposit.pk])
    assert url not in customer_client.get(reverse("billing:per_minute")).content.decode()
    assert customer_client.get(url).status_code == 404


def test_another_accounts_receipt_is_a_404(customer_client) -> None:
    deposit = make_deposit(AccountFactory())
    url = reverse("billing:deposit_receipt", args=[deposit.pk])
    assert customer_client.get(url).status_code == 404


def test_the_per_minute_page_links_the_statements(customer_client) -> None:
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert reverse("billing:statements") in page


def test_the_pdfs_render_to_artifacts(customer_client, statement, artifacts) -> None:
    """Kept for looking at: tests/artifacts/statement.pdf and receipt.pdf (pdftoppm -png)."""
    pdf = customer_client.get(reverse("billing:statement_pdf", args=[statement.pk])).content
    receipt = customer_client.get(
        reverse("billing:deposit_receipt", args=[make_deposit(statement.account).pk])
    ).content
    (artifacts / "statement.pdf").write_bytes(pdf)
    (artifacts / "receipt.pdf").write_bytes(receipt)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert len(PdfReader(io.BytesIO(receipt)).pages) == 1
