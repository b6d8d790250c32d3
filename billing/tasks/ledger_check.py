"""Beat, daily: the ledger's and the cycle's consistency, e-mailed to staff on a mismatch."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import ledger_check as service_ledger_check


@shared_task(name="billing.tasks.ledger_consistency_check")
def ledger_consistency_check() -> int:
    return len(service_ledger_check.ledger_consistency_check(now=timezone.now()))
