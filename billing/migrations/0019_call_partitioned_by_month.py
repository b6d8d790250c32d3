"""On PostgreSQL, billing_call becomes a table partitioned by month of ``started_at`` (declarative
RANGE partitioning), with trigram indexes for the Calls page's number search. SQLite keeps the
plain table: nothing here runs there, and Django's model state does not change.

Why by hand and not django-postgres-extra: that library needs its own database backend and a
partitioned model base class on every database, while the tests default to SQLite; it creates
new partitioned tables but does not convert an existing one with its rows; and the partition job
is a few lines of SQL (``billing/services/call_partitions.py``).

What the conversion does, in one transaction (the table is rewritten: its rows are copied once,
at the COPY/INSERT rate of the server, with the indexes built after the copy):
- the primary key becomes (id, started_at): a partitioned table's unique keys must hold the
  partition key. Django keeps ``id`` as its pk; ids still come from one sequence
  (``billing_call_id_seq``, owned by the column, so TRUNCATE ... RESTART IDENTITY and Django's
  sequence reset work), never reused across partitions;
- every other unique key without ``started_at`` gets it appended (the one-to-one ledger entry:
  UNIQUE (ledger_entry_id, started_at));
- indexes, foreign keys (to accounts, DIDs, ledger entries) and CHECKs are recreated on the
  parent, which creates them on each partition. Nothing references billing_call by foreign key;
- one partition per month (UTC) from the oldest call (at most 5 years back) to 3 months ahead,
  and a DEFAULT partition for any call outside them (a CDR with a clock far off lands there
  instead of failing). The beat job ``billing.tasks.call_partitions_create`` keeps creating
  months ahead;
- pg_trgm GIN indexes on from_number and to_number serve "any part of a number" (LIKE '%..%').
  CREATE EXTENSION needs a superuser (or a trusted-extension owner) the first time.
"""

from __future__ import annotations

import datetime as dt

from django.db import migrations

TABLE = "billing_call"
OLD = "billing_call_rebuild"
KEY = "started_at"
SEQUENCE = "billing_call_id_seq"
MONTHS_AHEAD = 3
MAX_MONTHS_BEHIND = 60
TRIGRAM_INDEXES = {
    "call_from_number_trgm": "from_number",
    "call_to_number_trgm": "to_number",
}


def _month(moment: dt.datetime) -> dt.date:
    return dt.date(moment.year, moment.month, 1)


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _definitions(cursor) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, list[str]]]]:
    """(CREATE INDEX statements of the plain indexes, (name, definition) of the foreign keys,
    (name, columns) of the unique keys) of billing_call as it is now."""
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY i.indexrelid
        """,
        [TABLE],
    )
    # A partitioned index reads "ON ONLY": recreated, it must reach the partitions too.
    indexes = [row[0].replace(" ON ONLY ", " ON ", 1) for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname
        """,
        [TABLE],
    )
    foreign_keys = list(cursor.fetchall())
    cursor.execute(
        """
        SELECT c.conname, array_agg(a.attname ORDER BY k.n)
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.conrelid = %s::regclass AND c.contype = 'u'
        GROUP BY c.conname ORDER BY c.conname
        """,
        [TABLE],
    )
    uniques = [(name, list(columns)) for name, columns in cursor.fetchall()]
    return indexes, foreign_keys, uniques


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    """Rename billing_call away, create it anew (partitioned or plain) with the same columns,
    copy the rows, then recreate keys, indexes and foreign keys on it."""
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign_keys, uniques = _definitions(cursor)
        cursor.execute(f"SELECT coalesce(max(id), 0), min({KEY}), max({KEY}) FROM {TABLE}")  # noqa: S608
        last_id, oldest, newest = cursor.fetchone()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        (sequence,) = cursor.fetchone()
        if sequence:
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608
            last_id = max(last_id, cursor.fetchone()[0])
        cursor.execute(
            "SELECT attidentity FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'id'",
            [TABLE],
        )
        identity = cursor.fetchone()[0] != ""
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()

    execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    for name, _definition in foreign_keys:
        execute(f'ALTER TABLE {OLD} DROP CONSTRAINT "{name}"')
    for name, _columns in uniques:
        execute(f'ALTER TABLE {OLD} DROP CONSTRAINT "{name}"')
    for statement in indexes:
        name = statement.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
        execute(f"DROP INDEX {name}")
    execute(f"ALTER TABLE {OLD} DROP CONSTRAINT {TABLE}_pkey")
    if identity:
        execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY")
    else:
        execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP DEFAULT")
        execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")

    partition_by = f" PARTITION BY RANGE ({KEY})" if partitioned else ""
    execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING STORAGE INCLUDING COMMENTS){partition_by}"
    )
    if partitioned:
        # Identity columns on a partitioned table need PostgreSQL 17: a sequence owned by the
        # column does the same job on every version.
        execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint OWNED BY {TABLE}.id")
        execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
        execute(f"SELECT setval('{SEQUENCE}', {int(last_id) + 1}, false)")
        current = _month(now)
        first = _add_months(current, -1)
        if oldest is not None:
            first = min(first, max(_month(oldest), _add_months(current, -MAX_MONTHS_BEHIND)))
        last = _add_months(current, MONTHS_AHEAD)
        if newest is not None:
            last = max(last, min(_month(newest), _add_months(current, MONTHS_AHEAD * 4)))
        month = first
        while month <= last:
            upper = _next_month(month)
            execute(
                f"CREATE TABLE {TABLE}_y{month.year:04d}m{month.month:02d} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{upper.isoformat()} 00:00+00')"
            )
            month = upper
        execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    else:
        execute(f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {int(last_id) + 1}, false)")

    execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # noqa: S608
    execute(f"DROP TABLE {OLD}")

    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id{f', {KEY}' if partitioned else ''})")
    for name, columns in uniques:
        if partitioned and KEY not in columns:
            columns = [*columns, KEY]
        elif not partitioned and columns[-1] == KEY and name == f"{TABLE}_{'_'.join(columns[:-1])}_key":
            columns = columns[:-1]  # the one-to-one key widened by the forward conversion
        execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" UNIQUE ({", ".join(columns)})')
    for statement in indexes:
        execute(statement)
    for name, definition in foreign_keys:
        execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    _rebuild(schema_editor, partitioned=True)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON {TABLE} USING gin ({column} gin_trgm_ops)"
        )


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("billing", "0018_call_id_unique_with_started_at")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
