"""Reads of monthly statements: the ledger's totals for a period, and the customer's list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.http import Http404

from billing.models import Call, LedgerEntry, Statement
from billing.money import ZERO, money
from billing.periods import Period, period_containing
from portal.models import Account

Kind = LedgerEntry.Kind
Group = Statement.Group

# A statement's e-mail task normally runs within seconds of the close; the scan leaves the
# fresh ones to it, so the two do not race for the claim (the claim would keep it to one
# e-mail anyway).
UNMAILED_AFTER = dt.timedelta(minutes=15)

# Where each ledger kind is shown; calls are split further by their Call.category. Every kind
# has a group, so a statement's groups always add up to the change of the balance.
KIND_GROUPS: dict[str, str] = {
    Kind.DEPOSIT: Group.PAYMENTS,
    Kind.AUTO_RECHARGE: Group.PAYMENTS,
    Kind.CALL: Group.USAGE,
    Kind.PORT_FEE: Group.USAGE,
    Kind.PLAN_FEE: Group.RECURRING,
    Kind.TRUNK_FEE: Group.RECURRING,
    Kind.PRORATION: Group.RECURRING,
    Kind.ADJUSTMENT: Group.ADJUSTMENTS,
    Kind.REFUND: Group.REFUNDS,
    Kind.DISPUTE: Group.REFUNDS,
    Kind.REVERSAL: Group.REFUNDS,
}
_CALL_LABELS = {
    Call.Category.INCLUDED: "Calls: included minutes",
    Call.Category.OVERAGE: "Calls: overage",
    Call.Category.RATED: "Calls: per-minute destinations",
    Call.Category.DID_RATE: "Calls: DID rates",
    Call.Category.ON_NET: "Calls: on-net",
    Call.Category.UNANSWERED: "Calls: not answered",
}
_CALL_ORDER = [
    Call.Category.INCLUDED,
    Call.Category.OVERAGE,
    Call.Category.RATED,
    Call.Category.DID_RATE,
    Call.Category.ON_NET,
    Call.Category.UNANSWERED,
]
_KIND_ORDER = [
    Kind.DEPOSIT,
    Kind.AUTO_RECHARGE,
    Kind.CALL,
    Kind.PORT_FEE,
    Kind.PLAN_FEE,
    Kind.TRUNK_FEE,
    Kind.PRORATION,
    Kind.ADJUSTMENT,
    Kind.REFUND,
    Kind.DISPUTE,
    Kind.REVERSAL,
]


@dataclass(frozen=True)
class TotalLine:
    group: str
    code: str
    label: str
    count: int
    amount: Decimal


@dataclass
class PeriodTotals:
    opening: Decimal
    lines: list[TotalLine] = field(default_factory=list)

    def group_total(self, group: str) -> Decimal:
        return money(sum((line.amount for line in self.lines if line.group == group), ZERO))

    @property
    def change(self) -> Decimal:
        return money(sum((line.amount for line in self.lines), ZERO))

    @property
    def closing(self) -> Decimal:
        return money(self.opening + self.change)

    @property
    def entry_count(self) -> int:
        return sum(line.count for line in self.lines)


def ledger_period_totals(*, account_id: int, start: dt.datetime, end: dt.datetime) -> PeriodTotals:
    """The sums of the account's entries before ``start`` and, by kind (calls by category),
    in ``[start, end)``: three aggregate queries on the ledger's account index."""
    entries = LedgerEntry.objects.filter(account_id=account_id).order_by()
    opening = entries.filter(created_at__lt=start).aggregate(total=Sum("amount"))["total"]
    in_period = entries.filter(created_at__gte=start, created_at__lt=end)
    by_kind = {
        row["kind"]: (row["n"], row["total"])
        for row in in_period.exclude(kind=Kind.CALL)
        .values("kind")
        .annotate(n=Count("id"), total=Sum("amount"))
    }
    by_category = {
        row["call__category"]: (row["n"], row["total"])
        for row in in_period.filter(kind=Kind.CALL)
        .values("call__category")
        .annotate(n=Count("id"), total=Sum("amount"))
    }
    totals = PeriodTotals(opening=money(opening or ZERO))
    for kind in _KIND_ORDER:
        if kind == Kind.CALL:
            for category in [*_CALL_ORDER, None]:
                if category in by_category:
                    n, total = by_category[category]
                    label = _CALL_LABELS.get(category, "Calls") if category else "Calls"
                    code = f"call:{category}" if category else "call"
                    totals.lines.append(TotalLine(Group.USAGE, code, label, n, money(total)))
            continue
        if kind in by_kind:
            n, total = by_kind[kind]
            totals.lines.append(
                TotalLine(KIND_GROUPS[kind], kind, Kind(kind).label, n, money(total))
            )
    return totals


def statement_period_ending(*, account: Account, end: dt.datetime) -> Period:
    """The period a statement closed at ``end`` covers: from the end of the account's last
    statement (so statements tile time and no entry falls between two), else the billing
    period that ends at ``end``."""
    last = (
        Statement.objects.filter(account=account, period_end__lt=end)
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    if last is not None:
        return Period(last.astimezone(account.tz), end.astimezone(account.tz))
    period = period_containing(
        end - dt.timedelta(microseconds=1), billing_day=account.billing_day, tz=account.tz
    )
    return Period(period.start, end.astimezone(account.tz))


def statements_for_account(*, account: Account) -> list[Statement]:
    return list(Statement.objects.filter(account=account).order_by("-period_end"))


def statement_for_account(*, account: Account, statement_id: int) -> Statement:
    """One of the account's statements; another account's id is a 404."""
    statement = Statement.objects.filter(account=account, pk=statement_id).first()
    if statement is None:
        raise Http404("No such statement.")
    return statement


def statements_unmailed_ids(*, now: dt.datetime, limit: int = 1000) -> list[int]:
    """Statements closed a while ago whose e-mail has not gone out."""
    return list(
        Statement.objects.filter(emailed_at__isnull=True, closed_at__lte=now - UNMAILED_AFTER)
        .order_by("closed_at")
        .values_list("pk", flat=True)[:limit]
    )
