"""Recording CDRs in batches (``call_record_batch``: the switch API's batches and import_cdrs):
the same outcome as one by one, a bounded number of queries per CDR, rejected CDRs leave the
others recorded, balance-change receivers still fire, concurrent batches on PostgreSQL."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import DID, BillingProfile, Call, CallReservation, DIDGroup, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.selectors.pricing import price_lookup
from billing.selectors.usage import minutes_summary
from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.calls import call_record, call_record_batch
from billing.services.cdr_input import CdrInput
from billing.services.ledger import ledger_post
from billing.signals import balance_changed, balances_changed
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TARGETS = ["+12025550123", "+35722123456", "+4930123456", "+491511234567", "102"]


_dids = itertools.count(10)


def account_with_dids(*, credit: str = "10") -> Account:
    """An account as ``set_up_account`` makes it, with its own DIDs in the included, the paid
    (PN Group A) and the capped international group."""
    acct = set_up_account(AccountFactory(), credit=credit, dids=False)
    n = next(_dids)
    for number, group in (
        (f"+1202555{n:02d}00", "USA standard"),
        (f"+1305555{n:02d}00", "USA PN Group A"),
        (f"+44207123{n:02d}00", "International (200 min cap)"),
    ):
        DID.objects.create(account=acct, number=number, group=DIDGroup.objects.get(name=group))
    return acct


def mixed_cdrs(acct: Account, count: int, *, seed: int, prefix: str) -> list[CdrInput]:
    """Included US/German landline calls, paid Cyprus and German mobile calls, on-net, incoming
    on the included, the capped and the paid DIDs, unanswered ones: long enough that the
    500 included minutes run out part-way."""
    rng = random.Random(seed)
    dids = list(DID.objects.filter(account=acct).values_list("number", flat=True))
    cdrs = []
    for i in range(count):
        roll = rng.random()
        billsec = rng.randint(1, 1800)
        call_id = f"{prefix}-{i}"
        if roll < 0.15:
            did = rng.choice(dids)
            cdrs.append(
                cdr(acct, did, billsec, direction="inbound", frm="+35722999999", call_id=call_id)
            )
        elif roll < 0.2:
            cdrs.append(cdr(acct, "+12025550123", billsec, answered=False, call_id=call_id))
        else:
            cdrs.append(cdr(acct, rng.choice(TARGETS), billsec, call_id=call_id))
    return cdrs


def outcome(result: Any) -> tuple[Any, ...]:
    return (
        result.status,
        result.charge,
        result.included_seconds,
        result.billed_seconds,
        re.sub(r"Incoming on [^(]*", "Incoming on <DID> ", result.explanation),
        result.error_code,
    )


def test_a_batch_rates_exactly_as_one_by_one() -> None:
    one_by_one = account_with_dids(credit="50")
    batched = account_with_dids(credit="50")
    singles = [call_record(cdr=c, now=NOW) for c in mixed_cdrs(one_by_one, 120, seed=7, prefix="a")]
    batch = call_record_batch(cdrs=mixed_cdrs(batched, 120, seed=7, prefix="b"), now=NOW)
    assert [outcome(r) for r in batch] == [outcome(r) for r in singles]
    assert {r.status for r in batch} == {"rated"}
    assert sum(r.charge for r in batch) > 0 and sum(r.included_seconds for r in batch) > 0
    one_by_one.refresh_from_db()
    batched.refresh_from_db()
    assert batched.balance == one_by_one.balance < Decimal("50")
    assert (
        minutes_summary(account=batched, now=NOW).used_seconds
        == minutes_summary(account=one_by_one, now=NOW).used_seconds
        == 500 * 60
    )
    calls = Call.objects.filter(account=batched).select_related("ledger_entry")
    assert calls.count() == 120
    for call in calls:  # each paid call carries its entry; free ones have none
        assert (call.ledger_entry is not None) == (call.charge > 0)
        if call.ledger_entry is not None:
            assert call.ledger_entry.amount == -call.charge
            assert call.ledger_entry.idempotency_key == f"call:{call.call_id}"
    assert ledger_problems() == []


def test_queries_per_cdr_in_a_batch_are_bounded(django_assert_max_num_queries: Any) -> None:
    """A batch costs a fixed handful of queries (pinned exactly, whatever the batch's size, in
    test_cdr_exactly_once.py), where recording each CDR alone cost 12-19."""
    one = account_with_dids(credit="100")
    cdrs = mixed_cdrs(one, 100, seed=1, prefix="q")
    # Measured warm: a process loads the pricing catalog and a deck once per change of them.
    price_lookup(account=one, number="+35722123456", now=NOW)
    with django_assert_max_num_queries(25):
        results = call_record_batch(cdrs=cdrs, now=NOW)
    assert {r.status for r in results} == {"rated"}
    assert sum(1 for r in results if r.charge) == 39  # 39 entries, posted in one statement

    many = [account_with_dids(credit="100") for _ in range(10)]
    spread = [c for i, a in enumerate(many) for c in mixed_cdrs(a, 10, seed=i, prefix=f"m{i}")]
    price_lookup(account=many[0], number="+35722123456", now=NOW)
    with django_assert_max_num_queries(25):
        results = call_record_batch(cdrs=spread, now=NOW)
    assert {r.status for r in results} == {"rated"}
    assert sum(1 for r in results if r.charge) == 34  # 10 accounts: one balance UPDATE


def test_rejected_and_duplicate_cdrs_leave_the_rest_of_the_batch_recorded() -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    other = set_up_account(AccountFactory(), dids=False)
    call_record(cdr=cdr(other, "+35722123456", 60, call_id="theirs"), now=NOW)
    call_record(cdr=cdr(acct, "+35722123456", 60, call_id="before"), now=NOW)
    CallReservation.objects.create(
        account=acct,
        call_id="r-1",
        direction="outbound",
        to_number="+35722123456",
        amount=Decimal("0.06"),
        rate=Decimal("0.06"),
        included_seconds=0,
        max_seconds=60,
        created_at=NOW,
        expires_at=NOW,
    )
    batch = [
        cdr(acct, "+35722123456", 60, call_id="r-1"),
        cdr(acct, "+81312345678", 60, call_id="r-2"),  # no rate: rejected
        dataclasses.replace(cdr(acct, "+35722123456", 60, call_id="r-3"), account="NOPE"),
        cdr(acct, "+35722123456", 60, call_id="before"),  # recorded earlier: duplicate
        cdr(acct, "+35722123456", 60, call_id="r-1"),  # twice in the batch: duplicate
        cdr(acct, "+35722123456", 60, call_id="theirs"),  # another account's call id
        cdr(acct, "555", 60, direction="internal", call_id="r-7"),  # not on-net: rejected
        cdr(acct, "+35722123456", 120, call_id="r-8"),
    ]
    results = call_record_batch(cdrs=batch, now=NOW)
    assert [(r.status, r.error_code) for r in results] == [
        ("rated", None),
        ("rejected", "unknown_destination"),
        ("rejected", "unknown_account"),
        ("duplicate", None),
        ("duplicate", None),
        ("rejected", "call_id_conflict"),
        ("rejected", "not_on_net"),
        ("rated", None),
    ]
    assert results[4].charge == results[0].charge == Decimal("0.0600")
    assert not CallReservation.objects.exists()
    assert set(Call.objects.filter(account=acct).values_list("call_id", flat=True)) == {
        "before",
        "r-1",
        "r-8",
    }
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.00") - Decimal("0.06") * 4
    assert ledger_problems() == []


def test_a_ledger_key_already_used_falls_back_to_one_by_one() -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    ledger_post(  # a stray entry holding the key of call "x-2" with another amount
        account=acct,
        amount=Decimal("-1"),
        kind="adjustment",
        description="stray",
        idempotency_key="call:x-2",
        now=NOW,
    )
    batch = [cdr(acct, "+35722123456", 60, call_id=f"x-{i}") for i in range(1, 4)]
    results = call_record_batch(cdrs=batch, now=NOW)
    assert [(r.status, r.error_code) for r in results] == [
        ("rated", None),
        ("rejected", "idempotency_conflict"),
        ("rated", None),
    ]
    assert set(Call.objects.values_list("call_id", flat=True)) == {"x-1", "x-3"}
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.00") - 1 - Decimal("0.06") * 2
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_a_batch_announces_each_account_once_and_alerts_fire(user: Any) -> None:
    acct = set_up_account(user.account, credit="10", dids=False)
    BillingProfile.objects.create(account=acct, low_balance_threshold=Decimal("5"))
    other = set_up_account(AccountFactory(), credit="10", dids=False)
    seen: list[Any] = []

    def record(**kwargs: Any) -> None:
        seen.append(kwargs.get("changes") or kwargs["balance_after"])

    balance_changed.connect(record)
    balances_changed.connect(record)
    try:
        # 4 min of Cyprus at $0.06 x 25 = $6.00 for acct: crosses $5 part-way; $0.24 for other.
        batch = [cdr(acct, "+35722123456", 240, call_id=f"lb-{i}") for i in range(25)]
        batch.insert(3, cdr(other, "+35722123456", 240, call_id="lb-other"))
        results = call_record_batch(cdrs=batch, now=timezone.now())
    finally:
        balance_changed.disconnect(record)
        balances_changed.disconnect(record)
    assert {r.status for r in results} == {"rated"}
    [changes] = seen
    assert {(c.account_id, c.balance_before, c.balance_after) for c in changes} == {
        (acct.pk, Decimal("10.0000"), Decimal("4.0000")),
        (other.pk, Decimal("10.0000"), Decimal("9.7600")),
    }
    last = LedgerEntry.objects.filter(account=acct).latest("pk")
    assert {c.entry_id for c in changes if c.account_id == acct.pk} == {last.pk}
    assert [m.subject for m in mail.outbox] == ["[Control Center] Your balance is low: $4.00"]
    assert BillingProfile.objects.get(account=acct).low_balance_alerted


# --- PostgreSQL: real concurrent batches ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_over_the_same_accounts_lose_nothing(
    on_postgres: None, settings: Any
) -> None:
    # About lost updates, not toll-fraud limits: the batches charge each account more than the
    # default daily usage cap, after which an authorization racing them would rightly be refused.
    settings.BILLING_CALL_DAILY_CAP = Decimal("10000")
    accounts = [set_up_account(AccountFactory(), credit="100", dids=False) for _ in range(5)]
    # Eight batches, each touching every account in a different order, plus single calls
    # and authorizations on the same accounts at the same time.
    batches: list[list[CdrInput]] = []
    for b in range(8):
        order = accounts[::-1] if b % 2 else accounts
        batches.append(
            [
                cdr(
                    a, "+12025550123" if i % 2 else "+35722123456", 3000, call_id=f"c{b}-{a.pk}-{i}"
                )
                for i in range(6)
                for a in order
            ]
        )

    def work(kind: str, n: int) -> Any:
        if kind == "batch":
            return call_record_batch(cdrs=batches[n], now=NOW)
        a = accounts[n % 5]
        if kind == "single":
            return [call_record(cdr=cdr(a, "+35722123456", 60, call_id=f"s-{n}"), now=NOW)]
        request = AuthorizeInput(f"auth-{n}", a.code, "outbound", "101", "+35722123456")
        return [call_authorize(request=request, now=NOW)]

    jobs = [("batch", n) for n in range(8)] + [("single", n) for n in range(5)]
    jobs += [("authorize", n) for n in range(5)]
    results = run_in_threads(work, jobs)
    recorded = [r for rs in results[:13] for r in rs]
    assert len(recorded) == 8 * 30 + 5 and {r.status for r in recorded} == {"rated"}
    assert all(r.allowed for rs in results[13:] for r in rs)
    for a in accounts:
        a.refresh_from_db()
        charged = sum(c.charge for c in Call.objects.filter(account=a))
        assert a.balance == Decimal("100") - charged
        # 24 US calls of 50 min each: 500 included minutes used, the rest paid, exactly.
        assert minutes_summary(account=a, now=NOW).used_seconds == 500 * 60
        us = Call.objects.filter(account=a, destination="USA")
        assert sum(c.included_seconds for c in us) == 500 * 60
        assert sum(c.paid_seconds for c in us) == 24 * 3000 - 500 * 60
    assert ledger_problems() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_posts_once(on_postgres: None) -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    other = set_up_account(AccountFactory(), dids=False)
    batch = [
        cdr(a, "+35722123456", 60, call_id=f"twice-{a.pk}-{i}")
        for i in range(5)
        for a in (acct, other)
    ]
    results = run_in_threads(lambda: call_record_batch(cdrs=batch, now=NOW), [()] * 4)
    statuses = sorted(r.status for rs in results for r in rs)
    assert statuses == ["duplicate"] * 30 + ["rated"] * 10
    assert LedgerEntry.objects.filter(kind="call").count() == 10
    acct.refresh_from_db()
    assert acct.balance == Decimal("10.00") - Decimal("0.06") * 5
    assert ledger_problems() == []
