"""The velocity alarm of the call permissions, evaluated after an account's CDRs are posted."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import permissions as service_permissions


@shared_task(name="billing.tasks.call_velocity_check")
def call_velocity_check(account_id: int) -> bool:
    return service_permissions.call_velocity_check(account_id=account_id, now=timezone.now())


@shared_task(name="billing.tasks.call_velocity_check_accounts")
def call_velocity_check_accounts(account_ids: list[int]) -> list[int]:
    """The velocity alarm of every account a batch of CDRs charged (one task per batch, not
    one per account): the ids whose alarm tripped."""
    now = timezone.now()
    return [
        pk for pk in account_ids if service_permissions.call_velocity_check(account_id=pk, now=now)
    ]
