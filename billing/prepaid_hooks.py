"""What the prepaid balance adds to the foundation: a dashboard panel and demo data."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.urls import reverse

from billing.models import BillingProfile, Deposit, LedgerEntry
from billing.money import format_usd
from billing.selectors.deposits import billing_profile_for
from billing.services.ledger import ledger_post
from portal.models import Account


def balance_panel(account: Account) -> dict[str, Any]:
    profile = billing_profile_for(account=account)
    return {
        "template": "billing/panels/balance.html",
        "balance": format_usd(account.balance),
        "negative": account.balance <= 0,
        "low": (
            profile.low_balance_threshold is not None
            and account.balance < profile.low_balance_threshold
        ),
        "auto_recharge": profile.auto_recharge_enabled,
        "auto_recharge_threshold": format_usd(profile.auto_recharge_threshold),
        "auto_recharge_amount": format_usd(profile.auto_recharge_amount),
        "url": reverse("billing:per_minute"),
    }


_DEMO_PAYMENTS = [
    # days ago, amount, kind
    (40, "50.00", Deposit.Kind.DEPOSIT),
    (12, "25.00", Deposit.Kind.DEPOSIT),
    (3, "25.00", Deposit.Kind.AUTO_RECHARGE),
]


def seed_demo(account: Account, now: dt.datetime) -> None:
    """Some card payments (and their history) for the demo account. Idempotent."""
    BillingProfile.objects.get_or_create(account=account)
    for index, (days, amount, kind) in enumerate(_DEMO_PAYMENTS):
        key = f"stripe:pi_demo_{account.code}_{index}"
        if LedgerEntry.objects.filter(idempotency_key=key).exists():
            continue
        when = now - dt.timedelta(days=days)
        deposit = Deposit.objects.create(
            account=account,
            kind=kind,
            amount=Decimal(amount),
            status=Deposit.Status.SUCCEEDED,
            key=uuid.uuid4(),
            stripe_payment_intent_id=key.removeprefix("stripe:"),
            card_brand="visa",
            card_last4="4242",
            created_at=when,
            updated_at=when,
            completed_at=when,
        )
        label = (
            "Auto-recharge by card"
            if kind == Deposit.Kind.AUTO_RECHARGE
            else "Credit added by card"
        )
        posting = ledger_post(
            account=account,
            amount=Decimal(amount),
            kind=kind,
            description=f"{label} (Visa •••• 4242)",
            idempotency_key=key,
            now=when,
            source_type="deposit",
            source_id=str(deposit.pk),
        )
        Deposit.objects.filter(pk=deposit.pk).update(ledger_entry=posting.entry)
