"""Auto-recharge: an off-session card payment when the balance falls below the threshold."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse

from billing import stripe_gateway
from billing.models import (
    BillingProfile,
    Deposit,
)
from billing.money import format_usd, money, to_minor_units
from billing.selectors.auto_recharge import auto_recharge_armed, auto_recharge_caps
from billing.services.cards import billing_profile_ensure
from billing.services.deposits import (
    OPEN_DEPOSIT_STALE_AFTER,
    deposit_amount_check,
    deposit_apply_intent,
    deposit_fail,
    deposit_metadata,
    deposit_refresh,
)
from billing.services.notifications import account_mail
from billing.signals import auto_recharge_requested
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)

AUTO_RECHARGE_MAX_DECLINES = 3


AUTO_RECHARGE_BACKOFF = (dt.timedelta(hours=1), dt.timedelta(hours=4))


AUTO_RECHARGE_ACTION_WAIT = dt.timedelta(hours=24)


AUTO_RECHARGE_ERROR_WAIT = dt.timedelta(minutes=15)


def _burst_limit() -> tuple[int, dt.timedelta]:
    """At most this many attempts per rolling window, on top of the money caps: a safety net
    should anything ever start recharges in a loop again (settings, read at each run)."""
    return (
        int(settings.BILLING_AUTO_RECHARGE_BURST_LIMIT),
        dt.timedelta(hours=int(settings.BILLING_AUTO_RECHARGE_BURST_HOURS)),
    )


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
    profile = billing_profile_ensure(account=account)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if enabled and not profile.payment_method_id:
            raise DomainError(
                "Save a card first: add credit and tick “Keep this card for auto-recharge”.",
                code="no_saved_card",
            )
        if enabled and not profile.auto_recharge_enabled:
            # Turning it on again is the customer asking for a recharge now.
            profile.auto_recharge_declines = 0
            profile.auto_recharge_retry_after = None
            profile.auto_recharge_note = ""
            profile.auto_recharge_paused_by = None
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
        # The receiver enqueues the attempt once this transaction commits (services never
        # import tasks).
        auto_recharge_requested.send(sender=None, account_id=account.pk)
    return profile


def _charging_since(account_id: int, since: dt.datetime) -> models.QuerySet[Deposit]:
    return Deposit.objects.filter(
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
    )


def _auto_recharged_since(account_id: int, since: dt.datetime) -> Decimal:
    total = _charging_since(account_id, since).aggregate(s=models.Sum("amount"))["s"]
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
        if profile.auto_recharge_paused_by_id is not None:
            if not auto_recharge_armed(profile=profile):
                return None  # the last recharge left it below; no payment has lifted it since
            profile.auto_recharge_paused_by = None
            profile.save(update_fields=["auto_recharge_paused_by", "updated_at"])
        amount = money(profile.auto_recharge_amount)
        daily_cap, monthly_cap = auto_recharge_caps(profile=profile)
        burst_limit, burst_window = _burst_limit()
        local = now.astimezone(account.tz)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        month_start = day_start.replace(day=1)
        if _charging_since(account_id, now - burst_window).count() >= burst_limit:
            note = (
                f"Auto-recharge paused: it already ran {burst_limit} times in the last "
                f"{int(burst_window.total_seconds() // 3600)} hours. Add credit by card, or it "
                "resumes later."
            )
        elif _auto_recharged_since(account_id, day_start) + amount > daily_cap:
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
            metadata=deposit_metadata(deposit),
            idempotency_key=deposit.stripe_idempotency_key,
            off_session=True,
        )
    except stripe_gateway.CardDeclined as exc:
        if exc.code == "authentication_required":
            return _auto_recharge_needs_action(deposit, exc.payment_intent_id, now)
        deposit = deposit_fail(
            deposit,
            code=exc.code,
            message=exc.message,
            now=now,
            payment_intent_id=exc.payment_intent_id,
        )
        _auto_recharge_declined(deposit, now)
        return deposit
    except stripe_gateway.GatewayError as exc:
        # Stripe may have charged before the answer was lost: the attempt stays open (so no
        # second attempt starts), and the webhook, the stale-attempt scan or the daily
        # reconciliation settles it from what Stripe says.
        logger.warning("auto-recharge %s: outcome unknown (%s)", deposit.pk, exc.code)
        Deposit.objects.filter(pk=deposit.pk, status=Deposit.Status.PROCESSING).update(
            failure_code=exc.code[:64], failure_message=exc.message[:500], updated_at=now
        )
        BillingProfile.objects.filter(account_id=account_id).update(
            auto_recharge_retry_after=now + AUTO_RECHARGE_ERROR_WAIT
        )
        deposit.refresh_from_db()
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
            lambda: account_mail(
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
        reason = deposit.failure_reason  # the customer's words (billing.declines)
        if declines >= AUTO_RECHARGE_MAX_DECLINES:
            profile.auto_recharge_enabled = False
            profile.auto_recharge_retry_after = None
            profile.auto_recharge_note = (
                f"Auto-recharge was turned off after {declines} declined payments. {reason} "
                "Update your card and turn it on again."
            )
            transaction.on_commit(
                lambda: account_mail(
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
                f"Auto-recharge of {format_usd(deposit.amount)} was declined. {reason} "
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
            # No PaymentIntent id: the answer may have been lost after Stripe charged. Closing
            # it blindly would let the next attempt charge the card a second time.
            try:
                intent = _intent_of(deposit)
            except DomainError:
                logger.warning("stale auto-recharge %s: Stripe not answering", deposit.pk)
                continue
            if intent is not None:
                deposit_apply_intent(
                    deposit=deposit, intent=intent, now=now, source="auto_recharge_scan"
                )
            else:
                deposit_fail(
                    deposit, code="interrupted", message="The attempt was interrupted.", now=now
                )
    return count


def _intent_of(deposit: Deposit) -> stripe_gateway.Intent | None:
    """The PaymentIntent Stripe made for this attempt (found by its metadata), if any."""
    since = int(deposit.created_at.timestamp()) - 300  # clocks of Stripe and us may differ
    for intent in stripe_gateway.payment_intents_since(since):
        if intent.metadata.get("deposit_id") == str(deposit.pk):
            return intent
    return None
