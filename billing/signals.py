"""Sent after postings commit (never inside the posting's transaction).

``balance_changed``: one posting (``ledger_post``). Receivers get ``account_id``, ``entry_id``,
``balance_before`` and ``balance_after``.

``balances_changed``: a batch of postings (rated CDRs), once its transaction commits, with
``changes``: one ``BalanceChange`` per account, from its balance before the batch's first
posting to its balance after the last (each account's call charges in a batch are debits, so
the last balance is the lowest). A receiver that must see every change connects to both.

Receivers (auto-recharge, low-balance alerts) must only enqueue work; they must not fail.

``auto_recharge_requested``: a service wants an auto-recharge attempt for ``account_id`` (the
customer turned it on below the threshold). The receiver enqueues the task once the
surrounding transaction, if any, commits.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.dispatch import Signal

balance_changed = Signal()
balances_changed = Signal()
auto_recharge_requested = Signal()
# A monthly statement was closed (its transaction committed): ``statement_id``.
statement_closed = Signal()


@dataclass(frozen=True)
class BalanceChange:
    account_id: int
    entry_id: int  # the last entry posted
    balance_before: Decimal
    balance_after: Decimal
