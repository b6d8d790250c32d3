"""CDR batches under faults and load on PostgreSQL: a deadlock or serialization failure is
retried without posting twice; 200 CDRs, 20 deposits and authorizations at once on one account
leave the cached balance equal to the ledger's sum."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from billing.models import Call, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.calls import TRANSIENT_RETRIES, call_record, call_record_batch
from billing.services.ledger import ledger_post
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CYPRUS = "+35722123456"  # $0.06 a started minute, no included minutes


class PostgresFault:
    """An execute wrapper that makes PostgreSQL itself raise ``sqlstate`` just before the
    batch inserts its Calls (after its ledger entries are written), aborting the transaction
    for real, ``times`` times."""

    def __init__(self, sqlstate: str, times: int) -> None:
        self.sqlstate, self.left = sqlstate, times

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any
    ) -> Any:
        if self.left and sql.startswith('INSERT INTO "billing_call"'):
            self.left -= 1
            ctx["cursor"].execute(
                f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{self.sqlstate}'; END $$"
            )
        return execute(sql, params, many, ctx)


@pytest.fixture
def acct(on_postgres: None) -> Account:
    return set_up_account(AccountFactory(), dids=False)


@pytest.fixture
def deadlock_once() -> Iterator[PostgresFault]:
    fault = PostgresFault("40P01", times=1)
    with connection.execute_wrapper(fault):
        yield fault


def test_a_deadlocked_batch_is_retried_and_posts_each_call_once(
    acct: Account, deadlock_once: PostgresFault, caplog: pytest.LogCaptureFixture
) -> None:
    cdrs = [cdr(acct, CYPRUS, 60, call_id=f"dl-{i}") for i in range(10)]
    with caplog.at_level(logging.WARNING, logger="billing.services.calls"):
        results = call_record_batch(cdrs=cdrs, now=NOW)
    assert deadlock_once.left == 0  # the fault did fire
    assert "40P01" in caplog.text
    assert [r.status for r in results] == ["rated"] * 10
    assert LedgerEntry.objects.filter(account=acct, kind="call").count() == 10
    assert Call.objects.filter(account=acct).count() == 10
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.0000") - 10 * Decimal("0.0600")
    assert ledger_problems() == []
    # Re-sent after the retry: nothing changes.
    again = call_record_batch(cdrs=cdrs, now=NOW)
    assert [r.status for r in again] == ["duplicate"] * 10
    assert LedgerEntry.objects.filter(account=acct, kind="call").count() == 10


def test_serialization_failures_are_retried_up_to_the_limit(acct: Account) -> None:
    fault = PostgresFault("40001", times=TRANSIENT_RETRIES)
    with connection.execute_wrapper(fault):
        result = call_record(cdr=cdr(acct, CYPRUS, 60, call_id="ser-1"), now=NOW)
    assert result.status == "rated"
    assert LedgerEntry.objects.filter(idempotency_key="call:ser-1").count() == 1
    acct.refresh_from_db()
    assert acct.balance == Decimal("9.9400")


def test_a_failure_that_persists_reaches_the_caller_and_posts_nothing(acct: Account) -> None:
    fault = PostgresFault("40001", times=TRANSIENT_RETRIES + 1)
    with connection.execute_wrapper(fault), pytest.raises(OperationalError):
        call_record_batch(cdrs=[cdr(acct, CYPRUS, 60, call_id="stuck-1")], now=NOW)
    assert not LedgerEntry.objects.filter(idempotency_key="call:stuck-1").exists()
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.0000")


def test_200_cdrs_20_deposits_and_authorizations_at_once_keep_the_ledger_whole(
    acct: Account,
) -> None:
    deposit = Decimal("5.0000")
    jobs: list[tuple[str, int]] = (
        [("cdr", i) for i in range(100)]  # one by one ...
        + [("batch", i) for i in range(100, 200, 10)]  # ... and in batches of 10
        + [("deposit", i) for i in range(20)]
        + [("authorize", i) for i in range(40)]
    )
    random.Random(9).shuffle(jobs)

    def work(kind: str, i: int) -> str:
        if kind == "cdr":
            return call_record(
                cdr=cdr(acct, CYPRUS, 30 + i % 90, call_id=f"soak-{i}"), now=NOW
            ).status
        if kind == "batch":
            batch = [cdr(acct, CYPRUS, 30 + j % 90, call_id=f"soak-{j}") for j in range(i, i + 10)]
            results = call_record_batch(cdrs=batch, now=NOW)
            return ",".join(r.status for r in results)
        if kind == "deposit":
            posting = ledger_post(
                account=acct.pk,
                amount=deposit,
                kind="deposit",
                description="soak deposit",
                idempotency_key=f"soak-deposit:{i}",
                now=NOW,
            )
            return "deposit" if posting.created else "dup"
        decision = call_authorize(
            request=AuthorizeInput(f"soak-auth-{i}", acct.code, "outbound", "101", CYPRUS),
            now=NOW + dt.timedelta(seconds=1),
        )
        return "authorized" if decision.allowed else "refused"

    # 10 threads, each with its own connection, working through its share of the jobs.
    shares = [(jobs[n::10],) for n in range(10)]
    statuses = [
        status
        for share in run_in_threads(lambda js: [work(*job) for job in js], shares)
        for status in share
    ]
    statuses = [status for joined in statuses for status in joined.split(",")]
    assert statuses.count("rated") == 200
    assert statuses.count("deposit") == 20
    assert statuses.count("authorized") + statuses.count("refused") == 40
    entries = LedgerEntry.objects.filter(account=acct)
    assert entries.filter(kind="call").count() == 200
    expected_charges = sum(Decimal("0.0600") * (1 + (30 + i % 90 - 1) // 60) for i in range(200))
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.0000") + 20 * deposit - expected_charges
    assert acct.balance == sum(e.amount for e in entries)
    assert ledger_problems() == []
    call_command("check_ledger")  # raises CommandError on any problem
