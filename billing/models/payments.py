"""The billing profile (Stripe Customer, saved card, auto-recharge), card payments and Stripe
events."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from billing.declines import decline_reason
from billing.models.ledger import LedgerEntry
from portal.models import Account


class BillingProfile(models.Model):
    """An account's payment settings: its Stripe Customer, the saved card, auto-recharge and the
    low-balance alert. One per account (``billing.services.cards.billing_profile_ensure``)."""

    account = models.OneToOneField(
        Account, on_delete=models.PROTECT, related_name="billing_profile"
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True, default="")
    # The card kept for off-session use (auto-recharge, "pay with saved card").
    payment_method_id = models.CharField(max_length=64, blank=True, default="")
    card_brand = models.CharField(max_length=20, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)

    auto_recharge_enabled = models.BooleanField(default=False)
    auto_recharge_threshold = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("10.0000")
    )
    auto_recharge_amount = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("25.0000")
    )
    auto_recharge_daily_cap = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Staff: most auto-recharge may charge per day. Empty = the site default.",
    )
    auto_recharge_monthly_cap = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Staff: most auto-recharge may charge per calendar month. Empty = default.",
    )
    auto_recharge_declines = models.PositiveSmallIntegerField(
        default=0, help_text="Consecutive declined auto-recharges (3 turn auto-recharge off)."
    )
    auto_recharge_retry_after = models.DateTimeField(
        null=True, blank=True, help_text="Back-off: no automatic attempt before this time."
    )
    auto_recharge_note = models.CharField(
        max_length=255, blank=True, default="", help_text="Last outcome, shown to the customer."
    )
    # Set to the recharge's own ledger entry when a recharge left the balance still below the
    # threshold: its own posting would otherwise start the next charge, and so on until a cap.
    # Auto-recharge stays paused until a later entry lifts the balance to the threshold
    # (billing.selectors.auto_recharge decides that from the ledger, so no signal can be missed).
    auto_recharge_paused_by = models.ForeignKey(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The recharge that left the balance below the threshold (paused until a "
        "payment lifts it to the threshold).",
    )

    low_balance_threshold = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        default=Decimal("5.0000"),
        help_text="E-mail when the balance falls below this. Empty = no alert.",
    )
    low_balance_alerted = models.BooleanField(
        default=False, help_text="An alert was sent for the current crossing."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Billing profile of {self.account_id}"

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)

    @property
    def card_label(self) -> str:
        return card_label(self.card_brand, self.card_last4)


def card_label(brand: str, last4: str) -> str:
    """``visa``, ``4242`` → ``Visa •••• 4242``."""
    if not last4:
        return "card"
    names = {"amex": "American Express", "mastercard": "Mastercard", "diners": "Diners Club"}
    name = names.get(brand, brand.title() if brand else "Card")
    return f"{name} •••• {last4}"


class Deposit(models.Model):
    """One card payment into the balance: a customer's Add Credit or an auto-recharge attempt.

    Recorded before Stripe is called; its ``stripe_idempotency_key`` derives from it. The
    balance is credited once (ledger key ``stripe:<payment intent id>``) when Stripe reports
    success, by whichever of confirm, return page, webhook or reconciliation sees it first.
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Add Credit"
        AUTO_RECHARGE = "auto_recharge", "Auto-recharge"

    class Status(models.TextChoices):
        CREATED = "created", "Waiting for card"
        PROCESSING = "processing", "Processing"
        REQUIRES_ACTION = "requires_action", "Needs authentication"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"
        # A payment held for 3-D Secure that the customer cancelled, or nobody confirmed within
        # a day: cancelled at Stripe, nothing charged.
        CANCELED = "canceled", "Cancelled"
        EXPIRED = "expired", "Expired"

    OPEN_STATUSES = (Status.CREATED, Status.PROCESSING)
    # Over without a charge; only Stripe reporting a success can still change them (credited).
    UNPAID_STATUSES = (Status.FAILED, Status.CANCELED, Status.EXPIRED)

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deposits")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEPOSIT)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    save_card = models.BooleanField(default=False)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who cancelled the payment while it waited for 3-D Secure.",
    )
    key = models.UUIDField(unique=True, editable=False)
    stripe_setup_intent_id = models.CharField(max_length=64, blank=True, default="")
    stripe_payment_intent_id = models.CharField(max_length=64, blank=True, default="")
    stripe_payment_method_id = models.CharField(max_length=64, blank=True, default="")
    stripe_charge_id = models.CharField(max_length=64, blank=True, default="")
    card_brand = models.CharField(max_length=20, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    refunded_amount = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("0.0000")
    )
    ledger_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="deposit"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "kind", "status"], name="deposit_account_kind"),
            models.Index(fields=["status", "created_at"], name="deposit_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~models.Q(stripe_payment_intent_id=""),
                name="deposit_unique_payment_intent",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.status})"

    @property
    def stripe_idempotency_key(self) -> str:
        return f"cc-deposit-{self.key}"

    @property
    def card_label(self) -> str:
        return card_label(self.card_brand, self.card_last4)

    @property
    def failure_reason(self) -> str:
        """Why it was not paid, in the customer's words (``billing.declines``); "" when it was
        paid or is still under way. Stripe's own sentence stays in ``failure_message``."""
        if self.status in self.UNPAID_STATUSES:
            return decline_reason(self.failure_code)
        if self.status == self.Status.REQUIRES_ACTION:
            return decline_reason("authentication_required")
        return ""

    @property
    def can_end_authentication(self) -> bool:
        """Held for 3-D Secure: the customer may complete the authentication or cancel."""
        return self.status == self.Status.REQUIRES_ACTION


class StripeEvent(models.Model):
    """Every verified Stripe webhook event, stored once by its id, with its processing status."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["type", "status"], name="stripe_event_type_status")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.status})"
