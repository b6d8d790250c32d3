from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.money import format_usd
from billing.selectors.cycle import cycle_due_account_ids
from billing.services.cycle import billing_cycle_run_account
from portal.models import Account


class Command(BaseCommand):
    help = (
        "Run the monthly cycle now (what the beat job does): open every due billing period and "
        "post its recurring charges, exactly once. --dry-run posts nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="ISO date-time to run as (default: now; naive = UTC)")
        parser.add_argument("--account", help="Only this account code")
        parser.add_argument("--dry-run", action="store_true", help="Print, post nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"])
        dry_run = options["dry_run"]
        if options["account"]:
            account = Account.objects.filter(code=options["account"]).first()
            if account is None:
                raise CommandError(f"No account with code {options['account']!r}.")
            account_ids = [account.pk]
        else:
            account_ids = cycle_due_account_ids(now=now)
        codes = dict(Account.objects.filter(pk__in=account_ids).values_list("pk", "code"))
        failed = 0
        periods = 0
        for account_id in account_ids:
            try:
                opened = billing_cycle_run_account(account_id=account_id, now=now, dry_run=dry_run)
            except Exception as exc:  # one bad account does not stop the rest
                failed += 1
                self.stderr.write(f"{codes.get(account_id)}: failed: {exc!r}")
                continue
            for result in opened:
                periods += 1
                self.stdout.write(
                    f"{codes.get(account_id)} period {result.period.start_date}: "
                    f"{format_usd(result.total)}"
                )
                for posted in result.charges:
                    note = "" if posted.created else " (already posted)"
                    self.stdout.write(
                        f"  {posted.charge.description}: {format_usd(posted.charge.amount)}"
                        f" [{posted.key}]{note}"
                    )
        verb = "would open" if dry_run else "opened"
        self.stdout.write(
            f"{'DRY RUN: ' if dry_run else ''}{verb} {periods} period(s) "
            f"in {len(account_ids)} account(s); nothing posted."
            if dry_run
            else f"{verb} {periods} period(s) in {len(account_ids)} account(s)."
        )
        if failed:
            raise CommandError(f"{failed} account(s) failed")


def _parse_now(value: str | None) -> dt.datetime:
    if not value:
        return timezone.now()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: {value!r} is not an ISO date-time.") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
