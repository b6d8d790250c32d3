"""The billing app's dashboard panels (registered in ``BillingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from billing.models import CallPermissions
from billing.money import ZERO
from billing.selectors.cycle import cycle_state_for
from billing.selectors.deposits import billing_profile_for
from billing.selectors.plans import billing_period, pending_plan_change, plan_for_account
from billing.selectors.usage import minutes_summary
from billing.selectors.usage_charts import usage_overview
from billing.selectors.usage_figures import overview_figures
from billing.services.notifications import local_date
from billing.services.standing import suspend_grace
from portal.models import Account


def balance_panel(account: Account) -> dict[str, Any]:
    """The dashboard's prepaid balance, its alert and auto-recharge state."""
    profile = billing_profile_for(account=account)
    return {
        "template": "billing/panels/balance.html",
        "balance": account.balance,
        "negative": account.balance <= 0,
        "low": (
            profile.low_balance_threshold is not None
            and account.balance < profile.low_balance_threshold
        ),
        "auto_recharge": profile.auto_recharge_enabled,
        "auto_recharge_threshold": profile.auto_recharge_threshold,
        "auto_recharge_amount": profile.auto_recharge_amount,
        "url": reverse("billing:per_minute"),
    }


def minutes_panel(account: Account) -> dict[str, Any]:
    """The dashboard's included-minutes meter."""
    return {
        "template": "billing/panels/minutes.html",
        "summary": minutes_summary(account=account, now=timezone.now()),
    }


def standing_panel(account: Account) -> dict[str, Any] | None:
    """Why the account is suspended (or soon will be) and what to pay; nothing otherwise."""
    state = cycle_state_for(account=account)
    if state is None or (state.negative_since is None and state.suspended_at is None):
        return None
    suspended = state.suspended_at is not None and account.status == Account.Status.SUSPENDED
    return {
        "template": "billing/panels/standing.html",
        "suspended": suspended,
        "balance": account.balance,
        "to_pay": -account.balance if account.balance < 0 else ZERO,
        "negative_since": local_date(state.negative_since, account) if state.negative_since else "",
        "suspends_on": local_date(state.negative_since + suspend_grace(), account)
        if state.negative_since and not suspended
        else "",
        "url": reverse("billing:per_minute"),
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


def fraud_hold_panel(account: Account) -> dict[str, Any] | None:
    """The banner while the velocity alarm holds paid calls; nothing otherwise."""
    permissions = CallPermissions.objects.filter(account=account, fraud_hold_at__isnull=False)
    row = permissions.first()
    if row is None:
        return None
    return {
        "template": "billing/panels/fraud_hold.html",
        "reason": row.fraud_hold_reason,
        "since": row.fraud_hold_at,
        "url": reverse("billing:call_permissions"),
    }


def usage_charts_panel(account: Account) -> dict[str, Any]:
    """The dashboard's pictures of this billing month: minutes against the allowance, spend
    per day, and the last months' spend (one query on calls, one on the ledger)."""
    overview = usage_overview(account=account, now=timezone.now())
    return {
        "template": "billing/panels/usage_charts.html",
        "overview": overview,
        "figures": overview_figures(overview=overview, prefix="dash"),
        "url": reverse("billing:service_plan"),
    }
