"""Reading an account's channels: counts in force at a moment, prices, maximums, channels in
use, the history, the quote for a change, and the monthly recurring lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from billing.models import CallReservation, LedgerEntry
from billing.money import ZERO, format_usd, money
from billing.periods import Period
from billing.recurring import RecurringCharge
from billing.selectors.plans import billing_period
from portal.models import Account
from trunking.models import (
    KIND_NOUN,
    KINDS,
    ChannelChange,
    ChannelKind,
    ChannelMaximum,
    ChannelPrice,
    Trunk,
)
from trunking.proration import ProratedLine, prorated_line


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


def trunk_for_account(*, account: Account) -> Trunk | None:
    return Trunk.objects.filter(account=account).first()


def due_changes(*, account: Account, at: dt.datetime) -> list[ChannelChange]:
    """Pending decreases whose billing month has begun by ``at``, oldest first."""
    return list(
        ChannelChange.objects.filter(
            account=account, status=ChannelChange.Status.PENDING, effective_at__lte=at
        ).order_by("effective_at", "pk")
    )


def counts_at(*, account: Account, at: dt.datetime, trunk: Trunk | None = None) -> dict[str, int]:
    """The counts in force at ``at`` (now, or the start of a coming billing month): the stored
    counts with every pending decrease due by then applied."""
    trunk = trunk if trunk is not None else trunk_for_account(account=account)
    counts = trunk.counts() if trunk is not None else zero_counts()
    due = due_changes(account=account, at=at)
    if due:
        counts = {kind: int(due[-1].after.get(kind, 0)) for kind in KINDS}
    return counts


def pending_decrease(*, account: Account, now: dt.datetime) -> ChannelChange | None:
    """The decrease waiting for the next billing month, if any (at most one is pending)."""
    return (
        ChannelChange.objects.filter(
            account=account, status=ChannelChange.Status.PENDING, effective_at__gt=now
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def prices_for(*, day: dt.date) -> dict[str, Decimal]:
    """The monthly price per channel of each kind for a billing month starting on ``day``."""
    prices = {kind: ZERO for kind in KINDS}
    seen: set[str] = set()
    # One query for every kind: the price rows are few (one per kind and price change), and
    # the newest row of each kind effective by ``day`` comes first.
    rows = ChannelPrice.objects.filter(kind__in=KINDS, effective_from__lte=day).order_by(
        "kind", "-effective_from"
    )
    for row in rows:
        if row.kind not in seen:
            seen.add(row.kind)
            prices[row.kind] = money(row.monthly_price)
    return prices


def maximums_for(*, account: Account) -> dict[str, int]:
    """The most channels of each kind this account may order (its override, else the default,
    else none at all: a kind staff have not set up cannot be ordered)."""
    found = dict.fromkeys(KINDS, 0)
    rows = ChannelMaximum.objects.filter(account__isnull=True)
    found.update({row.kind: row.maximum for row in rows})
    overrides = ChannelMaximum.objects.filter(account=account)
    found.update({row.kind: row.maximum for row in overrides})
    return found


def channels_in_use(*, account: Account, now: dt.datetime) -> dict[str, int]:
    """Channels held right now: live reservations (a call authorised whose CDR has not come
    and whose reservation has not expired)."""
    in_use = zero_counts()
    live = CallReservation.objects.filter(
        account=account, expires_at__gt=now, channel_kind__isnull=False
    )
    for kind in live.values_list("channel_kind", flat=True):
        if kind in in_use:
            in_use[kind] += 1
    return in_use


def channel_history(*, account: Account, limit: int = 50) -> list[ChannelChange]:
    return list(
        ChannelChange.objects.filter(account=account).select_related("user", "ledger_entry")[:limit]
    )


def recurring_lines(counts: dict[str, int], prices: dict[str, Decimal]) -> list[RecurringCharge]:
    lines = []
    for kind in KINDS:
        quantity = counts.get(kind, 0)
        if quantity <= 0:
            continue
        plural = "channel" if quantity == 1 else "channels"
        lines.append(
            RecurringCharge(
                kind=LedgerEntry.Kind.TRUNK_FEE,
                code=f"trunk:{kind}",
                description=(
                    f"{quantity} {KIND_NOUN[ChannelKind(kind)]} {plural} × "
                    f"{format_usd(prices[kind])}"
                ),
                quantity=quantity,
                unit_price=prices[kind],
                amount=money(quantity * prices[kind]),
            )
        )
    return lines


def trunk_recurring(account: Account, period: Period) -> list[RecurringCharge]:
    """What ``account``'s trunks cost for the billing month ``period``: the counts in force at
    its start (pending decreases due by then applied) at the prices in effect on its first day.
    Registered with ``billing.recurring`` for the Service Plan page and the monthly cycle."""
    counts = counts_at(account=account, at=period.start)
    return recurring_lines(counts, prices_for(day=period.start_date))


def monthly_total(counts: dict[str, int], prices: dict[str, Decimal]) -> Decimal:
    return money(sum((line.amount for line in recurring_lines(counts, prices)), ZERO))


@dataclass(frozen=True)
class ChangeQuote:
    """What a change to ``wanted`` would do, now: the increases charged at once (prorated), and
    the counts from the next billing month (a decrease waits until then)."""

    current: dict[str, int]
    wanted: dict[str, int]
    now_counts: dict[str, int]  # in force at once: increases applied, decreases not yet
    period: Period
    next_period_start: dt.datetime
    lines: list[ProratedLine] = field(default_factory=list)
    charge: Decimal = ZERO
    monthly_total_now: Decimal = ZERO
    monthly_total_next: Decimal = ZERO
    pending_before: dict[str, int] | None = None  # the pending decrease's target, if one

    @property
    def decreases(self) -> bool:
        return self.wanted != self.now_counts

    @property
    def changes_anything(self) -> bool:
        target = self.pending_before if self.pending_before is not None else self.current
        return self.now_counts != self.current or self.wanted != target

    @property
    def explanation(self) -> str:
        return "; ".join(line.describe() for line in self.lines)

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(kind label, count now, count once confirmed, count from the next billing month)."""
        return [
            (ChannelKind(kind).label, self.current[kind], self.now_counts[kind], self.wanted[kind])
            for kind in KINDS
        ]


def change_quote(
    *, account: Account, wanted: dict[str, int], now: dt.datetime, trunk: Trunk | None = None
) -> ChangeQuote:
    current = counts_at(account=account, at=now, trunk=trunk)
    period = billing_period(account=account, at=now)
    prices = prices_for(day=period.start_date)
    next_prices = prices_for(day=period.end_date)
    now_counts = {kind: max(current[kind], wanted[kind]) for kind in KINDS}
    today = now.astimezone(account.tz).date()
    lines = [
        prorated_line(
            noun=KIND_NOUN[ChannelKind(kind)],
            added=now_counts[kind] - current[kind],
            unit_price=prices[kind],
            period=period,
            today=today,
        )
        for kind in KINDS
        if now_counts[kind] > current[kind] and prices[kind] > 0
    ]
    pending = pending_decrease(account=account, now=now)
    return ChangeQuote(
        current=current,
        wanted=dict(wanted),
        now_counts=now_counts,
        period=period,
        next_period_start=period.end,
        lines=lines,
        charge=money(sum((line.amount for line in lines), ZERO)),
        monthly_total_now=monthly_total(now_counts, prices),
        monthly_total_next=monthly_total(wanted, next_prices),
        pending_before=(
            {kind: int(pending.after.get(kind, 0)) for kind in KINDS}
            if pending is not None
            else None
        ),
    )


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    count: int
    unit_price: Decimal
    monthly_cost: Decimal
    in_use: int
    maximum: int
    next_count: int


@dataclass(frozen=True)
class TrunkSummary:
    rows: list[KindRow]
    monthly_total: Decimal
    version: int
    trunk_only: bool
    pending: ChannelChange | None
    period: Period

    def next_counts(self) -> dict[str, int]:
        return {row.kind: row.next_count for row in self.rows}


def trunk_summary(*, account: Account, now: dt.datetime) -> TrunkSummary:
    """Everything the Trunking page shows above its history."""
    trunk = trunk_for_account(account=account)
    counts = counts_at(account=account, at=now, trunk=trunk)
    period = billing_period(account=account, at=now)
    prices = prices_for(day=period.start_date)
    maximums = maximums_for(account=account)
    in_use = channels_in_use(account=account, now=now)
    pending = pending_decrease(account=account, now=now)
    rows = [
        KindRow(
            kind=kind,
            label=ChannelKind(kind).label,
            count=counts[kind],
            unit_price=prices[kind],
            monthly_cost=money(counts[kind] * prices[kind]),
            in_use=in_use[kind],
            maximum=maximums[kind],
            next_count=int(pending.after.get(kind, 0)) if pending is not None else counts[kind],
        )
        for kind in KINDS
    ]
    return TrunkSummary(
        rows=rows,
        monthly_total=monthly_total(counts, prices),
        version=trunk.version if trunk is not None else 0,
        trunk_only=trunk.trunk_only if trunk is not None else False,
        pending=pending,
        period=period,
    )
