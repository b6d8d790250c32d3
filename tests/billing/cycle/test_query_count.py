"""What one account's period costs the database: the cycle runs for every account each month,
so its queries are pinned (a new per-line or per-hook query shows up here first)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import LedgerEntry
from billing.services.cycle import billing_cycle_run_account
from tests.billing.cycle.test_pending_changes import FEB_1, account  # noqa: F401

pytestmark = pytest.mark.django_db

# The period's transaction: the account's lock, its cycle row, the closed-period check; the
# statement: the last statement's end, its existence, three ledger sums, the invoice number
# (the provider's first statement also makes the counter row: two more), the statement and its
# lines; the trunk hook's look for due decreases; the providers: the plan, the trunk, its due
# decreases, the prices of every kind in one query; one look-up of the period's keys; two
# postings (entry and balance each); the plan of the closed period; the period and cycle rows.
QUERIES_FOR_ONE_PERIOD = 26


def test_it_opens_a_period_with_plan_and_trunk_in_a_fixed_number_of_queries(
    account,  # noqa: F811 (the fixture imported above)
) -> None:
    with CaptureQueriesContext(connection) as ctx:
        opened = billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    assert [len(p.charges) for p in opened] == [2]
    assert LedgerEntry.objects.filter(idempotency_key__startswith="cycle:").count() == 2
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == QUERIES_FOR_ONE_PERIOD, "\n".join(statements)
