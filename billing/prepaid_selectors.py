"""Reads for the prepaid balance: the Per Minute page's history, payments and settings, and
the beat scans. (Kept beside ``billing/selectors.py`` so the two halves of billing can change
independently.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import Http404

from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.money import money
from portal.models import Account

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


def _local_midnight(day: dt.date, account: Account) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=account.tz)


def ledger_history(*, account: Account, filters: HistoryFilters) -> QuerySet[LedgerEntry]:
    """The account's entries, newest first; dates are whole days in the account's time zone."""
    entries = LedgerEntry.objects.filter(account=account)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.date_from:
        entries = entries.filter(created_at__gte=_local_midnight(filters.date_from, account))
    if filters.date_to:
        end = _local_midnight(filters.date_to + dt.timedelta(days=1), account)
        entries = entries.filter(created_at__lt=end)
    return entries.select_related("deposit").order_by("-created_at", "-id")


def billing_profile_for(*, account: Account) -> BillingProfile:
    """The account's profile, or an unsaved one with the defaults (a read never writes)."""
    profile = BillingProfile.objects.filter(account=account).first()
    return profile if profile is not None else BillingProfile(account=account)


def deposit_for_account(*, account: Account, deposit_id: int) -> Deposit:
    """One of the account's card payments; another account's id is a 404."""
    deposit = Deposit.objects.filter(account=account, pk=deposit_id).first()
    if deposit is None:
        raise Http404("No such payment.")
    return deposit


def recent_payments(*, account: Account, limit: int = 8) -> list[Deposit]:
    """Card payments and auto-recharge attempts the customer has seen through (not the ones
    still waiting for a card to be entered)."""
    return list(
        Deposit.objects.filter(account=account)
        .exclude(status=Deposit.Status.CREATED)
        .order_by("-created_at", "-id")[:limit]
    )


def pending_authentications(*, account: Account) -> list[Deposit]:
    return list(
        Deposit.objects.filter(
            account=account,
            kind=Deposit.Kind.AUTO_RECHARGE,
            status=Deposit.Status.REQUIRES_ACTION,
        ).order_by("-created_at")
    )


def auto_recharge_limits(*, profile: BillingProfile) -> tuple[Decimal, Decimal]:
    daily = profile.auto_recharge_daily_cap
    monthly = profile.auto_recharge_monthly_cap
    return (
        money(daily if daily is not None else settings.BILLING_AUTO_RECHARGE_DAILY_CAP),
        money(monthly if monthly is not None else settings.BILLING_AUTO_RECHARGE_MONTHLY_CAP),
    )


def auto_recharge_due_account_ids(*, now: dt.datetime) -> list[int]:
    """Accounts with auto-recharge on, a card, a balance below the threshold, not backing off."""
    return list(
        BillingProfile.objects.filter(
            auto_recharge_enabled=True,
            account__balance__lt=F("auto_recharge_threshold"),
        )
        .exclude(payment_method_id="")
        .filter(Q(auto_recharge_retry_after__isnull=True) | Q(auto_recharge_retry_after__lte=now))
        .values_list("account_id", flat=True)
    )


def low_balance_due_account_ids() -> list[int]:
    """Accounts whose alert state disagrees with their balance (an alert to send or re-arm)."""
    below = Q(account__balance__lt=F("low_balance_threshold"))
    return list(
        BillingProfile.objects.filter(low_balance_threshold__isnull=False)
        .filter((below & Q(low_balance_alerted=False)) | (~below & Q(low_balance_alerted=True)))
        .values_list("account_id", flat=True)
    )
