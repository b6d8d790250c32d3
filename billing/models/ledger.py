"""The ledger is append-only: rows are inserted once, never updated or deleted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from billing.money import format_usd
from portal.models import Account


class ImmutableError(RuntimeError):
    pass


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")

    def delete(self) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")


class LedgerEntry(models.Model):
    """One change of one account's balance. Created only by ``billing.services.ledger``
    (``ledger_post``, ``ledger_post_many``)."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        AUTO_RECHARGE = "auto_recharge", "Auto-recharge"
        CALL = "call", "Call"
        PORT_FEE = "port_fee", "Number port fee"
        PLAN_FEE = "plan_fee", "Service plan fee"
        TRUNK_FEE = "trunk_fee", "SIP trunk fee"
        PRORATION = "proration", "Proration"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        ADJUSTMENT = "adjustment", "Adjustment"
        REVERSAL = "reversal", "Reversal"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=255)
    source_type = models.CharField(max_length=40, blank=True, default="")
    source_id = models.CharField(max_length=100, blank=True, default="")
    balance_after = models.DecimalField(max_digits=14, decimal_places=4)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff user, for adjustments and reversals.",
    )
    reason = models.TextField(blank=True, default="")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    metadata = models.JSONField(default=dict, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="ledger_account_recent"),
            models.Index(fields=["account", "kind", "-created_at"], name="ledger_account_kind"),
            models.Index(fields=["source_type", "source_id"], name="ledger_source"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_nonzero"),
        ]

    def __str__(self) -> str:
        amount = format_usd(self.amount, places=4)
        return f"{self.created_at:%Y-%m-%d} {self.get_kind_display()} {amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")

    @property
    def occurred_at(self) -> dt.datetime:
        """When what the entry records happened: a call's start (a call is posted when its
        record arrives, after it ended, maybe the next day), else the posting time."""
        if self.kind == self.Kind.CALL:
            try:
                return self.call.started_at
            except ObjectDoesNotExist:
                pass
        return self.created_at

    @property
    def is_credit(self) -> bool:
        return self.amount > Decimal(0)
