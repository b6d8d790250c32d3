"""Number ports (port-in): a request with its numbers and their outcome, the history of its
moves, and the one-time fee per number by country."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from billing.models.numbers import DIDGroup
from portal.models import Account

DEFAULT_COUNTRY = ""  # the PortFee row that applies to every country without its own row
# The fee when the default row is missing (the seed's default): a lost row must never make
# every port free.
FALLBACK_FEE = Decimal("15.0000")


class PortFee(models.Model):
    """The one-time fee per number ported in, per country (ISO code); the row with an empty
    country is the default."""

    country = models.CharField(
        max_length=2, unique=True, blank=True, help_text="ISO code, e.g. US; empty: the default."
    )
    fee = models.DecimalField(max_digits=10, decimal_places=4, help_text="USD per number")
    toll_free_portable = models.BooleanField(
        default=False, help_text="Customers may request to port toll-free numbers in."
    )

    class Meta:
        ordering = ["country"]
        verbose_name = "port fee"
        constraints = [
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="port_fee_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.country or 'Default'}: {self.fee}"


class PortRequest(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="port_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    losing_carrier = models.CharField(max_length=100)
    carrier_account_number = models.CharField(max_length=64)
    carrier_pin = models.CharField(max_length=32, blank=True, default="")
    account_holder_name = models.CharField(max_length=150)
    service_address = models.TextField()
    requested_date = models.DateField()
    # The letter of authorization, signed in the page: the typed name, who, when, from where.
    loa_name = models.CharField(max_length=150)
    loa_text = models.TextField(blank=True, default="", help_text="The letter as signed.")
    loa_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    loa_signed_at = models.DateTimeField()
    loa_signed_ip = models.GenericIPAddressField(null=True, blank=True)
    bill = models.FileField(upload_to="ports/bills/%Y/%m/", blank=True, default="")
    bill_content_type = models.CharField(max_length=40, blank=True, default="")
    fee_total = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    foc_date = models.DateField(null=True, blank=True, help_text="Firm order commitment date")
    reject_reason = models.TextField(blank=True, default="", help_text="Shown to the customer.")
    did_group = models.ForeignKey(
        DIDGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="port_account_recent"),
            models.Index(fields=["status", "created_at"], name="port_status_created"),
        ]

    def __str__(self) -> str:
        return f"Port #{self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in (
            self.Status.DRAFT,
            self.Status.SUBMITTED,
            self.Status.IN_PROGRESS,
        )


class PortNumber(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        PORTED = "ported", "Ported"
        NOT_PORTED = "not_ported", "Not ported"

    request = models.ForeignKey(PortRequest, on_delete=models.CASCADE, related_name="numbers")
    number = models.CharField(max_length=20, help_text="E.164")
    country = models.CharField(max_length=2, blank=True, default="")
    line_type = models.CharField(max_length=20, blank=True, default="")
    fee = models.DecimalField(max_digits=10, decimal_places=4)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    # True while the request is submitted or in progress: the database then refuses the same
    # number in a second open request, whichever account or concurrent submission tries it.
    claimed = models.BooleanField(default=False)

    class Meta:
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="port_number_once"),
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(claimed=True),
                name="port_number_one_open_request",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PortTransition(models.Model):
    """One move of a request, kept for the customer's history and for audit."""

    request = models.ForeignKey(PortRequest, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=PortRequest.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=PortRequest.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the system (the beat job).",
    )
    by_staff = models.BooleanField(default=False)
    at = models.DateTimeField()
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"
