"""The same payment reported at once by five webhook deliveries and the return page: one credit.

Real threads with their own PostgreSQL connections (SQLite would serialise them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.models import Deposit, LedgerEntry, StripeEvent
from billing.selectors.ledger import ledger_problems
from tests.billing.stripe_events.test_webhook import authenticated_3ds_deposit, intent_dict
from tests.billing.stripe_helpers import LocalStripe, event_body, sign
from tests.conftest import run_in_threads
from tests.factories import AccountFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_and_the_return_page_credit_once(
    on_postgres: None, stripe_local: LocalStripe
) -> None:
    account = AccountFactory()
    user = UserFactory(account=account)
    customer = Client()
    customer.force_login(user)
    deposit = authenticated_3ds_deposit(customer, stripe_local, amount="25.00")
    body = event_body(
        "payment_intent.succeeded", intent_dict(deposit.stripe_payment_intent_id), event_id="evt_c"
    )
    return_url = reverse("billing:deposit_return", args=[deposit.pk])
    session_cookie = customer.cookies

    def hit(i: int) -> int:
        if i == 5:
            browser = Client()
            browser.cookies = session_cookie
            return browser.get(return_url).status_code
        response = Client().post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body),
        )
        return response.status_code

    results = run_in_threads(hit, [(i,) for i in range(6)])
    assert results == [200, 200, 200, 200, 200, 302]
    assert LedgerEntry.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("25.0000")
    assert Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.SUCCEEDED
    event = StripeEvent.objects.get(event_id="evt_c")
    assert event.status == "processed"
    assert len(mail.outbox) == 1
    assert ledger_problems() == []
