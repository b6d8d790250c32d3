"""Add Credit by card: a ``Deposit`` is recorded before Stripe is called, and credited once.

Network calls to Stripe happen outside row locks; every credit goes through ``ledger_post``
with a key derived from Stripe's own ids (``stripe:<payment intent>``), so any path (confirm,
return page, webhook, reconciliation) may run first, twice or concurrently."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billing import stripe_gateway
from billing.models import (
    BillingProfile,
    Deposit,
)
from billing.money import cents, format_usd, money, to_minor_units
from billing.services.cards import (
    billing_card_save,
    billing_profile_ensure,
    card_detach_quietly,
    stripe_customer_ensure,
)
from billing.services.ledger import Posting, ledger_post
from billing.services.notifications import account_mail, local_date
from portal.errors import DomainError
from portal.models import Account, User

logger = logging.getLogger(__name__)

OPEN_DEPOSIT_STALE_AFTER = dt.timedelta(hours=1)


def deposit_limits() -> tuple[Decimal, Decimal]:
    """The least and the most one card payment may be (``BILLING_MIN_DEPOSIT``,
    ``BILLING_MAX_DEPOSIT``), in whole cents. The pages that state the limits read them here."""
    return cents(settings.BILLING_MIN_DEPOSIT), cents(settings.BILLING_MAX_DEPOSIT)


def deposit_amount_check(amount: Decimal) -> Decimal:
    """An Add Credit or auto-recharge amount: whole cents, minimum and maximum from settings."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise DomainError("Enter the amount as a number, for example 25.00.", code="bad_amount")
    minimum, maximum = deposit_limits()
    if amount <= 0:
        raise DomainError("The amount must be a positive number of dollars.", code="bad_amount")
    if amount != cents(amount):
        raise DomainError(
            "Enter at most 2 decimal places (whole cents), for example 25.50.", code="bad_amount"
        )
    if amount < minimum:
        raise DomainError(f"The minimum is {format_usd(minimum)}.", code="below_minimum")
    if amount > maximum:
        raise DomainError(
            f"The maximum per payment is {format_usd(maximum)}.", code="above_maximum"
        )
    return money(amount)


@dataclass(frozen=True)
class DepositStart:
    deposit: Deposit
    setup_client_secret: str  # "" when paying with the saved card


def deposit_start(
    *,
    account: Account,
    user: User | None,
    amount: Decimal,
    save_card: bool,
    use_saved_card: bool,
    now: dt.datetime,
) -> DepositStart:
    """Record an Add Credit first, then prepare the card: a SetupIntent for a new card (the
    browser confirms it with Stripe.js), or the saved card. Nothing is charged yet."""
    amount = deposit_amount_check(amount)
    if account.status == Account.Status.CLOSED:
        raise DomainError("This account is closed.", code="account_closed")
    profile = billing_profile_ensure(account=account)
    if use_saved_card and not profile.payment_method_id:
        raise DomainError("There is no saved card; enter a card.", code="no_saved_card")
    customer = stripe_customer_ensure(account=account)
    deposit = Deposit.objects.create(
        account=account,
        kind=Deposit.Kind.DEPOSIT,
        amount=amount,
        status=Deposit.Status.CREATED,
        created_by=user,
        save_card=save_card and not use_saved_card,
        key=uuid.uuid4(),
        created_at=now,
        updated_at=now,
    )
    if use_saved_card:
        deposit.stripe_payment_method_id = profile.payment_method_id
        deposit.card_brand = profile.card_brand
        deposit.card_last4 = profile.card_last4
        deposit.save(update_fields=["stripe_payment_method_id", "card_brand", "card_last4"])
        return DepositStart(deposit, "")
    setup = stripe_gateway.setup_intent_create(
        customer=customer, metadata={"deposit_id": str(deposit.pk), "account_id": str(account.pk)}
    )
    deposit.stripe_setup_intent_id = setup.id
    deposit.save(update_fields=["stripe_setup_intent_id"])
    return DepositStart(deposit, setup.client_secret)


def deposit_metadata(deposit: Deposit) -> dict[str, str]:
    return {
        "deposit_id": str(deposit.pk),
        "account_id": str(deposit.account_id),
        "kind": deposit.kind,
    }


def deposit_fail(
    deposit: Deposit, *, code: str, message: str, now: dt.datetime, payment_intent_id: str = ""
) -> Deposit:
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
        if locked.status == Deposit.Status.SUCCEEDED:
            return locked
        locked.status = Deposit.Status.FAILED
        locked.failure_code = code[:64]
        locked.failure_message = message[:500]
        if payment_intent_id and not locked.stripe_payment_intent_id:
            locked.stripe_payment_intent_id = payment_intent_id
        locked.updated_at = now
        locked.completed_at = now
        locked.save()
        transaction.on_commit(lambda: deposit_card_after_payment(locked.pk))
    return locked


def deposit_confirm(*, deposit: Deposit, setup_intent_id: str, now: dt.datetime) -> Deposit:
    """Charge the card the browser has just set up (or the saved card) for this deposit, once.

    A second call (double click, retry) returns the deposit as the first call left it.
    Raises CardDeclined (Stripe's message) when the card is refused.
    """
    claimed = Deposit.objects.filter(pk=deposit.pk, status=Deposit.Status.CREATED).update(
        status=Deposit.Status.PROCESSING, updated_at=now
    )
    deposit.refresh_from_db()
    if not claimed:
        return deposit
    account = deposit.account
    try:
        if deposit.stripe_setup_intent_id:
            if setup_intent_id != deposit.stripe_setup_intent_id:
                raise DomainError("This card setup belongs to another payment.", code="bad_setup")
            setup = stripe_gateway.setup_intent_retrieve(setup_intent_id)
            if setup.status != "succeeded" or not setup.payment_method:
                raise DomainError("The card was not set up; nothing was charged.", code="no_card")
            payment_method = setup.payment_method
        else:
            payment_method = deposit.stripe_payment_method_id
        customer = stripe_customer_ensure(account=account)
        card = stripe_gateway.payment_method_retrieve(payment_method)
        if card.customer != customer:
            stripe_gateway.payment_method_attach(
                payment_method_id=payment_method, customer=customer
            )
    except DomainError as exc:
        deposit_fail(deposit, code=exc.code, message=exc.message, now=now)
        raise
    deposit.stripe_payment_method_id = payment_method
    deposit.card_brand, deposit.card_last4 = card.brand, card.last4
    deposit.save(update_fields=["stripe_payment_method_id", "card_brand", "card_last4"])
    try:
        intent = stripe_gateway.payment_intent_create(
            amount_cents=to_minor_units(deposit.amount),
            customer=customer,
            payment_method=payment_method,
            metadata=deposit_metadata(deposit),
            idempotency_key=deposit.stripe_idempotency_key,
        )
    except stripe_gateway.CardDeclined as exc:
        deposit_fail(
            deposit,
            code=exc.code,
            message=exc.message,
            now=now,
            payment_intent_id=exc.payment_intent_id,
        )
        raise
    # A GatewayError leaves the deposit PROCESSING: reconciliation finds the PaymentIntent (if
    # Stripe created one) by its metadata, and credits it then.
    return deposit_apply_intent(deposit=deposit, intent=intent, now=now, source="confirm")


def _deposit_description(deposit: Deposit) -> str:
    if deposit.kind == Deposit.Kind.AUTO_RECHARGE:
        return f"Auto-recharge by card ({deposit.card_label})"
    return f"Credit added by card ({deposit.card_label})"


def deposit_apply_intent(
    *, deposit: Deposit | int, intent: stripe_gateway.Intent, now: dt.datetime, source: str
) -> Deposit:
    """Bring a deposit in line with what Stripe says about its PaymentIntent; credit the balance
    once (key ``stripe:<payment intent id>``) if it succeeded. Safe to call from any path, any
    number of times, concurrently."""
    deposit_id = deposit if isinstance(deposit, int) else deposit.pk
    current = Deposit.objects.get(pk=deposit_id)
    card: stripe_gateway.Card | None = None
    if intent.status == "succeeded" and not current.card_last4 and intent.payment_method:
        try:  # before taking the lock: the card's brand and last 4 digits for the history
            card = stripe_gateway.payment_method_retrieve(intent.payment_method)
        except DomainError:
            card = None
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit_id)
        if locked.status == Deposit.Status.SUCCEEDED:
            return locked
        if (
            locked.status in (Deposit.Status.CANCELED, Deposit.Status.EXPIRED)
            and intent.status != "succeeded"
        ):
            return locked  # cancelled at Stripe: only a success (credited below) reopens it
        if locked.stripe_payment_intent_id and locked.stripe_payment_intent_id != intent.id:
            raise DomainError(
                f"Deposit {locked.pk} is paid by {locked.stripe_payment_intent_id}, "
                f"not {intent.id}.",
                code="intent_mismatch",
            )
        if intent.metadata.get("deposit_id", str(locked.pk)) != str(locked.pk):
            raise DomainError(
                f"PaymentIntent {intent.id} belongs to another deposit.", code="intent_mismatch"
            )
        locked.stripe_payment_intent_id = intent.id
        locked.stripe_payment_method_id = locked.stripe_payment_method_id or intent.payment_method
        if card is not None:
            locked.card_brand, locked.card_last4 = card.brand, card.last4
        locked.updated_at = now
        if intent.status == "succeeded":
            if intent.amount != to_minor_units(locked.amount) or (
                intent.currency != settings.BILLING_CURRENCY
            ):
                raise DomainError(
                    f"PaymentIntent {intent.id} is for {intent.amount} {intent.currency}, "
                    f"deposit {locked.pk} for {locked.amount}.",
                    code="amount_mismatch",
                )
            posting = ledger_post(
                account=locked.account_id,
                amount=locked.amount,
                kind=locked.kind,
                description=_deposit_description(locked),
                idempotency_key=f"stripe:{intent.id}",
                now=now,
                source_type="deposit",
                source_id=str(locked.pk),
                metadata={
                    "payment_intent": intent.id,
                    "card_brand": locked.card_brand,
                    "card_last4": locked.card_last4,
                    "credited_by": source,
                },
            )
            locked.status = Deposit.Status.SUCCEEDED
            locked.ledger_entry = posting.entry
            locked.stripe_charge_id = intent.charge_id
            locked.failure_code = locked.failure_message = ""
            locked.completed_at = now
            locked.save()
            if locked.kind == Deposit.Kind.AUTO_RECHARGE:
                _auto_recharge_paid(locked, posting, now)
            if posting.created:
                logger.info("deposit %s credited via %s (%s)", locked.pk, source, intent.id)
                transaction.on_commit(lambda: _deposit_receipt(locked.pk))
                transaction.on_commit(lambda: deposit_card_after_payment(locked.pk))
            return locked
        if intent.status == "requires_action":
            locked.status = Deposit.Status.REQUIRES_ACTION
            locked.failure_code = "authentication_required"
            locked.failure_message = "Your bank asked you to confirm this payment."
        elif intent.status in ("requires_payment_method", "canceled"):
            locked.status = Deposit.Status.FAILED
            locked.failure_code = intent.error_code or intent.status
            locked.failure_message = intent.error_message or "The payment was not completed."
            locked.completed_at = now
            transaction.on_commit(lambda: deposit_card_after_payment(locked.pk))
        else:
            locked.status = Deposit.Status.PROCESSING
        locked.save()
        return locked


def _auto_recharge_paid(deposit: Deposit, posting: Posting, now: dt.datetime) -> None:
    """Record a paid auto-recharge on the profile. If it left the balance below the threshold,
    pause auto-recharge on this very entry: charging again would only repeat the payment (one
    recharge per downward crossing). Runs under the account row lock the posting took, so the
    balance after the entry is exactly what the customer has."""
    profile = BillingProfile.objects.select_for_update().get(account_id=deposit.account_id)
    profile.auto_recharge_declines = 0
    profile.auto_recharge_retry_after = None
    balance = posting.entry.balance_after
    threshold = profile.auto_recharge_threshold
    if posting.created and balance < threshold:
        profile.auto_recharge_paused_by = posting.entry
        profile.auto_recharge_note = (
            f"Your auto-recharge of {format_usd(deposit.amount)} left the balance at "
            f"{format_usd(balance)}, still below your threshold of {format_usd(threshold)}. "
            "Auto-recharge will not charge your card again until a payment brings the balance "
            f"to {format_usd(threshold)} or more: add credit by card."
        )
        context = {"deposit": deposit, "balance": balance, "threshold": threshold}
        transaction.on_commit(
            lambda: account_mail(
                deposit.account_id,
                subject=(
                    f"Auto-recharge paused: your balance is still below {format_usd(threshold)}"
                ),
                template="billing/email/auto_recharge_still_below.txt",
                context=context,
            )
        )
    elif profile.auto_recharge_paused_by_id != posting.entry.pk:
        profile.auto_recharge_note = (
            f"Last auto-recharge: {format_usd(deposit.amount)} on "
            f"{local_date(now, deposit.account)}, paid."
        )
    profile.save()


def deposit_refresh(*, deposit: Deposit, now: dt.datetime, source: str = "return") -> Deposit:
    """Ask Stripe for the deposit's PaymentIntent and apply it (the return page)."""
    if deposit.status == Deposit.Status.SUCCEEDED or not deposit.stripe_payment_intent_id:
        return deposit
    intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
    return deposit_apply_intent(deposit=deposit, intent=intent, now=now, source=source)


def _deposit_receipt(deposit_id: int) -> None:
    deposit = Deposit.objects.select_related("account", "ledger_entry").get(pk=deposit_id)
    what = "Auto-recharge" if deposit.kind == Deposit.Kind.AUTO_RECHARGE else "Payment"
    try:
        account_mail(
            deposit.account_id,
            subject=f"Receipt: {format_usd(deposit.amount)} added to your balance",
            template="billing/email/receipt.txt",
            context={"deposit": deposit, "what": what, "entry": deposit.ledger_entry},
        )
    except Exception:
        logger.exception("receipt for deposit %s not sent", deposit_id)


def deposit_card_after_payment(deposit_id: int) -> None:
    """Once a payment with a newly entered card is over: keep the card if the customer asked to
    and the payment succeeded; otherwise detach it from the Stripe Customer."""
    deposit = Deposit.objects.select_related("account").get(pk=deposit_id)
    pm = deposit.stripe_payment_method_id
    if deposit.kind != Deposit.Kind.DEPOSIT or not pm or not deposit.stripe_setup_intent_id:
        return  # auto-recharge, or paid with the saved card: nothing to keep or forget
    if deposit.status == Deposit.Status.SUCCEEDED and deposit.save_card:
        try:
            card = stripe_gateway.payment_method_retrieve(pm)
        except DomainError:
            logger.warning("deposit %s: card %s not saved, Stripe not answering", deposit_id, pm)
            return
        billing_card_save(account=deposit.account, card=card, now=deposit.updated_at)
        return
    if BillingProfile.objects.filter(payment_method_id=pm).exists():
        return
    card_detach_quietly(pm)


def deposit_payment_secret(*, deposit: Deposit) -> tuple[str, str]:
    """(client secret, status) of the deposit's PaymentIntent, for Stripe.js to finish 3-D
    Secure in the customer's browser."""
    if not deposit.stripe_payment_intent_id:
        raise DomainError("This payment has not reached the card processor.", code="no_intent")
    intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
    return intent.client_secret, intent.status
