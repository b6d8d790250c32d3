"""Reads of the monthly cycle: which accounts are due, and which are behind."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, F, OuterRef

from billing.models import AccountCycle, ClosedPeriod
from portal.models import Account


def cycle_due_account_ids(*, now: dt.datetime) -> list[int]:
    """Accounts whose billing month rolled over at or before ``now`` and is not opened yet.

    One statement, two indexed branches: the range scan of ``AccountCycle.next_period_start``
    (the instant of each account's next period start, kept current by the cycle, so no time
    zone or billing-day arithmetic runs here) and the accounts that have no cycle row yet (an
    anti-join on the row's primary key: new accounts, and accounts from before the cycle
    existed), which the cycle then adopts. Closed accounts are never charged."""
    due = (
        AccountCycle.objects.filter(next_period_start__lte=now)
        .exclude(account__status=Account.Status.CLOSED)
        .order_by()
        .values_list("account_id", flat=True)
    )
    new = (
        Account.objects.filter(billing_cycle__isnull=True)
        .exclude(status=Account.Status.CLOSED)
        .order_by()
        .values_list("pk", flat=True)
    )
    return sorted(due.union(new))


def cycle_overdue_account_ids(*, now: dt.datetime, late: dt.timedelta) -> list[int]:
    """Accounts with a period start more than ``late`` ago that the cycle has not opened."""
    return list(
        AccountCycle.objects.filter(next_period_start__lte=now - late)
        .exclude(account__status=Account.Status.CLOSED)
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )


def cycle_gap_account_ids() -> list[int]:
    """Accounts with a hole in their opened periods: a period whose end is neither the start
    of another opened period nor the cycle's next period start."""
    following = ClosedPeriod.objects.filter(
        account_id=OuterRef("account_id"), period_start=OuterRef("period_end")
    )
    return sorted(
        set(
            ClosedPeriod.objects.annotate(followed=Exists(following))
            .filter(followed=False)
            .exclude(period_end=F("account__billing_cycle__next_period_start"))
            .values_list("account_id", flat=True)
        )
    )


def cycle_state_for(*, account: Account) -> AccountCycle | None:
    return AccountCycle.objects.filter(account=account).first()


def closed_periods_for(*, account: Account, limit: int = 24) -> list[ClosedPeriod]:
    return list(ClosedPeriod.objects.filter(account=account).order_by("-period_start")[:limit])
