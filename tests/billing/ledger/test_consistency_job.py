"""The daily job e-mails staff when a balance, the balance-after chain or the cycle is off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing.models import AccountCycle, ClosedPeriod, LedgerEntry
from billing.services.cycle import billing_cycle_run_account
from billing.services.ledger import ledger_post
from billing.tasks.ledger_check import ledger_consistency_check
from portal.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2028, 3, 10, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def staff(settings) -> None:
    settings.STAFF_ALERT_EMAILS = ["ops@example.com"]


def run_job() -> int:
    with time_machine.travel(NOW, tick=False):
        return ledger_consistency_check()


def make_account(code: str) -> Account:
    with time_machine.travel(dt.datetime(2028, 3, 2, tzinfo=dt.UTC), tick=False):
        account = Account.objects.get(pk=AccountFactory(code=code, timezone="UTC").pk)
    billing_cycle_run_account(account_id=account.pk, now=NOW)
    return account


def test_it_sends_nothing_when_all_is_consistent(staff) -> None:
    account = make_account("GOOD")
    ledger_post(
        account=account,
        amount=Decimal("5"),
        kind=LedgerEntry.Kind.DEPOSIT,
        description="Card payment",
        idempotency_key="t:1",
        now=NOW,
    )
    assert run_job() == 0
    assert mail.outbox == []


def test_it_emails_staff_a_cached_balance_that_differs_from_the_entries(staff) -> None:
    account = make_account("DRIFT")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("3.0000"))
    assert run_job() == 1
    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert "DRIFT" in message.body
    assert "cached balance 3.0000 != sum of entries 0.0000" in message.body


def test_it_emails_staff_an_account_whose_period_was_never_closed(staff) -> None:
    account = make_account("LATE")
    AccountCycle.objects.filter(account=account).update(
        next_period_start=dt.datetime(2028, 3, 1, tzinfo=dt.UTC)
    )
    assert run_job() == 1
    assert "LATE" in mail.outbox[0].body
    assert "is not closed" in mail.outbox[0].body


def test_it_emails_staff_a_hole_between_closed_periods(staff) -> None:
    account = make_account("HOLE")
    utc = dt.UTC
    for start, end in ((dt.datetime(2028, 1, 1, tzinfo=utc), dt.datetime(2028, 2, 1, tzinfo=utc)),):
        ClosedPeriod.objects.create(
            account=account,
            period_start=start,
            period_end=end,
            closed_at=start,
            total=Decimal(0),
            minutes_reset_at=start,
        )
    # Feb 1 to Mar 1 is missing; the cycle's next start is Apr 1.
    assert run_job() == 1
    assert "HOLE" in mail.outbox[0].body
    assert "missing" in mail.outbox[0].body
