"""On PostgreSQL the calls table is partitioned by month of started_at: a call lands in its
month's partition, one far off in the DEFAULT partition, and the beat job creates months
ahead (idempotently, moving stray rows out of the DEFAULT partition)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from billing.models import Call
from billing.services.call_partitions import (
    DEFAULT_PARTITION,
    PARTITION_MONTHS_AHEAD,
    call_partition_name,
    call_partitions_ensure,
)
from billing.tasks.calls import call_partitions_create
from tests.billing.call_factories import T0, CallFactory

pytestmark = pytest.mark.django_db


def partition_of(call: Call) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM billing_call WHERE id = %s", [call.pk])
        return str(cursor.fetchone()[0])


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'billing_call'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def test_it_partitions_the_calls_table_by_range_of_started_at(on_postgres) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'billing_call'::regclass"
        )
        assert cursor.fetchone() == ("r", "started_at")
    assert DEFAULT_PARTITION in partitions()


def test_it_stores_a_call_in_its_months_partition(on_postgres) -> None:
    call_partitions_ensure(now=T0)
    call = CallFactory(started_at=T0)
    assert call_partition_name(dt.date(2026, 11, 1)) == "billing_call_y2026m11"
    assert partition_of(call) == "billing_call_y2026m11"
    assert Call.objects.get(pk=call.pk).call_id == call.call_id


def test_it_stores_a_call_far_in_the_future_or_past_in_the_default_partition(on_postgres) -> None:
    future = CallFactory(started_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    past = CallFactory(started_at=dt.datetime(1999, 1, 1, tzinfo=dt.UTC))
    assert partition_of(future) == partition_of(past) == DEFAULT_PARTITION


def test_it_creates_the_months_ahead_once(on_postgres) -> None:
    now = dt.datetime(2031, 6, 15, 12, 0, tzinfo=dt.UTC)
    created = call_partitions_ensure(now=now)
    expected = [
        "billing_call_y2031m05",
        "billing_call_y2031m06",
        "billing_call_y2031m07",
        "billing_call_y2031m08",
        "billing_call_y2031m09",
    ]
    assert PARTITION_MONTHS_AHEAD == 3
    assert created == expected
    assert set(expected) <= partitions()
    assert call_partitions_ensure(now=now) == []
    # A month later only the new month ahead is missing.
    assert call_partitions_ensure(now=now + dt.timedelta(days=31)) == ["billing_call_y2031m10"]


def test_it_moves_calls_out_of_the_default_partition_into_their_new_month(on_postgres) -> None:
    stray = CallFactory(started_at=dt.datetime(2040, 5, 31, 23, 59, tzinfo=dt.UTC))
    assert partition_of(stray) == DEFAULT_PARTITION
    created = call_partitions_ensure(now=dt.datetime(2040, 5, 2, tzinfo=dt.UTC), months_ahead=0)
    assert created == ["billing_call_y2040m04", "billing_call_y2040m05"]
    assert partition_of(stray) == "billing_call_y2040m05"
    assert Call.objects.get(pk=stray.pk).started_at == stray.started_at


def test_the_beat_job_creates_the_months_ahead_of_today(on_postgres) -> None:
    call_partitions_create.delay().get()
    today = dt.datetime.now(dt.UTC).date()
    ahead = dt.date(today.year + (today.month + 2) // 12, (today.month + 2) % 12 + 1, 1)
    assert call_partition_name(ahead) in partitions()


def test_it_does_nothing_where_the_table_is_not_partitioned() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: PostgreSQL partitions")
    assert call_partitions_ensure(now=T0) == []
    assert CallFactory(started_at=T0).pk
