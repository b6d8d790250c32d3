"""Changing an account's channel counts: an increase at once with its prorated charge, a
decrease from the next billing month (pending, cancellable), each kept in the history.

Everything runs under the account's row lock, taken first, as every balance change does: the
balance that must cover the charge is read under it, the charge is posted under it in the same
transaction, and two submissions of one form (two tabs) are serialised so the second finds the
counts moved on (``version``) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from billing.models import LedgerEntry
from billing.money import format_usd
from billing.periods import Period
from billing.services.ledger import ledger_post
from portal.errors import DomainError
from portal.models import Account, User
from trunking.models import KINDS, ChannelChange, Trunk, describe_counts
from trunking.selectors.trunks import (
    ChangeQuote,
    change_quote,
    due_changes,
    maximums_for,
    pending_decrease,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeOutcome:
    quote: ChangeQuote
    increase: ChannelChange | None  # applied now, charged
    decrease: ChannelChange | None  # pending until the next billing month


def _checked_counts(*, account: Account, counts: Mapping[str, object]) -> dict[str, int]:
    """Whole numbers from 0 to the account's maximum per kind, or DomainError naming the kind."""
    maximums = maximums_for(account=account)
    checked: dict[str, int] = {}
    for kind in KINDS:
        value = counts.get(kind)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(f"{kind}: a whole number of channels is needed.", code="bad_count")
        if value < 0 or value > maximums[kind]:
            raise DomainError(f"{kind}: between 0 and {maximums[kind]} channels.", code="bad_count")
        checked[kind] = value
    return checked


def _locked(account: Account) -> tuple[Account, Trunk]:
    locked = Account.objects.select_for_update().get(pk=account.pk)
    trunk, _created = Trunk.objects.select_for_update().get_or_create(account=locked)
    return locked, trunk


def _apply_due(*, account: Account, trunk: Trunk, now: dt.datetime) -> None:
    """Decreases whose billing month has begun become the stored counts. Not a new version:
    the form on the page already showed them as the counts of that month."""
    due = due_changes(account=account, at=now)
    if not due:
        return
    trunk.set_counts({kind: int(due[-1].after.get(kind, 0)) for kind in KINDS})
    trunk.save(update_fields=[*KINDS])
    ChannelChange.objects.filter(pk__in=[change.pk for change in due]).update(
        status=ChannelChange.Status.APPLIED
    )


def trunk_apply_due(*, account: Account, now: dt.datetime) -> None:
    with transaction.atomic():
        locked, trunk = _locked(account)
        _apply_due(account=locked, trunk=trunk, now=now)


def channels_change(
    *,
    account: Account,
    user: User | None,
    counts: Mapping[str, object],
    version: int,
    now: dt.datetime,
) -> ChangeOutcome:
    """Set the counts wanted from now on: kinds that go up do so at once and the rest of the
    billing month is charged now (the balance must cover it); kinds that go down do so at the
    next billing month. Replaces a pending decrease. ``version`` is the one the form showed:
    if the counts changed since, nothing happens (DomainError ``stale``)."""
    with transaction.atomic():
        locked, trunk = _locked(account)
        wanted = _checked_counts(account=locked, counts=counts)
        if version != trunk.version:
            raise DomainError(
                "Your channels were changed meanwhile (in another tab or by someone else). "
                "Nothing was changed: check the counts below and try again.",
                code="stale",
            )
        _apply_due(account=locked, trunk=trunk, now=now)
        quote = change_quote(account=locked, wanted=wanted, now=now, trunk=trunk)
        if not quote.changes_anything:
            raise DomainError("These are already your channel counts.", code="no_change")
        if quote.charge > locked.balance:
            raise DomainError(
                f"Adding these channels costs {format_usd(quote.charge)} now, and your balance "
                f"is {format_usd(locked.balance)}. Add credit first; nothing was changed.",
                code="insufficient_balance",
            )
        pending = pending_decrease(account=locked, now=now)
        if pending is not None:
            pending.status = ChannelChange.Status.CANCELLED
            pending.cancelled_at, pending.cancelled_by = now, user
            pending.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        increase = decrease = None
        if quote.now_counts != quote.current:
            increase = ChannelChange.objects.create(
                account=locked,
                user=user,
                created_at=now,
                effective_at=now,
                status=ChannelChange.Status.APPLIED,
                before=quote.current,
                after=quote.now_counts,
                charge=quote.charge,
                explanation=quote.explanation,
            )
            if quote.charge > 0:
                posting = ledger_post(
                    account=locked,
                    amount=-quote.charge,
                    kind=LedgerEntry.Kind.PRORATION,
                    description=f"SIP trunk channels added: {quote.explanation}"[:255],
                    idempotency_key=f"trunk-change:{increase.pk}",
                    now=now,
                    source_type="channel_change",
                    source_id=str(increase.pk),
                    created_by=user,
                    metadata={"before": quote.current, "after": quote.now_counts},
                    locked=True,
                )
                increase.ledger_entry = posting.entry
                increase.save(update_fields=["ledger_entry"])
            trunk.set_counts(quote.now_counts)
        if quote.wanted != quote.now_counts:
            decrease = ChannelChange.objects.create(
                account=locked,
                user=user,
                created_at=now,
                effective_at=quote.next_period_start,
                status=ChannelChange.Status.PENDING,
                before=quote.now_counts,
                after=quote.wanted,
                explanation=f"From {quote.next_period_start.date():%b %-d, %Y}, no refund "
                "for the current month",
            )
        trunk.version += 1
        trunk.save()
    logger.info(
        "trunk: account=%s %s → %s charge=%s",
        locked.code,
        describe_counts(quote.current),
        describe_counts(quote.wanted),
        quote.charge,
    )
    return ChangeOutcome(quote=quote, increase=increase, decrease=decrease)


def channel_decrease_cancel(*, account: Account, user: User | None, now: dt.datetime) -> bool:
    """Cancel the pending decrease: the current counts stay next month. False if none."""
    with transaction.atomic():
        locked, trunk = _locked(account)
        _apply_due(account=locked, trunk=trunk, now=now)
        pending = pending_decrease(account=locked, now=now)
        if pending is None:
            return False
        pending.status = ChannelChange.Status.CANCELLED
        pending.cancelled_at, pending.cancelled_by = now, user
        pending.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        trunk.version += 1
        trunk.save(update_fields=["version"])
    logger.info("trunk: account=%s pending decrease %s cancelled", locked.code, pending.pk)
    return True


def trunk_period_opening(account: Account, period: Period, now: dt.datetime) -> None:
    """The monthly cycle opens ``period``: decreases that take effect at its start become the
    stored counts (the cycle's charge for the period already counts them; this keeps the page,
    the API and the channel limits in step with what was billed).

    The cycle holds the account's lock, so the look for due decreases needs none: most months
    have none, and then nothing is locked or written."""
    at = max(now, period.start)
    if due_changes(account=account, at=at):
        trunk_apply_due(account=account, now=at)
