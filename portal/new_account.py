"""What other apps set up on an account created by sign-up (billing: the default service plan).

Each app registers a hook once in its ``apps.py``; sign-up runs them in the transaction that
creates the account, so a failing hook leaves no half-made account. ``create_account`` applies
its options through ``portal.account_options`` instead (its hooks see the command's options).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from portal.models import Account

NewAccountHook = Callable[[Account, dt.datetime], None]

_hooks: list[NewAccountHook] = []


def register(hook: NewAccountHook) -> NewAccountHook:
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def new_account_setup(*, account: Account, now: dt.datetime) -> None:
    for hook in _hooks:
        hook(account, now)
