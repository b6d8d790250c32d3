"""A card payment the bank held for 3-D Secure ("Needs authentication"): the customer cancels
it, or it expires after ``AUTHENTICATION_EXPIRES_AFTER``.

Stripe is asked first, outside any lock and within the gateway's timeouts: the customer may
have confirmed it meanwhile (another tab, the e-mailed link), and only Stripe knows. What it
says is then recorded under the deposit's row lock. A PaymentIntent that succeeded is credited
(once: the ledger key is ``stripe:<payment intent>``) whatever was asked, so a cancel racing a
success never loses the customer's money; cancelling twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from billing import stripe_gateway
from billing.declines import decline_reason
from billing.models import BillingProfile, Deposit
from billing.money import format_usd
from billing.services.deposits import deposit_apply_intent, deposit_card_after_payment
from portal.errors import DomainError
from portal.models import User

logger = logging.getLogger(__name__)

# The bank's 3-D Secure challenge is not kept open for ever: a day is ample for a customer who
# got the e-mail, and an attempt left open counts against the auto-recharge caps.
AUTHENTICATION_EXPIRES_AFTER = dt.timedelta(days=1)

CANCELED_CODE = "canceled_by_customer"
EXPIRED_CODE = "authentication_expired"


def deposit_cancel(*, deposit: Deposit, user: User | None, now: dt.datetime) -> Deposit:
    """The customer cancels a payment waiting for 3-D Secure. Returns the deposit as it ends:
    cancelled, or paid (credited) if Stripe says it succeeded, or unchanged if it was not
    waiting any more. Raises ``GatewayError`` when Stripe cannot be asked (nothing changes)."""
    return _authentication_end(
        deposit_id=deposit.pk,
        status=Deposit.Status.CANCELED,
        code=CANCELED_CODE,
        user=user,
        now=now,
    )


def deposit_expire(*, deposit_id: int, now: dt.datetime) -> Deposit | None:
    """Cancel a payment nobody confirmed within ``AUTHENTICATION_EXPIRES_AFTER`` (the beat
    job's task; idempotent: anything else is left as it is)."""
    deposit = Deposit.objects.filter(pk=deposit_id).first()
    if deposit is None:
        return None
    if deposit.created_at > now - AUTHENTICATION_EXPIRES_AFTER:
        return deposit
    return _authentication_end(
        deposit_id=deposit_id, status=Deposit.Status.EXPIRED, code=EXPIRED_CODE, user=None, now=now
    )


def _authentication_end(
    *,
    deposit_id: int,
    status: Deposit.Status,
    code: str,
    user: User | None,
    now: dt.datetime,
) -> Deposit:
    deposit = Deposit.objects.get(pk=deposit_id)
    if deposit.status != Deposit.Status.REQUIRES_ACTION:
        return deposit
    source = "cancel" if status == Deposit.Status.CANCELED else "expiry"
    if deposit.stripe_payment_intent_id:
        intent = _intent_cancel(deposit)
        if intent.status != "canceled":
            # Stripe went on without us: succeeded (credited once), processing or failed.
            logger.info("deposit %s: not cancelled, Stripe says %s", deposit.pk, intent.status)
            return deposit_apply_intent(deposit=deposit, intent=intent, now=now, source=source)
    with transaction.atomic():
        locked = Deposit.objects.select_for_update(of=("self",)).get(pk=deposit_id)
        if locked.status != Deposit.Status.REQUIRES_ACTION:
            return locked  # another path recorded it first (a success, a second cancel)
        locked.status = status
        locked.failure_code = code
        locked.failure_message = decline_reason(code)
        locked.canceled_by = user
        locked.updated_at = now
        locked.completed_at = now
        locked.save()
        if locked.kind == Deposit.Kind.AUTO_RECHARGE:
            BillingProfile.objects.filter(account_id=locked.account_id).update(
                auto_recharge_note=_auto_recharge_note(locked), updated_at=now
            )
        transaction.on_commit(lambda: deposit_card_after_payment(locked.pk))
    logger.info("deposit %s: %s at Stripe (%s)", deposit_id, status, source)
    return locked


def _intent_cancel(deposit: Deposit) -> stripe_gateway.Intent:
    """Cancel at Stripe; when it refuses, what the PaymentIntent is now. A PaymentIntent still
    waiting after a refused cancel (Stripe not answering) raises: the payment stays as it is,
    to be cancelled again."""
    try:
        return stripe_gateway.payment_intent_cancel(
            deposit.stripe_payment_intent_id,
            idempotency_key=f"{deposit.stripe_idempotency_key}-cancel",
        )
    except DomainError as exc:
        logger.info("deposit %s: cancel refused (%s), asking Stripe", deposit.pk, exc.code)
    intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
    if intent.status == "requires_action":
        raise stripe_gateway.GatewayError(
            "The card processor did not cancel the payment; please try again shortly."
        )
    return intent


def _auto_recharge_note(deposit: Deposit) -> str:
    amount = format_usd(deposit.amount)
    if deposit.status == Deposit.Status.CANCELED:
        return f"You cancelled the auto-recharge of {amount} your bank asked you to confirm."
    return (
        f"The auto-recharge of {amount} was not confirmed with your bank within a day, so it "
        "was cancelled. Nothing was charged."
    )
