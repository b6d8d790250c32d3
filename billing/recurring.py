"""Recurring monthly charges, asked of the apps that own them.

The service plan (billing) and the SIP trunk channels (trunking) each register a provider in
their ``apps.py``; the Service Plan page, the forecast and the monthly cycle ask
``recurring_charges`` instead of importing the other app. A provider answers for one account and
one billing period (its start decides which price applies: a price change takes effect from the
next billing month, and pending decreases or plan switches are those effective at its start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from billing.periods import Period
from portal.models import Account


@dataclass(frozen=True)
class RecurringCharge:
    """One line of an account's monthly bill, e.g. "3 two-way channels × $12.00"."""

    kind: str  # a LedgerEntry.Kind value: "plan_fee" or "trunk_fee"
    code: str  # stable per line within a period ("plan", "trunk:two_way"): part of posting keys
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal  # quantity × unit_price, rounded by billing.money.money


RecurringProvider = Callable[[Account, Period], list[RecurringCharge]]

_providers: list[RecurringProvider] = []


def register_recurring(provider: RecurringProvider) -> RecurringProvider:
    """Apps register a provider once, in ``ready()``; the order of registration is the order of
    the lines on the page and the statement."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def recurring_charges(*, account: Account, period: Period) -> list[RecurringCharge]:
    """Every recurring line of ``account`` for the billing period ``period`` (zero-count lines
    are left out by their providers)."""
    return [charge for provider in _providers for charge in provider(account, period)]
