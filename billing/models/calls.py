"""Calls, their reservations while in progress, included-minute counters and the switch's API
clients."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from billing.models.ledger import LedgerEntry
from billing.models.numbers import DID
from portal.models import Account


class UsageCounter(models.Model):
    """Included seconds used in one billing period, per account (``did`` null) or per DID
    (for DID groups with a monthly cap). Updated only under the account's row lock."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage")
    period_start = models.DateTimeField()
    did = models.ForeignKey(DID, null=True, blank=True, on_delete=models.CASCADE)
    included_seconds_used = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_start"],
                condition=models.Q(did__isnull=True),
                name="usage_account_period",
            ),
            models.UniqueConstraint(
                fields=["account", "period_start", "did"],
                condition=models.Q(did__isnull=False),
                name="usage_did_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period_start:%Y-%m-%d} {self.included_seconds_used}s"


class Call(models.Model):
    """A finished call as the switch reported it, with its rating. Rated and posted once."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outgoing"
        INBOUND = "inbound", "Incoming"
        INTERNAL = "internal", "Internal"

    class Category(models.TextChoices):
        UNANSWERED = "unanswered", "Not answered"
        ON_NET = "on_net", "On-net (free)"
        INCLUDED = "included", "Included minutes"
        OVERAGE = "overage", "Included + overage"
        RATED = "rated", "Rate deck"
        DID_RATE = "did_rate", "DID rate"

    # No index of its own: the indexes below start with the account (each one more index is
    # written on every CDR, and planned on every partition).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="calls", db_index=False
    )
    # Unique together with started_at, not alone: on PostgreSQL the table is partitioned by
    # started_at (billing migration 0017) and a partitioned table's unique keys must hold the
    # partition key. A redelivered CDR (same start) still hits it; the rating service checks a
    # call_id used with another start before it inserts.
    call_id = models.CharField(max_length=150)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_number = models.CharField(max_length=40)
    to_number = models.CharField(max_length=40)
    destination = models.CharField(max_length=120, blank=True, default="")
    did = models.ForeignKey(DID, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    billsec = models.PositiveIntegerField(default=0)
    disposition = models.CharField(max_length=20, blank=True, default="")
    period_start = models.DateTimeField(help_text="Billing period of the call's start")
    category = models.CharField(max_length=12, choices=Category.choices)
    billed_seconds = models.PositiveIntegerField(default=0)
    included_seconds = models.PositiveIntegerField(default=0)
    paid_seconds = models.PositiveIntegerField(default=0)
    rate = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    connect_fee = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    charge = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    explanation = models.CharField(max_length=255)
    ledger_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="call"
    )
    source = models.CharField(max_length=10, default="api")  # api | import
    # The authorize reason this call should have been refused for (the switch connected it
    # anyway): it is still billed as reported, and staff see it flagged.
    refusal_flag = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # Covering the usage charts' columns: minutes per day of a month read the index
            # alone (an index-only scan) instead of one heap page per call.
            models.Index(
                fields=["account", "-started_at", "-id"],
                name="call_account_recent",
                include=["category", "included_seconds", "paid_seconds"],
            ),
            models.Index(fields=["account", "direction", "-started_at"], name="call_account_dir"),
            models.Index(fields=["account", "period_start"], name="call_account_period"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["call_id", "started_at"], name="call_id_started_at"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.from_number}→{self.to_number}"


class CallKey(models.Model):
    """A call id claimed by the rating of its CDR: the database's guard that a ``call_id`` is
    rated and posted once. Kept apart from ``Call`` (one small row per call, its primary key
    the call id) so that the calls table can be partitioned by month, which cannot keep a
    unique constraint on the call id alone. A batch claims its ids with one
    ``INSERT ... ON CONFLICT DO NOTHING``; only the ids it claimed are rated."""

    call_id = models.CharField(max_length=150, primary_key=True)
    # Not indexed: looked up by call id only; an account's keys are never listed.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, db_index=False, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.call_id


class CallReservation(models.Model):
    """Credit and included seconds held for a call the switch was allowed to start, until its
    CDR arrives or the reservation expires."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reservations")
    call_id = models.CharField(max_length=150, unique=True)
    direction = models.CharField(max_length=10, choices=Call.Direction.choices)
    to_number = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    rate = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0"), help_text="USD/min once paid"
    )
    included_seconds = models.PositiveIntegerField(default=0)
    max_seconds = models.PositiveIntegerField(default=0)
    # The channel kind the call holds (an app's limit, see billing.call_limits), so live
    # reservations count the channels in use; null when it holds none.
    channel_kind = models.CharField(max_length=16, null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["account", "expires_at"], name="reservation_active")]

    def __str__(self) -> str:
        return f"reservation {self.call_id}"


class ApiClient(models.Model):
    """A switch allowed to call the API. Only a hash of its token is stored."""

    name = models.CharField(max_length=100, unique=True)
    token_prefix = models.CharField(max_length=12, help_text="First characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name
