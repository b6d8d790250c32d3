"""Set-based writes for the services that write many rows at once (CDR batches, their ledger
entries): one ``INSERT ... ON CONFLICT ... RETURNING`` or ``UPDATE ... FROM (VALUES ...)`` per
call, on PostgreSQL and SQLite alike. On PostgreSQL the rows go as one array per column
(``SELECT * FROM unnest(%s::bigint[], ...)``): a statement of a few parameters whatever the
number of rows (the driver would otherwise scan a query text with one placeholder per value,
which costs more than the rows' insertion). SQLite gets a multi-row VALUES, split only when a
statement would pass its limit on parameters.

Values are given by column (``attname``: ``account_id``, not ``account``) and adapted the way
the model's fields would adapt them, so what these statements store reads back exactly as the
ORM's own writes do. The callers own the rules (locks, idempotency); this module only talks SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

# PostgreSQL's wire protocol counts parameters in 16 bits.
_POSTGRES_MAX_PARAMS = 65_535
_SQLITE_DEFAULT_MAX_PARAMS = 999  # older SQLite builds; newer ones say theirs (below)


def _max_params() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        try:
            return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        except AttributeError:  # pragma: no cover - Python < 3.11
            return _SQLITE_DEFAULT_MAX_PARAMS
    return _POSTGRES_MAX_PARAMS


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a value of ``field`` goes to the database driver, None when as it is. psycopg
    adapts Decimals, aware datetimes, ints and strings itself; SQLite gets what Django's own
    writes give it (UTC datetimes as text); JSON is the field's business on both."""
    if isinstance(field, models.JSONField) or (
        connection.vendor != "postgresql"
        and isinstance(field, models.DateTimeField | models.DecimalField)
    ):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _column(field: models.Field[Any, Any]) -> str:
    return connection.ops.quote_name(str(field.column))


def _fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field[Any, Any]]:
    fields = []
    for name in columns:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.attname == name, name
        fields.append(field)
    return fields


def _placeholders(fields: Sequence[models.Field[Any, Any]]) -> str:
    """One row's placeholders; on PostgreSQL each with its column's type, so that a VALUES
    list (which has no table to take its types from) compares and assigns like the column."""
    if connection.vendor == "postgresql":
        return "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in fields) + ")"
    return "(" + ", ".join("%s" for _ in fields) + ")"


def _cursor() -> Any:
    """A cursor of Django's (its query log and execute wrappers apply). On PostgreSQL one that
    binds on the server: the column arrays go to the server as binary parameters, dumped by
    the driver's C code, instead of being rendered into the query text."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg  # only with the PostgreSQL backend

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = psycopg.Cursor(connection.connection)
    # (django-stubs type these as taking Django's wrapper; they take the driver's cursor.)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)  # type: ignore[arg-type]
    return connection.make_cursor(raw)  # type: ignore[arg-type]


def _unnest(fields: Sequence[models.Field[Any, Any]]) -> str:
    """PostgreSQL: the rows as a set, one typed array parameter per column."""
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    return f"SELECT * FROM unnest({arrays})"  # noqa: S608 - types from the model


def _columns(fields: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """PostgreSQL: the rows' values as one list per column, adapted as the fields would."""
    columns: list[Any] = []
    for n, field in enumerate(fields):
        adapt = _adapter(field)
        values = [row[n] for row in rows]
        columns.append(values if adapt is None else [adapt(value) for value in values])
    return columns


def _chunks(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Sequence[Any]]]:
    size = max(1, _max_params() // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _params(fields: Sequence[models.Field[Any, Any]], rows: Sequence[Sequence[Any]]) -> list[Any]:
    adapters = [_adapter(field) for field in fields]
    if not any(adapters):
        return [value for row in rows for value in row]
    return [
        value if adapt is None else adapt(value)
        for row in rows
        for value, adapt in zip(row, adapters, strict=True)
    ]


def rows_insert(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    on_conflict: str = "",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``INSERT INTO <model's table> (columns) VALUES <rows> [ON CONFLICT on_conflict]
    [RETURNING returning]``: the returned rows (in no promised order), or [] without
    ``returning``. ``on_conflict`` is SQL such as ``(call_id) DO NOTHING`` (a constant of the
    caller, never data)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    fields = _fields(model, columns)
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
        f"({', '.join(_column(f) for f in fields)}) VALUES "
    )
    tail = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    if returning:
        tail += f" RETURNING {', '.join(quote(name) for name in returning)}"
    out: list[tuple[Any, ...]] = []
    with _cursor() as cursor:
        if connection.vendor == "postgresql":
            head = head.removesuffix(" VALUES ")
            cursor.execute(f"{head} {_unnest(fields)}{tail}", _columns(fields, rows))
            if returning:
                out.extend(tuple(row) for row in cursor.fetchall())
            return out
        one = _placeholders(fields)
        for chunk in _chunks(rows, len(fields)):
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail, _params(fields, chunk))
            if returning:
                out.extend(tuple(row) for row in cursor.fetchall())
    return out


def rows_update(
    *,
    model: type[models.Model],
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    increment: bool = False,
) -> None:
    """One ``UPDATE ... FROM (VALUES ...)``: for each row ``(key value, *column values)`` set
    the row whose ``key`` matches to those values (``increment``: add them instead)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = _fields(model, [key, *columns])
    sets = ", ".join(
        f"{_column(f)} = " + (f"{table}.{_column(f)} + " if increment else "") + f"v.column{n}"
        for n, f in enumerate(fields[1:], start=2)
    )
    names = ", ".join(f"column{n}" for n in range(1, len(fields) + 1))
    with _cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {sets} "  # noqa: S608 - names from the model, values as params
                f"FROM ({_unnest(fields)}) AS v({names}) "
                f"WHERE {table}.{_column(fields[0])} = v.column1",
                _columns(fields, rows),
            )
            return
        one = _placeholders(fields)
        for chunk in _chunks(rows, len(fields)):
            cursor.execute(
                f"UPDATE {table} SET {sets} "  # noqa: S608 - names from the model, values as params
                f"FROM (VALUES {', '.join([one] * len(chunk))}) AS v "
                f"WHERE {table}.{_column(fields[0])} = v.column1",
                _params(fields, chunk),
            )


def rows_delete(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """One ``DELETE ... WHERE (columns) IN (<rows>)``: the rows matching one of ``rows`` on all
    of ``columns``."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    fields = _fields(model, columns)
    names = ", ".join(_column(f) for f in fields)
    with _cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} WHERE ({names}) IN ({_unnest(fields)})",  # noqa: S608
                _columns(fields, rows),
            )
            return
        one = _placeholders(fields)
        for chunk in _chunks(rows, len(fields)):
            cursor.execute(
                f"DELETE FROM {table} WHERE ({names}) IN "  # noqa: S608 - names from the model
                f"(VALUES {', '.join([one] * len(chunk))})",
                _params(fields, chunk),
            )
