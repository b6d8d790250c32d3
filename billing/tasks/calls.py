"""Calls: the expiry of reservations whose CDR never came; the calls table's partitions."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import authorize as service_authorize
from billing.services.call_partitions import call_partitions_ensure


@shared_task(name="billing.tasks.reservation_expire")
def reservation_expire() -> int:
    """Beat, every minute: drop call reservations whose CDR never came in time."""
    return service_authorize.reservation_expire(now=timezone.now())


@shared_task(name="billing.tasks.call_partitions_create")
def call_partitions_create() -> list[str]:
    """Beat, daily: the calls table's month partitions, created months ahead (PostgreSQL)."""
    return call_partitions_ensure(now=timezone.now())
