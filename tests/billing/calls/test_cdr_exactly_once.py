"""Each call id is rated and posted once (``CallKey``, claimed by the batch in one statement):
a re-sent batch answers the first results, a different CDR reusing an id is a conflict, an
import that crashed part-way is re-run safely, a batch's queries do not grow with its size,
and included minutes run out in the batch's order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import io
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from billing.models import DID, Call, CallKey, LedgerEntry, UsageCounter
from billing.selectors.ledger import ledger_problems
from billing.services.calls import call_record, call_record_batch
from billing.services.cdr_input import CdrInput
from portal.models import Account
from tests.billing.calls.test_cdr_batches import TARGETS, account_with_dids, mixed_cdrs
from tests.billing.calls.test_import_cdrs import row
from tests.billing.rating_fixtures import NOW, cdr, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

CYPRUS = "+35722123456"  # $0.06 a started minute, never included
USA = "+12025550123"  # included in Starter (500 min), then $0.025/min


class Crash(BaseException):
    """The process dying mid-batch (nothing catches it on the way out)."""


def balance(acct: Account) -> Decimal:
    acct.refresh_from_db()
    return acct.balance


def test_it_answers_a_re_sent_batch_with_the_first_results_and_posts_nothing() -> None:
    acct = account_with_dids(credit="50")
    cdrs = mixed_cdrs(acct, 40, seed=3, prefix="again")
    first = call_record_batch(cdrs=cdrs, now=NOW)
    after_first = balance(acct)
    entries = LedgerEntry.objects.count()
    again = call_record_batch(cdrs=cdrs, now=NOW)
    assert {r.status for r in first} == {"rated"}
    assert {r.status for r in again} == {"duplicate"}
    assert [(r.charge, r.included_seconds, r.billed_seconds) for r in again] == [
        (r.charge, r.included_seconds, r.billed_seconds) for r in first
    ]
    assert balance(acct) == after_first
    assert LedgerEntry.objects.count() == entries
    assert CallKey.objects.count() == Call.objects.count() == 40
    assert ledger_problems() == []


def test_it_reports_a_different_cdr_reusing_a_call_id_as_a_conflict() -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    call_record(cdr=cdr(acct, CYPRUS, 60, call_id="used"), now=NOW)
    longer = cdr(acct, CYPRUS, 600, call_id="used")  # same id, another call
    later = cdr(acct, CYPRUS, 60, call_id="used", start=NOW - dt.timedelta(hours=1))
    twin_a = cdr(acct, CYPRUS, 60, call_id="twin")
    twin_b = dataclasses.replace(twin_a, to_number="+4930123456")  # same id, other number
    results = call_record_batch(
        cdrs=[longer, cdr(acct, CYPRUS, 60, call_id="new"), later, twin_a, twin_b, twin_a],
        now=NOW,
    )
    assert [(r.status, r.error_code) for r in results] == [
        ("rejected", "call_id_conflict"),
        ("rated", None),
        ("rejected", "call_id_conflict"),
        ("rated", None),
        ("rejected", "call_id_conflict"),
        ("duplicate", None),
    ]
    assert "different call" in (results[0].error or "")
    assert balance(acct) == Decimal("10.00") - 3 * Decimal("0.06")
    assert Call.objects.get(call_id="used").billsec == 60  # the first one stands
    # One by one, the same answers.
    assert call_record(cdr=longer, now=NOW).error_code == "call_id_conflict"
    assert call_record(cdr=cdr(acct, CYPRUS, 60, call_id="used"), now=NOW).status == "duplicate"
    assert ledger_problems() == []


def test_it_leaves_no_claim_for_a_rejected_cdr_so_a_corrected_one_is_rated() -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    bad = cdr(acct, "+81312345678", 60, call_id="fix-me")  # no rate for Japan: rejected
    [result] = call_record_batch(cdrs=[bad], now=NOW)
    assert result.error_code == "unknown_destination"
    assert not CallKey.objects.filter(call_id="fix-me").exists()
    fixed = dataclasses.replace(bad, to_number=CYPRUS)
    assert call_record_batch(cdrs=[fixed], now=NOW)[0].status == "rated"


def test_it_runs_out_of_included_minutes_in_the_batch_order() -> None:
    acct = set_up_account(AccountFactory(), credit="50", dids=False)
    cdrs = [
        cdr(acct, USA, 200 * 60, call_id="min-1"),
        cdr(acct, CYPRUS, 60, call_id="min-paid"),
        cdr(acct, USA, 200 * 60, call_id="min-2"),
        cdr(acct, USA, 200 * 60, call_id="min-3"),  # 100 min left: straddles
        cdr(acct, USA, 30, call_id="min-4"),  # all overage: one started minute
    ]
    results = call_record_batch(cdrs=cdrs, now=NOW)
    assert [(r.included_seconds, r.charge) for r in results] == [
        (12000, Decimal("0")),
        (0, Decimal("0.06")),
        (12000, Decimal("0")),
        (6000, Decimal("100") * Decimal("0.025")),
        (0, Decimal("0.025")),
    ]
    [counter] = UsageCounter.objects.filter(account=acct, did__isnull=True)
    assert counter.included_seconds_used == 500 * 60
    assert balance(acct) == Decimal("50") - Decimal("0.06") - Decimal("2.5") - Decimal("0.025")
    entries = LedgerEntry.objects.filter(account=acct, kind="call").order_by("pk")
    assert [e.idempotency_key for e in entries] == ["call:min-paid", "call:min-3", "call:min-4"]
    assert ledger_problems() == []  # balance-after chains in the batch's order


def every_kind(accounts: list[Account], count: int, *, prefix: str) -> list[CdrInput]:
    """``count`` CDRs per account cycling through every kind of call (included, paid, on-net,
    unanswered, incoming on each DID): the same numbers whatever ``count`` (the pricing data
    read is per number, not per CDR)."""
    out = []
    for a in accounts:
        dids = sorted(DID.objects.filter(account=a).values_list("number", flat=True))
        kinds = [(to, "outbound", "101", True) for to in TARGETS]
        kinds += [(did, "inbound", "+35722999999", True) for did in dids]
        kinds.append((USA, "outbound", "101", False))
        for i in range(count):
            to, direction, frm, answered = kinds[i % len(kinds)]
            out.append(
                cdr(a, to, 90, direction=direction, frm=frm, answered=answered,
                    call_id=f"{prefix}-{a.pk}-{i}")
            )  # fmt: skip
    return out


def test_the_queries_of_a_batch_do_not_depend_on_its_size_or_accounts(
    django_assert_num_queries: Any,
) -> None:
    """A batch costs the same fixed number of queries for 18 CDRs on two accounts as for 300
    on six: read the accounts, the pricing catalog's version (decks and plans are kept per
    process), the accounts' plans, extensions, DIDs and decks, lock the accounts, claim the call
    ids, read the call permissions, the risk tiers, today's spend and the counters, then one
    statement each for the ledger entries, the balances, the new counters, the other counters,
    the Calls and the reservations (and the savepoint: 20). Pinned so that a per-CDR or
    per-account query cannot creep back in unnoticed."""
    accounts = [account_with_dids(credit="500") for _ in range(8)]
    for a in accounts[::2]:  # half of them have counters already: the batch increments them
        call_record_batch(cdrs=every_kind([a], 9, prefix="warm"), now=NOW)
    small = every_kind(accounts[:2], 9, prefix="small")
    big = every_kind(accounts[2:], 50, prefix="big")
    with django_assert_num_queries(20):
        results = call_record_batch(cdrs=small, now=NOW)
    assert {r.status for r in results} == {"rated"}
    with django_assert_num_queries(20):
        results = call_record_batch(cdrs=big, now=NOW)
    assert {r.status for r in results} == {"rated"} and len(results) == 300
    assert ledger_problems() == []


def test_an_import_that_crashed_part_way_is_re_run_without_posting_twice(
    tmp_path: Path,
) -> None:
    acct = set_up_account(AccountFactory(), credit="100", dids=False)
    path = tmp_path / "Master.csv"
    path.write_text(
        "".join(
            row(acct.code, "101", "0035722123456", "from-internal", f"2026-11-24 10:{i:02d}:00",
                f"2026-11-24 10:{i:02d}:05", f"2026-11-24 10:{i:02d}:50", 45,
                uniqueid=f"crash.{i}")
            for i in range(30)
        ),
        encoding="utf-8",
    )  # fmt: skip
    inserts = 0

    def crash_on_the_second_batch(execute: Any, sql: str, *args: Any) -> Any:
        nonlocal inserts
        if sql.startswith('INSERT INTO "billing_call" '):
            inserts += 1
            if inserts == 2:  # the second batch's entries are written, its Calls not yet
                raise Crash
        return execute(sql, *args)

    out = io.StringIO()
    with connection.execute_wrapper(crash_on_the_second_batch), pytest.raises(Crash):
        call_command("import_cdrs", str(path), "--tz", "UTC", "--batch-size", "10", stdout=out)
    assert Call.objects.filter(account=acct).count() == 10
    assert balance(acct) == Decimal("100") - 10 * Decimal("0.06")
    call_command("import_cdrs", str(path), "--tz", "UTC", "--batch-size", "10", stdout=out)
    assert "read 30, rated 20, duplicates 10, rejected 0" in out.getvalue()
    call_command("import_cdrs", str(path), "--tz", "UTC", "--batch-size", "7", stdout=out)
    assert "read 30, rated 0, duplicates 30, rejected 0" in out.getvalue()
    assert LedgerEntry.objects.filter(account=acct, kind="call").count() == 30
    assert balance(acct) == Decimal("100") - 30 * Decimal("0.06")
    assert ledger_problems() == []


def test_the_migration_gives_every_stored_call_its_key() -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    call_record_batch(cdrs=[cdr(acct, CYPRUS, 60, call_id=f"old-{i}") for i in range(3)], now=NOW)
    CallKey.objects.all().delete()  # as before the table existed
    migration = importlib.import_module("billing.migrations.0017_callkey")
    editor = SimpleNamespace(connection=connection)  # all the data migration uses
    migration.backfill(apps, editor)
    migration.backfill(apps, editor)  # re-run: nothing twice
    assert sorted(CallKey.objects.values_list("call_id", "account_id")) == [
        (f"old-{i}", acct.pk) for i in range(3)
    ]
    again = cdr(acct, CYPRUS, 60, call_id="old-1")
    assert call_record_batch(cdrs=[again], now=NOW)[0].status == "duplicate"


# --- PostgreSQL: batches at once --------------------------------------------------------------


def _overlapping_batches(accounts: list[Account]) -> list[list[CdrInput]]:
    """Four batches over overlapping accounts in different orders; batches 0 and 2 share
    their call ids (the same CDRs), as do 1 and 3."""
    batches = []
    for b in range(4):
        mine = accounts[b % 2 : b % 2 + 4]
        order = mine[::-1] if b >= 2 else mine
        batches.append(
            [
                cdr(a, CYPRUS if i % 2 else USA, 1800, call_id=f"ov{b % 2}-{a.pk}-{i}")
                for i in range(8)
                for a in order
            ]
        )
    return batches


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_at_once_over_overlapping_accounts_post_each_call_once(
    on_postgres: None, settings: Any
) -> None:
    settings.BILLING_CALL_DAILY_CAP = Decimal("10000")
    accounts = [set_up_account(AccountFactory(), credit="100", dids=False) for _ in range(5)]
    batches = _overlapping_batches(accounts)
    # And one call id sent at once by two accounts: one of them gets it.
    race = (
        [cdr(accounts[0], CYPRUS, 60, call_id="race")],
        [cdr(accounts[4], CYPRUS, 60, call_id="race")],
    )
    results = run_in_threads(
        lambda cdrs: call_record_batch(cdrs=cdrs, now=NOW), [(b,) for b in [*batches, *race]]
    )
    statuses = [r.status for rs in results[:4] for r in rs]
    assert statuses.count("rated") == 2 * 32 and statuses.count("duplicate") == 2 * 32
    assert sorted((r.status, r.error_code) for rs in results[4:] for r in rs) == [
        ("rated", None),
        ("rejected", "call_id_conflict"),
    ]
    for a in accounts:
        charged = sum(c.charge for c in Call.objects.filter(account=a))
        assert balance(a) == Decimal("100") - charged
        assert balance(a) == sum(e.amount for e in LedgerEntry.objects.filter(account=a))
    assert Call.objects.count() == CallKey.objects.count() == 2 * 32 + 1
    assert ledger_problems() == []
    call_command("check_ledger")  # raises CommandError on any problem
