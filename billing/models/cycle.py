"""The monthly cycle: each account's place in it, and a row per period the cycle opened."""

from __future__ import annotations

from django.db import models

from portal.models import Account


class AccountCycle(models.Model):
    """Billing's own per-account row for the cycle and the account's standing.

    ``next_period_start`` is the UTC instant (a local midnight in the account's time zone) of
    the first period start the cycle has not opened yet. It is indexed so that the beat job
    finds every account whose billing month rolled over with one range scan
    (``next_period_start <= now``) instead of computing each account's billing month in
    Python: the time zone and billing-day arithmetic happen once per account and period, when
    the cycle advances the column, not once per account every 15 minutes.
    """

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="billing_cycle"
    )
    next_period_start = models.DateTimeField(db_index=True)
    # Since when the balance has been below zero (None while it is not): the grace period
    # before a suspension counts from here.
    negative_since = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when billing suspended the account for a negative balance, so that the automatic
    # resume never lifts a suspension staff made for another reason.
    suspended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cycle of {self.account_id}: next period {self.next_period_start:%Y-%m-%d}"


class ClosedPeriod(models.Model):
    """The cycle ran at ``period_start``: the period ending there is closed, and the period
    from ``period_start`` to ``period_end`` was opened: its period-opening hooks ran, its recurring
    charges were posted (``charges``, with the ledger entry of each) and its included minutes
    started again from zero (``minutes_reset_at``; the reset itself posts nothing, because
    included minutes are counted per billing period). Unique per account and period start:
    a period is opened once."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="closed_periods")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    closed_at = models.DateTimeField()
    charges = models.JSONField(default=list, blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=4)
    minutes_reset_at = models.DateTimeField()
    included_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["account", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period_start"], name="closed_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: period from {self.period_start:%Y-%m-%d}"
