"""Statements: the cycle's registry fixtures, an account with a user, postings at given times."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from billing.models import Call, LedgerEntry
from billing.services.ledger import ledger_post
from portal.models import Account
from tests.billing.call_factories import CallFactory
from tests.billing.cycle.conftest import monthly, registry  # noqa: F401 (fixtures)

SIGNUP = dt.datetime(2028, 1, 10, 12, 0, tzinfo=dt.UTC)
FEB_1 = dt.datetime(2028, 2, 1, tzinfo=dt.UTC)
MAR_1 = dt.datetime(2028, 3, 1, tzinfo=dt.UTC)


def post(
    account: Account,
    kind: str,
    amount: Decimal | str,
    at: dt.datetime,
    *,
    category: str | None = None,
) -> LedgerEntry:
    """One posting of ``kind`` at ``at``; a call posting gets its Call row of ``category``."""
    entry = ledger_post(
        account=account,
        amount=Decimal(amount),
        kind=kind,
        description=f"test {kind}",
        idempotency_key=f"test:{uuid.uuid4()}",
        now=at,
    ).entry
    if kind == LedgerEntry.Kind.CALL:
        CallFactory(
            account=account,
            category=category or Call.Category.RATED,
            charge=-entry.amount,
            ledger_entry=entry,
            started_at=at,
        )
    return entry


@pytest.fixture
def no_cycle_charges(registry):  # noqa: F811 (the imported fixture)
    """The cycle with no recurring lines: the ledger holds only what a test posts."""
    return registry


@pytest.fixture
def run_cycle(django_capture_on_commit_callbacks):
    """The cycle for one account, with its after-commit work (the e-mail task) run."""
    from billing.services.cycle import billing_cycle_run_account

    def run(account: Account, now: dt.datetime):
        with django_capture_on_commit_callbacks(execute=True):
            return billing_cycle_run_account(account_id=account.pk, now=now)

    return run
