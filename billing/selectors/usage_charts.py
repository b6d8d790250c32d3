"""The numbers behind the usage pictures: minutes per day by how they were billed, and spend
per day split into usage and monthly charges. Days are the account's days (its time zone).

Each aggregation is one grouped query over an account and a time range, so it is served by
the account's time index (``call_account_recent``, ``ledger_account_recent``) and, once the
calls table is partitioned by month, only the partitions of that range are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from billing.models import Call, LedgerEntry, Statement
from billing.money import ZERO, money
from billing.periods import Period, local_midnight, period_containing
from billing.selectors.calls import CallFilters, calls_for_account
from billing.selectors.statements import KIND_GROUPS
from billing.selectors.usage import MinutesSummary, minutes_summary
from portal.models import Account

# The months of spend the dashboard compares (the current one included, so far).
SPEND_MONTHS = 6
# The Calls page draws at most this many days: a longer filtered range shows its last days
# (the bars would be thinner than a pixel on a phone, and the query stays bounded).
MAX_CHART_DAYS = 92

Category = Call.Category
USAGE_KINDS = [kind for kind, group in KIND_GROUPS.items() if group == Statement.Group.USAGE]
RECURRING_KINDS = [
    kind for kind, group in KIND_GROUPS.items() if group == Statement.Group.RECURRING
]


@dataclass(frozen=True)
class DayMinutes:
    """Billed seconds of one local day's calls (by the day each call started)."""

    day: dt.date
    included: int = 0  # seconds taken from the plan's included minutes
    overage: int = 0  # seconds to included destinations once the minutes ran out
    per_minute: int = 0  # seconds billed at a rate-deck price
    incoming_did: int = 0  # seconds billed at a DID group's rate

    @property
    def total(self) -> int:
        return self.included + self.overage + self.per_minute + self.incoming_did


@dataclass(frozen=True)
class DaySpend:
    """What one local day's ledger charges cost (positive dollars)."""

    day: dt.date
    usage: Decimal = ZERO  # calls and number-port fees
    recurring: Decimal = ZERO  # plan fee, SIP trunk fees, proration

    @property
    def total(self) -> Decimal:
        return money(self.usage + self.recurring)


@dataclass(frozen=True)
class MonthSpend:
    period: Period
    usage: Decimal
    recurring: Decimal
    current: bool  # the billing month under way (its total so far)

    @property
    def total(self) -> Decimal:
        return money(self.usage + self.recurring)


@dataclass(frozen=True)
class UsageOverview:
    """The dashboard's and the Service Plan page's pictures of this billing month."""

    minutes: MinutesSummary
    today: dt.date
    days: list[DayMinutes]  # every day of the billing month up to today
    spend_days: list[DaySpend]  # every day of the billing month (the days to come are zero)
    months: list[MonthSpend]  # the last SPEND_MONTHS billing months, oldest first

    @property
    def period(self) -> Period:
        return self.minutes.period

    @property
    def period_days(self) -> list[dt.date]:
        return list(_days(self.period.start_date, self.period.last_day))

    @property
    def plan_minutes_used(self) -> int:
        """Seconds to included destinations this month: included, then overage."""
        return sum(d.included + d.overage for d in self.days)

    @property
    def overage_seconds(self) -> int:
        return sum(d.overage for d in self.days)

    @property
    def spend_usage(self) -> Decimal:
        return money(sum((d.usage for d in self.spend_days), ZERO))

    @property
    def spend_recurring(self) -> Decimal:
        return money(sum((d.recurring for d in self.spend_days), ZERO))


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def minutes_rows_query(calls: QuerySet[Call], tz: dt.tzinfo) -> QuerySet[Any, Any]:
    """The calls' billed seconds grouped by their local start day (one row per day)."""
    return (
        calls.order_by()
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values("day")
        .annotate(
            included=Sum("included_seconds"),
            overage=Sum("paid_seconds", filter=Q(category=Category.OVERAGE)),
            per_minute=Sum("paid_seconds", filter=Q(category=Category.RATED)),
            incoming_did=Sum("paid_seconds", filter=Q(category=Category.DID_RATE)),
        )
        .order_by("day")
    )


def _minutes_rows(calls: QuerySet[Call], tz: dt.tzinfo) -> dict[dt.date, DayMinutes]:
    """ONE query: the calls' billed seconds by local start day."""
    return {
        row["day"]: DayMinutes(
            day=row["day"],
            included=row["included"] or 0,
            overage=row["overage"] or 0,
            per_minute=row["per_minute"] or 0,
            incoming_did=row["incoming_did"] or 0,
        )
        for row in minutes_rows_query(calls, tz)
    }


def minutes_by_day(
    *, account: Account, first: dt.date, last: dt.date, filters: CallFilters | None = None
) -> list[DayMinutes]:
    """Every local day from ``first`` to ``last`` (inclusive, empty days as zeros) with its
    calls' billed seconds by category, in one query. ``filters`` are the Calls page's (its
    direction and number apply; the days are given here)."""
    tz = account.tz
    narrowed = CallFilters(
        date_from=first,
        date_to=last,
        direction=filters.direction if filters else "",
        number=filters.number if filters else "",
    )
    found = _minutes_rows(calls_for_account(account=account, filters=narrowed), tz)
    return [found.get(day) or DayMinutes(day=day) for day in _days(first, last)]


def calls_chart_range(
    *, account: Account, filters: CallFilters, now: dt.datetime
) -> tuple[dt.date, dt.date]:
    """The days the Calls page's chart covers: the filtered dates; without a From date, from
    the start of the billing month of the last day (today without a To date); at most
    MAX_CHART_DAYS (the last ones)."""
    tz = account.tz
    today = now.astimezone(tz).date()
    last = filters.date_to or max(today, filters.date_from or today)
    if filters.date_from is not None:
        first = filters.date_from
    else:  # the billing month of the last day shown
        first = period_containing(
            local_midnight(last, tz), billing_day=account.billing_day, tz=tz
        ).start_date
    if (last - first).days >= MAX_CHART_DAYS:
        first = last - dt.timedelta(days=MAX_CHART_DAYS - 1)
    return first, last


def calls_minutes_chart(
    *, account: Account, filters: CallFilters, now: dt.datetime
) -> list[DayMinutes]:
    """The Calls page's minutes per day for its filters (one query). ``bin/bench`` times this
    call: it is the chart's whole cost on the page."""
    first, last = calls_chart_range(account=account, filters=filters, now=now)
    return minutes_by_day(account=account, first=first, last=last, filters=filters)


def spend_rows_query(
    *, account: Account, start: dt.datetime, end: dt.datetime
) -> QuerySet[Any, Any]:
    """Ledger charges from ``start`` (inclusive) to ``end`` summed by local day, usage and
    monthly charges apart."""
    return (
        LedgerEntry.objects.filter(
            account=account,
            created_at__gte=start,
            created_at__lt=end,
            kind__in=[*USAGE_KINDS, *RECURRING_KINDS],
        )
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=account.tz))
        .values("day")
        .annotate(
            usage=Sum("amount", filter=Q(kind__in=USAGE_KINDS)),
            recurring=Sum("amount", filter=Q(kind__in=RECURRING_KINDS)),
        )
        .order_by("day")
    )


def spend_by_day(
    *, account: Account, start: dt.datetime, end: dt.datetime
) -> dict[dt.date, DaySpend]:
    """ONE query: each local day's charges as positive dollars. Charges are negative entries;
    a credit of the same kinds lowers the day's figure. Payments, refunds of payments and
    adjustments are not spend."""
    return {
        row["day"]: DaySpend(
            day=row["day"],
            usage=money(-(row["usage"] or ZERO)),
            recurring=money(-(row["recurring"] or ZERO)),
        )
        for row in spend_rows_query(account=account, start=start, end=end)
    }


def _months(account: Account, current: Period) -> list[Period]:
    periods = [current]
    while len(periods) < SPEND_MONTHS:
        before = periods[0].start - dt.timedelta(microseconds=1)
        periods.insert(0, period_containing(before, billing_day=account.billing_day, tz=account.tz))
    return periods


def usage_overview(
    *, account: Account, now: dt.datetime, summary: MinutesSummary | None = None
) -> UsageOverview:
    """This billing month's minutes per day, its spend per day and the last months' spend:
    the plan summary's queries (unless the page has read it), then one query on calls and one
    on the ledger."""
    summary = summary or minutes_summary(account=account, now=now)
    period = summary.period
    today = min(now.astimezone(account.tz).date(), period.last_day)
    days = minutes_by_day(account=account, first=period.start_date, last=today)
    months = _months(account, period)
    spend = spend_by_day(account=account, start=months[0].start, end=period.end)
    month_spend = []
    for month in months:
        in_month = [row for day, row in spend.items() if month.start_date <= day <= month.last_day]
        month_spend.append(
            MonthSpend(
                period=month,
                usage=money(sum((row.usage for row in in_month), ZERO)),
                recurring=money(sum((row.recurring for row in in_month), ZERO)),
                current=month is period,
            )
        )
    # The whole month on the axis (days to come are empty), as the minutes' picture.
    spend_days = [
        spend.get(day) or DaySpend(day=day) for day in _days(period.start_date, period.last_day)
    ]
    return UsageOverview(
        minutes=summary, today=today, days=days, spend_days=spend_days, months=month_spend
    )
