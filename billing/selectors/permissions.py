"""Call permissions (toll-fraud protection), read side: an account's permissions (or the
defaults a new account has), each country's risk tier, whether a destination may be called,
the day's usage spend against the daily cap, and the Call permissions page's country list.

The settings of the feature are read here, and only here: the defaults of a new account, the
staff maximum of the daily cap and the velocity alarm's window and thresholds.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from billing.models import (
    CallPermissionChange,
    CallPermissions,
    CallReservation,
    CountryRisk,
    LedgerEntry,
    Rate,
    RiskTier,
    ServicePlan,
)
from billing.money import ZERO, money
from billing.numbers import LineType, NumberInfo, classify, country_name, prefix_country
from billing.periods import local_midnight
from billing.selectors.plans import plan_for_account, rate_deck_for_account
from billing.selectors.pricing import CallPricing, PricingContext
from portal.models import Account

# Premium-rate and shared-cost ranges are where revenue-share fraud terminates: high risk in
# every country, whatever the country's own tier.
_HIGH_RISK_LINE_TYPES = {LineType.PREMIUM, LineType.SHARED_COST}


def price_ceiling_default() -> Decimal:
    return money(settings.BILLING_CALL_PRICE_CEILING)


def daily_cap_default() -> Decimal:
    return money(settings.BILLING_CALL_DAILY_CAP)


def daily_cap_staff_max() -> Decimal:
    """The highest daily cap a customer may set; staff may set more."""
    return money(settings.BILLING_CALL_DAILY_CAP_MAX)


def velocity_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.BILLING_VELOCITY_WINDOW_MINUTES)


def velocity_max_calls() -> int:
    """More paid calls than this to one number within the window trip the alarm."""
    return int(settings.BILLING_VELOCITY_MAX_CALLS)


def velocity_max_spend() -> Decimal:
    """More usage than this (USD) within the window trips the alarm."""
    return money(settings.BILLING_VELOCITY_MAX_SPEND)


def included_countries(*, plan: ServicePlan | None) -> set[str]:
    if plan is None:
        return set()
    return set(plan.included_destinations.values_list("country", flat=True))


def call_permissions_for(*, account: Account, at: dt.datetime) -> CallPermissions:
    """The account's permissions; without a row, the defaults of a new account (unsaved): the
    low tier and the plan's included countries allowed, medium and high risk off."""
    row = CallPermissions.objects.filter(account=account).first()
    if row is not None:
        return row
    plan = plan_for_account(account=account, at=at)
    return _defaults(account=account, included=included_countries(plan=plan), at=at)


def _defaults(*, account: Account, included: set[str], at: dt.datetime) -> CallPermissions:
    return CallPermissions(
        account=account,
        allow_low=True,
        allow_medium=False,
        allow_high=False,
        countries={country: True for country in sorted(included)},
        price_ceiling=price_ceiling_default(),
        daily_cap=daily_cap_default(),
        updated_at=at,
    )


def country_tiers() -> dict[str, str]:
    """Staff's tier of each country that has one (the others are medium)."""
    return dict(CountryRisk.objects.values_list("country", "tier"))


def risk_tier(*, country: str, tiers: dict[str, str], included: set[str]) -> str:
    tier = tiers.get(country)
    if tier is not None:
        return tier
    return RiskTier.LOW if country in included else RiskTier.MEDIUM


def country_allowed(*, permissions: CallPermissions, country: str, tier: str) -> bool:
    """The customer's choice for the country, else its tier's toggle."""
    choice = permissions.countries.get(country)
    return bool(choice) if choice is not None else permissions.tier_allowed(tier)


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def destination_refusal(
    *,
    permissions: CallPermissions,
    number: NumberInfo,
    rate: Decimal,
    tiers: dict[str, str],
    included: set[str],
) -> Refusal | None:
    """Why an outgoing call to ``number`` at ``rate`` per minute must be refused (its country's
    tier or the customer's choice, then the price ceiling; a rate equal to it is allowed)."""
    tier = risk_tier(country=number.country, tiers=tiers, included=included)
    if not country_allowed(permissions=permissions, country=number.country, tier=tier):
        return Refusal(
            "destination_not_allowed",
            f"Calls to {number.country_name} ({RiskTier(tier).label.lower()}) are not allowed "
            "by your call permissions.",
        )
    if number.line_type in _HIGH_RISK_LINE_TYPES and not permissions.allow_high:
        # Allowing a country never opens its premium-rate ranges: they need the high tier.
        return Refusal(
            "destination_not_allowed",
            f"Calls to {number.line_type} numbers in {number.country_name} are high risk and "
            "not allowed by your call permissions.",
        )
    if money(rate) > money(permissions.price_ceiling):
        return Refusal(
            "rate_above_limit",
            f"The rate ${money(rate)}/min is above your price ceiling of "
            f"${money(permissions.price_ceiling)}/min.",
        )
    return None


def local_day(*, account: Account, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The account's local day containing ``now``: [midnight, next midnight)."""
    tz = account.tz
    today = now.astimezone(tz).date()
    return local_midnight(today, tz), local_midnight(today + dt.timedelta(days=1), tz)


def day_charges(*, account: Account, now: dt.datetime) -> Decimal:
    """Today's (local) call charges posted to the ledger."""
    start, end = local_day(account=account, now=now)
    charged = LedgerEntry.objects.filter(
        account=account, kind=LedgerEntry.Kind.CALL, created_at__gte=start, created_at__lt=end
    ).aggregate(total=models.Sum("amount"))["total"]
    return money(-(charged or ZERO))


def day_spend(*, account: Account, now: dt.datetime) -> Decimal:
    """Today's (local) call charges plus what live reservations hold."""
    held = CallReservation.objects.filter(account=account, expires_at__gt=now).aggregate(
        total=models.Sum("amount")
    )["total"]
    return money(day_charges(account=account, now=now) + (held or ZERO))


def permission_history(*, account: Account, limit: int = 50) -> list[CallPermissionChange]:
    return list(
        CallPermissionChange.objects.filter(account=account).select_related("changed_by")[:limit]
    )


@dataclass(frozen=True)
class CountryRow:
    country: str
    name: str
    tier: str
    min_rate: Decimal
    max_rate: Decimal
    allowed: bool
    chosen: bool  # the customer chose otherwise than the tier toggle

    @property
    def tier_label(self) -> str:
        return RiskTier(self.tier).label


def deck_countries(
    *, account: Account, permissions: CallPermissions, now: dt.datetime, query: str = ""
) -> list[CountryRow]:
    """Every country of the account's rate deck with its price range, tier and whether it is
    allowed, sorted by name; ``query`` keeps those whose name or code contains it."""
    plan = plan_for_account(account=account, at=now)
    deck = rate_deck_for_account(account=account, plan=plan)
    included = included_countries(plan=plan)
    tiers = country_tiers()
    ranges: dict[str, tuple[Decimal, Decimal]] = {}
    if deck is not None:
        for prefix, rate in Rate.objects.filter(deck=deck).values_list("prefix", "rate"):
            country = prefix_country(prefix)
            if not country:
                continue
            low, high = ranges.get(country, (rate, rate))
            ranges[country] = (min(low, rate), max(high, rate))
    needle = query.strip().lower()
    rows = []
    for country, (low, high) in ranges.items():
        name = country_name(country)
        if needle and needle not in name.lower() and needle != country.lower():
            continue
        tier = risk_tier(country=country, tiers=tiers, included=included)
        rows.append(
            CountryRow(
                country=country,
                name=name,
                tier=tier,
                min_rate=money(low),
                max_rate=money(high),
                allowed=country_allowed(permissions=permissions, country=country, tier=tier),
                chosen=country in permissions.countries,
            )
        )
    return sorted(rows, key=lambda row: row.name)


@dataclass(frozen=True)
class CallPolicy:
    """What the call permissions say about one call, for authorization: a refusal; whether
    paid calls are held (only included and on-net seconds remain); the daily cap left."""

    refusal: Refusal | None
    on_hold: bool
    cap_left: Decimal


def call_policy(
    *,
    permissions: CallPermissions,
    pricing: CallPricing,
    direction: str,
    tiers: dict[str, str],
    included: set[str],
    spent_today: Decimal,
) -> CallPolicy:
    """Call permissions for one call about to be authorized, from what authorization read
    under the account's row lock: ``permissions`` (``permissions_from_facts``), the plan's
    ``included`` countries, and ``spent_today`` (today's call charges plus what live
    reservations hold, so that the daily cap counts every reservation made before this one)."""
    refusal = None
    if direction == "outbound" and not pricing.on_net and pricing.number is not None:
        refusal = destination_refusal(
            permissions=permissions,
            number=pricing.number,
            rate=pricing.paid_rate,
            tiers=tiers,
            included=included,
        )
    cap_left = max(ZERO, money(permissions.daily_cap) - money(spent_today))
    return CallPolicy(refusal=refusal, on_hold=permissions.on_hold, cap_left=cap_left)


_PERMISSION_FIELDS = [
    field.attname
    for field in CallPermissions._meta.concrete_fields
    if field.attname != "account_id"
]


def permissions_from_facts(
    *, account: Account, facts: dict[str, Any], included: set[str], at: dt.datetime
) -> CallPermissions:
    """``call_permissions_for`` from the permissions row's columns read by authorization's
    facts query as ``call_permissions__<column>`` (all None when the account has none)."""
    if facts["call_permissions__account_id"] is None:
        return _defaults(account=account, included=included, at=at)
    row = CallPermissions(
        account_id=account.pk,
        **{name: facts[f"call_permissions__{name}"] for name in _PERMISSION_FIELDS},
    )
    row.account = account
    return row


class CdrPolicies:
    """For a batch of CDRs: the authorize reason a reported call should have been refused for,
    if any (the call is billed all the same; this only flags it). Three queries for the whole
    batch (permissions, tiers, today's charges of its accounts); counts the batch's charges
    against each account's daily cap as it goes."""

    def __init__(
        self, *, accounts: Iterable[Account], context: PricingContext, now: dt.datetime
    ) -> None:
        self._context = context
        self._now = now
        by_pk = {account.pk: account for account in accounts}
        self._permissions = {
            row.account_id: row for row in CallPermissions.objects.filter(account_id__in=by_pk)
        }
        self._tiers = country_tiers()
        self._charged: dict[int, Decimal] = {}
        if by_pk:
            # One grouped query; its condition has one term per local day (accounts in the
            # same time zone share theirs), not one per account.
            days: dict[tuple[dt.datetime, dt.datetime], list[int]] = {}
            for pk, account in by_pk.items():
                days.setdefault(local_day(account=account, now=now), []).append(pk)
            today = functools.reduce(
                operator.or_,
                (
                    models.Q(account_id__in=pks, created_at__gte=start, created_at__lt=end)
                    for (start, end), pks in days.items()
                ),
            )
            totals = dict(
                LedgerEntry.objects.filter(today, kind=LedgerEntry.Kind.CALL)
                .values("account_id")
                .annotate(total=models.Sum("amount"))
                .values_list("account_id", "total")
                .order_by()
            )
            self._charged = {pk: money(-(totals.get(pk) or ZERO)) for pk in by_pk}

    def _for(self, account: Account) -> CallPermissions:
        row = self._permissions.get(account.pk)
        if row is None:
            plan = self._context.plan(account, self._now)
            row = _defaults(
                account=account,
                included=self._context.included_countries(plan) if plan else set(),
                at=self._now,
            )
            self._permissions[account.pk] = row
        return row

    def flag(
        self,
        *,
        account: Account,
        pricing: CallPricing,
        direction: str,
        start: dt.datetime,
        charge: Decimal,
    ) -> str:
        permissions = self._for(account)
        charged_before = self._charged.get(account.pk, ZERO)
        self._charged[account.pk] = charged_before + charge
        if direction == "outbound" and not pricing.on_net and pricing.number is not None:
            plan = pricing.plan
            refusal = destination_refusal(
                permissions=permissions,
                number=pricing.number,
                rate=pricing.paid_rate,
                tiers=self._tiers,
                included=self._context.included_countries(plan) if plan else set(),
            )
            if refusal is not None:
                return refusal.reason
        if charge <= 0:
            return ""
        if permissions.fraud_hold_at is not None and permissions.fraud_hold_at <= start:
            return "fraud_hold"
        if charged_before + charge > money(permissions.daily_cap):
            return "daily_limit_reached"
        return ""


def number_refusal(
    *, account: Account, quote_number: str, rate: Decimal, now: dt.datetime
) -> Refusal | None:
    """For the rate lookup: why an outgoing call to ``quote_number`` (E.164) would be refused
    by the call permissions (the fraud hold and the daily cap included), None when allowed."""
    permissions = call_permissions_for(account=account, at=now)
    plan = plan_for_account(account=account, at=now)
    refusal = destination_refusal(
        permissions=permissions,
        number=classify(quote_number),
        rate=rate,
        tiers=country_tiers(),
        included=included_countries(plan=plan),
    )
    if refusal is not None:
        return refusal
    if permissions.on_hold:
        return Refusal("fraud_hold", "Paid calls are suspended by the fraud alarm.")
    if day_spend(account=account, now=now) >= money(permissions.daily_cap):
        return Refusal("daily_limit_reached", "Today's spend cap is reached.")
    return None
