"""Beat, daily: Stripe's payments against the ledger."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.services import reconcile as service_reconcile


@shared_task(name="billing.tasks.stripe_reconcile")
def stripe_reconcile() -> dict[str, int]:
    report = service_reconcile.stripe_reconcile(now=timezone.now())
    return {
        "checked": report.checked,
        "credited": len(report.credited),
        "closed": len(report.closed),
        "mismatches": len(report.mismatches),
    }
