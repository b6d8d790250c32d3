"""An account's standing: suspended after a grace period below zero, resumed when positive.

A balance below zero starts the grace clock (``AccountCycle.negative_since``); after
``BILLING_SUSPEND_AFTER_DAYS`` days still below zero the account is suspended (the switch's
authorize then refuses every call with ``account_suspended``). As soon as the balance is
positive again the suspension billing made is lifted: the posting that makes it positive
triggers it (``balance_changed`` → receiver → task), and the hourly scan catches a lost task.
A suspension staff made (no ``suspended_at``) is never lifted here.

Both live on ``AccountCycle``, billing's per-account row, which this module creates.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction

from billing.models import AccountCycle
from billing.money import ZERO, format_usd
from billing.periods import UTC, period_containing
from billing.services.notifications import account_mail, local_date
from portal.models import Account

logger = logging.getLogger(__name__)


def suspend_grace() -> dt.timedelta:
    """How long a balance may stay below zero before the account is suspended."""
    return dt.timedelta(days=settings.BILLING_SUSPEND_AFTER_DAYS)


def account_cycle_ensure(*, account: Account, now: dt.datetime) -> AccountCycle:
    """The account's cycle row, created on first sight (call under the account's lock).

    A new account's first period start is the end of the period it signed up in (that
    period is the sign-up's business: its proration, its plan). An account older than the
    current period (it existed before the cycle did) joins at the next period start: the
    cycle never bills months back that nobody expected it to.
    """
    state = AccountCycle.objects.filter(account=account).first()
    if state is not None:
        return state
    current = period_containing(now, billing_day=account.billing_day, tz=account.tz)
    first = period_containing(account.created_at, billing_day=account.billing_day, tz=account.tz)
    start = first.end if first.end >= current.start else current.end
    return AccountCycle.objects.create(account=account, next_period_start=start.astimezone(UTC))


def account_standing_note(*, account: Account, state: AccountCycle, now: dt.datetime) -> None:
    """Bring ``state`` in line with ``account.balance`` (the caller holds the account's row
    lock and has read its current balance): start or stop the grace clock, suspend when it
    ran out, resume a billing suspension once the balance is positive."""
    negative = account.balance < ZERO
    changed: list[str] = []
    if negative and state.negative_since is None:
        state.negative_since = now
        changed.append("negative_since")
    elif not negative and state.negative_since is not None:
        state.negative_since = None
        changed.append("negative_since")
    if (
        negative
        and state.negative_since is not None
        and state.suspended_at is None
        and account.status == Account.Status.ACTIVE
        and now - state.negative_since >= suspend_grace()
    ):
        state.suspended_at = now
        changed.append("suspended_at")
        Account.objects.filter(pk=account.pk).update(status=Account.Status.SUSPENDED)
        account.status = Account.Status.SUSPENDED
        logger.warning("account %s suspended: balance %s", account.code, account.balance)
        _mail(account, "suspended", negative_since=state.negative_since)
    elif account.balance > ZERO and state.suspended_at is not None:
        state.suspended_at = None
        changed.append("suspended_at")
        if account.status == Account.Status.SUSPENDED:
            Account.objects.filter(pk=account.pk).update(status=Account.Status.ACTIVE)
            account.status = Account.Status.ACTIVE
            logger.info("account %s resumed: balance %s", account.code, account.balance)
            _mail(account, "resumed", negative_since=None)
    if changed:
        state.save(update_fields=[*changed, "updated_at"])


def account_standing_update(*, account_id: int, now: dt.datetime) -> None:
    """Re-read the account's balance under its lock and apply ``account_standing_note``."""
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(pk=account_id).first()
        if account is None or account.status == Account.Status.CLOSED:
            return
        state = account_cycle_ensure(account=account, now=now)
        account_standing_note(account=account, state=state, now=now)


def _mail(account: Account, what: str, *, negative_since: dt.datetime | None) -> None:
    context = {
        "balance": format_usd(account.balance),
        "to_pay": format_usd(-account.balance) if account.balance < 0 else "",
        "since": local_date(negative_since, account) if negative_since else "",
    }
    subject = (
        "Your SIP trunks are suspended: the balance is below zero"
        if what == "suspended"
        else "Your SIP trunks are active again"
    )
    account_id = account.pk
    transaction.on_commit(
        lambda: account_mail(
            account_id,
            subject=subject,
            template=f"billing/email/account_{what}.txt",
            context=context,
        )
    )
