"""Every recurring charge is posted exactly once per account, line and period: run twice,
killed halfway, down for days, run by hand, or run from two workers at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from billing.models import AccountCycle, ClosedPeriod, LedgerEntry
from billing.selectors.cycle import cycle_due_account_ids
from billing.selectors.ledger import ledger_problems
from billing.services import cycle as service_cycle
from billing.services.cycle import billing_cycle_run_account
from tests.billing.cycle.conftest import MONTHLY, PLAN, TRUNK, account_created_at
from tests.conftest import run_in_threads

pytestmark = pytest.mark.django_db

SIGNUP = dt.datetime(2028, 1, 10, 12, 0, tzinfo=dt.UTC)
FEB_1 = dt.datetime(2028, 2, 1, 0, 15, tzinfo=dt.UTC)


@pytest.fixture
def account(monthly):
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)  # the scan sees it sign up
    return account


def cycle_entries(account) -> list[tuple[str, Decimal]]:
    rows = LedgerEntry.objects.filter(account=account).order_by("pk")
    return list(rows.values_list("idempotency_key", "amount"))


def test_it_posts_each_line_with_a_key_of_account_code_and_period(account) -> None:
    billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    start = "2028-02-01T00:00:00+00:00"
    assert cycle_entries(account) == [
        (f"cycle:{account.pk}:plan:{start}", -PLAN.amount),
        (f"cycle:{account.pk}:trunk:two_way:{start}", -TRUNK.amount),
    ]
    entry = LedgerEntry.objects.get(idempotency_key=f"cycle:{account.pk}:trunk:two_way:{start}")
    assert entry.kind == LedgerEntry.Kind.TRUNK_FEE
    assert entry.description == "3 two-way channels × $12.00, Feb 1 \N{EN DASH} Feb 29, 2028"
    period = ClosedPeriod.objects.get(account=account)
    assert period.total == MONTHLY
    assert [c["entry_id"] for c in period.charges] == [
        e.pk for e in account.ledger_entries.order_by("pk")
    ]
    assert period.minutes_reset_at == period.period_start


def test_it_posts_nothing_the_second_time(account) -> None:
    first = billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    second = billing_cycle_run_account(account_id=account.pk, now=FEB_1 + dt.timedelta(hours=1))
    assert len(first) == 1
    assert second == []
    assert len(cycle_entries(account)) == 2
    assert ClosedPeriod.objects.filter(account=account).count() == 1
    assert ledger_problems() == []


def test_it_does_not_charge_the_sign_up_period(account) -> None:
    assert cycle_entries(account) == []
    assert AccountCycle.objects.get(account=account).next_period_start == dt.datetime(
        2028, 2, 1, tzinfo=dt.UTC
    )


def test_it_never_bills_months_back_for_an_account_it_sees_late(monthly) -> None:
    old = account_created_at(dt.datetime(2027, 6, 3, tzinfo=dt.UTC), timezone="UTC")
    assert billing_cycle_run_account(account_id=old.pk, now=FEB_1) == []
    assert cycle_entries(old) == []
    assert AccountCycle.objects.get(account=old).next_period_start == dt.datetime(
        2028, 3, 1, tzinfo=dt.UTC
    )


def test_killed_after_posting_then_rerun_posts_every_charge_once(account, monkeypatch) -> None:
    real_post_many = service_cycle.ledger_post_many

    def dies_after_posting(**kwargs):
        real_post_many(**kwargs)
        raise RuntimeError("worker killed")  # before the period's row and the cycle row

    monkeypatch.setattr(service_cycle, "ledger_post_many", dies_after_posting)
    with pytest.raises(RuntimeError):
        billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    assert cycle_entries(account) == []  # the postings rolled back with their period
    assert not ClosedPeriod.objects.filter(account=account).exists()

    monkeypatch.setattr(service_cycle, "ledger_post_many", real_post_many)
    billing_cycle_run_account(account_id=account.pk, now=FEB_1 + dt.timedelta(minutes=15))
    billing_cycle_run_account(account_id=account.pk, now=FEB_1 + dt.timedelta(minutes=30))
    assert [amount for _, amount in cycle_entries(account)] == [-PLAN.amount, -TRUNK.amount]
    account.refresh_from_db()
    assert account.balance == -MONTHLY


def test_a_three_day_outage_catches_up_each_missed_period_once_in_order(monthly) -> None:
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=31)
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
    # Due Jan 31, Feb 29 and Mar 31; the job was down from Jan 30 and comes back on Apr 2.
    billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 1, 30, tzinfo=dt.UTC))
    opened = billing_cycle_run_account(
        account_id=account.pk, now=dt.datetime(2028, 4, 2, tzinfo=dt.UTC)
    )
    starts = [dt.date(2028, 1, 31), dt.date(2028, 2, 29), dt.date(2028, 3, 31)]
    assert [o.period.start_date for o in opened] == starts
    rows = ClosedPeriod.objects.filter(account=account).order_by("pk")
    assert [r.period_start.date() for r in rows] == starts
    assert len(cycle_entries(account)) == 6
    assert (
        billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 4, 3, tzinfo=dt.UTC))
        == []
    )


def test_it_runs_the_opening_hooks_before_asking_for_the_charges(registry) -> None:
    order = []
    registry.on_opening(lambda account, period, now: order.append(("open", period.start_date)))

    def provider(account, period):
        order.append(("charge", period.start_date))
        return [PLAN]

    from billing.recurring import register_recurring

    register_recurring(provider)
    account = account_created_at(SIGNUP, timezone="UTC")
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
    billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 3, 2, tzinfo=dt.UTC))
    billing_cycle_run_account(account_id=account.pk, now=dt.datetime(2028, 3, 3, tzinfo=dt.UTC))
    assert order == [
        ("open", dt.date(2028, 2, 1)),
        ("charge", dt.date(2028, 2, 1)),
        ("open", dt.date(2028, 3, 1)),
        ("charge", dt.date(2028, 3, 1)),
    ]


def test_the_due_query_finds_rolled_over_and_new_accounts_only(monthly) -> None:
    rolled = account_created_at(SIGNUP, timezone="UTC")
    billing_cycle_run_account(account_id=rolled.pk, now=SIGNUP)
    waiting = account_created_at(SIGNUP, timezone="UTC", billing_day=5)
    billing_cycle_run_account(account_id=waiting.pk, now=SIGNUP)
    new = account_created_at(SIGNUP, timezone="UTC")
    closed = account_created_at(SIGNUP, timezone="UTC", status="closed")
    due = cycle_due_account_ids(now=FEB_1)
    assert due == sorted([rolled.pk, new.pk])
    assert closed.pk not in due


def test_the_command_dry_run_prints_what_it_would_post_and_posts_nothing(account, capsys) -> None:
    call_command("run_billing_cycle", "--now", FEB_1.isoformat(), "--dry-run")
    out = capsys.readouterr().out
    assert f"{account.code} period 2028-02-01: $56.00" in out
    assert "3 two-way channels × $12.00: $36.00" in out
    assert "DRY RUN" in out
    assert cycle_entries(account) == []
    assert not ClosedPeriod.objects.filter(account=account).exists()
    assert AccountCycle.objects.get(account=account).next_period_start <= FEB_1

    call_command("run_billing_cycle", "--now", FEB_1.isoformat(), "--account", account.code)
    assert len(cycle_entries(account)) == 2


def test_the_command_refuses_a_bad_date(account) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not an ISO date-time"):
        call_command("run_billing_cycle", "--now", "next tuesday")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_workers_at_once_post_every_charge_exactly_once(on_postgres, monthly) -> None:
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)
    later = dt.datetime(2028, 4, 1, 1, tzinfo=dt.UTC)
    results = run_in_threads(
        lambda: billing_cycle_run_account(account_id=account.pk, now=later), [()] * 4
    )
    # Periods commit one by one, so the workers may share them; none is opened twice.
    starts = [o.period.start_date for r in results for o in r]
    assert sorted(starts) == [dt.date(2028, 2, 1), dt.date(2028, 3, 1), dt.date(2028, 4, 1)]
    assert len(cycle_entries(account)) == 6
    assert ClosedPeriod.objects.filter(account=account).count() == 3
    account.refresh_from_db()
    assert account.balance == -3 * MONTHLY
    assert ledger_problems() == []


def test_staff_see_what_the_cycle_ran_in_the_admin(account, client) -> None:
    from django.urls import reverse

    from tests.factories import UserFactory

    billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    client.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:billing_closedperiod_changelist"))
    assert page.status_code == 200
    assert account.code in page.content.decode()
    detail = client.get(
        reverse("admin:billing_closedperiod_change", args=[ClosedPeriod.objects.get().pk])
    )
    assert "3 two-way channels" in detail.content.decode()
    assert client.get(reverse("admin:billing_accountcycle_changelist")).status_code == 200
