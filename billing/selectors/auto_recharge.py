"""Auto-recharge reads: the caps that apply, and the accounts due an attempt."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q

from billing.models import (
    BillingProfile,
)
from billing.money import money


def auto_recharge_caps(*, profile: BillingProfile) -> tuple[Decimal, Decimal]:
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
