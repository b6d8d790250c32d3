"""Recurring monthly charges, asked of the apps that own them.

The service plan (billing) and the SIP trunk channels (trunking) each register a provider in
their ``apps.py``; the Service Plan page, the forecast and the monthly cycle ask
``recurring_charges`` instead of importing the other app. A provider answers for one account and
one billing period (its start decides which price applies: a price change takes effect from the
next billing month, and pending decreases or plan switches are those effective at its start).

The apps also register "period opening" hooks (``register_period_opening``): the monthly cycle
calls each, in registration order, when it opens a period for an account — in the cycle's
transaction, under the account's row lock, before it asks for that period's charges — so a
pending trunk decrease or plan switch effective at the period's start is applied exactly once
and the charges posted for the period already see it.
"""

from __future__ import annotations

import datetime as dt
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


# (account, period being opened, now): apply what takes effect at ``period.start``. A hook
# must be idempotent (a rolled-back cycle runs it again) and must not call out over the
# network (it runs under the account's lock); raising rolls the whole period back.
PeriodOpeningHook = Callable[[Account, Period, dt.datetime], None]

_opening_hooks: list[PeriodOpeningHook] = []


def register_period_opening(hook: PeriodOpeningHook) -> PeriodOpeningHook:
    """Apps register a hook once, in ``ready()``; registering it again keeps one."""
    if hook not in _opening_hooks:
        _opening_hooks.append(hook)
    return hook


def period_opening(*, account: Account, period: Period, now: dt.datetime) -> None:
    """Run every registered hook for ``account`` opening ``period`` (the cycle calls this)."""
    for hook in _opening_hooks:
        hook(account, period, now)
