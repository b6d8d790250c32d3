"""What authorization reads about an account, in one query made after the account lock is
taken: its pricing facts (plan, deck override, whose numbers the call's ends are, the pricing
catalog version), its live reservations (credit and included seconds held, a stale or foreign
reservation of this call id), whether a CDR of this call id was already posted, today's call
charges, the included seconds used this billing period (and by the called DID), its call
permissions and what each registered call limit reads (trunk channels).

One statement, started after the lock was granted: under READ COMMITTED it sees every
authorization and CDR of the account committed before this one took the lock. (The locking
query itself must not carry these: when it waits for the lock, PostgreSQL re-checks the locked
row but not the subqueries, which keep the snapshot taken before the wait.)
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.db import connection

from billing.call_limits import FactColumn, call_limit_facts
from billing.models import DID as DIDModel
from billing.models import Call, CallPermissions, CallReservation, LedgerEntry, UsageCounter
from billing.numbers import normalize
from billing.selectors.account_facts import account_facts
from billing.selectors.permissions import local_day
from billing.selectors.pricing import pricing_fact_columns, pricing_fact_params
from billing.selectors.usage import PERIOD_START_SLACK
from portal.errors import DomainError
from portal.models import Account

_PERMISSIONS_JOIN = f" LEFT JOIN {CallPermissions._meta.db_table} p ON p.account_id = a.id"


@cache
def _own_columns() -> tuple[FactColumn, ...]:
    held = CallReservation._meta.db_table
    ledger = LedgerEntry._meta.db_table
    usage = UsageCounter._meta.db_table
    did = DIDModel._meta.db_table
    amount = CallReservation._meta.get_field("amount")
    live = f"FROM {held} WHERE account_id = a.id AND expires_at > %(now)s"
    counter = (
        "account_id = a.id AND period_start > %(period_low)s AND period_start < %(period_high)s"
    )
    columns = [
        FactColumn("held_amount", f"(SELECT SUM(amount) {live})", amount),
        FactColumn("held_seconds", f"(SELECT SUM(included_seconds) {live})"),
        FactColumn(
            "held_did_seconds",
            f"(SELECT SUM(included_seconds) {live} "
            f"AND direction = '{Call.Direction.INBOUND.value}' AND to_number = %(did_number)s)",
        ),
        FactColumn("reservation_of_call", f"(SELECT id FROM {held} WHERE call_id = %(call_id)s)"),
        FactColumn(
            "call_posted",
            f"EXISTS (SELECT 1 FROM {Call._meta.db_table} WHERE call_id = %(call_id)s)",
            CallPermissions._meta.get_field("allow_low"),  # a boolean
        ),
        FactColumn(
            "charged_today",
            f"(SELECT SUM(amount) FROM {ledger} WHERE account_id = a.id "
            f"AND kind = '{LedgerEntry.Kind.CALL.value}' "
            "AND created_at >= %(day_start)s AND created_at < %(day_end)s)",
            LedgerEntry._meta.get_field("amount"),
        ),
        FactColumn(
            "used_seconds",
            f"(SELECT included_seconds_used FROM {usage} WHERE {counter} AND did_id IS NULL "
            "ORDER BY id LIMIT 1)",
        ),
        FactColumn(
            "used_did_seconds",
            f"(SELECT u.included_seconds_used FROM {usage} u JOIN {did} d ON d.id = u.did_id "
            f"WHERE u.{counter} AND d.account_id = a.id AND d.number = %(did_number)s "
            "ORDER BY u.id LIMIT 1)",
        ),
    ]
    columns.append(FactColumn("call_permissions__account_id", "p.account_id"))
    for field in CallPermissions._meta.concrete_fields:
        if field.attname != "account_id":
            columns.append(
                FactColumn(f"call_permissions__{field.attname}", f"p.{field.column}", field)
            )
    return tuple(columns)


def authorize_facts(
    *,
    account: Account,
    call_id: str,
    from_number: str,
    to_number: str,
    period_start: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any]:
    """Every fact authorization needs about ``account``, in one query."""
    try:
        did_number = normalize(to_number)
    except DomainError:
        did_number = ""
    adapt = connection.ops.adapt_datetimefield_value
    day_start, day_end = local_day(account=account, now=now)
    params = {
        **pricing_fact_params(now=now, numbers=[from_number, to_number]),
        "call_id": call_id,
        "did_number": did_number,
        "day_start": adapt(day_start),
        "day_end": adapt(day_end),
        "period_low": adapt(period_start - PERIOD_START_SLACK),
        "period_high": adapt(period_start + PERIOD_START_SLACK),
    }
    columns = [*pricing_fact_columns(2), *_own_columns(), *call_limit_facts()]
    return account_facts(account=account, columns=columns, params=params, joins=_PERMISSIONS_JOIN)
