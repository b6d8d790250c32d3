"""The billing app's dashboard panels (registered in ``BillingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from billing.money import format_usd
from billing.selectors.deposits import billing_profile_for
from billing.selectors.plans import billing_period, pending_plan_change, plan_for_account
from billing.selectors.usage import minutes_summary
from portal.models import Account


def balance_panel(account: Account) -> dict[str, Any]:
    """The dashboard's prepaid balance, its alert and auto-recharge state."""
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


def minutes_panel(account: Account) -> dict[str, Any]:
    """The dashboard's included-minutes meter."""
    return {
        "template": "billing/panels/minutes.html",
        "summary": minutes_summary(account=account, now=timezone.now()),
    }


def plan_panel(account: Account) -> dict[str, Any]:
    """The dashboard's service plan: its name, price and the next bill date."""
    now = timezone.now()
    period = billing_period(account=account, at=now)
    return {
        "template": "billing/panels/plan.html",
        "plan": plan_for_account(account=account, at=now),
        "pending": pending_plan_change(account=account, now=now),
        "next_bill_date": period.end_date,
        "url": reverse("billing:service_plan"),
    }
