"""The Card payments page: every payment of the account, newest first, 25 a page, each paid
one with its receipt; the Per Minute page shows the last 8 and links to it."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Deposit
from billing.selectors.deposits import PAYMENTS_PAGE_SIZE, RECENT_PAYMENTS
from portal.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def make_payments(account: Account, count: int, *, status: str = Deposit.Status.SUCCEEDED) -> list:
    start = timezone.now() - dt.timedelta(days=count)
    made = []
    for i in range(count):
        at = start + dt.timedelta(days=i)
        made.append(
            Deposit.objects.create(
                account=account,
                amount=Decimal(5 + i),
                status=status,
                key=uuid.uuid4(),
                card_brand="visa",
                card_last4="4242",
                created_at=at,
                updated_at=at,
                completed_at=at if status == Deposit.Status.SUCCEEDED else None,
            )
        )
    return made


def row_ids(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'<tr id="payment-(\d+)"', html)]


def test_it_lists_every_payment_newest_first_page_by_page(
    customer_client: Client, account: Account
) -> None:
    made = make_payments(account, PAYMENTS_PAGE_SIZE + 5)
    newest_first = [d.pk for d in reversed(made)]
    first = customer_client.get(reverse("billing:payments"))
    assert first.status_code == 200
    html = first.content.decode()
    assert row_ids(html) == newest_first[:PAYMENTS_PAGE_SIZE]
    assert "Page 1 of 2" in html and "30 payments" in html
    second = customer_client.get(reverse("billing:payments"), {"page": 2}).content.decode()
    assert row_ids(second) == newest_first[PAYMENTS_PAGE_SIZE:]
    # A page past the end, or not a number, shows a real page, never an error.
    assert customer_client.get(reverse("billing:payments"), {"page": "99"}).status_code == 200
    assert customer_client.get(reverse("billing:payments"), {"page": "x'"}).status_code == 200


def test_each_paid_payment_links_to_its_receipt_and_no_other_does(
    customer_client: Client, account: Account
) -> None:
    [paid] = make_payments(account, 1)
    [failed] = make_payments(account, 1, status=Deposit.Status.FAILED)
    html = customer_client.get(reverse("billing:payments")).content.decode()
    assert reverse("billing:deposit_receipt", args=[paid.pk]) in html
    assert reverse("billing:deposit_receipt", args=[failed.pk]) not in html
    receipt = customer_client.get(reverse("billing:deposit_receipt", args=[paid.pk]))
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"


def test_it_shows_only_the_accounts_own_payments(customer_client: Client, account: Account) -> None:
    mine = make_payments(account, 2)
    theirs = make_payments(AccountFactory(), 3)
    html = customer_client.get(reverse("billing:payments")).content.decode()
    assert sorted(row_ids(html)) == sorted(d.pk for d in mine)
    assert not set(row_ids(html)) & {d.pk for d in theirs}


def test_payments_still_waiting_for_a_card_are_not_listed(
    customer_client: Client, account: Account
) -> None:
    [started] = make_payments(account, 1, status=Deposit.Status.CREATED)
    html = customer_client.get(reverse("billing:payments")).content.decode()
    assert row_ids(html) == []
    assert "No card payments yet." in html
    assert started.pk not in row_ids(html)


def test_the_per_minute_page_shows_the_last_8_and_links_to_all(
    customer_client: Client, account: Account
) -> None:
    made = make_payments(account, RECENT_PAYMENTS + 4)
    html = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert row_ids(html) == [d.pk for d in reversed(made)][:RECENT_PAYMENTS]
    assert f'href="{reverse("billing:payments")}"' in html
    assert "See all card payments" in html


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get(reverse("billing:payments"))
    assert response.status_code == 302
    assert "login" in response["Location"]
