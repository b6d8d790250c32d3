"""On PostgreSQL the database refuses TRUNCATE of the ledger, directly or by CASCADE: a
statement trigger, since the row trigger never sees a TRUNCATE."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from billing.models import LedgerEntry
from billing.services.ledger import ledger_post
from portal.models import Account

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
# Committed rows: PostgreSQL will not TRUNCATE a table with deferred FK checks still pending.
pytestmark = pytest.mark.django_db(transaction=True)


def _post(account: Account) -> None:
    ledger_post(
        account=account,
        amount=Decimal("5"),
        kind=LedgerEntry.Kind.ADJUSTMENT,
        idempotency_key="truncate-test",
        description="test",
        now=NOW,
    )


def _truncate(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # The test run's own flush is allowed to TRUNCATE (tests/conftest.py); production is not.
        cursor.execute("SET LOCAL billing.allow_ledger_truncate = 'off'")
        cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE billing_ledgerentry CASCADE",
        "TRUNCATE billing_ledgerentry RESTART IDENTITY CASCADE",
        "TRUNCATE portal_account CASCADE",
    ],
)
def test_it_refuses_truncate_of_the_ledger(account: Account, on_postgres: None, sql: str) -> None:
    _post(account)
    with pytest.raises(DatabaseError, match="append-only"):
        _truncate(sql)
    assert LedgerEntry.objects.filter(idempotency_key="truncate-test").exists()


def test_the_truncate_trigger_migration_is_reversible(on_postgres: None) -> None:
    def triggers() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'billing_ledgerentry'::regclass"
                " AND NOT tgisinternal"
            )
            return {row[0] for row in cursor.fetchall()}

    assert "billing_ledger_no_truncate" in triggers()
    call_command("migrate", "billing", "0009", verbosity=0)
    try:
        assert "billing_ledger_no_truncate" not in triggers()
        assert "billing_ledger_append_only" in triggers()
    finally:
        call_command("migrate", "billing", verbosity=0)
    assert "billing_ledger_no_truncate" in triggers()
