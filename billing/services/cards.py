"""The account's Stripe Customer and its saved card (kept only after a payment succeeds)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from billing import stripe_gateway
from billing.models import (
    BillingProfile,
)
from billing.services.notifications import account_emails
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)


def _account_id(account: Account | int) -> int:
    return account if isinstance(account, int) else account.pk


def billing_profile_ensure(*, account: Account | int) -> BillingProfile:
    """The account's billing profile, created with defaults on first use."""
    profile, _created = BillingProfile.objects.get_or_create(account_id=_account_id(account))
    return profile


def stripe_customer_ensure(*, account: Account) -> str:
    """The account's Stripe Customer id, creating the Customer once.

    Stripe is called before the profile row is locked: a slow or hanging Stripe must not hold
    the row every payment and auto-recharge of the account needs. The idempotency key makes
    concurrent first calls get the same Customer from Stripe; the first id stored wins."""
    profile = billing_profile_ensure(account=account)
    if profile.stripe_customer_id:
        return profile.stripe_customer_id
    emails = account_emails(account.pk)
    customer = stripe_gateway.customer_create(
        account_id=account.pk,
        account_code=account.code,
        name=account.name,
        email=emails[0] if emails else "",
        idempotency_key=f"cc-customer-{account.pk}",
    )
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if not profile.stripe_customer_id:
            profile.stripe_customer_id = customer
            profile.save(update_fields=["stripe_customer_id", "updated_at"])
        elif profile.stripe_customer_id != customer:
            logger.warning(
                "account %s: Stripe Customer %s created concurrently, %s kept (no card on it)",
                account.pk,
                customer,
                profile.stripe_customer_id,
            )
    return profile.stripe_customer_id


def billing_card_save(
    *, account: Account, card: stripe_gateway.Card, now: dt.datetime
) -> BillingProfile:
    """Keep ``card`` as the account's card for auto-recharge (replacing any previous one)."""
    profile = billing_profile_ensure(account=account)
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
            transaction.on_commit(lambda: card_detach_quietly(previous))
    return profile


def card_detach_quietly(payment_method_id: str) -> None:
    try:
        stripe_gateway.payment_method_detach(payment_method_id)
    except DomainError:
        logger.warning("could not detach card %s", payment_method_id)


def billing_card_remove(*, account: Account, now: dt.datetime) -> BillingProfile:
    """Forget the saved card (detached in Stripe) and turn auto-recharge off."""
    profile = billing_profile_ensure(account=account)
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
            transaction.on_commit(lambda: card_detach_quietly(previous))
    return profile
