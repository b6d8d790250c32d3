"""Service plans of an account: a change takes effect at the next billing month."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from billing.models import (
    AccountPlan,
    ServicePlan,
)
from billing.selectors.plans import billing_period, default_plan, plan_for_account
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)


def account_plan_set(*, account: Account, plan: ServicePlan, now: dt.datetime) -> AccountPlan:
    """Put ``account`` on ``plan``: from the next billing period, or from the start of the
    current one when the account has no plan now. Replaces a pending (future) change."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        period = billing_period(account=account, at=now)
        current = plan_for_account(account=account, at=now)
        AccountPlan.objects.filter(account=account, starts_at__gt=now).delete()
        if current is not None and current.pk == plan.pk:
            return AccountPlan.objects.filter(account=account, starts_at__lte=now).latest(
                "starts_at"
            )
        starts_at = period.start if current is None else period.end
        row, _ = AccountPlan.objects.update_or_create(
            account=account, starts_at=starts_at, defaults={"plan": plan}
        )
    logger.info("account %s: plan %s from %s", account.code, plan.name, starts_at)
    return row


def account_plan_assign_default(*, account: Account, now: dt.datetime) -> AccountPlan | None:
    """Put a new account on the default plan (and so on its rate deck) from the start of its
    current billing month, unless it already has a plan. Without a plan a new customer has no
    rates, so every number would be "no rate" and every call refused."""
    if plan_for_account(account=account, at=now) is not None:
        return None
    plan = default_plan()
    if plan is None:
        logger.warning("account %s: no default service plan to assign", account.code)
        return None
    return account_plan_set(account=account, plan=plan, now=now)


def account_plan_choose(*, account: Account, plan_id: int, now: dt.datetime) -> AccountPlan:
    """A customer switches to a public plan: from the next billing month (shown as pending).
    Choosing the current plan again withdraws a pending switch."""
    plan = ServicePlan.objects.filter(pk=plan_id, is_public=True, is_active=True).first()
    if plan is None:
        raise DomainError(
            "That plan is not offered. Choose one of the plans shown.", code="bad_plan"
        )
    return account_plan_set(account=account, plan=plan, now=now)


def account_plan_change_cancel(*, account: Account, now: dt.datetime) -> bool:
    """Withdraw a pending plan switch; the current plan continues. True if one was pending
    (a second cancel, e.g. from another tab, changes nothing)."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        deleted, _ = AccountPlan.objects.filter(account=account, starts_at__gt=now).delete()
    if deleted:
        logger.info("account %s: pending plan change cancelled", account.code)
    return bool(deleted)
