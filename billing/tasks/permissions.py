"""The velocity alarm of the call permissions, evaluated after an account's CDRs are posted."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import permissions as service_permissions


@shared_task(name="billing.tasks.call_velocity_check")
def call_velocity_check(account_id: int) -> bool:
    return service_permissions.call_velocity_check(account_id=account_id, now=timezone.now())
