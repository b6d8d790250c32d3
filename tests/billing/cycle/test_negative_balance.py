"""A charge the balance cannot cover is still posted; the customer is told, auto-recharge is
tried once, the trunks are suspended after the grace period and resume on a deposit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing.models import AccountCycle, BillingProfile, LedgerEntry
from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.cycle import billing_cycle_run_account
from billing.services.ledger import ledger_post
from billing.tasks.cycle import account_standing_scan
from portal.models import Account
from tests.billing.cycle.conftest import MONTHLY, account_created_at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = dt.datetime(2028, 1, 10, 12, 0, tzinfo=dt.UTC)
FEB_1 = dt.datetime(2028, 2, 1, 0, 15, tzinfo=dt.UTC)


@pytest.fixture
def account(monthly):
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    UserFactory(account=account, email="owner@example.com")
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
    ledger_post(
        account=account,
        amount=Decimal("10.00"),
        kind=LedgerEntry.Kind.DEPOSIT,
        description="Card payment",
        idempotency_key="test:deposit:1",
        now=SIGNUP,
    )
    account.refresh_from_db()
    return account


def charge_the_month(account, captured) -> None:
    with captured(execute=True):
        billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    account.refresh_from_db()


def deposit(account, amount: str, key: str, captured) -> None:
    with captured(execute=True):
        ledger_post(
            account=account,
            amount=Decimal(amount),
            kind=LedgerEntry.Kind.DEPOSIT,
            description="Card payment",
            idempotency_key=key,
            now=FEB_1 + dt.timedelta(days=9),
        )
    account.refresh_from_db()


def scan_at(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False):
        account_standing_scan()


def authorize(account: Account, direction: str, to: str) -> str | None:
    request = AuthorizeInput(f"c-{direction}", account.code, direction, "+12025550123", to)
    return call_authorize(request=request, now=FEB_1).reason


def test_a_charge_the_balance_cannot_cover_is_posted_and_the_customer_told(
    account, django_capture_on_commit_callbacks
) -> None:
    charge_the_month(account, django_capture_on_commit_callbacks)
    assert account.balance == Decimal("10.00") - MONTHLY
    assert AccountCycle.objects.get(account=account).negative_since == FEB_1
    [message] = [m for m in mail.outbox if "monthly charges" in m.subject]
    assert message.to == ["owner@example.com"]
    assert "Your prepaid balance is now \N{MINUS SIGN}$46.00" in message.body
    assert "3 two-way channels × $12.00: $36.00" in message.body
    assert "Add at least $46.00" in message.body


def test_it_asks_for_one_auto_recharge_for_the_whole_month(
    account, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    BillingProfile.objects.create(
        account=account,
        auto_recharge_enabled=True,
        payment_method_id="pm_card_visa",
        auto_recharge_threshold=Decimal("10.00"),
    )
    attempts: list[int] = []
    monkeypatch.setattr(
        "billing.receivers.auto_recharge_run.apply_async",
        lambda args, **options: attempts.append(args[0]),
    )
    charge_the_month(account, django_capture_on_commit_callbacks)
    assert attempts == [account.pk]


def test_it_suspends_after_the_grace_period_and_authorize_refuses_every_call(
    account, django_capture_on_commit_callbacks, settings
) -> None:
    settings.BILLING_SUSPEND_AFTER_DAYS = 7
    charge_the_month(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        scan_at(FEB_1 + dt.timedelta(days=6, hours=23))
    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        scan_at(FEB_1 + dt.timedelta(days=7))
    account.refresh_from_db()
    assert account.status == Account.Status.SUSPENDED
    assert AccountCycle.objects.get(account=account).suspended_at == FEB_1 + dt.timedelta(days=7)
    assert any("suspended" in m.subject for m in mail.outbox)
    for direction, to in (("outbound", "+12025550199"), ("inbound", "+12025550100")):
        assert authorize(account, direction, to) == "account_suspended"


def test_a_deposit_that_makes_the_balance_positive_resumes_it_by_itself(
    account, django_capture_on_commit_callbacks
) -> None:
    charge_the_month(account, django_capture_on_commit_callbacks)
    scan_at(FEB_1 + dt.timedelta(days=8))
    account.refresh_from_db()
    assert account.status == Account.Status.SUSPENDED

    deposit(account, "46.00", "test:deposit:2", django_capture_on_commit_callbacks)  # to $0.00
    assert account.status == Account.Status.SUSPENDED
    deposit(account, "0.01", "test:deposit:3", django_capture_on_commit_callbacks)
    assert account.status == Account.Status.ACTIVE
    state = AccountCycle.objects.get(account=account)
    assert (state.negative_since, state.suspended_at) == (None, None)
    assert any("active again" in m.subject for m in mail.outbox)


def test_it_never_lifts_a_suspension_staff_made(
    account, django_capture_on_commit_callbacks
) -> None:
    Account.objects.filter(pk=account.pk).update(status=Account.Status.SUSPENDED)
    deposit(account, "5.00", "test:deposit:2", django_capture_on_commit_callbacks)
    scan_at(FEB_1)
    account.refresh_from_db()
    assert account.status == Account.Status.SUSPENDED


def test_the_dashboard_says_why_and_what_to_pay(
    account, django_capture_on_commit_callbacks, client
) -> None:
    charge_the_month(account, django_capture_on_commit_callbacks)
    client.force_login(account.users.get())
    html = " ".join(client.get("/dashboard/").content.decode().split())
    assert "Your balance is below zero" in html
    assert "Add more than $46.00 before Feb 8, 2028" in html

    scan_at(FEB_1 + dt.timedelta(days=8))
    html = " ".join(client.get("/dashboard/").content.decode().split())
    assert "Your SIP trunks are suspended" in html
    assert "below zero since Feb 1, 2028 and is \N{MINUS SIGN}$46.00" in html
    assert "Add more than $46.00 and calls resume at once" in html
