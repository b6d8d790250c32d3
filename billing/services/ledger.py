"""The ledger: ``ledger_post`` (and ``ledger_post_many``, the same for a batch of entries
under the accounts' locks) is the only code that changes a balance.

Every entry has an idempotency key that is unique in the database; a posting runs under the
account's row lock and moves the cached balance in the same transaction, so a re-delivered,
re-run or concurrent posting with the same key changes nothing the second time."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from billing.models import (
    LedgerEntry,
)
from billing.money import format_usd, money
from billing.services.bulk_rows import rows_insert, rows_update
from billing.signals import BalanceChange, balance_changed, balances_changed
from portal.errors import DomainError
from portal.models import Account, User

logger = logging.getLogger(__name__)


# Staff adjustments: a mistyped amount (an extra zero) is a real loss, so large ones need an
# explicit confirmation and very large ones a superuser. Read per call: settings may change.
def _adjustment_confirm_above() -> Decimal:
    return money(settings.BILLING_ADJUSTMENT_CONFIRM_ABOVE)


def _adjustment_max() -> Decimal:
    return money(settings.BILLING_ADJUSTMENT_MAX)


def _checked_amount(*, amount: Decimal, kind: str, idempotency_key: str) -> Decimal:
    """An entry's amount, rounded, once its kind and key are valid: the rules every posting
    (one at a time or in a batch) obeys."""
    amount = money(amount)
    if amount == 0:
        raise DomainError("A ledger entry cannot be for $0.", code="zero_amount")
    if kind not in LedgerEntry.Kind.values:
        raise DomainError(f"Unknown ledger entry kind {kind!r}.", code="bad_kind")
    if not idempotency_key:
        raise DomainError("A ledger entry needs an idempotency key.", code="no_key")
    return amount


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
    amount = _checked_amount(amount=amount, kind=kind, idempotency_key=idempotency_key)
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


@dataclass(frozen=True)
class NewEntry:
    """One entry for ``ledger_post_many``: what ``ledger_post`` takes, for an account the
    caller holds locked."""

    account_id: int
    amount: Decimal
    kind: str
    description: str
    idempotency_key: str
    source_type: str = ""
    source_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class LedgerKeysTaken(Exception):
    """``ledger_post_many`` found some of its idempotency keys already posted. Nothing it
    wrote may stand (the balance-after chain assumed those entries new): the caller rolls its
    transaction back and posts again knowing the keys (``ledger_entries_posted`` +
    ``ledger_existing``)."""

    def __init__(self, keys: set[str]) -> None:
        super().__init__(f"{len(keys)} idempotency key(s) already posted")
        self.keys = keys


_ENTRY_COLUMNS = (
    "account_id",
    "amount",
    "kind",
    "description",
    "source_type",
    "source_id",
    "balance_after",
    "idempotency_key",
    "created_at",
    "created_by_id",
    "reason",
    "reverses_id",
    "metadata",
)


def ledger_post_many(
    *,
    accounts: Mapping[int, Account],
    entries: Sequence[NewEntry],
    now: dt.datetime,
    announce: bool = True,
) -> dict[str, LedgerEntry]:
    """``ledger_post`` for many entries at once, in the caller's transaction: each entry's
    balance-after follows its account's in the order given, the entries are inserted in one
    statement and the cached balances moved in one more, whatever the number of entries and
    accounts. Returns the entries by idempotency key (with their ids).

    ``accounts``: every account of ``entries``, by id, read with ``select_for_update`` in the
    caller's transaction (their ``balance`` is current and is moved here too). The unique
    idempotency key stays the guard: the INSERT skips a key already posted (``ON CONFLICT DO
    NOTHING``) and then ``LedgerKeysTaken`` tells the caller to roll back and re-check, so an
    entry is never posted twice nor a different one silently taken for it.
    ``announce``: ``balances_changed`` (one ``BalanceChange`` per account) once the
    transaction commits.
    """
    if not entries:
        return {}
    if not transaction.get_connection().in_atomic_block:
        raise TypeError("ledger_post_many needs the caller's transaction holding the accounts.")
    before = {pk: account.balance for pk, account in accounts.items()}
    balances = dict(before)
    rows: list[tuple[Any, ...]] = []
    for item in entries:
        amount = _checked_amount(
            amount=item.amount, kind=item.kind, idempotency_key=item.idempotency_key
        )
        after = balances[item.account_id] = money(balances[item.account_id] + amount)
        rows.append(
            (
                item.account_id,
                amount,
                item.kind,
                item.description[:255],
                item.source_type,
                str(item.source_id),
                after,
                item.idempotency_key,
                now,
                None,
                "",
                None,
                item.metadata,
            )
        )
    ids = dict(
        (key, pk)
        for pk, key in rows_insert(
            model=LedgerEntry,
            columns=_ENTRY_COLUMNS,
            rows=rows,
            on_conflict="(idempotency_key) DO NOTHING",
            returning=("id", "idempotency_key"),
        )
    )
    taken = {row[7] for row in rows} - ids.keys()
    if taken:
        raise LedgerKeysTaken(taken)
    moved = {pk: after for pk, after in balances.items() if after != before[pk]}
    rows_update(model=Account, key="id", columns=["balance"], rows=list(moved.items()))
    posted: dict[str, LedgerEntry] = {}
    last: dict[int, int] = {}
    for row in rows:
        entry = LedgerEntry(id=ids[row[7]], **dict(zip(_ENTRY_COLUMNS, row, strict=True)))
        entry._state.adding = False
        posted[entry.idempotency_key] = entry
        last[entry.account_id] = entry.pk
    for pk, after in moved.items():
        accounts[pk].balance = after
    logger.info("ledger: %s entries posted to %s account(s)", len(rows), len(last))
    changes = [BalanceChange(pk, last[pk], before[pk], balances[pk]) for pk in last]
    if announce:
        transaction.on_commit(
            lambda: balances_changed.send_robust(sender=LedgerEntry, changes=changes)
        )
    return posted


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


@dataclass(frozen=True)
class AdjustmentPreview:
    balance_before: Decimal
    balance_after: Decimal  # at today's balance; calls may still move it before posting
    needs_confirmation: bool  # above ``confirm_above``
    confirm_above: Decimal


def ledger_adjust_preview(
    *, account: Account, amount: Decimal, staff_user: User
) -> AdjustmentPreview:
    """What a staff adjustment would do, or DomainError if this staff user may not post it."""
    amount = money(amount)
    if not staff_user.is_staff:
        raise DomainError("Only staff can adjust balances.", code="not_staff")
    if amount == 0:
        raise DomainError("The amount cannot be zero.", code="zero_amount")
    limit = _adjustment_max()
    if abs(amount) > limit and not staff_user.is_superuser:
        raise DomainError(
            f"Only a superuser can post more than {format_usd(limit)} in one adjustment.",
            code="over_adjustment_limit",
        )
    before = money(account.balance)
    confirm_above = _adjustment_confirm_above()
    return AdjustmentPreview(
        balance_before=before,
        balance_after=money(before + amount),
        needs_confirmation=abs(amount) > confirm_above,
        confirm_above=confirm_above,
    )


def ledger_adjust(
    *,
    account: Account,
    amount: Decimal,
    customer_description: str,
    internal_note: str,
    staff_user: User,
    now: dt.datetime,
    idempotency_key: str | None = None,
    confirmed: bool = False,
) -> Posting:
    """A staff adjustment. The customer reads ``customer_description`` in their history;
    ``internal_note`` (the why) and the staff user are kept for staff only. ``confirmed``: the
    staff user confirmed an amount above the confirmation threshold. ``idempotency_key`` comes
    from the form, so a double-submitted form posts once."""
    customer_description = " ".join(customer_description.split())
    internal_note = internal_note.strip()
    if not customer_description:
        raise DomainError("An adjustment needs a description for the customer.", code="no_desc")
    if not internal_note:
        raise DomainError("An adjustment needs an internal note.", code="no_reason")
    amount = money(amount)
    preview = ledger_adjust_preview(account=account, amount=amount, staff_user=staff_user)
    if preview.needs_confirmation and not confirmed:
        raise DomainError(
            f"Adjustments above {format_usd(preview.confirm_above)} must be confirmed.",
            code="needs_confirmation",
        )
    return ledger_post(
        account=account,
        amount=amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description=customer_description,
        idempotency_key=idempotency_key or f"adjustment:{uuid.uuid4()}",
        now=now,
        source_type="staff",
        source_id=str(staff_user.pk),
        created_by=staff_user,
        reason=internal_note,
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
