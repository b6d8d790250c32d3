"""The daily reconciliation of Stripe payments against the ledger."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail

from billing import stripe_gateway
from billing.models import (
    Deposit,
    LedgerEntry,
)
from billing.money import to_minor_units
from billing.selectors.deposits import deposit_for_intent
from billing.services.deposits import OPEN_DEPOSIT_STALE_AFTER, deposit_apply_intent, deposit_fail
from portal.errors import DomainError
from portal.mail import mail_subject

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    checked: int = 0
    credited: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def stripe_reconcile(*, now: dt.datetime, days: int | None = None) -> ReconcileReport:
    """Daily: credit succeeded PaymentIntents of the last days that have no ledger entry (a
    webhook that never came), close abandoned deposits, and e-mail staff any mismatch."""
    since = now - dt.timedelta(days=days or settings.BILLING_RECONCILE_DAYS)
    report = ReconcileReport()

    def apply(deposit: Deposit, intent: stripe_gateway.Intent) -> None:
        before = deposit.status
        try:
            after = deposit_apply_intent(
                deposit=deposit, intent=intent, now=now, source="reconciliation"
            )
        except DomainError as exc:
            report.mismatches.append(f"deposit {deposit.pk} / {intent.id}: {exc.message}")
            return
        if after.status == Deposit.Status.SUCCEEDED and before != Deposit.Status.SUCCEEDED:
            report.credited.append(intent.id)

    open_deposits = (
        Deposit.objects.filter(created_at__gte=since)
        .exclude(status=Deposit.Status.SUCCEEDED)
        .exclude(stripe_payment_intent_id="")
    )
    for deposit in open_deposits:
        report.checked += 1
        try:
            intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
        except DomainError as exc:
            report.mismatches.append(f"deposit {deposit.pk}: {exc.message}")
            continue
        apply(deposit, intent)

    for intent in stripe_gateway.payment_intents_since(int(since.timestamp())):
        report.checked += 1
        if intent.status != "succeeded":
            continue
        entry = LedgerEntry.objects.filter(idempotency_key=f"stripe:{intent.id}").first()
        if entry is not None:
            if to_minor_units(entry.amount) != intent.amount:
                report.mismatches.append(
                    f"{intent.id}: Stripe {intent.amount} cents, ledger {entry.amount}"
                )
            continue
        found = deposit_for_intent(intent)
        if found is None:
            report.mismatches.append(
                f"{intent.id}: succeeded payment of {intent.amount} cents with no deposit"
            )
            continue
        apply(found, intent)

    stale = Deposit.objects.filter(
        status__in=Deposit.OPEN_STATUSES,
        stripe_payment_intent_id="",
        created_at__lt=now - OPEN_DEPOSIT_STALE_AFTER,
    )
    for deposit in stale:
        deposit_fail(deposit, code="abandoned", message="The payment was not completed.", now=now)
        report.closed.append(str(deposit.pk))

    if report.mismatches:
        logger.error("stripe reconciliation mismatches: %s", report.mismatches)
        if settings.STAFF_ALERT_EMAILS:
            send_mail(
                subject=mail_subject(
                    f"Stripe reconciliation: {len(report.mismatches)} mismatch(es)"
                ),
                message="\n".join(report.mismatches),
                from_email=None,
                recipient_list=settings.STAFF_ALERT_EMAILS,
            )
    logger.info(
        "stripe reconciliation: checked=%s credited=%s closed=%s mismatches=%s",
        report.checked,
        len(report.credited),
        len(report.closed),
        len(report.mismatches),
    )
    return report
