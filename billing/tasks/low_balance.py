"""Low-balance e-mails: one account's check, and the beat scan for checks whose task was lost."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing import selectors, services


@shared_task(name="billing.tasks.low_balance_check")
def low_balance_check(account_id: int) -> bool:
    return services.low_balance_check(account_id=account_id, now=timezone.now())


@shared_task(name="billing.tasks.low_balance_scan")
def low_balance_scan() -> int:
    account_ids = selectors.low_balance_due_account_ids()
    for account_id in account_ids:
        low_balance_check.delay(account_id)
    return len(account_ids)
