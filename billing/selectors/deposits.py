"""Card payments and the billing profile, as the Per Minute page shows them."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404

from billing import stripe_gateway
from billing.models import (
    BillingProfile,
    Deposit,
)
from portal.models import Account


def billing_profile_for(*, account: Account) -> BillingProfile:
    """The account's profile, or an unsaved one with the defaults (a read never writes)."""
    profile = BillingProfile.objects.filter(account=account).first()
    return profile if profile is not None else BillingProfile(account=account)


def deposit_for_account(*, account: Account, deposit_id: int) -> Deposit:
    """One of the account's card payments; another account's id is a 404."""
    deposit = Deposit.objects.filter(account=account, pk=deposit_id).first()
    if deposit is None:
        raise Http404("No such payment.")
    return deposit


RECENT_PAYMENTS = 8  # on the Per Minute page; the Card payments page lists them all
PAYMENTS_PAGE_SIZE = 25


def payments_for_account(*, account: Account) -> QuerySet[Deposit]:
    """Card payments and auto-recharge attempts the customer has seen through (not the ones
    still waiting for a card to be entered), newest first."""
    return (
        Deposit.objects.filter(account=account)
        .exclude(status=Deposit.Status.CREATED)
        .order_by("-created_at", "-id")
    )


def recent_payments(*, account: Account, limit: int = RECENT_PAYMENTS) -> list[Deposit]:
    return list(payments_for_account(account=account)[:limit])


def pending_authentications(*, account: Account) -> list[Deposit]:
    """Payments (Add Credit or auto-recharge) the bank holds until the customer confirms them."""
    return list(
        Deposit.objects.filter(account=account, status=Deposit.Status.REQUIRES_ACTION).order_by(
            "-created_at", "-id"
        )
    )


def deposits_awaiting_authentication_ids(*, created_before: dt.datetime) -> list[int]:
    """Every account's payments still waiting for 3-D Secure that started before the cutoff
    (one query on the (status, created_at) index)."""
    return list(
        Deposit.objects.filter(status=Deposit.Status.REQUIRES_ACTION, created_at__lt=created_before)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )


def deposit_for_intent(intent: stripe_gateway.Intent) -> Deposit | None:
    deposit_id = intent.metadata.get("deposit_id", "")
    if deposit_id.isdigit():
        deposit = Deposit.objects.filter(pk=int(deposit_id)).first()
        if deposit is not None and intent.metadata.get("account_id") in (
            None,
            str(deposit.account_id),
        ):
            return deposit
    return Deposit.objects.filter(stripe_payment_intent_id=intent.id).first()


def deposit_for_charge(payment_intent_id: str, charge_id: str) -> Deposit | None:
    if payment_intent_id:
        deposit = Deposit.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
        if deposit is not None:
            return deposit
    if charge_id:
        return Deposit.objects.filter(stripe_charge_id=charge_id).first()
    return None
