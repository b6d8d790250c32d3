"""The rating engine's core: one pure function, no database.

``rate_call`` takes the facts of a finished call, the plan's terms, the usage so far in the
call's billing month and the price that applies when minutes are not included, and decides
billable / included / paid seconds, the charge and a one-line explanation.

Rules (SPEC §4):
- Unanswered calls cost nothing and use nothing. On-net calls are free and not counted.
- A call to an included destination (or into an included DID) uses the plan's included minutes
  first, then the rest is overage at the plan's price. One call may straddle the boundary: with
  500 included minutes, minute 501 of the billing month is the first paid one.
- An included DID may have a monthly cap per DID: beyond it, the DID's own rate applies.
- Anything else is billed at its price (rate-deck row, or the DID group's rate); it uses no
  included minutes.
- Seconds are rounded up by the price's initial/increment blocks (60/60 = per started minute);
  an included call is rounded by the plan's overage blocks, so 60/60 plans count whole started
  minutes. A connection fee applies to a paid call (or the paid part of one); a minimum charge
  lifts a small paid charge up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from billing.money import ZERO, format_usd, money
from portal.errors import DomainError


class Category(StrEnum):
    """How a call was billed. ``Call.Category`` stores these same values (a test keeps the two
    in step); this module imports no models so that it stays a pure function."""

    UNANSWERED = "unanswered"
    ON_NET = "on_net"
    INCLUDED = "included"
    OVERAGE = "overage"
    RATED = "rated"
    DID_RATE = "did_rate"


@dataclass(frozen=True, slots=True)  # slots: a rate deck in memory holds one per price
class Tariff:
    """A per-minute price with its billing blocks."""

    rate: Decimal  # USD per minute
    initial: int = 60  # seconds of the first billed block
    increment: int = 60  # seconds of each later block
    connect_fee: Decimal = ZERO
    minimum_charge: Decimal = ZERO
    label: str = ""  # where the price comes from, e.g. "Cyprus" or "USA PN Group A"


@dataclass(frozen=True)
class PlanTerms:
    name: str
    included_seconds: int  # included minutes * 60
    overage: Tariff


@dataclass(frozen=True)
class CallFacts:
    billsec: int  # answered seconds
    answered: bool = True
    on_net: bool = False
    destination: str = ""  # for people: "Germany landline", "USA", "Cyprus"
    included: bool = False  # the destination / DID group counts against included minutes
    incoming: bool = False


@dataclass(frozen=True)
class Usage:
    """Included seconds already used in the call's billing month (before this call)."""

    included_used: int = 0
    did_cap_seconds: int | None = None  # the DID's monthly cap of included seconds, if any
    did_used: int = 0  # included seconds already used on this DID this month


@dataclass(frozen=True)
class Rating:
    category: str
    billable_seconds: int
    included_seconds: int
    paid_seconds: int
    rate: Decimal  # per-minute price applied to the paid seconds (0 when none are paid)
    connect_fee: Decimal
    charge: Decimal  # positive: what the customer pays; posted as a negative ledger entry
    explanation: str
    did_seconds: int = 0  # included seconds to add to the DID's monthly counter


def billable_seconds(seconds: int, *, initial: int, increment: int) -> int:
    """Round answered seconds up: the first block is ``initial`` s, then ``increment`` s."""
    if seconds <= 0:
        return 0
    if seconds <= initial:
        return initial
    blocks = -(-(seconds - initial) // increment)  # ceiling division
    return initial + blocks * increment


def cost(seconds: int, rate: Decimal) -> Decimal:
    """Price of ``seconds`` at ``rate`` per minute, 4 places (the one rounding helper)."""
    return money(Decimal(seconds) * rate / 60)


def duration(seconds: int) -> str:
    """``180`` → ``3 min``; ``90`` → ``1 min 30 s``; ``45`` → ``45 s``."""
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    if minutes:
        return f"{minutes} min"
    return f"{rest} s"


def _minutes(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return str(minutes) if not rest else f"{Decimal(seconds) / 60:.1f}"


def _per_min(rate: Decimal) -> str:
    return f"{format_usd(rate, places=4)}/min"


def _paid_charge(seconds: int, tariff: Tariff) -> tuple[Decimal, str]:
    """Charge for the paid seconds (fee and minimum included) and the words for its extras."""
    charge = money(cost(seconds, tariff.rate) + tariff.connect_fee)
    extras = ""
    if tariff.connect_fee:
        extras += f" + {format_usd(tariff.connect_fee, places=4)} connection fee"
    if tariff.minimum_charge and charge < tariff.minimum_charge:
        charge = money(tariff.minimum_charge)
        extras += f", minimum charge {format_usd(charge, places=4)}"
    return charge, extras


def rate_call(
    *, call: CallFacts, plan: PlanTerms | None, usage: Usage, price: Tariff | None
) -> Rating:
    """Rate one call. ``price`` is the not-included price (deck row or DID group rate); it may
    be None only for calls that cannot need it. Raises DomainError ``unknown_destination``."""
    label = call.destination or "Call"
    if not call.answered or call.billsec <= 0:
        return Rating(Category.UNANSWERED, 0, 0, 0, ZERO, ZERO, ZERO, f"{label} — not answered")
    if call.on_net:
        return Rating(
            Category.ON_NET, 0, 0, 0, ZERO, ZERO, ZERO, f"{label} — on-net, free, not counted"
        )
    if call.included and plan is not None:
        return _rate_included(call=call, plan=plan, usage=usage, price=price, label=label)
    if price is None:
        raise DomainError(f"No price for {label}.", code="unknown_destination")
    billable = billable_seconds(call.billsec, initial=price.initial, increment=price.increment)
    charge, extras = _paid_charge(billable, price)
    category = Category.DID_RATE if call.incoming else Category.RATED
    why = ", not included" if call.incoming else ""
    return Rating(
        category=category,
        billable_seconds=billable,
        included_seconds=0,
        paid_seconds=billable,
        rate=money(price.rate),
        connect_fee=money(price.connect_fee),
        charge=charge,
        explanation=(
            f"{label} — {duration(billable)} at {_per_min(price.rate)}{extras} "
            f"= {format_usd(charge, places=4)}{why}"
        ),
    )


def _rate_included(
    *, call: CallFacts, plan: PlanTerms, usage: Usage, price: Tariff | None, label: str
) -> Rating:
    overage = plan.overage
    billable = billable_seconds(call.billsec, initial=overage.initial, increment=overage.increment)
    plan_left = max(0, plan.included_seconds - usage.included_used)
    left = plan_left
    cap_binds = False
    if usage.did_cap_seconds is not None:
        did_left = max(0, usage.did_cap_seconds - usage.did_used)
        if did_left < plan_left:
            left, cap_binds = did_left, True
    included = min(billable, left)
    paid = billable - included
    tariff = overage
    if paid and cap_binds:
        if price is None:
            raise DomainError(f"No DID rate for {label}.", code="unknown_destination")
        tariff = price
    counter = (
        f"({_minutes(usage.included_used)}→{_minutes(usage.included_used + included)} "
        f"of {_minutes(plan.included_seconds)})"
    )
    did_seconds = included if usage.did_cap_seconds is not None else 0
    if not paid:
        return Rating(
            Category.INCLUDED,
            billable,
            included,
            0,
            ZERO,
            ZERO,
            ZERO,
            f"{label} — {duration(included)} included {counter}",
            did_seconds,
        )
    charge, extras = _paid_charge(paid, tariff)
    if cap_binds:
        what = f"over this DID's monthly cap of {_minutes(usage.did_cap_seconds or 0)} min"
    else:
        what = "overage"
    paid_words = (
        f"{duration(paid)} {what} at {_per_min(tariff.rate)}{extras} "
        f"= {format_usd(charge, places=4)}"
    )
    if included:
        explanation = f"{label} — {duration(included)} included, {paid_words}"
    elif cap_binds:
        explanation = f"{label} — {paid_words}"
    else:
        explanation = (
            f"{label} — {paid_words} (all {_minutes(plan.included_seconds)} included min used)"
        )
    return Rating(
        category=Category.OVERAGE if included or not cap_binds else Category.DID_RATE,
        billable_seconds=billable,
        included_seconds=included,
        paid_seconds=paid,
        rate=money(tariff.rate),
        connect_fee=money(tariff.connect_fee),
        charge=charge,
        explanation=explanation,
        did_seconds=did_seconds,
    )
