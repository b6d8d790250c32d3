"""Billing Celery tasks: thin, they take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from billing.selectors.auto_recharge import auto_recharge_due_account_ids
from billing.selectors.low_balance import low_balance_due_account_ids
from billing.services import authorize as service_authorize
from billing.services import auto_recharge as service_auto_recharge
from billing.services import low_balance as service_low_balance
from billing.services import reconcile as service_reconcile
from billing.services.auto_recharge import auto_recharge_resolve_stale

logger = logging.getLogger(__name__)


@shared_task(name="billing.tasks.auto_recharge_run", acks_late=True)
def auto_recharge_run(account_id: int) -> int | None:
    deposit = service_auto_recharge.auto_recharge_run(account_id=account_id, now=timezone.now())
    return deposit.pk if deposit is not None else None


@shared_task(name="billing.tasks.auto_recharge_scan")
def auto_recharge_scan() -> int:
    """Beat: accounts below their threshold whose posting's task was lost get their attempt."""
    now = timezone.now()
    auto_recharge_resolve_stale(now=now)
    account_ids = auto_recharge_due_account_ids(now=now)
    for account_id in account_ids:
        auto_recharge_run.delay(account_id)
    return len(account_ids)


@shared_task(name="billing.tasks.low_balance_check")
def low_balance_check(account_id: int) -> bool:
    return service_low_balance.low_balance_check(account_id=account_id, now=timezone.now())


@shared_task(name="billing.tasks.low_balance_scan")
def low_balance_scan() -> int:
    account_ids = low_balance_due_account_ids()
    for account_id in account_ids:
        low_balance_check.delay(account_id)
    return len(account_ids)


@shared_task(name="billing.tasks.stripe_reconcile")
def stripe_reconcile() -> dict[str, int]:
    report = service_reconcile.stripe_reconcile(now=timezone.now())
    return {
        "checked": report.checked,
        "credited": len(report.credited),
        "closed": len(report.closed),
        "mismatches": len(report.mismatches),
    }


@shared_task(name="billing.tasks.reservation_expire")
def reservation_expire() -> int:
    """Beat, every minute: drop call reservations whose CDR never came in time."""
    return service_authorize.reservation_expire(now=timezone.now())
