"""Call reservations: the expiry of those whose CDR never came."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import authorize as service_authorize


@shared_task(name="billing.tasks.reservation_expire")
def reservation_expire() -> int:
    """Beat, every minute: drop call reservations whose CDR never came in time."""
    return service_authorize.reservation_expire(now=timezone.now())
