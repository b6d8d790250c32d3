"""Service plans, their included destinations, rate decks and their rates."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from portal.models import Account


class RateDeck(models.Model):
    """A price list for outgoing calls: the longest matching prefix prices a number."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.BigIntegerField(
        default=1,
        editable=False,
        help_text="Raised by a database trigger, in the same transaction, whenever a rate of "
        "the deck is inserted, changed or deleted: processes that keep the deck in memory "
        "reload it when it moves.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PricingCatalog(models.Model):
    """One row: the version of everything pricing keeps in memory per process (rate decks and
    their rates, service plans, included destinations, DID groups, country risk tiers).

    Database triggers raise it in the transaction of any change to those tables, by a random
    step (so a version written by a rolled-back transaction is not reused by the next commit,
    and a process never mistakes rolled-back data for committed data of the same version).
    """

    version = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"pricing catalog v{self.version}"


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
    is_public = models.BooleanField(
        default=False,
        help_text="Offered to customers: shown on the Service Plan page, where they can switch.",
    )
    is_default = models.BooleanField(
        default=False,
        help_text="The plan a new account starts on (sign-up, create_account without --plan). "
        "At most one plan is the default.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # Sign-up picks "the" default plan: two defaults would make a new account's plan
            # depend on query order.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="service_plan_one_default",
            ),
        ]

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
