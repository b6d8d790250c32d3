"""Staff adjustments: the customer reads a description, staff keep an internal note; large
amounts need a confirmation that shows the resulting balance, and a hard limit binds everyone
but superusers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse

from billing.models import LedgerEntry
from billing.services.ledger import ledger_adjust
from portal.errors import DomainError
from portal.models import Account, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def _staff(*, superuser: bool) -> User:
    staff = cast(User, UserFactory(account=None, is_staff=True, is_superuser=superuser))
    if not superuser:
        staff.user_permissions.add(Permission.objects.get(codename="add_ledgerentry"))
    return staff


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(account: Account) -> str:
    return reverse("admin:billing_ledgerentry_adjust", args=[account.pk])


def _data(amount: str, **extra: str) -> dict[str, str]:
    return {
        "amount": amount,
        "customer_description": "Service credit for the March outage",
        "internal_note": "Ticket 4411: customer threatened to churn, CFO approved",
        "idempotency_key": "adjustment:test-1",
        **extra,
    }


def test_the_customer_sees_the_description_and_never_the_internal_note(
    account: Account, customer_client: Client
) -> None:
    client = _client(_staff(superuser=True))
    client.post(_url(account), _data("25.00"))
    client.post(_url(account), _data("25.00", confirmed="1"))
    entry = LedgerEntry.objects.get()
    assert entry.description == "Service credit for the March outage"
    assert entry.reason.startswith("Ticket 4411")
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert "Service credit for the March outage" in page
    assert "CFO approved" not in page
    export = customer_client.get(reverse("billing:per_minute") + "?export=csv")
    csv_text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Service credit" in csv_text and "CFO approved" not in csv_text


def test_the_admin_shows_the_resulting_balance_before_posting(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(balance=Decimal("100.0000"))
    client = _client(_staff(superuser=False))
    preview = client.post(_url(account), _data("-30.00"))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "$100.00" in html and "$70.00" in html  # before → after
    assert 'name="confirmed"' in html
    assert not LedgerEntry.objects.exists()
    posted = client.post(_url(account), _data("-30.00", confirmed="1"))
    assert posted.status_code == 302
    account.refresh_from_db()
    assert account.balance == Decimal("70.0000")


def test_it_asks_for_an_explicit_confirmation_above_the_threshold(account: Account) -> None:
    client = _client(_staff(superuser=False))
    preview = client.post(_url(account), _data("600.00"))
    assert "above the $500.00 confirmation threshold" in preview.content.decode()
    # Posting the preview without ticking the large-amount box posts nothing.
    again = client.post(_url(account), _data("600.00", confirmed="1"))
    assert again.status_code == 200
    assert not LedgerEntry.objects.exists()
    done = client.post(_url(account), _data("600.00", confirmed="1", confirm_large="on"))
    assert done.status_code == 302
    assert LedgerEntry.objects.get().amount == Decimal("600.0000")


def test_it_refuses_more_than_the_hard_limit_for_staff_who_are_not_superusers(
    account: Account,
) -> None:
    client = _client(_staff(superuser=False))
    for step in ({}, {"confirmed": "1", "confirm_large": "on"}):
        response = client.post(_url(account), _data("-5000.01", **step))
        assert response.status_code == 200
        assert "Only a superuser can post more than $5,000.00" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_a_superuser_may_post_above_the_hard_limit_once_confirmed(account: Account) -> None:
    client = _client(_staff(superuser=True))
    client.post(_url(account), _data("7500.00"))
    client.post(_url(account), _data("7500.00", confirmed="1", confirm_large="on"))
    assert LedgerEntry.objects.get().amount == Decimal("7500.0000")


@override_settings(BILLING_ADJUSTMENT_CONFIRM_ABOVE=Decimal("50.00"))
def test_the_service_refuses_an_unconfirmed_amount_above_the_setting(account: Account) -> None:
    staff = _staff(superuser=True)
    kwargs: dict[str, Any] = {
        "account": account,
        "amount": Decimal("50.01"),
        "customer_description": "Credit",
        "internal_note": "note",
        "staff_user": staff,
        "now": NOW,
    }
    with pytest.raises(DomainError) as refused:
        ledger_adjust(**kwargs)
    assert refused.value.code == "needs_confirmation"
    assert not LedgerEntry.objects.exists()
    assert ledger_adjust(**kwargs, confirmed=True).created


@override_settings(BILLING_ADJUSTMENT_MAX=Decimal("100.00"))
def test_the_service_refuses_a_non_superuser_above_the_max_setting(account: Account) -> None:
    with pytest.raises(DomainError) as refused:
        ledger_adjust(
            account=account,
            amount=Decimal("-100.01"),
            customer_description="Debit",
            internal_note="note",
            staff_user=_staff(superuser=False),
            now=NOW,
            confirmed=True,
        )
    assert refused.value.code == "over_adjustment_limit"
    assert not LedgerEntry.objects.exists()


def test_the_service_needs_both_texts(account: Account) -> None:
    staff = _staff(superuser=True)
    for description, note in (("  ", "note"), ("Credit", "  ")):
        with pytest.raises(DomainError):
            ledger_adjust(
                account=account,
                amount=Decimal("1"),
                customer_description=description,
                internal_note=note,
                staff_user=staff,
                now=NOW,
            )
    assert not LedgerEntry.objects.exists()
