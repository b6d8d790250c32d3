from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal import demo


class Command(BaseCommand):
    help = "Load demo data (idempotent): a staff user and a demo customer."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            account = demo.seed(now=timezone.now())
        self.stdout.write(
            "Demo data ready.\n"
            f"  Staff (admin):  {demo.STAFF_EMAIL} / {demo.DEMO_PASSWORD}  → /admin/\n"
            f"  Customer:       {demo.CUSTOMER_EMAIL} / {demo.DEMO_PASSWORD}  "
            f"(account {account.code})"
        )
