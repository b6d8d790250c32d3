"""Monthly statements: one per account and closed billing period, numbered as invoices."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import models

from portal.models import Account


class InvoiceCounter(models.Model):
    """The last invoice number given per provider. Read with ``select_for_update`` in the
    transaction that creates the statement, so numbers are sequential with no gaps: a
    database sequence would lose the numbers of rolled-back transactions."""

    provider = models.CharField(max_length=200, unique=True)
    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.provider}: {self.last_number}"


class Statement(models.Model):
    """What happened to an account's balance in ``[period_start, period_end)``.

    Every figure is a sum of the ledger entries whose ``created_at`` is in the period, read
    under the account's row lock when the statement is closed: ``opening_balance`` is the
    sum of every entry before the period, and ``opening_balance`` + the group totals =
    ``closing_balance``. The provider's name and address are copied in, so an invoice keeps
    the issuer it was issued by when the settings change later.
    """

    class Group(models.TextChoices):
        PAYMENTS = "payments", "Payments"
        USAGE = "usage", "Usage"
        RECURRING = "recurring", "Recurring charges"
        ADJUSTMENTS = "adjustments", "Adjustments"
        REFUNDS = "refunds", "Refunds, disputes and reversals"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    provider_name = models.CharField(max_length=200)
    provider_address = models.TextField(blank=True, default="")
    invoice_number = models.PositiveBigIntegerField()
    opening_balance = models.DecimalField(max_digits=14, decimal_places=4)
    payments = models.DecimalField(max_digits=14, decimal_places=4)
    usage = models.DecimalField(max_digits=14, decimal_places=4)
    recurring = models.DecimalField(max_digits=14, decimal_places=4)
    adjustments = models.DecimalField(max_digits=14, decimal_places=4)
    refunds = models.DecimalField(max_digits=14, decimal_places=4)
    closing_balance = models.DecimalField(max_digits=14, decimal_places=4)
    entry_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField()
    # Set under the statement's row lock by whoever sends the e-mail: it is sent once.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account", "-period_start"]
        indexes = [
            # The hourly scan for statements whose e-mail was lost: only those rows.
            models.Index(
                fields=["closed_at"],
                condition=models.Q(emailed_at__isnull=True),
                name="statement_unmailed",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "period_end"], name="statement_unique"),
            models.UniqueConstraint(
                fields=["provider_name", "invoice_number"], name="statement_invoice_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_label}: {self.account_id} {self.period_start:%Y-%m-%d}"

    def local_dates(self, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
        """The period's first and last day in ``tz`` (the end is the next period's midnight)."""
        start = self.period_start.astimezone(tz).date()
        return start, self.period_end.astimezone(tz).date() - dt.timedelta(days=1)

    @property
    def invoice_label(self) -> str:
        return f"INV-{self.invoice_number:06d}"


class StatementLine(models.Model):
    """One total of a statement: a ledger kind, or calls of one category."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    group = models.CharField(max_length=20, choices=Statement.Group.choices)
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    count = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "code"], name="statement_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"
