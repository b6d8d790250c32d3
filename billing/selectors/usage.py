"""Included minutes used in a billing period (counters per account, period and DID)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from billing.models import (
    ServicePlan,
    UsageCounter,
)
from billing.periods import Period
from billing.selectors.plans import billing_period, plan_for_account
from portal.models import Account


@dataclass(frozen=True)
class MinutesSummary:
    plan: ServicePlan | None
    period: Period
    included_seconds: int
    used_seconds: int
    left_seconds: int

    @property
    def reset_date(self) -> dt.date:
        """The first day of the next billing period (minutes reset then; no carry-over)."""
        return self.period.end_date

    @property
    def included_minutes(self) -> int:
        return self.included_seconds // 60

    @property
    def used_minutes(self) -> int:
        """Whole minutes used, rounded up (60/60 plans only ever use whole minutes)."""
        return -(-self.used_seconds // 60)

    @property
    def left_minutes(self) -> int:
        return self.left_seconds // 60

    @property
    def used_percent(self) -> int:
        if not self.included_seconds:
            return 0
        return min(100, self.used_seconds * 100 // self.included_seconds)


# A billing period starts at local midnight of a date, so the same period read in another time
# zone (the owner may change it) starts at most 26 hours apart; periods are 28+ days apart.
PERIOD_START_SLACK = dt.timedelta(hours=27)


def usage_counter_rows(
    *, account_ids: Iterable[int], period_starts: Iterable[dt.datetime]
) -> dict[tuple[int, dt.datetime, int | None], UsageCounter]:
    """The included-minute counters of these accounts and periods, by (account id, period start
    as asked, DID id). A counter written while the account had another time zone is its
    period's counter too (same dates, other midnights)."""
    starts = set(period_starts)
    if not starts:
        return {}
    rows = UsageCounter.objects.filter(
        account_id__in=set(account_ids),
        period_start__gt=min(starts) - PERIOD_START_SLACK,
        period_start__lt=max(starts) + PERIOD_START_SLACK,
    ).order_by("pk")
    found: dict[tuple[int, dt.datetime, int | None], UsageCounter] = {}
    for row in rows:
        for start in starts:
            if abs(row.period_start - start) < PERIOD_START_SLACK:
                found.setdefault((row.account_id, start, row.did_id), row)
    return found


def usage_counter(
    *, account: Account, period_start: dt.datetime, did_id: int | None = None
) -> UsageCounter | None:
    rows = usage_counter_rows(account_ids=[account.pk], period_starts=[period_start])
    return rows.get((account.pk, period_start, did_id))


def included_seconds_used(*, account: Account, period_start: dt.datetime) -> int:
    row = usage_counter(account=account, period_start=period_start)
    return row.included_seconds_used if row is not None else 0


def minutes_summary(*, account: Account, now: dt.datetime) -> MinutesSummary:
    """Included minutes of the billing month containing ``now``, in the account's zone."""
    period = billing_period(account=account, at=now)
    plan = plan_for_account(account=account, at=now)
    included = plan.included_minutes * 60 if plan is not None else 0
    used = included_seconds_used(account=account, period_start=period.start)
    return MinutesSummary(
        plan=plan,
        period=period,
        included_seconds=included,
        used_seconds=used,
        left_seconds=max(0, included - used),
    )
