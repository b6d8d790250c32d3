"""The cycle closes one statement per account and period and e-mails it once, however often
it runs; invoice numbers follow each other with no gaps, also when accounts close at once."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing.models import InvoiceCounter, LedgerEntry, Statement
from billing.periods import Period
from billing.services import statements as service_statements
from billing.services.cycle import billing_cycle_run_account
from billing.services.statements import statement_close, statement_email
from billing.tasks.statements import statement_email_scan
from tests.billing.cycle.conftest import MONTHLY, account_created_at
from tests.billing.statements.conftest import FEB_1, MAR_1, SIGNUP, post
from tests.conftest import run_in_threads
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(monthly):
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    UserFactory(account=account)
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
    return account


def statement_mails() -> list:
    return [m for m in mail.outbox if "statement" in m.subject.lower()]


def test_the_cycle_closes_the_period_that_ends_with_one_statement(account) -> None:
    post(account, "deposit", "100", SIGNUP + dt.timedelta(days=1))
    post(account, "call", "-2.5", SIGNUP + dt.timedelta(days=2))
    billing_cycle_run_account(account_id=account.pk, now=FEB_1 + dt.timedelta(minutes=15))

    statement = Statement.objects.get(account=account)
    assert (statement.period_start, statement.period_end) == (
        dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
        FEB_1,
    )
    assert statement.opening_balance == 0
    assert statement.payments == Decimal("100")
    assert statement.usage == Decimal("-2.5")
    # The new period's charges were posted after the close: they are next month's.
    assert statement.recurring == 0
    assert statement.closing_balance == Decimal("97.5")
    assert statement.invoice_number == 1


def test_it_closes_and_mails_once_however_often_the_cycle_runs(account, run_cycle) -> None:
    for minutes in (15, 30, 45):
        run_cycle(account, FEB_1 + dt.timedelta(minutes=minutes))
    statement = Statement.objects.get(account=account)
    again = statement_close(
        account_id=account.pk,
        period=Period(statement.period_start, statement.period_end),
        now=FEB_1 + dt.timedelta(hours=1),
    )
    assert again.pk == statement.pk
    assert statement_email(statement_id=statement.pk, now=FEB_1 + dt.timedelta(hours=2)) is False
    [message] = statement_mails()
    assert "INV-000001" in message.subject
    assert "Closing balance: $0.00" in message.body
    assert Statement.objects.get().emailed_at is not None
    assert InvoiceCounter.objects.get().last_number == 1


def test_a_catch_up_closes_each_missed_period_in_order(account, run_cycle) -> None:
    run_cycle(account, dt.datetime(2028, 4, 3, tzinfo=dt.UTC))
    statements = list(Statement.objects.filter(account=account).order_by("period_end"))
    assert [(s.period_end.date(), s.invoice_number) for s in statements] == [
        (dt.date(2028, 2, 1), 1),
        (dt.date(2028, 3, 1), 2),
        (dt.date(2028, 4, 1), 3),
    ]
    # They tile time: each opens where the one before closed.
    for before, after in itertools.pairwise(statements):
        assert after.period_start == before.period_end
        assert after.opening_balance == before.closing_balance
    # A late run posts the missed months' charges now: they are in the open period.
    account.refresh_from_db()
    assert statements[-1].closing_balance - 3 * MONTHLY == account.balance
    assert len(statement_mails()) == 3


def test_a_failed_e_mail_is_given_back_for_a_retry(account, monkeypatch, run_cycle) -> None:
    def down(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(service_statements, "account_mail", down)
    # The cycle's work stands: the failed send is the e-mail task's, not the cycle's.
    [opened] = run_cycle(account, FEB_1)
    assert opened.charges
    statement = Statement.objects.get(account=account)
    assert statement.emailed_at is None
    assert statement_mails() == []
    monkeypatch.undo()
    assert statement_email_scan() == 0  # too fresh: its own task may still be running
    with time_machine.travel(FEB_1 + dt.timedelta(hours=1), tick=False):
        assert statement_email_scan() == 1
        assert statement_email_scan() == 0
    assert len(statement_mails()) == 1


def test_it_names_the_provider_from_settings(account, settings, run_cycle) -> None:
    settings.BILLING_PROVIDER_NAME = "Acme Voice LLC"
    settings.BILLING_PROVIDER_ADDRESS = "1 Loop Road\nCupertino"
    run_cycle(account, FEB_1)
    statement = Statement.objects.get(account=account)
    assert (statement.provider_name, statement.provider_address) == (
        "Acme Voice LLC",
        "1 Loop Road\nCupertino",
    )
    assert statement.invoice_number == 1
    # Signed by the statement's issuer, then the site's address and support contact.
    assert "\n— Acme Voice LLC\n" in statement_mails()[0].body


def test_a_rolled_back_close_gives_its_invoice_number_back(account, monkeypatch) -> None:
    from billing.services import cycle as service_cycle

    other = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    billing_cycle_run_account(account_id=other.pk, now=SIGNUP)

    def killed(**kwargs):
        raise RuntimeError("worker killed after the statement was closed")

    monkeypatch.setattr(service_cycle, "period_opening", killed)
    with pytest.raises(RuntimeError):
        billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    monkeypatch.undo()
    billing_cycle_run_account(account_id=other.pk, now=FEB_1)
    billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    numbers = dict(Statement.objects.values_list("account_id", "invoice_number"))
    assert numbers == {other.pk: 1, account.pk: 2}


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_invoice_numbers_have_no_gaps_when_accounts_close_concurrently(
    on_postgres, monthly
) -> None:
    accounts = [account_created_at(SIGNUP, timezone="UTC", billing_day=1) for _ in range(8)]
    for account in accounts:
        billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
        post(account, "deposit", "10", SIGNUP)
    # Two runners per account, all at once: four months each to close.
    later = dt.datetime(2028, 5, 1, 1, tzinfo=dt.UTC)
    run_in_threads(
        lambda account_id: billing_cycle_run_account(account_id=account_id, now=later),
        [(a.pk,) for a in accounts] * 2,
    )
    numbers = sorted(Statement.objects.values_list("invoice_number", flat=True))
    assert numbers == list(range(1, 8 * 4 + 1))
    assert InvoiceCounter.objects.get().last_number == 32
    for account in accounts:
        ends = list(
            Statement.objects.filter(account=account)
            .order_by("period_end")
            .values_list("invoice_number", flat=True)
        )
        assert ends == sorted(ends)  # each account's own are in period order
    assert LedgerEntry.objects.filter(kind="plan_fee").count() == 8 * 4


def test_another_account_keeps_its_own_statements() -> None:
    one, two = AccountFactory(), AccountFactory()
    period = Period(FEB_1, MAR_1)
    statement_close(account_id=one.pk, period=period, now=MAR_1)
    statement_close(account_id=two.pk, period=period, now=MAR_1)
    assert Statement.objects.filter(account=one).count() == 1
    assert Statement.objects.filter(account=two).count() == 1
