"""Billing writes. ``ledger_post`` is the only function that changes a balance."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from django.conf import settings
from django.db import IntegrityError, models, transaction

from billing.models import (
    DID,
    AccountPlan,
    ApiClient,
    Call,
    CallReservation,
    LedgerEntry,
    Rate,
    RateDeck,
    ServicePlan,
    UsageCounter,
)
from billing.money import ZERO, format_usd, money
from billing.rating import CallFacts, Tariff, Usage, cost, rate_call
from billing.selectors import billing_period, call_pricing, included_seconds_used, plan_for_account
from billing.signals import balance_changed
from portal.errors import DomainError
from portal.models import Account, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posting:
    entry: LedgerEntry
    created: bool  # False when the idempotency key had already been posted


def _send_balance_changed(entry: LedgerEntry, before: Decimal) -> None:
    balance_changed.send_robust(
        sender=LedgerEntry,
        account_id=entry.account_id,
        entry_id=entry.pk,
        balance_before=before,
        balance_after=entry.balance_after,
    )


def ledger_post(
    *,
    account: Account | int,
    amount: Decimal,
    kind: str,
    description: str,
    idempotency_key: str,
    now: dt.datetime,
    source_type: str = "",
    source_id: str = "",
    created_by: User | None = None,
    reason: str = "",
    metadata: dict[str, Any] | None = None,
    reverses: LedgerEntry | None = None,
) -> Posting:
    """Append one entry and move the cached balance, exactly once per ``idempotency_key``.

    Locks the account row, so concurrent postings for one account serialise and none is lost.
    Posting a key that exists returns the existing entry and changes nothing. Runs in the
    caller's transaction when there is one (the caller's rollback undoes the posting too).
    """
    amount = money(amount)
    if amount == 0:
        raise DomainError("A ledger entry cannot be for $0.", code="zero_amount")
    if kind not in LedgerEntry.Kind.values:
        raise DomainError(f"Unknown ledger entry kind {kind!r}.", code="bad_kind")
    if not idempotency_key:
        raise DomainError("A ledger entry needs an idempotency key.", code="no_key")
    account_id = account if isinstance(account, int) else account.pk
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account_id)
            existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _existing(existing, account_id=account_id, amount=amount)
            before = locked.balance
            after = money(before + amount)
            entry = LedgerEntry.objects.create(
                account_id=account_id,
                amount=amount,
                kind=kind,
                description=description[:255],
                source_type=source_type,
                source_id=str(source_id),
                balance_after=after,
                idempotency_key=idempotency_key,
                created_at=now,
                created_by=created_by,
                reason=reason,
                metadata=metadata or {},
                reverses=reverses,
            )
            Account.objects.filter(pk=account_id).update(balance=after)
            if not isinstance(account, int):
                account.balance = after
            transaction.on_commit(lambda: _send_balance_changed(entry, before))
    except IntegrityError:
        # The unique key won a race outside the account lock (another account used it):
        # report the existing entry; the database guaranteed nothing was posted twice.
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _existing(existing, account_id=account_id, amount=amount)
    logger.info(
        "ledger: account=%s kind=%s amount=%s balance=%s key=%s",
        account_id,
        kind,
        amount,
        after,
        idempotency_key,
    )
    return Posting(entry=entry, created=True)


def _existing(entry: LedgerEntry, *, account_id: int, amount: Decimal) -> Posting:
    if entry.account_id != account_id or entry.amount != amount:
        logger.error(
            "ledger: idempotency key %s reused with different content (%s/%s vs %s/%s)",
            entry.idempotency_key,
            entry.account_id,
            entry.amount,
            account_id,
            amount,
        )
        raise DomainError(
            "This operation was already recorded with different details.",
            code="idempotency_conflict",
        )
    return Posting(entry=entry, created=False)


def ledger_adjust(
    *,
    account: Account,
    amount: Decimal,
    reason: str,
    staff_user: User,
    now: dt.datetime,
    idempotency_key: str | None = None,
    description: str | None = None,
) -> Posting:
    """A staff adjustment: records who and why. ``idempotency_key`` comes from the form."""
    reason = reason.strip()
    if not reason:
        raise DomainError("An adjustment needs a reason.", code="no_reason")
    if not staff_user.is_staff:
        raise DomainError("Only staff can adjust balances.", code="not_staff")
    amount = money(amount)
    return ledger_post(
        account=account,
        amount=amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description=description or ("Credit" if amount > 0 else "Debit") + f": {reason}",
        idempotency_key=idempotency_key or f"adjustment:{uuid.uuid4()}",
        now=now,
        source_type="staff",
        source_id=str(staff_user.pk),
        created_by=staff_user,
        reason=reason,
    )


def ledger_reverse(
    *, entry: LedgerEntry, reason: str, staff_user: User | None, now: dt.datetime
) -> Posting:
    """Undo an entry with an equal and opposite one (once: the key is the entry's id)."""
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise DomainError("A reversal cannot itself be reversed.", code="bad_reversal")
    return ledger_post(
        account=entry.account_id,
        amount=-entry.amount,
        kind=LedgerEntry.Kind.REVERSAL,
        description=f"Reversal of {entry.description} ({format_usd(entry.amount)})",
        idempotency_key=f"reversal:{entry.pk}",
        now=now,
        source_type="ledger_entry",
        source_id=str(entry.pk),
        created_by=staff_user,
        reason=reason,
        reverses=entry,
    )


# --- Rating: calls, authorizations, rate decks, plans, API clients ----------------------------

RESERVATION_GRACE = dt.timedelta(minutes=5)
RATE_IMPORT_BATCH = 5000
RATE_CSV_COLUMNS = ("prefix", "destination", "rate", "connect_fee", "initial", "increment")
_RATE_REQUIRED = {"prefix", "destination", "rate"}
_MAX_RATE = Decimal("999999.9999")  # DecimalField(max_digits=10, decimal_places=4)


def max_call_seconds() -> int:
    """The longest call the authorize API allows (and what on-net calls get)."""
    return int(getattr(settings, "BILLING_MAX_CALL_SECONDS", 4 * 3600))


@dataclass(frozen=True)
class CdrInput:
    """A finished call as the switch reports it (API or Master.csv), already parsed."""

    call_id: str
    account: str  # account code
    direction: str  # outbound | inbound | internal
    from_number: str
    to_number: str
    start: dt.datetime
    answer: dt.datetime | None
    end: dt.datetime
    billsec: int
    disposition: str = "ANSWERED"

    @property
    def answered(self) -> bool:
        return (
            self.answer is not None
            and self.billsec > 0
            and self.disposition.strip().upper() in ("", "ANSWERED")
        )


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


def _usage_counter(account: Account, period_start: dt.datetime, did: DID | None) -> UsageCounter:
    """The period's counter (created on first use). Call only under the account's row lock."""
    counter, _ = UsageCounter.objects.get_or_create(
        account=account, period_start=period_start, did=did
    )
    return counter


def _add_usage(counter: UsageCounter | None, seconds: int) -> None:
    if counter is not None and seconds:
        UsageCounter.objects.filter(pk=counter.pk).update(
            included_seconds_used=models.F("included_seconds_used") + seconds
        )


def call_record(*, cdr: CdrInput, now: dt.datetime, source: str = "api") -> CallResult:
    """Rate a finished call and post its charge, exactly once per ``call_id``.

    One transaction under the account's row lock: check the call id, read and update the
    included-minute counters of the call's billing month, store the Call, post the ledger entry
    (key ``call:<call_id>``) and release the call's reservation. Sending the same call id again
    returns ``duplicate`` and changes nothing; a call that cannot be rated (unknown account,
    number, destination or DID) is ``rejected`` and leaves no trace.
    """
    try:
        with transaction.atomic():
            account = Account.objects.select_for_update().filter(code=cdr.account).first()
            if account is None:
                return _rejected(
                    cdr.call_id, "unknown_account", f"account: no account {cdr.account!r}."
                )
            existing = Call.objects.filter(call_id=cdr.call_id).first()
            if existing is not None:
                if existing.account_id != account.pk:
                    return _rejected(
                        cdr.call_id,
                        "call_id_conflict",
                        "call_id: already used by another account's call.",
                    )
                return _call_result(existing, "duplicate")
            call = _call_rate_and_store(account=account, cdr=cdr, now=now, source=source)
    except DomainError as exc:
        logger.info("cdr %s rejected: %s", cdr.call_id, exc.message)
        return _rejected(cdr.call_id, exc.code, exc.message)
    except IntegrityError:
        # The same call id committed by another account's transaction in between.
        existing = Call.objects.filter(call_id=cdr.call_id).first()
        if existing is None:
            raise
        if existing.account.code != cdr.account:
            return _rejected(
                cdr.call_id, "call_id_conflict", "call_id: already used by another account's call."
            )
        return _call_result(existing, "duplicate")
    return _call_result(call, "rated")


def _call_rate_and_store(*, account: Account, cdr: CdrInput, now: dt.datetime, source: str) -> Call:
    pricing = call_pricing(
        account=account,
        direction=cdr.direction,
        from_number=cdr.from_number,
        to_number=cdr.to_number,
        at=cdr.start,
    )
    period = billing_period(account=account, at=cdr.start)
    counter = did_counter = None
    usage = Usage()
    if cdr.answered and pricing.included and not pricing.on_net:
        counter = _usage_counter(account, period.start, None)
        if pricing.did_cap_seconds is not None and pricing.did is not None:
            did_counter = _usage_counter(account, period.start, pricing.did)
        usage = Usage(
            included_used=counter.included_seconds_used,
            did_cap_seconds=pricing.did_cap_seconds,
            did_used=did_counter.included_seconds_used if did_counter is not None else 0,
        )
    rating = rate_call(
        call=CallFacts(
            billsec=cdr.billsec,
            answered=cdr.answered,
            on_net=pricing.on_net,
            destination=pricing.destination,
            included=pricing.included,
            incoming=cdr.direction == Call.Direction.INBOUND,
        ),
        plan=pricing.terms,
        usage=usage,
        price=pricing.price,
    )
    _add_usage(counter, rating.included_seconds)
    _add_usage(did_counter, rating.did_seconds)
    info = pricing.number
    call = Call.objects.create(
        account=account,
        call_id=cdr.call_id,
        direction=Call.Direction.INTERNAL if pricing.on_net else cdr.direction,
        from_number=cdr.from_number[:40],
        to_number=(
            info.e164
            if info is not None and cdr.direction == Call.Direction.OUTBOUND
            else cdr.to_number
        )[:40],
        destination=pricing.destination[:120],
        did=pricing.did,
        started_at=cdr.start,
        answered_at=cdr.answer,
        ended_at=cdr.end,
        billsec=max(0, cdr.billsec),
        disposition=cdr.disposition[:20],
        period_start=period.start,
        category=rating.category,
        billed_seconds=rating.billable_seconds,
        included_seconds=rating.included_seconds,
        paid_seconds=rating.paid_seconds,
        rate=rating.rate,
        connect_fee=rating.connect_fee,
        charge=rating.charge,
        explanation=rating.explanation[:255],
        source=source[:10],
        created_at=now,
    )
    if rating.charge > 0:
        posting = ledger_post(
            account=account,
            amount=-rating.charge,
            kind=LedgerEntry.Kind.CALL,
            description=f"Call {call.from_number} → {call.to_number}: {rating.explanation}",
            idempotency_key=f"call:{cdr.call_id}",
            now=now,
            source_type="call",
            source_id=cdr.call_id,
            metadata={"call_pk": call.pk, "billed_seconds": rating.billable_seconds},
        )
        call.ledger_entry = posting.entry
        call.save(update_fields=["ledger_entry"])
    CallReservation.objects.filter(call_id=cdr.call_id, account=account).delete()
    logger.info(
        "call %s account=%s %s billed=%ss included=%ss charge=%s",
        cdr.call_id,
        account.code,
        rating.category,
        rating.billable_seconds,
        rating.included_seconds,
        rating.charge,
    )
    return call


@dataclass(frozen=True)
class AuthorizeInput:
    call_id: str
    account: str  # account code
    direction: str
    from_number: str
    to_number: str


@dataclass(frozen=True)
class AuthorizeResult:
    call_id: str
    allowed: bool
    reason: str | None  # None when allowed; else a stable code (insufficient_balance, …)
    max_seconds: int
    rate: Decimal  # per minute once nothing is included (0 on-net)
    included_seconds: int = 0  # of max_seconds, how many come from included minutes
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "allowed": self.allowed,
            "reason": self.reason,
            "max_seconds": self.max_seconds,
            "rate": str(money(self.rate)),
            "included_seconds": self.included_seconds,
            "message": self.message,
        }


def affordable_seconds(*, budget: Decimal, tariff: Tariff, limit: int) -> int:
    """The longest call (in whole billing blocks, at most ``limit``) that ``budget`` pays for
    at ``tariff``, connection fee included; 0 if not even the first block."""
    if limit <= 0:
        return 0
    left = budget - tariff.connect_fee
    if left < 0 or (left == 0 and tariff.rate > 0):
        return 0
    if tariff.rate <= 0:
        return limit
    seconds = int(left * 60 / tariff.rate)
    if seconds < tariff.initial:
        return 0
    seconds = tariff.initial + (seconds - tariff.initial) // tariff.increment * tariff.increment
    while seconds > tariff.initial and money(cost(seconds, tariff.rate) + tariff.connect_fee) > (
        budget
    ):
        seconds -= tariff.increment  # rounding half up may push the last block over
    return min(seconds, limit)


def call_authorize(*, request: AuthorizeInput, now: dt.datetime) -> AuthorizeResult:
    """May this call start, and for how long? Reserves the call's credit and included seconds.

    Under the account's row lock, so two authorizations of one account are serialised and
    cannot both spend the same last dollar: each counts what active reservations hold. Balance
    at or below zero refuses every call (included and on-net too, SPEC §4). Asking again for
    the same ``call_id`` returns the existing reservation.
    """

    def refuse(reason: str, message: str, rate: Decimal = ZERO) -> AuthorizeResult:
        return AuthorizeResult(request.call_id, False, reason, 0, rate, 0, message)

    with transaction.atomic():
        account = Account.objects.select_for_update().filter(code=request.account).first()
        if account is None:
            return refuse("unknown_account", f"No account {request.account!r}.")
        if not account.is_active:
            return refuse("account_suspended", "The account is not active.")
        existing = CallReservation.objects.filter(call_id=request.call_id).first()
        mine = existing is not None and existing.account_id == account.pk
        if existing is not None and mine and existing.expires_at <= now:
            existing.delete()  # a stale reservation of this very call: decide afresh
            existing = None
        if existing is not None and mine:
            return AuthorizeResult(
                request.call_id,
                True,
                None,
                existing.max_seconds,
                existing.rate,
                existing.included_seconds,
                "already authorized",
            )
        if existing is not None or Call.objects.filter(call_id=request.call_id).exists():
            return refuse("duplicate_call_id", "This call_id was already used.")
        if account.balance <= 0:
            return refuse("insufficient_balance", "The balance is at or below zero.")
        try:
            pricing = call_pricing(
                account=account,
                direction=request.direction,
                from_number=request.from_number,
                to_number=request.to_number,
                at=now,
            )
        except DomainError as exc:
            return refuse(exc.code, exc.message)
        limit = max_call_seconds()
        held = CallReservation.objects.filter(account=account, expires_at__gt=now).aggregate(
            amount=models.Sum("amount"), seconds=models.Sum("included_seconds")
        )
        budget = account.balance - (held["amount"] or ZERO)
        included_part = paid_part = 0
        amount = ZERO
        tariff: Tariff | None = pricing.price
        if pricing.on_net:
            max_seconds, rate = limit, ZERO
        else:
            if pricing.included and pricing.terms is not None:
                period = billing_period(account=account, at=now)
                used = included_seconds_used(account=account, period_start=period.start)
                left = pricing.terms.included_seconds - used - (held["seconds"] or 0)
                included_part = max(0, min(left, limit))
                tariff = pricing.terms.overage
                if pricing.did_cap_seconds is not None and pricing.did is not None:
                    did_row = UsageCounter.objects.filter(
                        account=account, period_start=period.start, did=pricing.did
                    ).first()
                    did_used = did_row.included_seconds_used if did_row is not None else 0
                    cap_left = max(0, pricing.did_cap_seconds - did_used)
                    if cap_left < included_part:
                        included_part, tariff = cap_left, pricing.price
            assert tariff is not None
            rate = money(tariff.rate)
            paid_part = affordable_seconds(
                budget=budget, tariff=tariff, limit=limit - included_part
            )
            if paid_part:
                amount = money(cost(paid_part, tariff.rate) + tariff.connect_fee)
            max_seconds = included_part + paid_part
            if max_seconds <= 0:
                return refuse(
                    "insufficient_balance",
                    "The available balance (less calls in progress) does not cover a minute.",
                    rate,
                )
        CallReservation.objects.create(
            account=account,
            call_id=request.call_id,
            direction=request.direction,
            to_number=request.to_number[:40],
            amount=amount,
            rate=rate,
            included_seconds=included_part,
            max_seconds=max_seconds,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=max_seconds) + RESERVATION_GRACE,
        )
    return AuthorizeResult(request.call_id, True, None, max_seconds, rate, included_part, "")


def reservation_expire(*, now: dt.datetime) -> int:
    """Drop reservations whose call never reported a CDR in time; returns how many."""
    deleted, _ = CallReservation.objects.filter(expires_at__lte=now).delete()
    if deleted:
        logger.info("expired %s stale call reservations", deleted)
    return deleted


@dataclass(frozen=True)
class ImportReport:
    deck: RateDeck
    rows: int
    created: int
    updated: int
    deleted: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Deck {self.deck.name!r}: {self.rows} rows read, {self.created} created, "
            f"{self.updated} updated, {self.deleted} deleted in {self.seconds:.1f} s"
        )


def _rate_decimal(value: str, field_name: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{field_name}: {value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{field_name}: {value!r} is not a number")
    if amount < 0:
        raise ValueError(f"{field_name}: {value} is negative")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"{field_name}: {value} has more than 4 decimal places")
    if amount > _MAX_RATE:
        raise ValueError(f"{field_name}: {value} is too large")
    return amount


def _rate_seconds(value: str, field_name: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 3600:
        raise ValueError(f"{field_name}: {value!r} is not a whole number of seconds 1-3600")
    return int(value)


def _rate_row(row: dict[str, str]) -> Rate:
    prefix = row.get("prefix", "")
    if not prefix.isdigit() or len(prefix) > 20 or not prefix.isascii():
        raise ValueError(f"prefix: {prefix!r} is not 1-20 digits")
    destination = row.get("destination", "")
    if not destination or len(destination) > 120:
        raise ValueError("destination: empty or longer than 120 characters")
    return Rate(
        prefix=prefix,
        destination=destination,
        rate=_rate_decimal(row.get("rate", ""), "rate"),
        connect_fee=_rate_decimal(row.get("connect_fee") or "0", "connect_fee"),
        initial=_rate_seconds(row.get("initial") or "60", "initial"),
        increment=_rate_seconds(row.get("increment") or "60", "increment"),
    )


def rate_deck_parse(csv_file: TextIO) -> list[Rate]:
    """Validate a whole rate CSV; raises DomainError ``bad_rate_file`` listing every bad row
    (line number and reason). Returns unsaved rows."""
    reader = csv.reader(csv_file)
    header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
    problems: list[str] = []
    if not set(header) >= _RATE_REQUIRED:
        missing = ", ".join(sorted(_RATE_REQUIRED - set(header)))
        raise DomainError(
            f"line 1: the header needs prefix,destination,rate (missing {missing or 'all'}).",
            code="bad_rate_file",
        )
    unknown = [h for h in header if h not in RATE_CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        problems.append(f"line 1: unknown or repeated columns {', '.join(unknown) or header}")
    rates: list[Rate] = []
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(f"line {line}: {len(values)} fields, the header has {len(header)}")
            continue
        try:
            rate = _rate_row({k: v.strip() for k, v in zip(header, values, strict=True)})
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if rate.prefix in seen:
            problems.append(f"line {line}: prefix: {rate.prefix} repeats line {seen[rate.prefix]}")
            continue
        seen[rate.prefix] = line
        rates.append(rate)
    if not rates and not problems:
        problems.append("the file has no rate rows")
    if problems:
        raise DomainError(
            f"{len(problems)} bad row(s); nothing was imported:\n" + "\n".join(problems),
            code="bad_rate_file",
        )
    return rates


def rate_deck_import(
    *, deck_name: str, csv_file: TextIO, replace: bool, now: dt.datetime
) -> ImportReport:
    """Import a rate CSV (``prefix,destination,rate[,connect_fee,initial,increment]``) into
    the deck ``deck_name`` (created if new). All or nothing: the whole file is validated first.
    Without ``replace`` rows are upserted by prefix and other rows kept; with it the deck
    becomes exactly the file. Bulk inserts in batches: 100k rows take seconds."""
    started = time.monotonic()
    deck_name = deck_name.strip()
    if not deck_name or len(deck_name) > 100:
        raise DomainError("A deck needs a name of 1-100 characters.", code="bad_deck_name")
    rates = rate_deck_parse(csv_file)
    with transaction.atomic():
        deck, _ = RateDeck.objects.get_or_create(name=deck_name)
        RateDeck.objects.filter(pk=deck.pk).update(updated_at=now)
        deleted = 0
        existing: set[str] = set()
        if replace:
            deleted, _ = Rate.objects.filter(deck=deck).delete()
        else:
            existing = set(Rate.objects.filter(deck=deck).values_list("prefix", flat=True))
        for rate in rates:
            rate.deck = deck
        for i in range(0, len(rates), RATE_IMPORT_BATCH):
            Rate.objects.bulk_create(
                rates[i : i + RATE_IMPORT_BATCH],
                update_conflicts=not replace,
                unique_fields=None if replace else ["deck", "prefix"],
                update_fields=None
                if replace
                else ["destination", "rate", "connect_fee", "initial", "increment"],
            )
    updated = sum(1 for r in rates if r.prefix in existing)
    report = ImportReport(
        deck=deck,
        rows=len(rates),
        created=len(rates) - updated,
        updated=updated,
        deleted=deleted,
        seconds=time.monotonic() - started,
    )
    logger.info("rate import: %s", report)
    return report


def account_plan_set(*, account: Account, plan: ServicePlan, now: dt.datetime) -> AccountPlan:
    """Put ``account`` on ``plan``: from the next billing period, or from the start of the
    current one when the account has no plan now. Replaces a pending (future) change."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        period = billing_period(account=account, at=now)
        current = plan_for_account(account=account, at=now)
        AccountPlan.objects.filter(account=account, starts_at__gt=now).delete()
        if current is not None and current.pk == plan.pk:
            return AccountPlan.objects.filter(account=account, starts_at__lte=now).latest(
                "starts_at"
            )
        starts_at = period.start if current is None else period.end
        row, _ = AccountPlan.objects.update_or_create(
            account=account, starts_at=starts_at, defaults={"plan": plan}
        )
    logger.info("account %s: plan %s from %s", account.code, plan.name, starts_at)
    return row


def api_client_create(*, name: str) -> tuple[ApiClient, str]:
    """A new switch API client. Returns the token once; only its SHA-256 hash is stored."""
    name = name.strip()
    if not name:
        raise DomainError("An API client needs a name.", code="bad_name")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(f"An API client named {name!r} exists.", code="duplicate_name")
    token = "cc_" + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        token_prefix=token[:10],
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    return client, token
