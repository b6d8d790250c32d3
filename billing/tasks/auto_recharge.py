"""Auto-recharge: one account's attempt, and the beat scan for attempts whose task was lost."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.selectors.auto_recharge import auto_recharge_due_account_ids
from billing.services import auto_recharge as service_auto_recharge
from billing.services.auto_recharge import auto_recharge_resolve_stale
from portal.enqueue import task_enqueue


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
        task_enqueue(auto_recharge_run, account_id)
    return len(account_ids)
