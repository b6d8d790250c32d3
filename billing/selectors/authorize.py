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
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Subquery

from billing.call_limits import call_limit_facts
from billing.models import Call, CallReservation, UsageCounter
from billing.numbers import normalize
from billing.selectors.permissions import day_charges_fact, permission_fact_names
from billing.selectors.pricing import account_pricing_facts
from billing.selectors.usage import PERIOD_START_SLACK
from portal.errors import DomainError
from portal.models import Account

_MONEY = models.DecimalField(max_digits=14, decimal_places=4)


def _sum(queryset: models.QuerySet[Any], field: str, output: models.Field[Any, Any]) -> Subquery:
    total = queryset.order_by().values("account").annotate(total=models.Sum(field))
    return Subquery(total.values("total")[:1], output_field=output)


def _used(account: Any, period_start: dt.datetime, **did: Any) -> Subquery:
    """``usage_counter``'s row (the first by id within the period start's slack)."""
    rows = UsageCounter.objects.filter(
        account=account,
        period_start__gt=period_start - PERIOD_START_SLACK,
        period_start__lt=period_start + PERIOD_START_SLACK,
        **did,
    )
    return Subquery(rows.order_by("pk").values("included_seconds_used")[:1])


def authorize_facts(
    *,
    account: Account,
    call_id: str,
    from_number: str,
    to_number: str,
    period_start: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any]:
    """The account's row with every fact authorization needs, as a dict (one query)."""
    me = OuterRef("pk")
    live = CallReservation.objects.filter(account=me, expires_at__gt=now)
    try:
        did_number = normalize(to_number)
    except DomainError:
        did_number = ""
    annotations: dict[str, Any] = {
        **account_pricing_facts(at=now, numbers=[from_number, to_number]),
        **call_limit_facts(now=now),
        "held_amount": _sum(live, "amount", _MONEY),
        "held_seconds": _sum(live, "included_seconds", models.BigIntegerField()),
        "held_did_seconds": _sum(
            live.filter(direction=Call.Direction.INBOUND, to_number=did_number),
            "included_seconds",
            models.BigIntegerField(),
        ),
        "reservation_of_call": Subquery(
            CallReservation.objects.filter(call_id=call_id).values("pk")[:1]
        ),
        "call_posted": Exists(Call.objects.filter(call_id=call_id)),
        "charged_today": day_charges_fact(account=account, now=now),
        "used_seconds": _used(me, period_start, did__isnull=True),
        "used_did_seconds": _used(
            me, period_start, did__number=did_number, did__account=me
        ),
    }
    names = [*annotations, *permission_fact_names()]
    return Account.objects.filter(pk=account.pk).annotate(**annotations).values(*names).get()
