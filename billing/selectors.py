"""Billing reads."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from billing.models import LedgerEntry
from billing.money import ZERO, money
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
