"""One query of an account's row with scalar facts about it (``FactColumn``): what a rate lookup
and authorization read per request.

Hand-written SQL, its text built once per process for each set of columns: on the switch's hot
path the ORM spent more time building a query of twenty subqueries than PostgreSQL spent running
it. Values go through the same database converters as the ORM's (Decimal, datetimes, booleans
and JSON on SQLite as on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Value

from billing.call_limits import FactColumn
from portal.models import Account

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


@cache
def _converter(vendor: str, like: Field[Any, Any] | None) -> Converter:
    if like is None:
        return _identity
    expression = Value(None, output_field=like)
    converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
        connection
    )
    if not converters:
        return _identity

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


@cache
def _sql(columns: tuple[FactColumn, ...], joins: str) -> str:
    select = ",\n  ".join(f"{column.sql} AS {column.name}" for column in columns)
    return f"SELECT\n  {select}\nFROM {Account._meta.db_table} a{joins}\nWHERE a.id = %(account)s"


def account_facts(
    *,
    account: Account,
    columns: Sequence[FactColumn],
    params: dict[str, Any],
    joins: str = "",
) -> dict[str, Any]:
    """The values of ``columns`` for ``account`` (one query), converted to Python."""
    columns = tuple(columns)
    with connection.cursor() as cursor:
        cursor.execute(_sql(columns, joins), {**params, "account": account.pk})
        row = cursor.fetchone()
    vendor = connection.vendor
    return {
        column.name: _converter(vendor, column.like)(value)
        for column, value in zip(columns, row, strict=True)
    }
