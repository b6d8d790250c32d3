"""Accounts whose standing disagrees with their balance (for the hourly scan)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from billing.models import AccountCycle
from portal.models import Account


def standing_due_account_ids(*, now: dt.datetime, grace: dt.timedelta) -> list[int]:
    """Accounts to suspend (below zero for longer than ``grace``, still active) or to resume
    (suspended by billing, balance positive again): both on indexed columns of the row."""
    suspend = Q(
        negative_since__lte=now - grace,
        suspended_at__isnull=True,
        account__status=Account.Status.ACTIVE,
    )
    resume = Q(suspended_at__isnull=False, account__balance__gt=0)
    return list(
        AccountCycle.objects.filter(suspend | resume)
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )
