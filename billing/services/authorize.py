"""Call authorization: may this call start, and for how many seconds at most."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from billing.call_limits import call_limits
from billing.models import CallReservation
from billing.money import ZERO, money
from billing.rating import Tariff, cost
from billing.selectors.authorize import authorize_facts
from billing.selectors.permissions import call_policy, local_day, permissions_from_facts
from billing.selectors.plans import billing_period
from billing.selectors.pricing import PricingContext, call_pricing
from portal.errors import DomainError
from portal.models import Account

logger = logging.getLogger(__name__)

RESERVATION_GRACE = dt.timedelta(minutes=5)


def max_call_seconds() -> int:
    """The longest call the authorize API allows (and what on-net calls get)."""
    return settings.BILLING_MAX_CALL_SECONDS


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
    cannot both spend the same last dollar: each counts what active reservations hold. Three
    queries when the call is allowed (the lock, ``authorize_facts``, the reservation's INSERT)
    once the process holds the pricing catalog of the version read there. Balance
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
        period = billing_period(account=account, at=now)
        facts = authorize_facts(
            account=account,
            call_id=request.call_id,
            from_number=request.from_number,
            to_number=request.to_number,
            period_start=period.start,
            now=now,
        )
        if facts["reservation_of_call"] is not None:
            existing = CallReservation.objects.get(pk=facts["reservation_of_call"])
            mine = existing.account_id == account.pk
            if mine and existing.expires_at <= now:
                existing.delete()  # a stale reservation of this very call: decide afresh
            elif mine:
                return AuthorizeResult(
                    request.call_id,
                    True,
                    None,
                    existing.max_seconds,
                    existing.rate,
                    existing.included_seconds,
                    "already authorized",
                )
            else:
                return refuse("duplicate_call_id", "This call_id was already used.")
        if facts["call_posted"]:
            return refuse("duplicate_call_id", "This call_id was already used.")
        if account.balance <= 0:
            return refuse("insufficient_balance", "The balance is at or below zero.")
        context = PricingContext.from_facts(
            account=account,
            facts=facts,
            at=now,
            numbers=[request.from_number, request.to_number],
        )
        try:
            pricing = call_pricing(
                account=account,
                direction=request.direction,
                from_number=request.from_number,
                to_number=request.to_number,
                at=now,
                context=context,
            )
        except DomainError as exc:
            return refuse(exc.code, exc.message)
        # Read after the lock taken above: checks that count live reservations (channels) see
        # every authorization of this account before or after this one, never alongside it.
        call_limit = call_limits(
            account=account,
            direction=request.direction,
            on_net=pricing.on_net,
            now=now,
            facts=facts,
        )
        if not call_limit.allowed:
            return refuse(call_limit.reason or "refused", call_limit.message)
        # Toll-fraud protection, under the same lock: the day's spend counts every reservation
        # made before this one, so concurrent calls cannot pass the daily cap together.
        held_amount = facts["held_amount"] or ZERO
        included = context.included_countries(pricing.plan) if pricing.plan else set()
        policy = call_policy(
            permissions=permissions_from_facts(
                account=account, facts=facts, included=included, at=now
            ),
            pricing=pricing,
            direction=request.direction,
            tiers=context.tiers,
            included=included,
            spent_today=-(facts["charged_today"] or ZERO) + held_amount,
        )
        if policy.refusal is not None:
            return refuse(policy.refusal.reason, policy.refusal.message, pricing.paid_rate)
        limit = max_call_seconds()
        budget = account.balance - held_amount
        included_part = paid_part = 0
        amount = ZERO
        tariff: Tariff | None = pricing.price
        if pricing.on_net:
            max_seconds, rate = limit, ZERO
        else:
            if pricing.included and pricing.terms is not None:
                used = facts["used_seconds"] or 0
                left = pricing.terms.included_seconds - used - (facts["held_seconds"] or 0)
                included_part = max(0, min(left, limit))
                tariff = pricing.terms.overage
                if pricing.did_cap_seconds is not None and pricing.did is not None:
                    did_used = facts["used_did_seconds"] or 0
                    did_held = facts["held_did_seconds"] or 0
                    cap_left = max(0, pricing.did_cap_seconds - did_used - did_held)
                    if cap_left < included_part:
                        included_part, tariff = cap_left, pricing.price
            assert tariff is not None
            rate = money(tariff.rate)
            # A fraud hold stops paid seconds (included and free ones go on); the daily cap
            # left bounds them like the balance does.
            paid_budget = ZERO if policy.on_hold else min(budget, policy.cap_left)
            paid_part = affordable_seconds(
                budget=paid_budget, tariff=tariff, limit=limit - included_part
            )
            if paid_part:
                amount = money(cost(paid_part, tariff.rate) + tariff.connect_fee)
            max_seconds = included_part + paid_part
            if max_seconds <= 0 and policy.on_hold:
                return refuse(
                    "fraud_hold",
                    "Paid calls are suspended by the fraud alarm until the owner or support "
                    "re-enables them.",
                    rate,
                )
            if max_seconds <= 0 and policy.cap_left < budget:
                _, midnight = local_day(account=account, now=now)
                return refuse(
                    "daily_limit_reached",
                    f"The daily spend cap is reached; paid calls resume at "
                    f"{midnight:%Y-%m-%d %H:%M} ({account.timezone}).",
                    rate,
                )
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
            channel_kind=call_limit.channel_kind or None,
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
