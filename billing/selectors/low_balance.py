"""Accounts whose low-balance alert state disagrees with their balance."""

from __future__ import annotations

from django.db.models import F, Q

from billing.models import (
    BillingProfile,
)


def low_balance_due_account_ids() -> list[int]:
    """Accounts whose alert state disagrees with their balance (an alert to send or re-arm)."""
    below = Q(account__balance__lt=F("low_balance_threshold"))
    return list(
        BillingProfile.objects.filter(low_balance_threshold__isnull=False)
        .filter((below & Q(low_balance_alerted=False)) | (~below & Q(low_balance_alerted=True)))
        .values_list("account_id", flat=True)
    )
