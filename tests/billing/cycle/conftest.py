"""The cycle's tests register their own recurring lines and opening hooks; the registry is
restored afterwards (the real plan and trunk providers belong to their apps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import time_machine

from billing import recurring
from billing.periods import Period
from billing.recurring import RecurringCharge, register_period_opening, register_recurring
from portal.models import Account
from tests.factories import AccountFactory

PLAN = RecurringCharge("plan_fee", "plan", "Business plan", 1, Decimal("20.00"), Decimal("20.00"))
TRUNK = RecurringCharge(
    "trunk_fee",
    "trunk:two_way",
    "3 two-way channels × $12.00",
    3,
    Decimal("12.00"),
    Decimal("36.00"),
)
MONTHLY = PLAN.amount + TRUNK.amount


class Registry:
    """What a test registered, and what the cycle asked of it."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, Period]] = []
        self.opened: list[tuple[int, Period]] = []

    def charge(self, *lines: RecurringCharge) -> None:
        def provider(account: Account, period: Period) -> list[RecurringCharge]:
            self.asked.append((account.pk, period))
            return list(lines)

        register_recurring(provider)

    def on_opening(self, hook: Callable[[Account, Period, dt.datetime], None] | None = None):
        def noted(account: Account, period: Period, now: dt.datetime) -> None:
            self.opened.append((account.pk, period))
            if hook is not None:
                hook(account, period, now)

        register_period_opening(noted)


@pytest.fixture
def registry() -> Iterator[Registry]:
    saved = list(recurring._providers), list(recurring._opening_hooks)
    recurring._providers.clear()
    recurring._opening_hooks.clear()
    yield Registry()
    recurring._providers[:], recurring._opening_hooks[:] = saved


@pytest.fixture
def monthly(registry: Registry) -> Registry:
    """A plan fee and a trunk line every month."""
    registry.charge(PLAN, TRUNK)
    return registry


def account_created_at(moment: dt.datetime, **fields: object) -> Account:
    with time_machine.travel(moment, tick=False):
        account = Account.objects.get(pk=AccountFactory(**fields).pk)
    return account
