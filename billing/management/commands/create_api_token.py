from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.services.api_clients import api_client_create
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Create a switch API client and print its token (once: only a hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the switch, e.g. asterisk-nyc-1")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, token = api_client_create(name=options["name"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"API client {client.name!r} created. Its token is shown once; store it now:"
        )
        self.stdout.write(token)
