"""Auto-recharge reads: the caps that apply, whether a paused auto-recharge is armed again, and
the accounts due an attempt."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q

from billing.models import (
    BillingProfile,
    LedgerEntry,
)
from billing.money import money


def auto_recharge_caps(*, profile: BillingProfile) -> tuple[Decimal, Decimal]:
    daily = profile.auto_recharge_daily_cap
    monthly = profile.auto_recharge_monthly_cap
    return (
        money(daily if daily is not None else settings.BILLING_AUTO_RECHARGE_DAILY_CAP),
        money(monthly if monthly is not None else settings.BILLING_AUTO_RECHARGE_MONTHLY_CAP),
    )


def _lifted_since_pause() -> Exists:
    # Entries of one account are numbered in posting order (each is created under the account
    # row lock), so "a later entry whose balance reached the threshold" is exactly "a payment
    # lifted the balance back since the recharge that paused it", whatever order the tasks and
    # signals of concurrent postings run in.
    return Exists(
        LedgerEntry.objects.filter(
            account_id=OuterRef("account_id"),
            pk__gt=OuterRef("auto_recharge_paused_by_id"),
            balance_after__gte=OuterRef("auto_recharge_threshold"),
        )
    )


def auto_recharge_armed(*, profile: BillingProfile) -> bool:
    """False while a recharge left the balance below the threshold and nothing has lifted it to
    the threshold since: one recharge per downward crossing."""
    if profile.auto_recharge_paused_by_id is None:
        return True
    return LedgerEntry.objects.filter(
        account_id=profile.account_id,
        pk__gt=profile.auto_recharge_paused_by_id,
        balance_after__gte=profile.auto_recharge_threshold,
    ).exists()


def auto_recharge_due_account_ids(*, now: dt.datetime) -> list[int]:
    """Accounts with auto-recharge on, a card, a balance below the threshold, not backing off,
    and armed (the same one-per-crossing rule as ``auto_recharge_run``, or the scan would
    restart a runaway)."""
    return list(
        BillingProfile.objects.filter(
            auto_recharge_enabled=True,
            account__balance__lt=F("auto_recharge_threshold"),
        )
        .exclude(payment_method_id="")
        .filter(Q(auto_recharge_retry_after__isnull=True) | Q(auto_recharge_retry_after__lte=now))
        .filter(Q(auto_recharge_paused_by__isnull=True) | _lifted_since_pause())
        .values_list("account_id", flat=True)
    )
