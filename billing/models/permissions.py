"""Call permissions (toll-fraud protection): the staff-managed risk tier of each country, an
account's allowed destinations, price ceiling, daily spend cap and fraud hold, and the history
of every change to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.models import Account


class RiskTier(models.TextChoices):
    LOW = "low", "Low risk"
    MEDIUM = "medium", "Medium risk"
    HIGH = "high", "High risk"


class CountryRisk(models.Model):
    """A country's fraud risk, set by staff (defaults shipped in billing/data/country_risk.csv).
    A country without a row is medium risk; a plan's included countries count as low."""

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166 alpha-2")
    tier = models.CharField(max_length=8, choices=RiskTier.choices)
    note = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        ordering = ["country"]
        verbose_name = "country risk tier"

    def __str__(self) -> str:
        return f"{self.country}: {self.tier}"


class CallPermissions(models.Model):
    """What an account's outgoing calls may cost and where they may go. Read (and changed) under
    the account's row lock by authorization; an account without a row has the defaults
    (``billing.selectors.permissions.call_permissions_for``)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="call_permissions"
    )
    allow_low = models.BooleanField(default=True)
    allow_medium = models.BooleanField(default=False)
    allow_high = models.BooleanField(default=False)
    # ISO code -> allowed, where the customer (or staff) chose otherwise than the tier toggle.
    countries = models.JSONField(default=dict, blank=True)
    price_ceiling = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="Highest USD per minute a paid call may cost"
    )
    daily_cap = models.DecimalField(
        max_digits=14, decimal_places=4, help_text="USD of usage per local day"
    )
    fraud_hold_at = models.DateTimeField(null=True, blank=True)
    fraud_hold_reason = models.CharField(max_length=255, blank=True, default="")
    # The velocity window never reaches back past a release: the calls that tripped the alarm
    # must not trip it again the moment it is cleared.
    velocity_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "call permissions"
        verbose_name_plural = "call permissions"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_ceiling__gte=0, daily_cap__gte=0),
                name="call_permissions_nonnegative",
            )
        ]

    def __str__(self) -> str:
        return f"call permissions of account {self.account_id}"

    @property
    def on_hold(self) -> bool:
        return self.fraud_hold_at is not None

    def tier_allowed(self, tier: str) -> bool:
        return {
            RiskTier.LOW: self.allow_low,
            RiskTier.MEDIUM: self.allow_medium,
            RiskTier.HIGH: self.allow_high,
        }[RiskTier(tier)]


class CallPermissionChange(models.Model):
    """One change of an account's call permissions: who, when and what (field -> [old, new])."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="call_permission_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_staff = models.BooleanField(default=False)
    system = models.BooleanField(default=False, help_text="Made by the velocity alarm")
    summary = models.CharField(max_length=255)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="perm_change_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.summary}"
