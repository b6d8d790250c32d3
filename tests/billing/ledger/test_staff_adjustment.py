"""Staff adjust a balance in the admin: a new entry with who and why, never an edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import LedgerEntry
from portal.models import Account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> tuple[Client, object]:
    staff = UserFactory(account=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client, staff


def adjust_url(account: Account) -> str:
    return reverse("admin:billing_ledgerentry_adjust", args=[account.pk])


def test_form_posts_one_adjustment_with_staff_user_and_reason(
    staff_client: tuple[Client, object], account: Account
) -> None:
    client, staff = staff_client
    page = client.get(adjust_url(account))
    assert page.status_code == 200
    key = page.context["form"].initial["idempotency_key"]
    data = {
        "amount": "12.50",
        "customer_description": "Goodwill credit",
        "internal_note": "Goodwill credit for outage",
        "idempotency_key": key,
    }
    preview = client.post(adjust_url(account), data)
    assert preview.status_code == 200 and not LedgerEntry.objects.exists()
    data["confirmed"] = "1"
    response = client.post(adjust_url(account), data)
    assert response.status_code == 302
    # The same form submitted twice (double click, back button) posts once.
    again = client.post(adjust_url(account), data, follow=True)
    assert "already been posted" in again.content.decode()
    entry = LedgerEntry.objects.get()
    assert entry.amount == Decimal("12.5000")
    assert entry.kind == "adjustment"
    assert entry.created_by == staff
    assert entry.reason == "Goodwill credit for outage"
    assert entry.description == "Goodwill credit"
    account.refresh_from_db()
    assert account.balance == Decimal("12.5000")


@pytest.mark.parametrize(
    ("amount", "description", "note", "message"),
    [
        ("0", "x", "x", "cannot be zero"),
        ("abc", "x", "x", "Enter a number"),
        ("5", "x", "", "This field is required"),
        ("5", "", "x", "This field is required"),
    ],
)
@pytest.mark.parametrize("confirmed", ["", "1"])
def test_bad_input_changes_nothing(
    staff_client: tuple[Client, object],
    account: Account,
    amount: str,
    description: str,
    note: str,
    message: str,
    confirmed: str,
) -> None:
    client, _ = staff_client
    response = client.post(
        adjust_url(account),
        {
            "amount": amount,
            "customer_description": description,
            "internal_note": note,
            "idempotency_key": "adjustment:k1",
            "confirmed": confirmed,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_ledger_entries_are_read_only_in_the_admin(
    staff_client: tuple[Client, object], account: Account
) -> None:
    client, _ = staff_client
    client.post(
        adjust_url(account),
        {
            "amount": "5",
            "customer_description": "Credit",
            "internal_note": "test",
            "idempotency_key": "adjustment:k2",
            "confirmed": "1",
        },
    )
    entry = LedgerEntry.objects.get()
    change = client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk]))
    assert change.status_code == 200
    assert b'name="amount"' not in change.content  # shown, not editable
    edit = client.post(
        reverse("admin:billing_ledgerentry_change", args=[entry.pk]), {"amount": "500"}
    )
    assert edit.status_code == 403
    delete = client.post(
        reverse("admin:billing_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("5.0000")


def test_customers_cannot_reach_the_adjustment_form(
    customer_client: Client, account: Account
) -> None:
    response = customer_client.get(adjust_url(account))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
