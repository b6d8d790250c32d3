"""The pictures' queries read an account's time range through its index and the month
partitions of the range, never the whole table (PostgreSQL's plans; the sequential scan is
switched off so a tiny test table shows which index the planner can use)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from billing.models import Call
from billing.selectors import usage_charts
from billing.selectors.calls import CallFilters, calls_for_account
from tests.billing.call_factories import CallFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


def _plan(queryset: QuerySet) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_minutes_per_day_scans_the_accounts_calls_by_start_time(account, on_postgres) -> None:
    # A year of calls, every two hours, so the planner's statistics see a range worth indexing.
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Call.objects.bulk_create(
        CallFactory.build(account=account, started_at=start + dt.timedelta(hours=2 * i))
        for i in range(4000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_call")
    filters = CallFilters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 24))
    calls: QuerySet[Call] = calls_for_account(account=account, filters=filters)
    plan = _plan(usage_charts.minutes_rows_query(calls, account.tz))
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "Seq Scan" not in plan
    assert "account_id =" in index_cond
    # The calls table is partitioned by month: only November's partition is read (the range
    # prunes the rest), through an index on the account.
    assert set(re.findall(r" on (\S+) billing_call\b", plan)) == {"billing_call_y2026m11"}


def test_spend_per_day_scans_the_accounts_ledger_by_time(account, on_postgres) -> None:
    start = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
    query = usage_charts.spend_rows_query(account=account, start=start, end=NOW)
    plan = _plan(query)
    assert "Seq Scan" not in plan
    assert any("account_id =" in line for line in plan.splitlines() if "Cond" in line), plan
