"""Rating under real concurrency (PostgreSQL row locks, one connection per thread)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Call, CallReservation, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.selectors.usage import minutes_summary
from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_50_cdrs_at_once_post_50_entries_with_the_right_balance_and_usage(
    on_postgres: None,
) -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    call_record(cdr=cdr(acct, "+12025550123", 499 * 60, call_id="warm-up"), now=NOW)
    # Each 2-minute USA call: with 1 included minute left, whichever call is rated first
    # gets 1 included + 1 paid minute; the other 49 pay both minutes.
    cdrs = [cdr(acct, "+12025550123", 120, call_id=f"burst-{i}") for i in range(50)]
    results = run_in_threads(lambda c: call_record(cdr=c, now=NOW), [(c,) for c in cdrs])
    assert [r.status for r in results] == ["rated"] * 50
    assert sum(r.included_seconds for r in results) == 60
    assert LedgerEntry.objects.filter(account=acct, kind="call").count() == 50
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.0000") - Decimal("0.0250") * 99
    assert minutes_summary(account=acct, now=NOW).used_seconds == 500 * 60
    assert ledger_problems() == []


def test_the_same_cdr_sent_concurrently_posts_once(on_postgres: None) -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    same = cdr(acct, "+35722123456", 60, call_id="race-1")
    results = run_in_threads(lambda c: call_record(cdr=c, now=NOW), [(same,)] * 10)
    assert sorted(r.status for r in results) == ["duplicate"] * 9 + ["rated"]
    assert Call.objects.filter(call_id="race-1").count() == 1
    assert LedgerEntry.objects.filter(idempotency_key="call:race-1").count() == 1
    acct.refresh_from_db()
    assert acct.balance == Decimal("9.9400")


def test_two_authorizations_cannot_both_spend_the_last_dollar(on_postgres: None) -> None:
    acct: Account = set_up_account(AccountFactory(), credit="1.00", dids=False)

    def ask(call_id: str) -> object:
        return call_authorize(
            request=AuthorizeInput(call_id, acct.code, "outbound", "101", "+35722123456"),
            now=NOW,
        )

    results = run_in_threads(ask, [(f"last-{i}",) for i in range(5)])
    allowed = [r for r in results if r.allowed]
    assert len(allowed) == 1
    assert allowed[0].max_seconds == 960  # $1.00 at $0.06/min: 16 minutes
    assert {r.reason for r in results if not r.allowed} == {"insufficient_balance"}
    held = sum(r.amount for r in CallReservation.objects.filter(account=acct))
    assert held == Decimal("0.9600") <= Decimal("1.00")
