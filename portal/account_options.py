"""Extra ``create_account`` options contributed by the billing and trunking apps.

Each hook adds its argparse options and applies them to the new account inside the same
transaction. Kept in one list so the command stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandParser

from portal.models import Account

AddArgs = Callable[[CommandParser], None]
Apply = Callable[[Account, dict[str, Any], dt.datetime], None]

_hooks: list[tuple[AddArgs, Apply]] = []


def register(add: AddArgs, apply: Apply) -> None:
    _hooks.append((add, apply))


def add_arguments(parser: CommandParser) -> None:
    for add, _apply in _hooks:
        add(parser)


def apply_options(*, account: Account, options: dict[str, Any], now: dt.datetime) -> None:
    for _add, apply in _hooks:
        apply(account, options, now)
