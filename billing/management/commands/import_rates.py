from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.services.rate_import import rate_deck_import
from portal.errors import DomainError


class Command(BaseCommand):
    help = (
        "Import a rate deck from CSV (prefix,destination,rate[,connect_fee,initial,increment]). "
        "All or nothing: a file with any bad row imports nothing and every bad row is listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file with a header row")
        parser.add_argument("--deck", required=True, help="Deck name (created if new)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Make the deck exactly the file (default: add and update rows by prefix)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(  # bytes that are not UTF-8 are listed by line
                options["file"], newline="", encoding="utf-8-sig", errors="surrogateescape"
            ) as handle:
                report = rate_deck_import(
                    deck_name=options["deck"],
                    csv_file=handle,
                    replace=options["replace"],
                    now=timezone.now(),
                )
        except OSError as exc:
            raise CommandError(f"{options['file']}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{options['file']}: not UTF-8 text ({exc})") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(report))
