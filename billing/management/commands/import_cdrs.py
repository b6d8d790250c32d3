from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.services.cdr_import import (
    DEFAULT_BATCH,
    import_master_csv,
    open_master_csv,
    read_rows,
)


class Command(BaseCommand):
    help = (
        "Rate and post the calls of an Asterisk Master.csv (cdr_csv) file. Each call is posted "
        "once: re-importing a file reports duplicates and posts nothing. Exits non-zero if any "
        "row was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Master.csv ('-' for standard input)")
        parser.add_argument(
            "--tz",
            default=settings.TIME_ZONE,
            help="Time zone of the times in the file (default: %(default)s)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH, help="Rows per transaction"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tz = zoneinfo.ZoneInfo(options["tz"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"--tz: unknown time zone {options['tz']!r}") from exc
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        path = options["file"]
        try:
            with open_master_csv(path) as handle:
                report = import_master_csv(
                    read_rows(handle),
                    tz=tz,
                    now=timezone.now(),
                    batch_size=options["batch_size"],
                )
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        for line, reason in report.rejected:
            self.stderr.write(f"line {line}: rejected: {reason}")
        self.stdout.write(str(report))
        if report.rejected:
            raise CommandError(f"{len(report.rejected)} row(s) rejected")
