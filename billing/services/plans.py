"""Service plans of an account: a change takes effect at the next billing month."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from billing.models import (
    AccountPlan,
    ServicePlan,
)
from billing.selectors.plans import billing_period, plan_for_account
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
