"""Sent after a posting commits (never inside the posting's transaction).

Receivers (auto-recharge, low-balance alerts) get ``account_id``, ``entry_id``,
``balance_before`` and ``balance_after``. They must only enqueue work; they must not fail.
"""

from django.dispatch import Signal

balance_changed = Signal()
