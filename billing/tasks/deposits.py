"""Card payments held for 3-D Secure: the beat job that expires those nobody confirmed."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.selectors.deposits import deposits_awaiting_authentication_ids
from billing.services.deposit_authentication import AUTHENTICATION_EXPIRES_AFTER, deposit_expire
from portal.enqueue import task_enqueue
from portal.errors import DomainError


@shared_task(name="billing.tasks.deposit_authentication_expire_scan")
def deposit_authentication_expire_scan() -> int:
    """Beat, hourly: one query, one task per payment, so a payment Stripe cannot cancel now
    does not hold up the rest (it is found again by the next scan)."""
    ids = deposits_awaiting_authentication_ids(
        created_before=timezone.now() - AUTHENTICATION_EXPIRES_AFTER
    )
    for deposit_id in ids:
        task_enqueue(deposit_authentication_expire, deposit_id)
    return len(ids)


@shared_task(name="billing.tasks.deposit_authentication_expire", acks_late=True)
def deposit_authentication_expire(deposit_id: int) -> str:
    try:
        deposit = deposit_expire(deposit_id=deposit_id, now=timezone.now())
    except DomainError as exc:  # Stripe not answering: the next scan tries again
        return exc.code
    return deposit.status if deposit is not None else "missing"
