"""A statement's figures are sums of the ledger: opening + entries = closing, to the
ten-thousandth, and every kind of entry lands in exactly one total."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Call, LedgerEntry, Statement
from billing.periods import Period
from billing.selectors.statements import KIND_GROUPS
from billing.services.statements import statement_close
from tests.billing.statements.conftest import FEB_1, MAR_1, post
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

KINDS = list(LedgerEntry.Kind.values)
CATEGORIES = list(Call.Category.values)
PERIOD = Period(FEB_1, MAR_1)

postings = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.decimals(
            min_value=Decimal("-999.9999"),
            max_value=Decimal("999.9999"),
            places=4,
            allow_nan=False,
            allow_infinity=False,
        ).filter(lambda d: d != 0),
        # From a month before the period to a month after, to the microsecond: entries on
        # the boundaries themselves are the ones a ``<=`` instead of ``<`` would misplace.
        st.one_of(
            st.sampled_from(
                [
                    FEB_1,
                    MAR_1,
                    FEB_1 - dt.timedelta(microseconds=1),
                    MAR_1 - dt.timedelta(microseconds=1),
                ]
            ),
            st.datetimes(
                min_value=dt.datetime(2028, 1, 1),
                max_value=dt.datetime(2028, 3, 31),
                timezones=st.just(dt.UTC),
            ),
        ),
        st.sampled_from(CATEGORIES),
    ),
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(postings=postings)
def test_it_reconciles_with_the_ledger_to_the_ten_thousandth(postings) -> None:
    account = AccountFactory(timezone="UTC", billing_day=1)
    for kind, amount, at, category in postings:
        post(account, kind, amount, at, category=category)

    statement = statement_close(account_id=account.pk, period=PERIOD, now=MAR_1)

    before = sum((a for _, a, at, _ in postings if at < FEB_1), Decimal(0))
    inside = [(k, a, c) for k, a, at, c in postings if FEB_1 <= at < MAR_1]
    assert statement.opening_balance == before
    assert statement.closing_balance == before + sum((a for _, a, _ in inside), Decimal(0))
    groups = [
        statement.payments,
        statement.usage,
        statement.recurring,
        statement.adjustments,
        statement.refunds,
    ]
    assert statement.opening_balance + sum(groups) == statement.closing_balance
    lines = list(statement.lines.all())
    assert sum(line.amount for line in lines) == statement.closing_balance - before
    assert sum(line.count for line in lines) == statement.entry_count == len(inside)
    for kind in set(KINDS) - {LedgerEntry.Kind.CALL}:
        expected = [a for k, a, _ in inside if k == kind]
        got = [line for line in lines if line.code == kind]
        assert [(g.amount, g.count) for g in got] == (
            [(sum(expected), len(expected))] if expected else []
        )
    for category in CATEGORIES:
        expected = [a for k, a, c in inside if k == LedgerEntry.Kind.CALL and c == category]
        got = [line for line in lines if line.code == f"call:{category}"]
        assert [(g.amount, g.count) for g in got] == (
            [(sum(expected), len(expected))] if expected else []
        )


def test_every_ledger_kind_has_a_statement_group() -> None:
    assert set(KIND_GROUPS) == set(LedgerEntry.Kind.values)
    assert set(KIND_GROUPS.values()) <= set(Statement.Group.values)


def test_it_puts_each_kind_in_its_group() -> None:
    account = AccountFactory(timezone="UTC", billing_day=1)
    at = FEB_1 + dt.timedelta(days=3)
    post(account, "deposit", "50", at)
    post(account, "auto_recharge", "25", at)
    post(account, "call", "-1.2345", at, category=Call.Category.OVERAGE)
    post(account, "call", "-0.5", at, category=Call.Category.RATED)
    post(account, "port_fee", "-10", at)
    post(account, "plan_fee", "-20", at)
    post(account, "trunk_fee", "-36", at)
    post(account, "proration", "-4.5", at)
    post(account, "adjustment", "3", at)
    post(account, "refund", "-5", at)
    post(account, "dispute", "-7", at)
    post(account, "reversal", "1.2345", at)

    statement = statement_close(account_id=account.pk, period=PERIOD, now=MAR_1)

    assert statement.payments == Decimal("75")
    assert statement.usage == Decimal("-11.7345")
    assert statement.recurring == Decimal("-60.5")
    assert statement.adjustments == Decimal("3")
    assert statement.refunds == Decimal("-10.7655")
    assert statement.closing_balance == Decimal("-5.0000")
    assert [line.label for line in statement.lines.all()] == [
        "Deposit",
        "Auto-recharge",
        "Calls: overage",
        "Calls: per-minute destinations",
        "Number port fee",
        "Service plan fee",
        "SIP trunk fee",
        "Proration",
        "Adjustment",
        "Refund",
        "Dispute",
        "Reversal",
    ]


def test_its_opening_is_the_previous_closing() -> None:
    account = AccountFactory(timezone="UTC", billing_day=1)
    post(account, "deposit", "10", FEB_1 - dt.timedelta(days=2))
    post(account, "call", "-0.0001", FEB_1 + dt.timedelta(days=2))
    january = statement_close(
        account_id=account.pk, period=Period(FEB_1 - dt.timedelta(days=31), FEB_1), now=FEB_1
    )
    february = statement_close(account_id=account.pk, period=PERIOD, now=MAR_1)
    assert january.closing_balance == february.opening_balance == Decimal("10")
    assert february.closing_balance == Decimal("9.9999")
