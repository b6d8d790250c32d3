"""Billing writes. ``ledger_post`` is the only function that changes a balance."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import logging
import operator
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from billing import stripe_gateway
from billing.models import (
    DID,
    AccountPlan,
    ApiClient,
    BillingProfile,
    Call,
    CallReservation,
    Deposit,
    DIDGroup,
    Extension,
    LedgerEntry,
    Rate,
    RateDeck,
    ServicePlan,
    StripeEvent,
    UsageCounter,
)
from billing.money import ZERO, cents, format_usd, from_minor_units, money, to_minor_units
from billing.numbers import normalize
from billing.periods import Period
from billing.rating import CallFacts, Tariff, Usage, cost, rate_call
from billing.selectors import (
    PricingContext,
    billing_period,
    call_pricing,
    included_seconds_used,
    ledger_entries_posted,
    plan_for_account,
    usage_counter,
    usage_counter_rows,
)
from billing.signals import BalanceChange, balance_changed, balances_changed
from portal.errors import DomainError
from portal.models import Account, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posting:
    entry: LedgerEntry
    created: bool  # False when the idempotency key had already been posted


def _send_balance_changed(entry: LedgerEntry, before: Decimal) -> None:
    balance_changed.send_robust(
        sender=LedgerEntry,
        account_id=entry.account_id,
        entry_id=entry.pk,
        balance_before=before,
        balance_after=entry.balance_after,
    )


def ledger_post(
    *,
    account: Account | int,
    amount: Decimal,
    kind: str,
    description: str,
    idempotency_key: str,
    now: dt.datetime,
    source_type: str = "",
    source_id: str = "",
    created_by: User | None = None,
    reason: str = "",
    metadata: dict[str, Any] | None = None,
    reverses: LedgerEntry | None = None,
    locked: bool = False,
    announce: bool = True,
) -> Posting:
    """Append one entry and move the cached balance, exactly once per ``idempotency_key``.

    Locks the account row, so concurrent postings for one account serialise and none is lost.
    Posting a key that exists returns the existing entry and changes nothing. Runs in the
    caller's transaction when there is one (the caller's rollback undoes the posting too).

    ``locked=True``: the caller's transaction already holds ``account`` (an Account read with
    ``select_for_update``, whose ``balance`` is current) locked and has found, under that lock,
    that ``idempotency_key`` is not posted yet (``ledger_entries_posted``). The account is not
    locked again, the key not looked up again and no savepoint is made: the unique key still
    refuses a second posting, by an IntegrityError that aborts the caller's transaction (the
    caller rolls back and redoes its work). ``announce=False``:
    the caller sends ``balances_changed`` itself once its transaction commits, instead of one
    ``balance_changed`` per posting.
    """
    amount = money(amount)
    if amount == 0:
        raise DomainError("A ledger entry cannot be for $0.", code="zero_amount")
    if kind not in LedgerEntry.Kind.values:
        raise DomainError(f"Unknown ledger entry kind {kind!r}.", code="bad_kind")
    if not idempotency_key:
        raise DomainError("A ledger entry needs an idempotency key.", code="no_key")
    account_id = account if isinstance(account, int) else account.pk
    if locked and (isinstance(account, int) or not transaction.get_connection().in_atomic_block):
        raise TypeError("ledger_post(locked=True) needs the Account its transaction has locked.")
    try:
        with contextlib.nullcontext() if locked else transaction.atomic():
            row = (
                account
                if locked and not isinstance(account, int)
                else Account.objects.select_for_update().get(pk=account_id)
            )
            existing = (
                None
                if locked
                else LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            )
            if existing is not None:
                return _existing(existing, account_id=account_id, amount=amount)
            before = row.balance
            after = money(before + amount)
            entry = LedgerEntry.objects.create(
                account_id=account_id,
                amount=amount,
                kind=kind,
                description=description[:255],
                source_type=source_type,
                source_id=str(source_id),
                balance_after=after,
                idempotency_key=idempotency_key,
                created_at=now,
                created_by=created_by,
                reason=reason,
                metadata=metadata or {},
                reverses=reverses,
            )
            Account.objects.filter(pk=account_id).update(balance=after)
            if not isinstance(account, int):
                account.balance = after
            if announce:
                transaction.on_commit(lambda: _send_balance_changed(entry, before))
    except IntegrityError:
        if locked:
            raise  # the caller's transaction is aborted: the caller rolls back
        # The unique key won a race outside the account lock (another account used it):
        # report the existing entry; the database guaranteed nothing was posted twice.
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _existing(existing, account_id=account_id, amount=amount)
    logger.info(
        "ledger: account=%s kind=%s amount=%s balance=%s key=%s",
        account_id,
        kind,
        amount,
        after,
        idempotency_key,
    )
    return Posting(entry=entry, created=True)


def ledger_existing(*, entry: LedgerEntry, account: Account, amount: Decimal) -> Posting:
    """What ``ledger_post`` answers for a key already posted as ``entry``: that entry, not
    created; or DomainError ``idempotency_conflict`` if it was posted with other details."""
    return _existing(entry, account_id=account.pk, amount=money(amount))


def _existing(entry: LedgerEntry, *, account_id: int, amount: Decimal) -> Posting:
    if entry.account_id != account_id or entry.amount != amount:
        logger.error(
            "ledger: idempotency key %s reused with different content (%s/%s vs %s/%s)",
            entry.idempotency_key,
            entry.account_id,
            entry.amount,
            account_id,
            amount,
        )
        raise DomainError(
            "This operation was already recorded with different details.",
            code="idempotency_conflict",
        )
    return Posting(entry=entry, created=False)


def ledger_adjust(
    *,
    account: Account,
    amount: Decimal,
    reason: str,
    staff_user: User,
    now: dt.datetime,
    idempotency_key: str | None = None,
    description: str | None = None,
) -> Posting:
    """A staff adjustment: records who and why. ``idempotency_key`` comes from the form."""
    reason = reason.strip()
    if not reason:
        raise DomainError("An adjustment needs a reason.", code="no_reason")
    if not staff_user.is_staff:
        raise DomainError("Only staff can adjust balances.", code="not_staff")
    amount = money(amount)
    return ledger_post(
        account=account,
        amount=amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description=description or ("Credit" if amount > 0 else "Debit") + f": {reason}",
        idempotency_key=idempotency_key or f"adjustment:{uuid.uuid4()}",
        now=now,
        source_type="staff",
        source_id=str(staff_user.pk),
        created_by=staff_user,
        reason=reason,
    )


def ledger_reverse(
    *, entry: LedgerEntry, reason: str, staff_user: User | None, now: dt.datetime
) -> Posting:
    """Undo an entry with an equal and opposite one (once: the key is the entry's id)."""
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise DomainError("A reversal cannot itself be reversed.", code="bad_reversal")
    return ledger_post(
        account=entry.account_id,
        amount=-entry.amount,
        kind=LedgerEntry.Kind.REVERSAL,
        description=f"Reversal of {entry.description} ({format_usd(entry.amount)})",
        idempotency_key=f"reversal:{entry.pk}",
        now=now,
        source_type="ledger_entry",
        source_id=str(entry.pk),
        created_by=staff_user,
        reason=reason,
        reverses=entry,
    )


# --- Prepaid balance: Stripe customer, deposits, webhooks, reconciliation ---------------------
# Network calls to Stripe happen outside row locks where the flow allows; every credit and
# debit goes through ledger_post with a key derived from Stripe's own ids, so any path
# (confirm, return page, webhook, reconciliation) may run first, twice or concurrently.

RECEIPT_SUBJECT_PREFIX = "[Control Center] "
AUTO_RECHARGE_MAX_DECLINES = 3
AUTO_RECHARGE_BACKOFF = (dt.timedelta(hours=1), dt.timedelta(hours=4))
AUTO_RECHARGE_ACTION_WAIT = dt.timedelta(hours=24)
AUTO_RECHARGE_ERROR_WAIT = dt.timedelta(minutes=15)
OPEN_DEPOSIT_STALE_AFTER = dt.timedelta(hours=1)


def _account_id(account: Account | int) -> int:
    return account if isinstance(account, int) else account.pk


def _account_emails(account_id: int) -> list[str]:
    users = User.objects.filter(account_id=account_id, is_active=True)
    owners = [u.email for u in users if u.role == User.Role.OWNER]
    return owners or [u.email for u in users]


def _mail_account(account_id: int, *, subject: str, template: str, context: dict[str, Any]) -> None:
    recipients = _account_emails(account_id)
    if not recipients:
        logger.warning("billing mail %r: account %s has no users", subject, account_id)
        return
    account = Account.objects.get(pk=account_id)
    body = render_to_string(
        template,
        {
            "account": account,
            "per_minute_url": settings.SITE_URL + reverse("billing:per_minute"),
            **context,
        },
    )
    send_mail(
        subject=RECEIPT_SUBJECT_PREFIX + subject,
        message=body,
        from_email=None,
        recipient_list=recipients,
    )


def _local_date(moment: dt.datetime, account: Account) -> str:
    local = moment.astimezone(account.tz)
    return f"{local:%b} {local.day}, {local.year}"


def billing_profile_get(*, account: Account | int) -> BillingProfile:
    """The account's billing profile, created with defaults on first use."""
    profile, _created = BillingProfile.objects.get_or_create(account_id=_account_id(account))
    return profile


def deposit_amount_check(amount: Decimal) -> Decimal:
    """An Add Credit or auto-recharge amount: whole cents, minimum and maximum from settings."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise DomainError("Enter the amount as a number, for example 25.00.", code="bad_amount")
    minimum = cents(settings.BILLING_MIN_DEPOSIT)
    maximum = cents(settings.BILLING_MAX_DEPOSIT)
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


def stripe_customer_ensure(*, account: Account) -> str:
    """The account's Stripe Customer id, creating the Customer once."""
    profile = billing_profile_get(account=account)
    if profile.stripe_customer_id:
        return profile.stripe_customer_id
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if not profile.stripe_customer_id:
            emails = _account_emails(account.pk)
            profile.stripe_customer_id = stripe_gateway.customer_create(
                account_id=account.pk,
                account_code=account.code,
                name=account.name,
                email=emails[0] if emails else "",
                idempotency_key=f"cc-customer-{account.pk}",
            )
            profile.save(update_fields=["stripe_customer_id", "updated_at"])
    return profile.stripe_customer_id


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
    profile = billing_profile_get(account=account)
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


def _deposit_metadata(deposit: Deposit) -> dict[str, str]:
    return {
        "deposit_id": str(deposit.pk),
        "account_id": str(deposit.account_id),
        "kind": deposit.kind,
    }


def _deposit_fail(
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
        transaction.on_commit(lambda: _deposit_card_after_payment(locked.pk))
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
        _deposit_fail(deposit, code=exc.code, message=exc.message, now=now)
        raise
    deposit.stripe_payment_method_id = payment_method
    deposit.card_brand, deposit.card_last4 = card.brand, card.last4
    deposit.save(update_fields=["stripe_payment_method_id", "card_brand", "card_last4"])
    try:
        intent = stripe_gateway.payment_intent_create(
            amount_cents=to_minor_units(deposit.amount),
            customer=customer,
            payment_method=payment_method,
            metadata=_deposit_metadata(deposit),
            idempotency_key=deposit.stripe_idempotency_key,
        )
    except stripe_gateway.CardDeclined as exc:
        _deposit_fail(
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
                BillingProfile.objects.filter(account_id=locked.account_id).update(
                    auto_recharge_declines=0,
                    auto_recharge_retry_after=None,
                    auto_recharge_note=(
                        f"Last auto-recharge: {format_usd(locked.amount)} on "
                        f"{_local_date(now, locked.account)}, paid."
                    ),
                )
            if posting.created:
                logger.info("deposit %s credited via %s (%s)", locked.pk, source, intent.id)
                transaction.on_commit(lambda: _deposit_receipt(locked.pk))
                transaction.on_commit(lambda: _deposit_card_after_payment(locked.pk))
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
            transaction.on_commit(lambda: _deposit_card_after_payment(locked.pk))
        else:
            locked.status = Deposit.Status.PROCESSING
        locked.save()
        return locked


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
        _mail_account(
            deposit.account_id,
            subject=f"Receipt: {format_usd(deposit.amount)} added to your balance",
            template="billing/email/receipt.txt",
            context={"deposit": deposit, "what": what, "entry": deposit.ledger_entry},
        )
    except Exception:
        logger.exception("receipt for deposit %s not sent", deposit_id)


def _deposit_card_after_payment(deposit_id: int) -> None:
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
    _detach_quietly(pm)


def billing_card_save(
    *, account: Account, card: stripe_gateway.Card, now: dt.datetime
) -> BillingProfile:
    """Keep ``card`` as the account's card for auto-recharge (replacing any previous one)."""
    profile = billing_profile_get(account=account)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        previous = profile.payment_method_id
        profile.payment_method_id = card.payment_method_id
        profile.card_brand, profile.card_last4 = card.brand, card.last4
        profile.card_exp_month, profile.card_exp_year = card.exp_month, card.exp_year
        profile.auto_recharge_declines = 0
        profile.auto_recharge_retry_after = None
        profile.save()
        if previous and previous != card.payment_method_id:
            transaction.on_commit(lambda: _detach_quietly(previous))
    return profile


def _detach_quietly(payment_method_id: str) -> None:
    try:
        stripe_gateway.payment_method_detach(payment_method_id)
    except DomainError:
        logger.warning("could not detach card %s", payment_method_id)


def billing_card_remove(*, account: Account, now: dt.datetime) -> BillingProfile:
    """Forget the saved card (detached in Stripe) and turn auto-recharge off."""
    profile = billing_profile_get(account=account)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        previous = profile.payment_method_id
        profile.payment_method_id = profile.card_brand = profile.card_last4 = ""
        profile.card_exp_month = profile.card_exp_year = None
        if profile.auto_recharge_enabled:
            profile.auto_recharge_enabled = False
            profile.auto_recharge_note = "Auto-recharge was turned off when the card was removed."
        profile.save()
        if previous:
            transaction.on_commit(lambda: _detach_quietly(previous))
    return profile


# --- Webhook events --------------------------------------------------------------------------


def stripe_event_record(*, payload: dict[str, Any], now: dt.datetime) -> StripeEvent:
    """Store a verified event once by its Stripe id (redeliveries find the stored row)."""
    event, _created = StripeEvent.objects.get_or_create(
        event_id=str(payload["id"]),
        defaults={"type": str(payload["type"])[:100], "payload": payload, "received_at": now},
    )
    return event


def _deposit_for_intent(intent: stripe_gateway.Intent) -> Deposit | None:
    deposit_id = intent.metadata.get("deposit_id", "")
    if deposit_id.isdigit():
        deposit = Deposit.objects.filter(pk=int(deposit_id)).first()
        if deposit is not None and intent.metadata.get("account_id") in (
            None,
            str(deposit.account_id),
        ):
            return deposit
    return Deposit.objects.filter(stripe_payment_intent_id=intent.id).first()


def _deposit_for_charge(payment_intent_id: str, charge_id: str) -> Deposit | None:
    if payment_intent_id:
        deposit = Deposit.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
        if deposit is not None:
            return deposit
    if charge_id:
        return Deposit.objects.filter(stripe_charge_id=charge_id).first()
    return None


def _on_payment_intent(obj: dict[str, Any], now: dt.datetime) -> str:
    intent = stripe_gateway.intent_from(obj)
    deposit = _deposit_for_intent(intent)
    if deposit is None:
        return f"No deposit in the portal for {intent.id}."
    deposit_apply_intent(deposit=deposit, intent=intent, now=now, source="webhook")
    return ""


def _on_charge_refunded(obj: dict[str, Any], now: dt.datetime) -> str:
    charge_id = str(obj.get("id") or "")
    payment_intent_id = stripe_gateway._id(obj.get("payment_intent"))
    refunded_cents = int(obj.get("amount_refunded") or 0)
    deposit = _deposit_for_charge(payment_intent_id, charge_id)
    if deposit is None:
        return f"No deposit in the portal for charge {charge_id}."
    deposit_refund_record(
        deposit=deposit,
        charge_id=charge_id,
        refunded_total=from_minor_units(refunded_cents),
        now=now,
    )
    return ""


def _on_dispute_created(obj: dict[str, Any], now: dt.datetime) -> str:
    charge_id = stripe_gateway._id(obj.get("charge"))
    payment_intent_id = stripe_gateway._id(obj.get("payment_intent"))
    deposit = _deposit_for_charge(payment_intent_id, charge_id)
    if deposit is None:
        return f"No deposit in the portal for charge {charge_id}."
    deposit_dispute_record(
        deposit=deposit,
        dispute_id=str(obj["id"]),
        amount=from_minor_units(int(obj.get("amount") or 0)),
        reason=str(obj.get("reason") or ""),
        now=now,
    )
    return ""


_EVENT_HANDLERS = {
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.requires_action": _on_payment_intent,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
}


def stripe_event_process(*, event_id: str, now: dt.datetime) -> StripeEvent:
    """Process a stored event in one transaction. Processed or ignored events are left alone,
    failed ones may be processed again (Stripe's retry, or staff in the admin)."""
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(event_id=event_id)
            if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
                return event
            event.attempts += 1
            handler = _EVENT_HANDLERS.get(event.type)
            if handler is None:
                event.status, event.error = StripeEvent.Status.IGNORED, ""
            else:
                note = handler(event.payload["data"]["object"], now)
                event.status = StripeEvent.Status.IGNORED if note else StripeEvent.Status.PROCESSED
                event.error = note
            event.processed_at = now
            event.save()
            return event
    except Exception as exc:
        logger.exception("stripe event %s failed", event_id)
        StripeEvent.objects.filter(event_id=event_id).update(
            status=StripeEvent.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=models.F("attempts") + 1,
        )
        raise


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
                f"Refund of card payment of {_local_date(locked.created_at, locked.account)} "
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
                f"Card payment of {_local_date(locked.created_at, locked.account)} disputed "
                f"with the card issuer ({locked.card_label})"
            ),
            idempotency_key=f"stripe:dispute:{dispute_id}",
            now=now,
            source_type="deposit",
            source_id=str(locked.pk),
            metadata={"dispute": dispute_id, "reason": reason},
        )
        return posting.entry


# --- Reconciliation --------------------------------------------------------------------------


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
        found = _deposit_for_intent(intent)
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
        _deposit_fail(deposit, code="abandoned", message="The payment was not completed.", now=now)
        report.closed.append(str(deposit.pk))

    if report.mismatches:
        logger.error("stripe reconciliation mismatches: %s", report.mismatches)
        if settings.STAFF_ALERT_EMAILS:
            send_mail(
                subject=f"[Control Center] Stripe reconciliation: {len(report.mismatches)} "
                "mismatch(es)",
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


# --- Auto-recharge and low-balance alerts ----------------------------------------------------


def auto_recharge_configure(
    *,
    account: Account,
    enabled: bool,
    threshold: Decimal,
    amount: Decimal,
    low_balance_threshold: Decimal | None,
    now: dt.datetime,
) -> BillingProfile:
    """The customer's auto-recharge and alert settings."""
    amount = deposit_amount_check(amount)
    threshold = money(threshold)
    if threshold < 0:
        raise DomainError("The threshold cannot be negative.", code="bad_threshold")
    if low_balance_threshold is not None and low_balance_threshold < 0:
        raise DomainError("The alert threshold cannot be negative.", code="bad_threshold")
    profile = billing_profile_get(account=account)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if enabled and not profile.payment_method_id:
            raise DomainError(
                "Save a card first: add credit and tick “Keep this card for auto-recharge”.",
                code="no_saved_card",
            )
        if enabled and not profile.auto_recharge_enabled:
            profile.auto_recharge_declines = 0
            profile.auto_recharge_retry_after = None
            profile.auto_recharge_note = ""
        profile.auto_recharge_enabled = enabled
        profile.auto_recharge_threshold = threshold
        profile.auto_recharge_amount = amount
        if profile.low_balance_threshold != low_balance_threshold:
            profile.low_balance_threshold = (
                money(low_balance_threshold) if low_balance_threshold is not None else None
            )
            profile.low_balance_alerted = False
        profile.save()
    account.refresh_from_db(fields=["balance"])
    if enabled and account.balance < threshold:
        _enqueue_auto_recharge(account.pk)
    return profile


def _enqueue_auto_recharge(account_id: int) -> None:
    from billing import tasks

    transaction.on_commit(lambda: tasks.auto_recharge_run.delay(account_id))


def auto_recharge_caps(profile: BillingProfile) -> tuple[Decimal, Decimal]:
    daily = profile.auto_recharge_daily_cap
    monthly = profile.auto_recharge_monthly_cap
    return (
        money(daily if daily is not None else settings.BILLING_AUTO_RECHARGE_DAILY_CAP),
        money(monthly if monthly is not None else settings.BILLING_AUTO_RECHARGE_MONTHLY_CAP),
    )


def _auto_recharged_since(account_id: int, since: dt.datetime) -> Decimal:
    total = Deposit.objects.filter(
        account_id=account_id,
        kind=Deposit.Kind.AUTO_RECHARGE,
        # An attempt waiting for 3-D Secure may still be confirmed (and charged) by the
        # customer: it counts until it is settled.
        status__in=[
            *Deposit.OPEN_STATUSES,
            Deposit.Status.REQUIRES_ACTION,
            Deposit.Status.SUCCEEDED,
        ],
        created_at__gte=since,
    ).aggregate(s=models.Sum("amount"))["s"]
    return money(total if total is not None else Decimal(0))


def auto_recharge_run(*, account_id: int, now: dt.datetime) -> Deposit | None:
    """One off-session recharge if the account is below its threshold. The profile row lock and
    the "no open attempt" check make it at most one attempt in flight per account; each attempt
    is a Deposit whose key is the Stripe idempotency key. Returns the attempt, or None."""
    with transaction.atomic():
        profile = (
            BillingProfile.objects.select_for_update(of=("self",))  # not the account row
            .select_related("account")
            .filter(account_id=account_id)
            .first()
        )
        if profile is None or not profile.auto_recharge_enabled or not profile.payment_method_id:
            return None
        account = profile.account
        if account.status == Account.Status.CLOSED:
            return None
        if account.balance >= profile.auto_recharge_threshold:
            return None
        if profile.auto_recharge_retry_after and now < profile.auto_recharge_retry_after:
            return None
        if Deposit.objects.filter(
            account_id=account_id,
            kind=Deposit.Kind.AUTO_RECHARGE,
            status__in=Deposit.OPEN_STATUSES,
        ).exists():
            return None
        amount = money(profile.auto_recharge_amount)
        daily_cap, monthly_cap = auto_recharge_caps(profile)
        local = now.astimezone(account.tz)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        month_start = day_start.replace(day=1)
        if _auto_recharged_since(account_id, day_start) + amount > daily_cap:
            note = (
                f"Auto-recharge paused: the daily limit of {format_usd(daily_cap)} is reached. "
                "Add credit by card, or it resumes tomorrow."
            )
        elif _auto_recharged_since(account_id, month_start) + amount > monthly_cap:
            note = (
                f"Auto-recharge paused: the monthly limit of {format_usd(monthly_cap)} is "
                "reached. Add credit by card, or it resumes next month."
            )
        else:
            note = ""
        if note:
            if profile.auto_recharge_note != note:
                profile.auto_recharge_note = note
                profile.save(update_fields=["auto_recharge_note", "updated_at"])
            logger.info("auto-recharge capped for account %s", account_id)
            return None
        deposit = Deposit.objects.create(
            account_id=account_id,
            kind=Deposit.Kind.AUTO_RECHARGE,
            amount=amount,
            status=Deposit.Status.PROCESSING,
            key=uuid.uuid4(),
            stripe_payment_method_id=profile.payment_method_id,
            card_brand=profile.card_brand,
            card_last4=profile.card_last4,
            created_at=now,
            updated_at=now,
        )
        customer = profile.stripe_customer_id
    try:
        intent = stripe_gateway.payment_intent_create(
            amount_cents=to_minor_units(amount),
            customer=customer,
            payment_method=deposit.stripe_payment_method_id,
            metadata=_deposit_metadata(deposit),
            idempotency_key=deposit.stripe_idempotency_key,
            off_session=True,
        )
    except stripe_gateway.CardDeclined as exc:
        if exc.code == "authentication_required":
            return _auto_recharge_needs_action(deposit, exc.payment_intent_id, now)
        deposit = _deposit_fail(
            deposit,
            code=exc.code,
            message=exc.message,
            now=now,
            payment_intent_id=exc.payment_intent_id,
        )
        _auto_recharge_declined(deposit, now)
        return deposit
    except stripe_gateway.GatewayError as exc:
        deposit = _deposit_fail(deposit, code=exc.code, message=exc.message, now=now)
        BillingProfile.objects.filter(account_id=account_id).update(
            auto_recharge_retry_after=now + AUTO_RECHARGE_ERROR_WAIT
        )
        return deposit
    deposit = deposit_apply_intent(deposit=deposit, intent=intent, now=now, source="auto_recharge")
    if deposit.status == Deposit.Status.REQUIRES_ACTION:
        return _auto_recharge_needs_action(deposit, intent.id, now)
    if deposit.status == Deposit.Status.FAILED:
        _auto_recharge_declined(deposit, now)
    return deposit


def _auto_recharge_needs_action(
    deposit: Deposit, payment_intent_id: str, now: dt.datetime
) -> Deposit:
    """The bank wants the customer present: charge nothing now, e-mail a link to finish."""
    with transaction.atomic():
        locked = (
            Deposit.objects.select_for_update(of=("self",))  # not the account row
            .select_related("account")
            .get(pk=deposit.pk)
        )
        if locked.status == Deposit.Status.SUCCEEDED:
            return locked
        locked.status = Deposit.Status.REQUIRES_ACTION
        locked.failure_code = "authentication_required"
        locked.failure_message = "Your bank asked you to confirm this payment."
        if payment_intent_id and not locked.stripe_payment_intent_id:
            locked.stripe_payment_intent_id = payment_intent_id
        locked.updated_at = now
        locked.save()
        link = settings.SITE_URL + reverse("billing:deposit_authenticate", args=[locked.pk])
        BillingProfile.objects.filter(account_id=locked.account_id).update(
            auto_recharge_retry_after=now + AUTO_RECHARGE_ACTION_WAIT,
            auto_recharge_note=(
                f"Your bank asked you to confirm the auto-recharge of "
                f"{format_usd(locked.amount)}: we e-mailed you a link to do it."
            ),
        )
        transaction.on_commit(
            lambda: _mail_account(
                locked.account_id,
                subject=f"Please confirm your auto-recharge of {format_usd(locked.amount)}",
                template="billing/email/auto_recharge_action.txt",
                context={"deposit": locked, "link": link},
            )
        )
    return locked


def _auto_recharge_declined(deposit: Deposit, now: dt.datetime) -> None:
    """Back off after a decline; the third in a row turns auto-recharge off and tells the
    customer."""
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(account_id=deposit.account_id)
        profile.auto_recharge_declines += 1
        declines = profile.auto_recharge_declines
        reason = deposit.failure_message or "The card was declined."
        if declines >= AUTO_RECHARGE_MAX_DECLINES:
            profile.auto_recharge_enabled = False
            profile.auto_recharge_retry_after = None
            profile.auto_recharge_note = (
                f"Auto-recharge was turned off after {declines} declined payments "
                f"({reason}). Update your card and turn it on again."
            )
            transaction.on_commit(
                lambda: _mail_account(
                    deposit.account_id,
                    subject="Auto-recharge has been turned off",
                    template="billing/email/auto_recharge_disabled.txt",
                    context={"deposit": deposit, "declines": declines, "reason": reason},
                )
            )
        else:
            wait = AUTO_RECHARGE_BACKOFF[min(declines, len(AUTO_RECHARGE_BACKOFF)) - 1]
            profile.auto_recharge_retry_after = now + wait
            hours = int(wait.total_seconds() // 3600)
            profile.auto_recharge_note = (
                f"Auto-recharge of {format_usd(deposit.amount)} was declined ({reason}). "
                f"We will try again in {hours} hour{'s' if hours != 1 else ''}."
            )
        profile.save()


def auto_recharge_resolve_stale(*, now: dt.datetime) -> int:
    """Open auto-recharge attempts left behind by a killed worker: ask Stripe, or close them."""
    count = 0
    stale = Deposit.objects.filter(
        kind=Deposit.Kind.AUTO_RECHARGE,
        status__in=Deposit.OPEN_STATUSES,
        updated_at__lt=now - OPEN_DEPOSIT_STALE_AFTER,
    )
    for deposit in stale:
        count += 1
        if deposit.stripe_payment_intent_id:
            try:
                deposit_refresh(deposit=deposit, now=now, source="auto_recharge_scan")
            except DomainError:
                logger.warning("stale auto-recharge %s: Stripe not answering", deposit.pk)
        else:
            _deposit_fail(
                deposit, code="interrupted", message="The attempt was interrupted.", now=now
            )
    return count


def low_balance_check(*, account_id: int, now: dt.datetime) -> bool:
    """E-mail once per crossing below the customer's alert threshold; re-arm above it.
    Returns True when an alert was sent."""
    with transaction.atomic():
        profile = (
            BillingProfile.objects.select_for_update(of=("self",))  # not the account row
            .select_related("account")
            .filter(account_id=account_id)
            .first()
        )
        if profile is None or profile.low_balance_threshold is None:
            return False
        balance = Account.objects.values_list("balance", flat=True).get(pk=account_id)
        threshold = profile.low_balance_threshold
        if balance >= threshold:
            if profile.low_balance_alerted:
                profile.low_balance_alerted = False
                profile.save(update_fields=["low_balance_alerted", "updated_at"])
            return False
        if profile.low_balance_alerted:
            return False
        profile.low_balance_alerted = True
        profile.save(update_fields=["low_balance_alerted", "updated_at"])
        context = {
            "balance": format_usd(balance),
            "threshold": format_usd(threshold),
            "auto_recharge": profile.auto_recharge_enabled,
            "link": settings.SITE_URL + reverse("billing:per_minute"),
        }
        transaction.on_commit(
            lambda: _mail_account(
                account_id,
                subject=f"Your balance is low: {context['balance']}",
                template="billing/email/low_balance.txt",
                context=context,
            )
        )
    return True


def deposit_payment_secret(*, deposit: Deposit) -> tuple[str, str]:
    """(client secret, status) of the deposit's PaymentIntent, for Stripe.js to finish 3-D
    Secure in the customer's browser."""
    if not deposit.stripe_payment_intent_id:
        raise DomainError("This payment has not reached the card processor.", code="no_intent")
    intent = stripe_gateway.payment_intent_retrieve(deposit.stripe_payment_intent_id)
    return intent.client_secret, intent.status


# --- Rating: calls, authorizations, rate decks, plans, API clients ----------------------------

RESERVATION_GRACE = dt.timedelta(minutes=5)
RATE_IMPORT_BATCH = 5000
RATE_CSV_COLUMNS = ("prefix", "destination", "rate", "connect_fee", "initial", "increment")
_RATE_REQUIRED = {"prefix", "destination", "rate"}
_MAX_RATE = Decimal("999999.9999")  # DecimalField(max_digits=10, decimal_places=4)


def max_call_seconds() -> int:
    """The longest call the authorize API allows (and what on-net calls get)."""
    return int(getattr(settings, "BILLING_MAX_CALL_SECONDS", 4 * 3600))


@dataclass(frozen=True)
class CdrInput:
    """A finished call as the switch reports it (API or Master.csv), already parsed."""

    call_id: str
    account: str  # account code
    direction: str  # outbound | inbound | internal
    from_number: str
    to_number: str
    start: dt.datetime
    answer: dt.datetime | None
    end: dt.datetime
    billsec: int
    disposition: str = "ANSWERED"

    @property
    def answered(self) -> bool:
        return (
            self.answer is not None
            and self.billsec > 0
            and self.disposition.strip().upper() in ("", "ANSWERED")
        )


@dataclass(frozen=True)
class CallResult:
    call_id: str
    status: str  # rated | duplicate | rejected
    charge: Decimal | None = None
    included_seconds: int = 0
    billed_seconds: int = 0
    explanation: str = ""
    error: str | None = None
    error_code: str | None = None
    call: Call | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "status": self.status,
            "charge": None if self.charge is None else str(money(self.charge)),
            "included_seconds": self.included_seconds,
            "billed_seconds": self.billed_seconds,
            "explanation": self.explanation,
            "error": self.error,
        }


def _call_result(call: Call, status: str) -> CallResult:
    return CallResult(
        call_id=call.call_id,
        status=status,
        charge=call.charge,
        included_seconds=call.included_seconds,
        billed_seconds=call.billed_seconds,
        explanation=call.explanation,
        call=call,
    )


def _rejected(call_id: str, code: str, message: str) -> CallResult:
    return CallResult(call_id=call_id, status="rejected", error=message, error_code=code)


CounterKey = tuple[int, dt.datetime, int | None]  # account id, period start, DID id (capped DIDs)


class _UsageCounters:
    """The included-minute counters of a batch's accounts and billing periods: read once (under
    the accounts' row locks, which every counter update holds), counted in memory, written once
    at the end: new counters inserted with their totals, the others incremented by theirs, in
    one statement each."""

    def __init__(self, *, account_ids: set[int], periods: set[dt.datetime]) -> None:
        self._account_ids, self._periods = account_ids, periods
        self._rows: dict[CounterKey, UsageCounter] | None = None
        self._added: dict[CounterKey, int] = {}

    def used(self, key: CounterKey) -> int:
        if self._rows is None:
            self._rows = usage_counter_rows(
                account_ids=self._account_ids, period_starts=self._periods
            )
        row = self._rows.get(key)
        return (row.included_seconds_used if row is not None else 0) + self._added.get(key, 0)

    def add(self, key: CounterKey, seconds: int) -> None:
        if seconds:
            self._added[key] = self._added.get(key, 0) + seconds

    def save(self) -> None:
        rows = self._rows or {}
        UsageCounter.objects.bulk_create(
            UsageCounter(
                account_id=key[0], period_start=key[1], did_id=key[2], included_seconds_used=s
            )
            for key, s in self._added.items()
            if key not in rows
        )
        increments = [
            UsageCounter(
                pk=rows[key].pk,
                included_seconds_used=models.F("included_seconds_used") + seconds,
            )
            for key, seconds in self._added.items()
            if key in rows
        ]
        UsageCounter.objects.bulk_update(increments, ["included_seconds_used"])  # one UPDATE


def call_record(*, cdr: CdrInput, now: dt.datetime, source: str = "api") -> CallResult:
    """Rate a finished call and post its charge, exactly once per ``call_id``.

    One transaction under the account's row lock: check the call id, read and update the
    included-minute counters of the call's billing month, post the ledger entry (key
    ``call:<call_id>``), store the Call and release the call's reservation. Sending the same call
    id again returns ``duplicate`` and changes nothing; a call that cannot be rated (unknown
    account, number, destination or DID) is ``rejected`` and leaves no trace.
    """
    try:
        with transaction.atomic():
            [result] = _calls_rate_and_store(cdrs=[cdr], now=now, source=source)
    except DomainError as exc:
        # Posting refused (the call's ledger key already holds a different entry).
        logger.info("cdr %s rejected: %s", cdr.call_id, exc.message)
        return _rejected(cdr.call_id, exc.code, exc.message)
    except IntegrityError:
        # The same call id committed by another account's transaction in between.
        existing = Call.objects.filter(call_id=cdr.call_id).first()
        if existing is None:
            raise
        if existing.account.code != cdr.account:
            return _rejected(
                cdr.call_id, "call_id_conflict", "call_id: already used by another account's call."
            )
        return _call_result(existing, "duplicate")
    return result


def call_record_batch(
    *, cdrs: Sequence[CdrInput], now: dt.datetime, source: str = "api"
) -> list[CallResult]:
    """``call_record`` for many calls: the results in the CDRs' order, the same as recording
    them one by one in that order, with a few queries per batch plus two per charged call
    (its ledger entry and balance) instead of a dozen or more per call.

    One transaction: the batch's accounts are locked once, in id order (so concurrent batches
    cannot deadlock), and each account's CDRs are rated in order under its lock, with the
    pricing data read once for the batch (``PricingContext``) and the included-minute counters
    counted in memory. Charges are posted by ``ledger_post`` on the locked account; the Calls
    are inserted together. A CDR that cannot be rated is ``rejected`` and leaves no trace; the
    others are recorded. If a write fails (a call id committed meanwhile by another account, a
    ledger key already used), the batch is rolled back and its CDRs are recorded one by one
    with ``call_record``, which decides those cases; the database's unique call id and ledger
    key keep every call posted once whichever way it goes.
    """
    if not cdrs:
        return []
    try:
        with transaction.atomic():
            return _calls_rate_and_store(cdrs=cdrs, now=now, source=source)
    except (DomainError, IntegrityError) as exc:
        logger.warning("cdr batch of %s: %s; recording its calls one by one", len(cdrs), exc)
        return [call_record(cdr=cdr, now=now, source=source) for cdr in cdrs]


def _calls_rate_and_store(
    *, cdrs: Sequence[CdrInput], now: dt.datetime, source: str
) -> list[CallResult]:
    """The work of ``call_record_batch``, in the caller's transaction. Raises DomainError or
    IntegrityError when a write fails (the caller rolls back)."""
    codes = {cdr.account for cdr in cdrs}
    locked = Account.objects.select_for_update().filter(code__in=codes).order_by("pk")
    accounts = {account.code: account for account in locked}
    known = [cdr for cdr in cdrs if cdr.account in accounts]
    # After the locks: every committed call of these accounts is visible.
    earlier = {
        call.call_id: call
        for call in Call.objects.filter(call_id__in={cdr.call_id for cdr in known})
    }
    posted = ledger_entries_posted(keys={f"call:{cdr.call_id}" for cdr in known})
    context = PricingContext(
        accounts=accounts.values(),
        numbers={number for cdr in known for number in (cdr.from_number, cdr.to_number)},
    )
    periods = {cdr: billing_period(account=accounts[cdr.account], at=cdr.start) for cdr in known}
    counters = _UsageCounters(
        account_ids={account.pk for account in accounts.values()},
        periods={period.start for period in periods.values()},
    )
    results: list[CallResult] = []
    recorded: dict[str, Call] = {}
    balances_before: dict[int, Decimal] = {}
    last_entries: dict[int, int] = {}
    for cdr in cdrs:
        account = accounts.get(cdr.account)
        if account is None:
            results.append(
                _rejected(cdr.call_id, "unknown_account", f"account: no account {cdr.account!r}.")
            )
            continue
        prior = recorded.get(cdr.call_id) or earlier.get(cdr.call_id)
        if prior is not None:
            if prior.account_id != account.pk:
                results.append(
                    _rejected(
                        cdr.call_id,
                        "call_id_conflict",
                        "call_id: already used by another account's call.",
                    )
                )
            else:
                results.append(_call_result(prior, "duplicate"))
            continue
        try:
            call = _call_rate(
                account=account,
                cdr=cdr,
                period=periods[cdr],
                context=context,
                counters=counters,
                now=now,
                source=source,
            )
        except DomainError as exc:
            logger.info("cdr %s rejected: %s", cdr.call_id, exc.message)
            results.append(_rejected(cdr.call_id, exc.code, exc.message))
            continue
        key = f"call:{cdr.call_id}"
        if call.charge > 0 and key in posted:  # an entry without its Call: as ledger_post does
            call.ledger_entry = ledger_existing(
                entry=posted[key], account=account, amount=-call.charge
            ).entry
        elif call.charge > 0:
            balance_before = account.balance
            posting = ledger_post(
                account=account,
                amount=-call.charge,
                kind=LedgerEntry.Kind.CALL,
                description=f"Call {call.from_number} → {call.to_number}: {call.explanation}",
                idempotency_key=key,
                now=now,
                source_type="call",
                source_id=cdr.call_id,
                metadata={"billed_seconds": call.billed_seconds},
                locked=True,
                announce=False,
            )
            call.ledger_entry = posting.entry
            balances_before.setdefault(account.pk, balance_before)
            last_entries[account.pk] = posting.entry.pk
        recorded[cdr.call_id] = call
        results.append(_call_result(call, "rated"))  # its pk is set by bulk_create below
        logger.info(
            "call %s account=%s %s billed=%ss included=%ss charge=%s",
            cdr.call_id,
            account.code,
            call.category,
            call.billed_seconds,
            call.included_seconds,
            call.charge,
        )
    counters.save()
    Call.objects.bulk_create(recorded.values())
    released: dict[int, list[str]] = {}
    for call in recorded.values():
        released.setdefault(call.account_id, []).append(call.call_id)
    if released:
        CallReservation.objects.filter(
            functools.reduce(
                operator.or_,
                (models.Q(account_id=pk, call_id__in=ids) for pk, ids in released.items()),
            )
        ).delete()
    by_pk = {account.pk: account for account in accounts.values()}
    changes = [
        BalanceChange(pk, last_entries[pk], before, by_pk[pk].balance)
        for pk, before in balances_before.items()
    ]
    if changes:
        transaction.on_commit(
            lambda: balances_changed.send_robust(sender=LedgerEntry, changes=changes)
        )
    return results


def _call_rate(
    *,
    account: Account,
    cdr: CdrInput,
    period: Period,
    context: PricingContext,
    counters: _UsageCounters,
    now: dt.datetime,
    source: str,
) -> Call:
    """Rate one CDR of a batch: the (unsaved) Call, its included seconds counted in
    ``counters``. Raises DomainError when the call cannot be rated (nothing is counted)."""
    pricing = call_pricing(
        account=account,
        direction=cdr.direction,
        from_number=cdr.from_number,
        to_number=cdr.to_number,
        at=cdr.start,
        context=context,
    )
    account_key = did_key = None
    usage = Usage()
    if cdr.answered and pricing.included and not pricing.on_net:
        account_key = (account.pk, period.start, None)
        if pricing.did_cap_seconds is not None and pricing.did is not None:
            did_key = (account.pk, period.start, pricing.did.pk)
        usage = Usage(
            included_used=counters.used(account_key),
            did_cap_seconds=pricing.did_cap_seconds,
            did_used=counters.used(did_key) if did_key is not None else 0,
        )
    rating = rate_call(
        call=CallFacts(
            billsec=cdr.billsec,
            answered=cdr.answered,
            on_net=pricing.on_net,
            destination=pricing.destination,
            included=pricing.included,
            incoming=cdr.direction == Call.Direction.INBOUND,
        ),
        plan=pricing.terms,
        usage=usage,
        price=pricing.price,
    )
    if account_key is not None:
        counters.add(account_key, rating.included_seconds)
    if did_key is not None:
        counters.add(did_key, rating.did_seconds)
    info = pricing.number
    return Call(
        account=account,
        call_id=cdr.call_id,
        direction=Call.Direction.INTERNAL if pricing.on_net else cdr.direction,
        from_number=cdr.from_number[:40],
        to_number=(
            info.e164
            if info is not None and cdr.direction == Call.Direction.OUTBOUND
            else cdr.to_number
        )[:40],
        destination=pricing.destination[:120],
        did=pricing.did,
        started_at=cdr.start,
        answered_at=cdr.answer,
        ended_at=cdr.end,
        billsec=max(0, cdr.billsec),
        disposition=cdr.disposition[:20],
        period_start=period.start,
        category=rating.category,
        billed_seconds=rating.billable_seconds,
        included_seconds=rating.included_seconds,
        paid_seconds=rating.paid_seconds,
        rate=rating.rate,
        connect_fee=rating.connect_fee,
        charge=rating.charge,
        explanation=rating.explanation[:255],
        source=source[:10],
        created_at=now,
    )


@dataclass(frozen=True)
class AuthorizeInput:
    call_id: str
    account: str  # account code
    direction: str
    from_number: str
    to_number: str


@dataclass(frozen=True)
class AuthorizeResult:
    call_id: str
    allowed: bool
    reason: str | None  # None when allowed; else a stable code (insufficient_balance, …)
    max_seconds: int
    rate: Decimal  # per minute once nothing is included (0 on-net)
    included_seconds: int = 0  # of max_seconds, how many come from included minutes
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "allowed": self.allowed,
            "reason": self.reason,
            "max_seconds": self.max_seconds,
            "rate": str(money(self.rate)),
            "included_seconds": self.included_seconds,
            "message": self.message,
        }


def affordable_seconds(*, budget: Decimal, tariff: Tariff, limit: int) -> int:
    """The longest call (in whole billing blocks, at most ``limit``) that ``budget`` pays for
    at ``tariff``, connection fee included; 0 if not even the first block."""
    if limit <= 0:
        return 0
    left = budget - tariff.connect_fee
    if left < 0 or (left == 0 and tariff.rate > 0):
        return 0
    if tariff.rate <= 0:
        return limit
    seconds = int(left * 60 / tariff.rate)
    if seconds < tariff.initial:
        return 0
    seconds = tariff.initial + (seconds - tariff.initial) // tariff.increment * tariff.increment
    while seconds > tariff.initial and money(cost(seconds, tariff.rate) + tariff.connect_fee) > (
        budget
    ):
        seconds -= tariff.increment  # rounding half up may push the last block over
    return min(seconds, limit)


def call_authorize(*, request: AuthorizeInput, now: dt.datetime) -> AuthorizeResult:
    """May this call start, and for how long? Reserves the call's credit and included seconds.

    Under the account's row lock, so two authorizations of one account are serialised and
    cannot both spend the same last dollar: each counts what active reservations hold. Balance
    at or below zero refuses every call (included and on-net too, SPEC §4). Asking again for
    the same ``call_id`` returns the existing reservation.
    """

    def refuse(reason: str, message: str, rate: Decimal = ZERO) -> AuthorizeResult:
        return AuthorizeResult(request.call_id, False, reason, 0, rate, 0, message)

    with transaction.atomic():
        account = Account.objects.select_for_update().filter(code=request.account).first()
        if account is None:
            return refuse("unknown_account", f"No account {request.account!r}.")
        if not account.is_active:
            return refuse("account_suspended", "The account is not active.")
        existing = CallReservation.objects.filter(call_id=request.call_id).first()
        mine = existing is not None and existing.account_id == account.pk
        if existing is not None and mine and existing.expires_at <= now:
            existing.delete()  # a stale reservation of this very call: decide afresh
            existing = None
        if existing is not None and mine:
            return AuthorizeResult(
                request.call_id,
                True,
                None,
                existing.max_seconds,
                existing.rate,
                existing.included_seconds,
                "already authorized",
            )
        if existing is not None or Call.objects.filter(call_id=request.call_id).exists():
            return refuse("duplicate_call_id", "This call_id was already used.")
        if account.balance <= 0:
            return refuse("insufficient_balance", "The balance is at or below zero.")
        try:
            pricing = call_pricing(
                account=account,
                direction=request.direction,
                from_number=request.from_number,
                to_number=request.to_number,
                at=now,
            )
        except DomainError as exc:
            return refuse(exc.code, exc.message)
        limit = max_call_seconds()
        held = CallReservation.objects.filter(account=account, expires_at__gt=now).aggregate(
            amount=models.Sum("amount"), seconds=models.Sum("included_seconds")
        )
        budget = account.balance - (held["amount"] or ZERO)
        included_part = paid_part = 0
        amount = ZERO
        tariff: Tariff | None = pricing.price
        if pricing.on_net:
            max_seconds, rate = limit, ZERO
        else:
            if pricing.included and pricing.terms is not None:
                period = billing_period(account=account, at=now)
                used = included_seconds_used(account=account, period_start=period.start)
                left = pricing.terms.included_seconds - used - (held["seconds"] or 0)
                included_part = max(0, min(left, limit))
                tariff = pricing.terms.overage
                if pricing.did_cap_seconds is not None and pricing.did is not None:
                    did_row = usage_counter(
                        account=account, period_start=period.start, did_id=pricing.did.pk
                    )
                    did_used = did_row.included_seconds_used if did_row is not None else 0
                    did_held = CallReservation.objects.filter(
                        account=account,
                        direction=Call.Direction.INBOUND,
                        to_number=pricing.did.number,
                        expires_at__gt=now,
                    ).aggregate(seconds=models.Sum("included_seconds"))["seconds"]
                    cap_left = max(0, pricing.did_cap_seconds - did_used - (did_held or 0))
                    if cap_left < included_part:
                        included_part, tariff = cap_left, pricing.price
            assert tariff is not None
            rate = money(tariff.rate)
            paid_part = affordable_seconds(
                budget=budget, tariff=tariff, limit=limit - included_part
            )
            if paid_part:
                amount = money(cost(paid_part, tariff.rate) + tariff.connect_fee)
            max_seconds = included_part + paid_part
            if max_seconds <= 0:
                return refuse(
                    "insufficient_balance",
                    "The available balance (less calls in progress) does not cover a minute.",
                    rate,
                )
        CallReservation.objects.create(
            account=account,
            call_id=request.call_id,
            direction=request.direction,
            # An inbound call's DID as stored, so its capped minutes held are found by number.
            to_number=(pricing.did.number if pricing.did is not None else request.to_number)[:40],
            amount=amount,
            rate=rate,
            included_seconds=included_part,
            max_seconds=max_seconds,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=max_seconds) + RESERVATION_GRACE,
        )
    return AuthorizeResult(request.call_id, True, None, max_seconds, rate, included_part, "")


def reservation_expire(*, now: dt.datetime) -> int:
    """Drop reservations whose call never reported a CDR in time; returns how many."""
    deleted, _ = CallReservation.objects.filter(expires_at__lte=now).delete()
    if deleted:
        logger.info("expired %s stale call reservations", deleted)
    return deleted


@dataclass(frozen=True)
class ImportReport:
    deck: RateDeck
    rows: int
    created: int
    updated: int
    deleted: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Deck {self.deck.name!r}: {self.rows} rows read, {self.created} created, "
            f"{self.updated} updated, {self.deleted} deleted in {self.seconds:.1f} s"
        )


def _rate_decimal(value: str, field_name: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{field_name}: {value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{field_name}: {value!r} is not a number")
    if amount < 0:
        raise ValueError(f"{field_name}: {value} is negative")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"{field_name}: {value} has more than 4 decimal places")
    if amount > _MAX_RATE:
        raise ValueError(f"{field_name}: {value} is too large")
    return amount


def _rate_seconds(value: str, field_name: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 3600:
        raise ValueError(f"{field_name}: {value!r} is not a whole number of seconds 1-3600")
    return int(value)


def _rate_row(row: dict[str, str]) -> Rate:
    prefix = row.get("prefix", "")
    if not prefix.isdigit() or len(prefix) > 20 or not prefix.isascii():
        raise ValueError(f"prefix: {prefix!r} is not 1-20 digits")
    destination = row.get("destination", "")
    if not destination or len(destination) > 120:
        raise ValueError("destination: empty or longer than 120 characters")
    return Rate(
        prefix=prefix,
        destination=destination,
        rate=_rate_decimal(row.get("rate", ""), "rate"),
        connect_fee=_rate_decimal(row.get("connect_fee") or "0", "connect_fee"),
        initial=_rate_seconds(row.get("initial") or "60", "initial"),
        increment=_rate_seconds(row.get("increment") or "60", "increment"),
    )


def rate_deck_parse(csv_file: TextIO) -> list[Rate]:
    """Validate a whole rate CSV; raises DomainError ``bad_rate_file`` listing every bad row
    (line number and reason). Returns unsaved rows."""
    reader = csv.reader(csv_file)
    header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
    problems: list[str] = []
    if not set(header) >= _RATE_REQUIRED:
        missing = ", ".join(sorted(_RATE_REQUIRED - set(header)))
        raise DomainError(
            f"line 1: the header needs prefix,destination,rate (missing {missing or 'all'}).",
            code="bad_rate_file",
        )
    unknown = [h for h in header if h not in RATE_CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        problems.append(f"line 1: unknown or repeated columns {', '.join(unknown) or header}")
    rates: list[Rate] = []
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            problems.append(f"line {line}: {len(values)} fields, the header has {len(header)}")
            continue
        values += [""] * (len(header) - len(values))  # trailing optional columns left out
        try:
            rate = _rate_row({k: v.strip() for k, v in zip(header, values, strict=True)})
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if rate.prefix in seen:
            problems.append(f"line {line}: prefix: {rate.prefix} repeats line {seen[rate.prefix]}")
            continue
        seen[rate.prefix] = line
        rates.append(rate)
    if not rates and not problems:
        problems.append("the file has no rate rows")
    if problems:
        raise DomainError(
            f"{len(problems)} bad row(s); nothing was imported:\n" + "\n".join(problems),
            code="bad_rate_file",
        )
    return rates


def rate_deck_import(
    *, deck_name: str, csv_file: TextIO, replace: bool, now: dt.datetime
) -> ImportReport:
    """Import a rate CSV (``prefix,destination,rate[,connect_fee,initial,increment]``) into
    the deck ``deck_name`` (created if new). All or nothing: the whole file is validated first.
    Without ``replace`` rows are upserted by prefix and other rows kept; with it the deck
    becomes exactly the file. Bulk inserts in batches: 100k rows take seconds."""
    started = time.monotonic()
    deck_name = deck_name.strip()
    if not deck_name or len(deck_name) > 100:
        raise DomainError("A deck needs a name of 1-100 characters.", code="bad_deck_name")
    rates = rate_deck_parse(csv_file)
    with transaction.atomic():
        deck, _ = RateDeck.objects.get_or_create(name=deck_name)
        RateDeck.objects.filter(pk=deck.pk).update(updated_at=now)
        deleted = 0
        existing: set[str] = set()
        if replace:
            deleted, _ = Rate.objects.filter(deck=deck).delete()
        else:
            existing = set(Rate.objects.filter(deck=deck).values_list("prefix", flat=True))
        for rate in rates:
            rate.deck = deck
        for i in range(0, len(rates), RATE_IMPORT_BATCH):
            Rate.objects.bulk_create(
                rates[i : i + RATE_IMPORT_BATCH],
                update_conflicts=not replace,
                unique_fields=None if replace else ["deck", "prefix"],
                update_fields=None
                if replace
                else ["destination", "rate", "connect_fee", "initial", "increment"],
            )
    updated = sum(1 for r in rates if r.prefix in existing)
    report = ImportReport(
        deck=deck,
        rows=len(rates),
        created=len(rates) - updated,
        updated=updated,
        deleted=deleted,
        seconds=time.monotonic() - started,
    )
    logger.info("rate import: %s", report)
    return report


def account_plan_set(*, account: Account, plan: ServicePlan, now: dt.datetime) -> AccountPlan:
    """Put ``account`` on ``plan``: from the next billing period, or from the start of the
    current one when the account has no plan now. Replaces a pending (future) change."""
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        period = billing_period(account=account, at=now)
        current = plan_for_account(account=account, at=now)
        AccountPlan.objects.filter(account=account, starts_at__gt=now).delete()
        if current is not None and current.pk == plan.pk:
            return AccountPlan.objects.filter(account=account, starts_at__lte=now).latest(
                "starts_at"
            )
        starts_at = period.start if current is None else period.end
        row, _ = AccountPlan.objects.update_or_create(
            account=account, starts_at=starts_at, defaults={"plan": plan}
        )
    logger.info("account %s: plan %s from %s", account.code, plan.name, starts_at)
    return row


def api_client_create(*, name: str) -> tuple[ApiClient, str]:
    """A new switch API client. Returns the token once; only its SHA-256 hash is stored."""
    name = name.strip()
    if not name:
        raise DomainError("An API client needs a name.", code="bad_name")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(f"An API client named {name!r} exists.", code="duplicate_name")
    token = "cc_" + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        token_prefix=token[:10],
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    return client, token


# --- Numbers: DIDs and extensions ------------------------------------------------------------


DEFAULT_NANP_GROUP = "USA standard"
_EXTENSION = re.compile(r"[0-9]{2,8}")


def did_add(*, account: Account, number: str, group_name: str = "", label: str = "") -> DID:
    """Give ``account`` the DID ``number`` in the group ``group_name`` (default "USA standard"
    for +1 numbers; other countries must name their group). Raises DomainError."""
    e164 = normalize(number)
    if not group_name:
        if not e164.startswith("+1"):
            raise DomainError(
                f"{e164}: name its DID group (NUMBER:GROUP); only +1 numbers default to "
                f"{DEFAULT_NANP_GROUP!r}.",
                code="no_did_group",
            )
        group_name = DEFAULT_NANP_GROUP
    group = DIDGroup.objects.filter(name=group_name.strip()).first()
    if group is None:
        names = ", ".join(DIDGroup.objects.order_by("name").values_list("name", flat=True))
        raise DomainError(
            f"{e164}: no DID group {group_name!r} (groups: {names or 'none'}).",
            code="unknown_did_group",
        )
    existing = DID.objects.filter(number=e164).select_related("account").first()
    if existing is not None:
        if existing.account_id == account.pk and existing.group_id == group.pk:
            return existing
        raise DomainError(f"{e164} already belongs to an account.", code="did_taken")
    if Extension.objects.filter(account=account, number=e164).exists():
        raise DomainError(f"{e164} is already one of the account's extensions.", code="clash")
    try:
        with transaction.atomic():
            return DID.objects.create(account=account, number=e164, group=group, label=label)
    except IntegrityError as exc:
        raise DomainError(f"{e164} already belongs to an account.", code="did_taken") from exc


def extension_add(*, account: Account, number: str, name: str = "") -> Extension:
    """Add the internal extension ``number`` (2-8 digits) to ``account``; idempotent."""
    number = number.strip()
    if not _EXTENSION.fullmatch(number):
        raise DomainError(f"extension {number!r}: use 2 to 8 digits, e.g. 101.", code="bad_ext")
    extension, _ = Extension.objects.get_or_create(
        account=account, number=number, defaults={"name": name}
    )
    return extension
