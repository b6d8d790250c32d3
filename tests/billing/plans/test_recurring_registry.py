"""Recurring charges come from the providers the apps register, in registration order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from billing import recurring
from billing.periods import Period
from billing.recurring import RecurringCharge, recurring_charges, register_recurring
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_these_providers() -> Iterator[None]:
    saved = list(recurring._providers)
    recurring._providers.clear()
    yield
    recurring._providers[:] = saved


def _line(code: str, amount: str) -> RecurringCharge:
    return RecurringCharge("trunk_fee", code, code, 1, Decimal(amount), Decimal(amount))


def test_it_lists_every_providers_lines_in_registration_order(only_these_providers) -> None:
    account = AccountFactory()
    tz = dt.UTC
    period = Period(dt.datetime(2026, 12, 1, tzinfo=tz), dt.datetime(2027, 1, 1, tzinfo=tz))
    seen = []

    def first(acc, per):
        seen.append((acc.pk, per))
        return [_line("a", "1.0000")]

    def second(acc, per):
        return [_line("b", "2.0000"), _line("c", "3.0000")]

    register_recurring(first)
    register_recurring(second)
    register_recurring(first)  # registering twice keeps one

    lines = recurring_charges(account=account, period=period)
    assert [line.code for line in lines] == ["a", "b", "c"]
    assert seen == [(account.pk, period)]
