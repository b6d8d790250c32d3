"""The monthly partitions of the calls table on PostgreSQL (billing migration 0017 partitions
billing_call by RANGE of ``started_at``): created ahead of time by a beat job, so calls never
pile up in the DEFAULT partition. On SQLite the table is not partitioned and this does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Months created ahead of the current one (UTC), and behind it for late CDRs. The job runs
# daily, so a month exists about three months before its first call.
PARTITION_MONTHS_AHEAD = 3
PARTITION_MONTHS_BEHIND = 1
# Creating a partition briefly locks the parent table: never queue behind a long Calls-page
# query (which would block every read queued after us); the next run tries again.
PARTITION_LOCK_TIMEOUT = "5s"
# One job at a time (two would race on the same month's CREATE).
_ADVISORY_LOCK = 0x63616C6C  # "call"

CALL_TABLE = "billing_call"
DEFAULT_PARTITION = f"{CALL_TABLE}_default"


def call_partition_name(month: dt.date) -> str:
    return f"{CALL_TABLE}_y{month.year:04d}m{month.month:02d}"


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _bound(month: dt.date) -> str:
    """A partition bound literal (built from integers only, so safe to put in DDL)."""
    return f"'{month.year:04d}-{month.month:02d}-01 00:00:00+00'"


def call_partitions_ensure(
    *,
    now: dt.datetime,
    months_ahead: int = PARTITION_MONTHS_AHEAD,
    months_behind: int = PARTITION_MONTHS_BEHIND,
) -> list[str]:
    """Create the month partitions of billing_call from ``months_behind`` before the month of
    ``now`` (UTC) to ``months_ahead`` after it, those that do not exist yet; returns the names
    created. Idempotent. Calls of a new month already in the DEFAULT partition move into it."""
    if connection.vendor != "postgresql":
        return []
    current = dt.date(now.astimezone(dt.UTC).year, now.astimezone(dt.UTC).month, 1)
    created = []
    for offset in range(-months_behind, months_ahead + 1):
        month = _add_months(current, offset)
        if _partition_ensure(month):
            created.append(call_partition_name(month))
    if created:
        logger.info("call partitions created: %s", ", ".join(created))
    return created


def _partition_ensure(month: dt.date) -> bool:
    name = call_partition_name(month)
    lower, upper = _bound(month), _bound(_add_months(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f"SET LOCAL lock_timeout = '{PARTITION_LOCK_TIMEOUT}'")
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608 - constants
            f"WHERE started_at >= {lower} AND started_at < {upper})"
        )
        if not cursor.fetchone()[0]:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {CALL_TABLE} "
                f"FOR VALUES FROM ({lower}) TO ({upper})"
            )
            return True
        # PostgreSQL refuses a partition whose rows sit in the DEFAULT partition: move them
        # into the new table first, then attach it (which builds its indexes).
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {CALL_TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 - constants
            f"WHERE started_at >= {lower} AND started_at < {upper} RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
        cursor.execute(
            f"ALTER TABLE {CALL_TABLE} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({lower}) TO ({upper})"
        )
        return True
