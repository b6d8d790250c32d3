"""Refunds and disputes of a credited card payment: negative ledger entries, once each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from billing.models import (
    Deposit,
    LedgerEntry,
)
from billing.money import money, to_minor_units
from billing.services.ledger import ledger_post
from billing.services.notifications import local_date
from portal.errors import DomainError


def _credited_deposit_locked(deposit: Deposit, *, what: str) -> Deposit:
    """The deposit, row-locked, for a refund or dispute. Stripe refunds or disputes only a charge
    that succeeded, so a deposit not credited yet means its credit is still to be processed
    (events arrive in any order): fail, so that Stripe delivers the event again."""
    locked = Deposit.objects.select_for_update().select_related("account").get(pk=deposit.pk)
    if locked.status != Deposit.Status.SUCCEEDED:
        raise DomainError(
            f"{what} for deposit {locked.pk}, which is not credited yet.",
            code="not_credited_yet",
        )
    return locked


def deposit_refund_record(
    *, deposit: Deposit, charge_id: str, refunded_total: Decimal, now: dt.datetime
) -> LedgerEntry | None:
    """Debit what Stripe refunded on a credited payment and was not debited yet. Stripe reports
    the cumulative amount refunded, so the key is per (charge, cumulative amount)."""
    with transaction.atomic():
        locked = _credited_deposit_locked(deposit, what="Refund")
        total = money(min(refunded_total, locked.amount))
        delta = money(total - locked.refunded_amount)
        if delta <= 0:
            return None
        posting = ledger_post(
            account=locked.account_id,
            amount=-delta,
            kind=LedgerEntry.Kind.REFUND,
            description=(
                f"Refund of card payment of {local_date(locked.created_at, locked.account)} "
                f"({locked.card_label})"
            ),
            idempotency_key=f"stripe:refund:{charge_id}:{to_minor_units(total)}",
            now=now,
            source_type="deposit",
            source_id=str(locked.pk),
            metadata={"charge": charge_id, "refunded_total": str(total)},
        )
        locked.refunded_amount = total
        locked.updated_at = now
        locked.save(update_fields=["refunded_amount", "updated_at"])
        return posting.entry


def deposit_dispute_record(
    *, deposit: Deposit, dispute_id: str, amount: Decimal, reason: str, now: dt.datetime
) -> LedgerEntry | None:
    """A chargeback: debit the disputed amount once per Stripe dispute."""
    with transaction.atomic():
        locked = _credited_deposit_locked(deposit, what="Dispute")
        posting = ledger_post(
            account=locked.account_id,
            amount=-money(amount),
            kind=LedgerEntry.Kind.DISPUTE,
            description=(
                f"Card payment of {local_date(locked.created_at, locked.account)} disputed "
                f"with the card issuer ({locked.card_label})"
            ),
            idempotency_key=f"stripe:dispute:{dispute_id}",
            now=now,
            source_type="deposit",
            source_id=str(locked.pk),
            metadata={"dispute": dispute_id, "reason": reason},
        )
        return posting.entry
