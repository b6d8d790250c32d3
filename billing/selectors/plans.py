"""An account's service plan, its billing period and its rate deck."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from billing.models import (
    AccountPlan,
    AccountRating,
    IncludedDestination,
    Rate,
    RateDeck,
    ServicePlan,
)
from billing.money import money
from billing.periods import Period, period_containing
from billing.rating import PlanTerms, Tariff
from billing.recurring import RecurringCharge
from portal.models import Account


def included_destinations(*, plan: ServicePlan | None) -> list[IncludedDestination]:
    if plan is None:
        return []
    return list(IncludedDestination.objects.filter(plan=plan).order_by("name"))


def plan_by_name(*, name: str) -> ServicePlan | None:
    """An active plan by name, ignoring case (``--plan starter``): names are what staff and
    customers type, and two plans differing only in case would be a typo, not two offers."""
    return ServicePlan.objects.filter(name__iexact=name.strip(), is_active=True).first()


def default_plan() -> ServicePlan | None:
    """The plan a new account starts on (at most one, by constraint); None if staff chose none."""
    return (
        ServicePlan.objects.filter(is_default=True, is_active=True)
        .select_related("rate_deck")
        .first()
    )


def public_plans() -> list[ServicePlan]:
    """The plans customers may choose, cheapest first."""
    return list(
        ServicePlan.objects.filter(is_public=True, is_active=True).order_by("monthly_price", "name")
    )


def plan_fee_charges(account: Account, period: Period) -> list[RecurringCharge]:
    """The recurring provider of the plan fee: the plan in force at the period's start (a
    switch takes effect at the next billing month, so it is the plan of the whole period)."""
    plan = plan_for_account(account=account, at=period.start)
    if plan is None:
        return []
    price = money(plan.monthly_price)
    return [
        RecurringCharge(
            kind="plan_fee",
            code="plan",
            description=f"{plan.name} plan",
            quantity=1,
            unit_price=price,
            amount=price,
        )
    ]


def plan_for_account(*, account: Account, at: dt.datetime) -> ServicePlan | None:
    """The account's plan at ``at``: the newest plan row starting at or before it."""
    row = (
        AccountPlan.objects.filter(account=account, starts_at__lte=at)
        .select_related("plan", "plan__rate_deck")
        .order_by("-starts_at")
        .first()
    )
    return row.plan if row is not None else None


def pending_plan_change(*, account: Account, now: dt.datetime) -> AccountPlan | None:
    """A plan change scheduled for a later period (by staff or the customer), if any."""
    return (
        AccountPlan.objects.filter(account=account, starts_at__gt=now)
        .select_related("plan")
        .order_by("starts_at")
        .first()
    )


def billing_period(*, account: Account, at: dt.datetime) -> Period:
    return period_containing(at, billing_day=account.billing_day, tz=account.tz)


def plan_terms(plan: ServicePlan) -> PlanTerms:
    return PlanTerms(
        name=plan.name,
        included_seconds=plan.included_minutes * 60,
        overage=Tariff(
            rate=plan.overage_rate,
            initial=plan.overage_initial,
            increment=plan.overage_increment,
            label=f"{plan.name} overage",
        ),
    )


def rate_deck_for_account(*, account: Account, plan: ServicePlan | None) -> RateDeck | None:
    """The account's own deck when staff set one, else its plan's deck."""
    override = AccountRating.objects.filter(account=account).select_related("rate_deck").first()
    if override is not None and override.rate_deck is not None:
        return override.rate_deck
    return plan.rate_deck if plan is not None else None


def rate_for_number(*, deck: RateDeck | int, digits: str) -> Rate | None:
    """The deck row with the longest prefix of ``digits`` (E.164 without '+').

    One indexed query: ``prefix IN (every prefix of the number)`` on the unique (deck, prefix)
    index: at most 15 index probes, whatever the deck's size.
    """
    if not digits.isdigit():
        return None
    prefixes = [digits[:i] for i in range(1, min(len(digits), 20) + 1)]
    deck_id = deck if isinstance(deck, int) else deck.pk
    rows = list(Rate.objects.filter(deck_id=deck_id, prefix__in=prefixes))
    return max(rows, key=lambda r: len(r.prefix), default=None)


def rate_sheet(*, account: Account, at: dt.datetime) -> tuple[RateDeck | None, QuerySet[Rate]]:
    """The deck that prices the account's calls at ``at`` and its rows by prefix (on the
    unique (deck, prefix) index), for the customer's download; no deck → no rows."""
    deck = rate_deck_for_account(account=account, plan=plan_for_account(account=account, at=at))
    if deck is None:
        return None, Rate.objects.none()
    return deck, Rate.objects.filter(deck=deck).order_by("prefix")
