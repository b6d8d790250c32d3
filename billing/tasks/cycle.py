"""The monthly cycle: the beat job that finds the accounts due, one task per account, and the
hourly standing scan (suspend after the grace period, resume a lost resume)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.selectors.cycle import cycle_due_account_ids
from billing.selectors.standing import standing_due_account_ids
from billing.services import cycle as service_cycle
from billing.services import standing as service_standing
from portal.enqueue import task_enqueue


@shared_task(name="billing.tasks.billing_cycle_scan")
def billing_cycle_scan() -> int:
    """Beat, every 15 minutes: one query, one task per account whose month rolled over, so
    one bad account does not stop the rest and many workers share the work."""
    account_ids = cycle_due_account_ids(now=timezone.now())
    for account_id in account_ids:
        task_enqueue(billing_cycle_run, account_id)
    return len(account_ids)


@shared_task(name="billing.tasks.billing_cycle_run", acks_late=True)
def billing_cycle_run(account_id: int) -> int:
    """Open the account's due periods; a failure leaves them due for the next scan."""
    opened = service_cycle.billing_cycle_run_account(account_id=account_id, now=timezone.now())
    return len(opened)


@shared_task(name="billing.tasks.account_standing_update")
def account_standing_update(account_id: int) -> None:
    service_standing.account_standing_update(account_id=account_id, now=timezone.now())


@shared_task(name="billing.tasks.account_standing_scan")
def account_standing_scan() -> int:
    now = timezone.now()
    account_ids = standing_due_account_ids(now=now, grace=service_standing.suspend_grace())
    for account_id in account_ids:
        task_enqueue(account_standing_update, account_id)
    return len(account_ids)
