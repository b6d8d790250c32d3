"""The low-balance e-mail: once per downward crossing of the account's alert threshold."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse

from billing.models import (
    BillingProfile,
)
from billing.money import format_usd
from billing.services.notifications import account_mail
from portal.mail import site_link
from portal.models import Account


def low_balance_check(*, account_id: int, now: dt.datetime) -> bool:
    """E-mail once per crossing below the customer's alert threshold; re-arm above it.
    Returns True when an alert was sent."""
    with transaction.atomic():
        profile = (
            BillingProfile.objects.select_for_update(of=("self",))  # not the account row
            .select_related("account")
            .filter(account_id=account_id)
            .first()
        )
        if profile is None or profile.low_balance_threshold is None:
            return False
        balance = Account.objects.values_list("balance", flat=True).get(pk=account_id)
        threshold = profile.low_balance_threshold
        if balance >= threshold:
            if profile.low_balance_alerted:
                profile.low_balance_alerted = False
                profile.save(update_fields=["low_balance_alerted", "updated_at"])
            return False
        if profile.low_balance_alerted:
            return False
        profile.low_balance_alerted = True
        profile.save(update_fields=["low_balance_alerted", "updated_at"])
        context = {
            "balance": format_usd(balance),
            "threshold": format_usd(threshold),
            "auto_recharge": profile.auto_recharge_enabled,
            "link": site_link(reverse("billing:per_minute")),
        }
        transaction.on_commit(
            lambda: account_mail(
                account_id,
                subject=f"Your balance is low: {context['balance']}",
                template="billing/email/low_balance.txt",
                context=context,
            )
        )
    return True
