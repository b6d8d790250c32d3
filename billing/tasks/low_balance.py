"""Low-balance e-mails: one account's check, and the beat scan for checks whose task was lost."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.selectors.low_balance import low_balance_due_account_ids
from billing.services import low_balance as service_low_balance
from portal.enqueue import task_enqueue


@shared_task(name="billing.tasks.low_balance_check")
def low_balance_check(account_id: int) -> bool:
    return service_low_balance.low_balance_check(account_id=account_id, now=timezone.now())


@shared_task(name="billing.tasks.low_balance_scan")
def low_balance_scan() -> int:
    account_ids = low_balance_due_account_ids()
    for account_id in account_ids:
        task_enqueue(low_balance_check, account_id)
    return len(account_ids)
