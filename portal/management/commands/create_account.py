from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal import services
from portal.errors import DomainError


def parse_billing_day(value: str) -> int:
    """``15`` or a start date ``2026-01-31`` (its day of the month)."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(value).day
    except ValueError as exc:
        raise CommandError(f"--billing-day: {value!r} is not a day (1-31) or a date") from exc


class Command(BaseCommand):
    help = "Create a customer account and its owner, e-mail an invitation, print the code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default=None)
        parser.add_argument("--billing-day", default=None, help="1-31, or a start date")
        parser.add_argument("--code", default=None, help="Account code (default: generated)")
        parser.add_argument("--no-invite", action="store_true", help="Do not e-mail the owner")
        self.add_extra_arguments(parser)

    def add_extra_arguments(self, parser: CommandParser) -> None:
        """Later issues add options (plan, credit, DIDs) through ``portal.account_options``."""
        from portal.account_options import add_arguments

        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.db import transaction

        from portal.account_options import apply_options

        billing_day = parse_billing_day(options["billing_day"]) if options["billing_day"] else None
        now = timezone.now()
        try:
            with transaction.atomic():
                account, user = services.account_create_with_owner(
                    email=options["email"],
                    name=options["name"],
                    timezone=options["timezone"],
                    billing_day=billing_day,
                    code=options["code"],
                    now=now,
                )
                apply_options(account=account, options=options, now=now)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not options["no_invite"]:
            services.user_send_invitation(user=user)
        self.stdout.write(account.code)
