"""Demo data for ``make run``: the demo account's card payments, then the account on Starter
with a few numbers and a realistic billing month of calls, every one recorded through
``call_record``.

Idempotent: each payment has a stable ledger key; the plan, numbers and extensions are
get-or-create, and each call has a stable id per billing period, so running the seeder again
records nothing twice. The month is laid out so that the Calls page and the minutes meter show
every case of the billing FAQ: included calls, one call straddling the 500th minute, overage,
Cyprus at its deck rate, a UK mobile, incoming calls on a USA number (included) and on a Personal
Number Group A number (billed), an on-net call and unanswered calls.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.models import BillingProfile, Deposit, LedgerEntry, ServicePlan
from billing.periods import period_containing
from billing.services.calls import call_record
from billing.services.cdr_input import CdrInput
from billing.services.ledger import ledger_post
from billing.services.numbers import did_add, extension_add
from billing.services.plans import account_plan_set
from portal.models import Account


def seed_demo(account: Account, now: dt.datetime) -> None:
    """The card payments first, then the month of calls."""
    _seed_payments(account, now)
    _seed_calls(account, now)


_DEMO_PAYMENTS = [
    # days ago, amount, kind
    (40, "50.00", Deposit.Kind.DEPOSIT),
    (12, "25.00", Deposit.Kind.DEPOSIT),
    (3, "25.00", Deposit.Kind.AUTO_RECHARGE),
]


def _seed_payments(account: Account, now: dt.datetime) -> None:
    """Some card payments (and their history) for the demo account."""
    BillingProfile.objects.get_or_create(account=account)
    for index, (days, amount, kind) in enumerate(_DEMO_PAYMENTS):
        key = f"stripe:pi_demo_{account.code}_{index}"
        if LedgerEntry.objects.filter(idempotency_key=key).exists():
            continue
        when = now - dt.timedelta(days=days)
        deposit = Deposit.objects.create(
            account=account,
            kind=kind,
            amount=Decimal(amount),
            status=Deposit.Status.SUCCEEDED,
            key=uuid.uuid4(),
            stripe_payment_intent_id=key.removeprefix("stripe:"),
            card_brand="visa",
            card_last4="4242",
            created_at=when,
            updated_at=when,
            completed_at=when,
        )
        label = (
            "Auto-recharge by card"
            if kind == Deposit.Kind.AUTO_RECHARGE
            else "Credit added by card"
        )
        posting = ledger_post(
            account=account,
            amount=Decimal(amount),
            kind=kind,
            description=f"{label} (Visa •••• 4242)",
            idempotency_key=key,
            now=when,
            source_type="deposit",
            source_id=str(deposit.pk),
        )
        Deposit.objects.filter(pk=deposit.pk).update(ledger_entry=posting.entry)


MAIN_LINE = "+12125550140"
SUPPORT_LINE = "+12125550141"
PN_LINE = "+14065550187"  # USA PN Group A: billed at its own rate, not included
DIDS = [
    (MAIN_LINE, "USA standard", "Main line"),
    (SUPPORT_LINE, "USA standard", "Support"),
    (PN_LINE, "USA PN Group A", "Billings, MT office"),
]
EXTENSIONS = [
    ("101", "Reception"),
    ("102", "Dr. Patel"),
    ("103", "Billing office"),
    ("104", "Hygiene"),
]

US_NUMBERS = ["+12125550199", "+13125550147", "+12015550123", "+16175550110", "+14155550162"]
INCLUDED_ABROAD = ["+4930901820", "+33142685300", "+442079460123", "+16135550123", "+6561234567"]
CALLERS = ["+13055550199", "+17185550134", "+12025550171"]

INCLUDED_MINUTES_BEFORE_STRADDLE = 494  # then an 11-minute call: 6 included + 5 overage


@dataclass(frozen=True)
class _Call:
    direction: str
    from_number: str
    to_number: str
    billsec: int
    disposition: str = "ANSWERED"


def _month_of_calls(rng: random.Random) -> list[_Call]:
    """The month in order. Included calls add up to 494 billed minutes (60/60), then one call
    crosses the 500th minute, then overage; the other cases are interleaved."""
    included: list[_Call] = []
    billed = 0
    while billed < INCLUDED_MINUTES_BEFORE_STRADDLE - 12:
        kind = rng.random()
        seconds = rng.randint(40, 14 * 60)
        if kind < 0.6:
            call = _Call(
                "outbound", rng.choice(["101", "102", "103"]), rng.choice(US_NUMBERS), seconds
            )
        elif kind < 0.75:
            call = _Call(
                "outbound", rng.choice(["101", "102"]), rng.choice(INCLUDED_ABROAD), seconds
            )
        else:
            to = rng.choice([MAIN_LINE, SUPPORT_LINE])
            call = _Call("inbound", rng.choice(CALLERS), to, seconds)
        included.append(call)
        billed += -(-seconds // 60)
    last = (INCLUDED_MINUTES_BEFORE_STRADDLE - billed) * 60 - 15
    included.append(_Call("outbound", "101", US_NUMBERS[0], last))
    others = {
        3: _Call("internal", "101", "102", 250),
        8: _Call("outbound", "102", "+35722123456", 7 * 60 + 12),  # Cyprus landline, deck rate
        14: _Call("outbound", "103", US_NUMBERS[1], 0, "NO ANSWER"),
        21: _Call("inbound", "+13055550123", PN_LINE, 9 * 60 + 40),  # PN Group A: billed
        33: _Call("outbound", "101", "+447911123456", 3 * 60 + 5),  # UK mobile, deck rate
        47: _Call("outbound", "102", US_NUMBERS[2], 0, "BUSY"),
        60: _Call("internal", "104", "101", 95),
        52: _Call("inbound", "+17185550134", PN_LINE, 4 * 60 + 2),
    }
    month: list[_Call] = []
    for index, call in enumerate(included):
        if index in others:
            month.append(others[index])
        month.append(call)
    month.append(_Call("outbound", "102", US_NUMBERS[3], 10 * 60 + 30))  # straddles minute 500
    month.append(_Call("outbound", "101", US_NUMBERS[4], 3 * 60 + 41))  # overage
    month.append(_Call("inbound", CALLERS[0], MAIN_LINE, 2 * 60 + 10))  # overage, incoming
    month.append(_Call("outbound", "103", "+4930901820", 5 * 60 + 2))  # overage, Germany
    return month


def _office_hours(
    rng: random.Random, start: dt.datetime, end: dt.datetime, tz: ZoneInfo, count: int
) -> list[dt.datetime]:
    """``count`` sorted moments between ``start`` and ``end``, on weekdays 8:00-18:30 local
    (anywhere in the window if it holds no office hours)."""
    slots: list[tuple[dt.datetime, dt.datetime]] = []
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        if day.weekday() < 5:
            opens = dt.datetime(day.year, day.month, day.day, 8, tzinfo=tz)
            lo, hi = max(opens, start), min(opens + dt.timedelta(hours=10, minutes=30), end)
            if hi > lo:
                slots.append((lo, hi))
        day += dt.timedelta(days=1)
    if not slots:
        slots = [(start, end)]
    total = sum((hi - lo).total_seconds() for lo, hi in slots)
    moments = []
    for offset in sorted(rng.uniform(0, total) for _ in range(count)):
        for lo, hi in slots:
            length = (hi - lo).total_seconds()
            if offset <= length:
                moments.append(lo + dt.timedelta(seconds=int(offset)))
                break
            offset -= length
        else:  # float rounding past the last slot's end
            moments.append(slots[-1][1])
    return moments


def _seed_calls(account: Account, now: dt.datetime) -> None:
    """Starter, the numbers and extensions, and the month of calls."""
    starter = ServicePlan.objects.filter(name="Starter").first()
    if starter is None:  # the data migration creates it; nothing to show without it
        return
    account_plan_set(account=account, plan=starter, now=now)
    for number, group, label in DIDS:
        did_add(account=account, number=number, group_name=group, label=label)
    for number, name in EXTENSIONS:
        extension_add(account=account, number=number, name=name)

    period = period_containing(now, billing_day=account.billing_day, tz=account.tz)
    # The demo customer has been one since the start of the month it shows: calls from before
    # an account was created are rejected.
    Account.objects.filter(pk=account.pk, created_at__gt=period.start).update(
        created_at=period.start
    )
    rng = random.Random(f"{account.code}:{period.start.date()}")
    month = _month_of_calls(rng)
    # Spread the month over the office hours of the part of the billing period that has
    # passed (the first run decides; later runs find every call id already recorded).
    window_end = now - dt.timedelta(minutes=40)
    if window_end <= period.start:
        window_end = now
    moments = _office_hours(rng, period.start, window_end, account.tz, len(month))
    for index, (call, start) in enumerate(zip(month, moments, strict=True)):
        answered = call.disposition == "ANSWERED" and call.billsec > 0
        answer = start + dt.timedelta(seconds=rng.randint(3, 14)) if answered else None
        end = (
            (answer + dt.timedelta(seconds=call.billsec))
            if answer
            else start + dt.timedelta(seconds=25)
        )
        call_record(
            cdr=CdrInput(
                call_id=f"demo-{account.code}-{period.start:%Y%m%d}-{index:03d}",
                account=account.code,
                direction=call.direction,
                from_number=call.from_number,
                to_number=call.to_number,
                start=start.astimezone(dt.UTC),
                answer=answer.astimezone(dt.UTC) if answer else None,
                end=end.astimezone(dt.UTC),
                billsec=call.billsec if answered else 0,
                disposition=call.disposition,
            ),
            now=now,
            source="demo",
        )
