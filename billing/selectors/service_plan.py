"""What the Service Plan page shows: the plan, its minutes, the recurring charges, the included
destinations, a forecast of this month's bill and the plans a customer may switch to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from billing.models import AccountPlan, DIDGroup, IncludedDestination, LedgerEntry, ServicePlan
from billing.money import ZERO, money
from billing.periods import Period, next_period
from billing.recurring import RecurringCharge, recurring_charges
from billing.selectors.plans import included_destinations, pending_plan_change, public_plans
from billing.selectors.usage import MinutesSummary, minutes_summary
from portal.models import Account


@dataclass(frozen=True)
class BillForecast:
    """This month's bill if usage goes on as it has: an estimate, never a charge."""

    recurring: Decimal
    usage_so_far: Decimal
    usage_projected: Decimal  # usage so far, extrapolated to the month's end by days
    days_elapsed: int
    days_in_period: int

    @property
    def total(self) -> Decimal:
        return money(self.recurring + self.usage_projected)


@dataclass(frozen=True)
class ServicePlanOverview:
    minutes: MinutesSummary
    next_period: Period
    recurring: list[RecurringCharge]  # this billing month
    recurring_next: list[RecurringCharge]  # the next one (a pending switch shows here)
    pending: AccountPlan | None
    destinations: list[IncludedDestination]
    did_groups_included: list[DIDGroup]
    did_groups_excluded: list[DIDGroup]
    forecast: BillForecast
    plans: list[ServicePlan]

    @property
    def plan(self) -> ServicePlan | None:
        return self.minutes.plan

    @property
    def period(self) -> Period:
        return self.minutes.period

    @property
    def next_bill_date(self) -> dt.date:
        """The recurring charges of a billing month are billed on its first day."""
        return self.period.end_date

    @property
    def recurring_total(self) -> Decimal:
        return money(sum((line.amount for line in self.recurring), ZERO))

    @property
    def recurring_next_total(self) -> Decimal:
        return money(sum((line.amount for line in self.recurring_next), ZERO))


def usage_charged(*, account: Account, period: Period, until: dt.datetime) -> Decimal:
    """What calls cost from the period's start up to ``until`` (charges are negative entries)."""
    total = LedgerEntry.objects.filter(
        account=account,
        kind=LedgerEntry.Kind.CALL,
        created_at__gte=period.start,
        created_at__lt=period.end,
        created_at__lte=until,
    ).aggregate(total=Sum("amount"))["total"]
    return money(-(total or ZERO))


def bill_forecast(
    *, account: Account, period: Period, recurring: Decimal, now: dt.datetime
) -> BillForecast:
    """Recurring charges plus usage so far, extrapolated linearly by the days elapsed in the
    account's time zone (today counts as elapsed, so the first day divides by one)."""
    days_in_period = (period.end_date - period.start_date).days
    today = now.astimezone(account.tz).date()
    days_elapsed = min(days_in_period, max(1, (today - period.start_date).days + 1))
    so_far = usage_charged(account=account, period=period, until=now)
    projected = money(so_far * days_in_period / days_elapsed)
    return BillForecast(
        recurring=money(recurring),
        usage_so_far=so_far,
        usage_projected=projected,
        days_elapsed=days_elapsed,
        days_in_period=days_in_period,
    )


def service_plan_overview(*, account: Account, now: dt.datetime) -> ServicePlanOverview:
    minutes = minutes_summary(account=account, now=now)
    period = minutes.period
    following = next_period(period, billing_day=account.billing_day, tz=account.tz)
    recurring = recurring_charges(account=account, period=period)
    groups = list(DIDGroup.objects.order_by("name"))
    includes_incoming = minutes.plan is not None and minutes.plan.includes_incoming
    return ServicePlanOverview(
        minutes=minutes,
        next_period=following,
        recurring=recurring,
        recurring_next=recurring_charges(account=account, period=following),
        pending=pending_plan_change(account=account, now=now),
        destinations=included_destinations(plan=minutes.plan),
        did_groups_included=[g for g in groups if g.included and includes_incoming],
        did_groups_excluded=[g for g in groups if not (g.included and includes_incoming)],
        forecast=bill_forecast(
            account=account,
            period=period,
            recurring=money(sum((line.amount for line in recurring), ZERO)),
            now=now,
        ),
        plans=public_plans(),
    )
