"""Receivers of the billing signals (``balance_changed``, ``balances_changed``,
``auto_recharge_requested``): they only decide whether to enqueue work, and never fail (a
broker that is down is logged, see ``portal.enqueue``). One query for the billing profiles of
all the changed accounts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from billing.models import BillingProfile, LedgerEntry
from billing.signals import BalanceChange
from billing.tasks.auto_recharge import auto_recharge_run
from billing.tasks.cycle import account_standing_update
from billing.tasks.low_balance import low_balance_check
from billing.tasks.permissions import call_velocity_check, call_velocity_check_accounts
from billing.tasks.statements import statement_email_send
from portal.enqueue import task_enqueue_on_commit

logger = logging.getLogger(__name__)


def on_balance_changed(
    sender: Any,
    *,
    account_id: int,
    entry_id: int,
    balance_before: Decimal,
    balance_after: Decimal,
    **kwargs: Any,
) -> None:
    _check([BalanceChange(account_id, entry_id, balance_before, balance_after)])


def on_auto_recharge_requested(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    task_enqueue_on_commit(auto_recharge_run, account_id)


def on_statement_closed(sender: Any, *, statement_id: int, **kwargs: Any) -> None:
    task_enqueue_on_commit(statement_email_send, statement_id)


def on_balances_changed(sender: Any, *, changes: Sequence[BalanceChange], **kwargs: Any) -> None:
    _check(changes)
    if sender is not LedgerEntry:
        return  # not rated calls (a closed period's recurring charges)
    # Rated CDRs were charged: the velocity alarm looks at the accounts' recent calls (one task
    # for the batch's accounts: a batch over hundreds of accounts is one message, not hundreds).
    account_ids = sorted({change.account_id for change in changes})
    try:
        if len(account_ids) == 1:
            task_enqueue_on_commit(call_velocity_check, account_ids[0])
        else:
            task_enqueue_on_commit(call_velocity_check_accounts, account_ids)
    except Exception:
        logger.exception("velocity receiver failed for accounts %s", account_ids)


def _check(changes: Sequence[BalanceChange]) -> None:
    """Enqueue an auto-recharge when the balance is below the account's recharge threshold
    (and a card is saved), and a low-balance check when being below its alert threshold
    disagrees with whether an alert was sent, and a standing update when the balance crossed
    zero. The tasks re-read everything they act on."""

    try:
        profiles = {
            row["account_id"]: row
            for row in BillingProfile.objects.filter(
                account_id__in={change.account_id for change in changes}
            ).values(
                "account_id",
                "auto_recharge_enabled",
                "auto_recharge_threshold",
                "auto_recharge_paused_by",
                "payment_method_id",
                "low_balance_threshold",
                "low_balance_alerted",
            )
        }
    except Exception:
        logger.exception("balance_changed receiver failed for %s account(s)", len(changes))
        return
    for change in changes:
        account_id, balance_after = change.account_id, change.balance_after
        try:
            if _standing_may_change(change):
                task_enqueue_on_commit(account_standing_update, account_id)
            profile = profiles.get(account_id)
            if profile is None:
                continue
            recharge_at = profile["auto_recharge_threshold"]
            if (
                profile["auto_recharge_enabled"]
                and profile["payment_method_id"]
                and balance_after < recharge_at
                # Paused by a recharge that left the balance below: only a posting that crossed
                # down from the threshold can follow a payment that armed it again (the task
                # decides from the ledger; this only spares a task per call while paused).
                and (
                    profile["auto_recharge_paused_by"] is None
                    or change.balance_before >= recharge_at
                )
            ):
                task_enqueue_on_commit(auto_recharge_run, account_id)
            threshold = profile["low_balance_threshold"]
            if (
                threshold is not None
                and (balance_after < threshold) != profile["low_balance_alerted"]
            ):
                task_enqueue_on_commit(low_balance_check, account_id)
        except Exception:
            logger.exception("balance_changed receiver failed for account %s", account_id)


def _standing_may_change(change: BalanceChange) -> bool:
    """The balance crossed zero: the grace clock starts or stops, or a suspension made for
    a negative balance can be lifted (the posting that makes it positive resumes it)."""
    before, after = change.balance_before, change.balance_after
    return (before < 0) != (after < 0) or (before <= 0 < after)
