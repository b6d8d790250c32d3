"""``create_account`` options from billing: --credit, --plan, --rate-deck, --did, --extension."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandError, CommandParser

from billing.models import AccountRating, LedgerEntry, RateDeck, ServicePlan
from billing.money import money
from billing.selectors.plans import plan_by_name
from billing.services.ledger import ledger_post
from billing.services.numbers import did_add, extension_add
from billing.services.plans import account_plan_assign_default, account_plan_set
from portal.errors import DomainError
from portal.models import Account


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--credit", default=None, help="Initial credit in USD, e.g. 25.00")
    add_rating_arguments(parser)


def apply(account: Account, options: dict[str, Any], now: dt.datetime) -> None:
    apply_rating(account, options, now)
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


# Rating: --plan, --rate-deck, --did, --extension.


def add_rating_arguments(parser: CommandParser) -> None:
    parser.add_argument("--plan", default=None, help="Service plan name, e.g. Starter")
    parser.add_argument(
        "--rate-deck", default=None, help="Rate deck overriding the plan's deck for this account"
    )
    parser.add_argument(
        "--did",
        action="append",
        default=[],
        metavar="NUMBER[:GROUP]",
        help="A DID of the account (repeatable); GROUP defaults to 'USA standard' for +1",
    )
    parser.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="NUMBER",
        help="An internal extension, 2-8 digits (repeatable)",
    )


def apply_rating(account: Account, options: dict[str, Any], now: dt.datetime) -> None:
    """Runs inside create_account's transaction: any bad value raises and nothing is created."""
    if options.get("plan"):
        plan = plan_by_name(name=options["plan"])
        if plan is None:
            names = ", ".join(
                ServicePlan.objects.filter(is_active=True).values_list("name", flat=True)
            )
            raise CommandError(f"--plan: no active plan {options['plan']!r} (plans: {names}).")
        account_plan_set(account=account, plan=plan, now=now)
    else:
        account_plan_assign_default(account=account, now=now)
    if options.get("rate_deck"):
        deck = RateDeck.objects.filter(name=options["rate_deck"]).first()
        if deck is None:
            raise CommandError(f"--rate-deck: no rate deck {options['rate_deck']!r}.")
        AccountRating.objects.update_or_create(account=account, defaults={"rate_deck": deck})
    for value in options.get("did") or []:
        number, _, group = value.partition(":")
        try:
            did_add(account=account, number=number, group_name=group)
        except DomainError as exc:
            raise CommandError(f"--did {value}: {exc.message}") from exc
    for value in options.get("extension") or []:
        try:
            extension_add(account=account, number=value)
        except DomainError as exc:
            raise CommandError(f"--extension: {exc.message}") from exc
