from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.selectors.ledger import ledger_problems


class Command(BaseCommand):
    help = "Verify every account: cached balance == sum of entries, balance-after chains."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_problems()
        for problem in problems:
            self.stderr.write(f"{problem.account_code} (id {problem.account_id}): {problem.detail}")
        if problems:
            accounts = len({p.account_id for p in problems})
            raise CommandError(f"{len(problems)} ledger problem(s) in {accounts} account(s)")
        self.stdout.write("Ledger OK: every balance equals the sum of its entries.")
