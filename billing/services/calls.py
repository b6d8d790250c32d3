"""Rating finished calls (CDRs): each ``call_id`` rated and posted exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, OperationalError, transaction

from billing.models import (
    Call,
    CallKey,
    CallReservation,
    LedgerEntry,
)
from billing.money import money
from billing.selectors.ledger import ledger_entries_posted
from billing.selectors.permissions import CdrPolicies
from billing.selectors.plans import billing_period
from billing.selectors.pricing import CallPricing, PricingContext
from billing.services.bulk_rows import rows_delete, rows_insert
from billing.services.call_rating import UsageCounters, call_price, call_rate
from billing.services.cdr_input import CdrInput, cdr_window_problem
from billing.services.ledger import LedgerKeysTaken, NewEntry, ledger_existing, ledger_post_many
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)

# PostgreSQL resolves a deadlock or a serialization conflict by aborting one transaction; the
# documented remedy is to run it again. A few attempts with a short backoff ride out a burst;
# beyond that the error goes to the caller (the switch re-sends, the import goes one by one).
TRANSIENT_RETRIES = 3
TRANSIENT_BACKOFF_SECONDS = 0.05
_TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


@dataclass(frozen=True)
class CallResult:
    call_id: str
    status: str  # rated | duplicate | rejected
    charge: Decimal | None = None
    included_seconds: int = 0
    billed_seconds: int = 0
    explanation: str = ""
    error: str | None = None
    error_code: str | None = None
    call: Call | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "status": self.status,
            "charge": None if self.charge is None else str(money(self.charge)),
            "included_seconds": self.included_seconds,
            "billed_seconds": self.billed_seconds,
            "explanation": self.explanation,
            "error": self.error,
        }


def _call_result(call: Call, status: str) -> CallResult:
    return CallResult(
        call_id=call.call_id,
        status=status,
        charge=call.charge,
        included_seconds=call.included_seconds,
        billed_seconds=call.billed_seconds,
        explanation=call.explanation,
        call=call,
    )


def _rejected(call_id: str, code: str, message: str) -> CallResult:
    return CallResult(call_id=call_id, status="rejected", error=message, error_code=code)


def _in_transaction_retried(work: Callable[[], list[CallResult]]) -> list[CallResult]:
    """``work()`` in a transaction, re-run (at most ``TRANSIENT_RETRIES`` more times) when
    PostgreSQL aborts it as a deadlock victim or a serialization failure. Safe because a
    rolled-back attempt leaves nothing (its ledger entries, Calls and on_commit signals go
    with it) and the next attempt re-reads everything under the locks. Inside a caller's
    transaction nothing is retried: the abort belongs to the caller's whole transaction."""
    nested = transaction.get_connection().in_atomic_block
    for attempt in range(TRANSIENT_RETRIES + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            code = getattr(exc.__cause__, "sqlstate", None) or getattr(
                exc.__cause__, "pgcode", None
            )
            if nested or code not in _TRANSIENT_SQLSTATES or attempt == TRANSIENT_RETRIES:
                raise
            logger.warning("cdr transaction aborted (%s), attempt %s: retrying", code, attempt + 1)
            time.sleep(TRANSIENT_BACKOFF_SECONDS * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _record(*, cdrs: Sequence[CdrInput], now: dt.datetime, source: str) -> list[CallResult]:
    """One transaction (retried on a deadlock); if some call's ledger key turns out to be
    posted already, the transaction is rolled back and done again reading those keys first."""
    try:
        return _in_transaction_retried(
            lambda: _calls_rate_and_store(cdrs=cdrs, now=now, source=source)
        )
    except LedgerKeysTaken as exc:
        logger.warning("cdr batch of %s: %s; re-checking them", len(cdrs), exc)
        return _in_transaction_retried(
            lambda: _calls_rate_and_store(cdrs=cdrs, now=now, source=source, recheck=True)
        )


def call_record(*, cdr: CdrInput, now: dt.datetime, source: str = "api") -> CallResult:
    """Rate a finished call and post its charge, exactly once per ``call_id``.

    ``call_record_batch`` of this one CDR: under the account's row lock, claim the call id
    (``CallKey``), rate it against the included-minute counters of its billing month, post
    the ledger entry (key ``call:<call_id>``), store the Call and release the call's
    reservation. The same CDR sent again returns ``duplicate`` (with the first result) and
    changes nothing; another CDR reusing the id is ``rejected`` (``call_id_conflict``); a call
    that cannot be rated (unknown account, number, destination or DID) is ``rejected`` and
    leaves no trace.
    """
    try:
        [result] = _record(cdrs=[cdr], now=now, source=source)
    except DomainError as exc:
        # Posting refused (the call's ledger key already holds a different entry).
        logger.info("cdr %s rejected: %s", cdr.call_id, exc.message)
        return _rejected(cdr.call_id, exc.code, exc.message)
    except IntegrityError:
        # A unique call id of the calls table refused a call whose key was missing.
        existing = Call.objects.filter(call_id=cdr.call_id).select_related("account").first()
        if existing is None:
            raise
        return _recorded_before(cdr=cdr, account_id=existing.account_id, stored=existing)
    return result


def call_record_batch(
    *, cdrs: Sequence[CdrInput], now: dt.datetime, source: str = "api"
) -> list[CallResult]:
    """``call_record`` for many calls: the results in the CDRs' order, the same as recording
    them one by one in that order, with the same number of queries whatever the batch's size
    or number of accounts.

    One transaction: the batch's accounts are locked once, in id order (so concurrent batches
    cannot deadlock), its call ids claimed in one statement, and each account's CDRs rated in
    memory in order under its lock (pricing read once for the batch, included-minute counters
    read once and advanced call by call). Then one statement each writes the ledger entries
    (``ledger_post_many``: balance-after in order per account, one balance update for all
    accounts), the counters, the Calls, and deletes the reservations. A CDR that cannot be
    rated is ``rejected`` and leaves no trace; the others are recorded. If a write still fails
    (a unique constraint of the calls table, a ledger key holding another entry), the batch
    is rolled back and its CDRs are recorded one by one with ``call_record``, which decides
    those cases.
    """
    if not cdrs:
        return []
    try:
        return _record(cdrs=cdrs, now=now, source=source)
    except (DomainError, IntegrityError) as exc:
        logger.warning("cdr batch of %s: %s; recording its calls one by one", len(cdrs), exc)
        return [call_record(cdr=cdr, now=now, source=source) for cdr in cdrs]


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _same_cdr(stored: Call, cdr: CdrInput) -> bool:
    """Whether ``cdr`` is the CDR ``stored`` was rated from (sent again), as far as the Call
    keeps it: the same times, duration, disposition and numbers (an outgoing number is stored
    in E.164, an on-net call as internal)."""
    to = cdr.to_number[:40]
    return (
        stored.started_at == cdr.start
        and stored.answered_at == cdr.answer
        and stored.ended_at == cdr.end
        and stored.billsec == max(0, cdr.billsec)
        and stored.disposition == cdr.disposition[:20]
        and stored.from_number == cdr.from_number[:40]
        and stored.direction in (cdr.direction, Call.Direction.INTERNAL)
        and (
            stored.to_number == to
            or (
                cdr.direction == Call.Direction.OUTBOUND
                and bool(_digits(to).lstrip("0"))
                and _digits(stored.to_number).endswith(_digits(to).lstrip("0"))
            )
        )
    )


def _recorded_before(*, cdr: CdrInput, account_id: int, stored: Call | None) -> CallResult:
    """The answer for a CDR whose call id was already claimed: the first result when it is the
    same CDR again, else a conflict (never a silent skip of a different call)."""
    if stored is None:
        return _rejected(cdr.call_id, "call_id_conflict", "call_id: already used.")
    if stored.account_id != account_id:
        return _rejected(
            cdr.call_id, "call_id_conflict", "call_id: already used by another account's call."
        )
    if not _same_cdr(stored, cdr):
        return _rejected(
            cdr.call_id, "call_id_conflict", "call_id: already used by a different call."
        )
    return _call_result(stored, "duplicate")


def _call_ids_claim(*, claimants: dict[str, int], now: dt.datetime) -> set[str]:
    """Claim the call ids (id → account id) in one statement; the ids claimed. An id already
    claimed (by an earlier batch, or by a concurrent one, whose commit the INSERT waits for)
    is not. In id order, so that two batches claiming the same ids wait on them in the same
    order."""
    rows = rows_insert(
        model=CallKey,
        columns=("call_id", "account_id", "created_at"),
        rows=[(call_id, pk, now) for call_id, pk in sorted(claimants.items())],
        on_conflict="(call_id) DO NOTHING",
        returning=("call_id",),
    )
    return {row[0] for row in rows}


_CALL_COLUMNS = tuple(f.attname for f in Call._meta.concrete_fields if not f.primary_key)


def _calls_rate_and_store(
    *, cdrs: Sequence[CdrInput], now: dt.datetime, source: str, recheck: bool = False
) -> list[CallResult]:
    """The work of ``call_record_batch``, in the caller's transaction. Raises
    ``LedgerKeysTaken`` when a call's ledger key was posted already (the caller rolls back and
    calls again with ``recheck``: those keys read first, as ``ledger_post`` does), DomainError
    or IntegrityError when a write fails (the caller rolls back)."""
    codes = {cdr.account for cdr in cdrs}
    # Pricing first, before the locks (it reads plans, decks and numbers, none of which the
    # account lock guards): a batch holds its accounts' locks only to count, post and write.
    found = {account.code: account for account in Account.objects.filter(code__in=codes)}
    outside = {
        cdr: problem
        for cdr in cdrs
        if cdr.account in found
        and (
            problem := cdr_window_problem(
                start=cdr.start,
                account_created=found[cdr.account].created_at,
                now=now,
            )
        )
    }
    candidates = [cdr for cdr in cdrs if cdr.account in found and cdr not in outside]
    context = PricingContext(
        accounts=found.values(),
        numbers={number for cdr in candidates for number in (cdr.from_number, cdr.to_number)},
    )
    priced: dict[CdrInput, CallPricing | DomainError] = {}
    for cdr in candidates:
        try:
            priced[cdr] = call_price(account=found[cdr.account], cdr=cdr, context=context)
        except DomainError as exc:
            priced[cdr] = exc
    periods = {cdr: billing_period(account=found[cdr.account], at=cdr.start) for cdr in priced}
    locked = Account.objects.select_for_update().filter(code__in=found).order_by("pk")
    accounts = {account.code: account for account in locked}  # current balances
    claimants: dict[str, int] = {}  # call id → the account of its first CDR in the batch
    for cdr in candidates:
        if cdr.account in accounts:
            claimants.setdefault(cdr.call_id, accounts[cdr.account].pk)
    claimed = _call_ids_claim(claimants=claimants, now=now) if claimants else set()
    # Claimed before: the INSERT waited for their transactions, whose Calls are now visible.
    unclaimed = claimants.keys() - claimed
    earlier = (
        {call.call_id: call for call in Call.objects.filter(call_id__in=unclaimed)}
        if unclaimed
        else {}
    )
    posted = ledger_entries_posted(keys={f"call:{i}" for i in claimed}) if recheck else {}
    counters = UsageCounters(
        account_ids={account.pk for account in accounts.values()},
        periods={period.start for period in periods.values()},
    )
    results: list[CallResult] = []
    recorded: dict[str, tuple[CdrInput, Call]] = {}
    entries: list[NewEntry] = []
    policies = CdrPolicies(accounts=accounts.values(), context=context, now=now)
    for cdr in cdrs:
        account = accounts.get(cdr.account)
        if account is None:
            results.append(
                _rejected(cdr.call_id, "unknown_account", f"account: no account {cdr.account!r}.")
            )
            continue
        if cdr in outside:
            results.append(_rejected(cdr.call_id, *outside[cdr]))
            continue
        if cdr.call_id not in claimed:
            stored = earlier.get(cdr.call_id)
            results.append(_recorded_before(cdr=cdr, account_id=account.pk, stored=stored))
            continue
        if cdr.call_id in recorded:  # twice in this batch
            first, call = recorded[cdr.call_id]
            if first == cdr:
                results.append(_call_result(call, "duplicate"))
            else:
                results.append(_recorded_before(cdr=cdr, account_id=account.pk, stored=call))
            continue
        if claimants[cdr.call_id] != account.pk:
            results.append(
                _rejected(
                    cdr.call_id,
                    "call_id_conflict",
                    "call_id: already used by another account's call.",
                )
            )
            continue
        pricing = priced[cdr]
        if isinstance(pricing, DomainError):
            logger.info("cdr %s rejected: %s", cdr.call_id, pricing.message)
            results.append(_rejected(cdr.call_id, pricing.code, pricing.message))
            continue
        call = call_rate(
            account=account,
            cdr=cdr,
            pricing=pricing,
            period=periods[cdr],
            counters=counters,
            now=now,
            source=source,
        )
        call.refusal_flag = policies.flag(
            account=account,
            pricing=pricing,
            direction=cdr.direction,
            start=cdr.start,
            charge=call.charge,
        )
        key = f"call:{cdr.call_id}"
        if call.charge > 0 and key in posted:  # an entry without its Call: as ledger_post does
            call.ledger_entry = ledger_existing(
                entry=posted[key], account=account, amount=-call.charge
            ).entry
        elif call.charge > 0:
            entries.append(
                NewEntry(
                    account_id=account.pk,
                    amount=-call.charge,
                    kind=LedgerEntry.Kind.CALL,
                    description=f"Call {call.from_number} → {call.to_number}: {call.explanation}",
                    idempotency_key=key,
                    source_type="call",
                    source_id=cdr.call_id,
                    metadata={"billed_seconds": call.billed_seconds},
                )
            )
        recorded[cdr.call_id] = (cdr, call)
        results.append(_call_result(call, "rated"))  # its pk is set by the INSERT below
        logger.debug(
            "call %s account=%s %s billed=%ss included=%ss charge=%s",
            cdr.call_id,
            account.code,
            call.category,
            call.billed_seconds,
            call.included_seconds,
            call.charge,
        )
    posted_now = ledger_post_many(
        accounts={account.pk: account for account in accounts.values()}, entries=entries, now=now
    )
    calls = [call for _cdr, call in recorded.values()]
    for call in calls:
        entry = posted_now.get(f"call:{call.call_id}")
        if entry is not None:
            call.ledger_entry = entry
    counters.save()
    ids = rows_insert(
        model=Call,
        columns=_CALL_COLUMNS,
        rows=[tuple(getattr(call, name) for name in _CALL_COLUMNS) for call in calls],
        returning=("id", "call_id"),
    )
    by_call_id = dict((call_id, pk) for pk, call_id in ids)
    for call in calls:
        call.pk = by_call_id[call.call_id]
        call._state.adding = False
    unused = claimed - recorded.keys()  # claimed for CDRs that were then rejected
    if unused:
        CallKey.objects.filter(call_id__in=unused).delete()
    logger.info(
        "cdr batch: %s rated over %s account(s), %s not (duplicates, rejected)",
        len(calls),
        len({call.account_id for call in calls}),
        len(cdrs) - len(calls),
    )
    # The reservations of the recorded calls are released (each held by the call's account).
    rows_delete(
        model=CallReservation,
        columns=("account_id", "call_id"),
        rows=[(call.account_id, call.call_id) for call in calls],
    )
    return results
