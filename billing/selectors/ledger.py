"""Ledger reads: the customer's history, and the consistency check of ``check_ledger``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import QuerySet, Sum

from billing.models import (
    LedgerEntry,
)
from billing.money import ZERO, money
from billing.periods import local_midnight
from portal.models import Account


@dataclass(frozen=True)
class LedgerProblem:
    account_id: int
    account_code: str
    detail: str


def ledger_problems(*, accounts: list[Account] | None = None) -> list[LedgerProblem]:
    """Every account whose cached balance differs from the sum of its entries, or whose
    entries' balance-after does not chain (each = previous + amount, in posting order)."""
    problems: list[LedgerProblem] = []
    for account in accounts if accounts is not None else Account.objects.order_by("pk"):
        total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
        total = money(total if total is not None else Decimal(0))
        if total != account.balance:
            problems.append(
                LedgerProblem(
                    account.pk,
                    account.code,
                    f"cached balance {account.balance} != sum of entries {total}",
                )
            )
        running = ZERO
        rows = LedgerEntry.objects.filter(account=account).order_by("pk")
        for entry_id, amount, after in rows.values_list("pk", "amount", "balance_after").iterator():
            running = money(running + amount)
            if after != running:
                problems.append(
                    LedgerProblem(
                        account.pk,
                        account.code,
                        f"entry {entry_id}: balance after {after} != running total {running}",
                    )
                )
                running = after
    return problems


def ledger_entries_posted(*, keys: set[str]) -> dict[str, LedgerEntry]:
    """The entries already posted under ``keys`` (idempotency keys), by key."""
    return {e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)}


HISTORY_PAGE_SIZE = 25


# The kinds a customer may filter by, in the order of the filter's menu.
HISTORY_KINDS = [
    (LedgerEntry.Kind.DEPOSIT, "Credit added by card"),
    (LedgerEntry.Kind.AUTO_RECHARGE, "Auto-recharge"),
    (LedgerEntry.Kind.CALL, "Calls"),
    (LedgerEntry.Kind.PORT_FEE, "Number port fees"),
    (LedgerEntry.Kind.PLAN_FEE, "Service plan fees"),
    (LedgerEntry.Kind.TRUNK_FEE, "SIP trunk fees"),
    (LedgerEntry.Kind.PRORATION, "Prorated charges"),
    (LedgerEntry.Kind.REFUND, "Refunds"),
    (LedgerEntry.Kind.DISPUTE, "Disputes"),
    (LedgerEntry.Kind.ADJUSTMENT, "Adjustments"),
    (LedgerEntry.Kind.REVERSAL, "Reversals"),
]


@dataclass(frozen=True)
class HistoryFilters:
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.date_from or self.date_to)


def ledger_history(*, account: Account, filters: HistoryFilters) -> QuerySet[LedgerEntry]:
    """The account's entries, newest first; dates are whole days in the account's time zone.

    A call's entry is dated by the call's start, as the history shows it (the call is posted
    when its record arrives, after it ended): filtering by the day of the call finds it.
    """
    entries = LedgerEntry.objects.filter(account=account)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.date_from or filters.date_to:
        posted = models.Q()
        started = models.Q()
        if filters.date_from:
            start = local_midnight(filters.date_from, account.tz)
            posted &= models.Q(created_at__gte=start)
            started &= models.Q(call__started_at__gte=start)
        if filters.date_to:
            end = local_midnight(filters.date_to + dt.timedelta(days=1), account.tz)
            posted &= models.Q(created_at__lt=end)
            started &= models.Q(call__started_at__lt=end)
        is_call = models.Q(kind=LedgerEntry.Kind.CALL, call__isnull=False)
        entries = entries.filter((posted & ~is_call) | (is_call & started))
    return entries.select_related("deposit", "call").order_by("-created_at", "-id")
