"""Billing models. The ledger is append-only: rows are inserted once, never updated or deleted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from portal.models import Account


class ImmutableError(RuntimeError):
    pass


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")

    def delete(self) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")


class LedgerEntry(models.Model):
    """One change of one account's balance. Created only by ``billing.services.ledger_post``."""

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
        return f"{self.created_at:%Y-%m-%d} {self.get_kind_display()} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableError("Ledger entries are append-only; post a reversing entry instead.")

    @property
    def is_credit(self) -> bool:
        return self.amount > Decimal(0)


# --- Plans, rate decks, numbers (rating) ------------------------------------------------------


class RateDeck(models.Model):
    """A price list for outgoing calls: the longest matching prefix prices a number."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rate(models.Model):
    deck = models.ForeignKey(RateDeck, on_delete=models.CASCADE, related_name="rates")
    prefix = models.CharField(max_length=20, help_text="Digits of the E.164 number, no '+'.")
    destination = models.CharField(max_length=120)
    rate = models.DecimalField(max_digits=10, decimal_places=4, help_text="USD per minute")
    connect_fee = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    initial = models.PositiveIntegerField(default=60, help_text="First billed block, seconds")
    increment = models.PositiveIntegerField(default=60, help_text="Later blocks, seconds")

    class Meta:
        ordering = ["deck", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["deck", "prefix"], name="rate_unique_prefix"),
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="rate_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(initial__gt=0, increment__gt=0), name="rate_positive_blocks"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.destination} {self.rate}"


class ServicePlan(models.Model):
    """A monthly plan: price, included minutes, overage price, included destinations."""

    name = models.CharField(max_length=100, unique=True)
    monthly_price = models.DecimalField(max_digits=10, decimal_places=4)
    included_minutes = models.PositiveIntegerField(default=0)
    overage_rate = models.DecimalField(max_digits=10, decimal_places=4)
    overage_initial = models.PositiveIntegerField(default=60)
    overage_increment = models.PositiveIntegerField(default=60)
    includes_incoming = models.BooleanField(
        default=True, help_text="Incoming calls to included DID groups use included minutes."
    )
    rate_deck = models.ForeignKey(
        RateDeck, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IncludedDestination(models.Model):
    """An outgoing destination included in a plan's minutes: a country and its line types."""

    plan = models.ForeignKey(
        ServicePlan, on_delete=models.CASCADE, related_name="included_destinations"
    )
    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2, e.g. DE")
    name = models.CharField(max_length=80)
    mobile_included = models.BooleanField(
        default=False, help_text="Landlines are always included; mobiles only when ticked."
    )

    class Meta:
        ordering = ["plan", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "country"], name="included_dest_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}{' (mobile too)' if self.mobile_included else ' (landlines)'}"


class AccountPlan(models.Model):
    """Which plan an account is on from a period start on. The newest row whose ``starts_at``
    is at or before a moment is the plan then; a change takes effect at the next period."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plan_history")
    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "starts_at"], name="account_plan_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.plan} from {self.starts_at:%Y-%m-%d}"


class AccountRating(models.Model):
    """Per-account rating overrides."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="rating", primary_key=True
    )
    rate_deck = models.ForeignKey(
        RateDeck,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Overrides the plan's deck for this account.",
    )

    def __str__(self) -> str:
        return f"rating of account {self.account_id}"


class DIDGroup(models.Model):
    name = models.CharField(max_length=100, unique=True)
    rate = models.DecimalField(max_digits=10, decimal_places=4, help_text="Incoming USD/min")
    connect_fee = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    initial = models.PositiveIntegerField(default=60)
    increment = models.PositiveIntegerField(default=60)
    included = models.BooleanField(
        default=True, help_text="Incoming minutes count against the plan's included minutes."
    )
    monthly_included_cap_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Max included minutes per DID per billing month."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "DID group"

    def __str__(self) -> str:
        return self.name


class DID(models.Model):
    number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +12025550123")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="dids")
    group = models.ForeignKey(DIDGroup, on_delete=models.PROTECT, related_name="dids")
    label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "DID"

    def __str__(self) -> str:
        return self.number


class Extension(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(max_length=20)
    name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["account", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="extension_unique")
        ]

    def __str__(self) -> str:
        return self.number


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

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="calls")
    call_id = models.CharField(max_length=150, unique=True)
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
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-started_at", "-id"], name="call_account_recent"),
            models.Index(fields=["account", "direction", "-started_at"], name="call_account_dir"),
            models.Index(fields=["account", "period_start"], name="call_account_period"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.from_number}→{self.to_number}"


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


# --- Prepaid balance: Stripe customer, saved card, deposits, webhooks, auto-recharge ---------


class BillingProfile(models.Model):
    """An account's payment settings: its Stripe Customer, the saved card, auto-recharge and the
    low-balance alert. One per account (``billing.services.billing_profile_get``)."""

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

    OPEN_STATUSES = (Status.CREATED, Status.PROCESSING)

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
