"""``create_account`` options from billing: --credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandError, CommandParser

from billing.models import LedgerEntry
from billing.money import money
from billing.services import ledger_post
from portal.models import Account


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--credit", default=None, help="Initial credit in USD, e.g. 25.00")


def apply(account: Account, options: dict[str, Any], now: dt.datetime) -> None:
    if options.get("credit") in (None, ""):
        return
    try:
        amount = money(Decimal(options["credit"]))
    except (InvalidOperation, ValueError) as exc:
        raise CommandError(f"--credit: {options['credit']!r} is not an amount") from exc
    if amount <= 0:
        raise CommandError("--credit must be positive")
    ledger_post(
        account=account,
        amount=amount,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description="Initial credit",
        reason="initial credit",
        idempotency_key=f"initial-credit:{account.code}",
        now=now,
        source_type="account",
        source_id=account.code,
    )
