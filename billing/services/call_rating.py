"""Rating one CDR of a batch in memory: its price, its included seconds counted against the
batch's included-minute counters (read once, written once), the unsaved Call."""

from __future__ import annotations

import datetime as dt

from billing.models import Call, UsageCounter
from billing.periods import Period
from billing.rating import CallFacts, Usage, rate_call
from billing.selectors.pricing import CallPricing, PricingContext, call_pricing
from billing.selectors.usage import usage_counter_rows
from billing.services.bulk_rows import rows_insert, rows_update
from billing.services.cdr_input import CdrInput
from portal.models import Account

CounterKey = tuple[int, dt.datetime, int | None]  # account id, period start, DID id (capped DIDs)


class UsageCounters:
    """The included-minute counters of a batch's accounts and billing periods: read once (under
    the accounts' row locks, which every counter update holds), counted in memory, written once
    at the end: new counters inserted with their totals, the others incremented by theirs, in
    one statement each."""

    def __init__(self, *, account_ids: set[int], periods: set[dt.datetime]) -> None:
        self._account_ids, self._periods = account_ids, periods
        self._rows: dict[CounterKey, UsageCounter] | None = None
        self._added: dict[CounterKey, int] = {}

    def used(self, key: CounterKey) -> int:
        if self._rows is None:
            self._rows = usage_counter_rows(
                account_ids=self._account_ids, period_starts=self._periods
            )
        row = self._rows.get(key)
        return (row.included_seconds_used if row is not None else 0) + self._added.get(key, 0)

    def add(self, key: CounterKey, seconds: int) -> None:
        if seconds:
            self._added[key] = self._added.get(key, 0) + seconds

    def save(self) -> None:
        """New counters in one INSERT, the others incremented in one UPDATE."""
        rows = self._rows or {}
        rows_insert(
            model=UsageCounter,
            columns=("account_id", "period_start", "did_id", "included_seconds_used"),
            rows=[(*key, s) for key, s in self._added.items() if key not in rows],
        )
        rows_update(
            model=UsageCounter,
            key="id",
            columns=["included_seconds_used"],
            rows=[(rows[key].pk, s) for key, s in self._added.items() if key in rows],
            increment=True,
        )


def call_price(*, account: Account, cdr: CdrInput, context: PricingContext) -> CallPricing:
    """What a CDR costs before counting included minutes: its destination, price, plan terms
    and DID. Raises DomainError when it cannot be priced (unknown destination, number, DID)."""
    return call_pricing(
        account=account,
        direction=cdr.direction,
        from_number=cdr.from_number,
        to_number=cdr.to_number,
        at=cdr.start,
        context=context,
    )


def call_rate(
    *,
    account: Account,
    cdr: CdrInput,
    pricing: CallPricing,
    period: Period,
    counters: UsageCounters,
    now: dt.datetime,
    source: str,
) -> Call:
    """Rate one priced CDR of a batch: the (unsaved) Call, its included seconds counted in
    ``counters`` (in the batch's order: the caller holds the account's lock)."""
    account_key = did_key = None
    usage = Usage()
    if cdr.answered and pricing.included and not pricing.on_net:
        account_key = (account.pk, period.start, None)
        if pricing.did_cap_seconds is not None and pricing.did is not None:
            did_key = (account.pk, period.start, pricing.did.pk)
        usage = Usage(
            included_used=counters.used(account_key),
            did_cap_seconds=pricing.did_cap_seconds,
            did_used=counters.used(did_key) if did_key is not None else 0,
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
    if account_key is not None:
        counters.add(account_key, rating.included_seconds)
    if did_key is not None:
        counters.add(did_key, rating.did_seconds)
    info = pricing.number
    call = Call(
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
    return call
