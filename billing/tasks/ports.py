"""Number ports: the beat job that discards drafts nobody submitted."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services.ports import port_drafts_expire


@shared_task(name="billing.tasks.port_drafts_expire")
def port_drafts_expire_task() -> int:
    return port_drafts_expire(now=timezone.now())
