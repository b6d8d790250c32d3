"""SIP trunk channels: counts per account and kind, staff prices and maximums, the history.

A channel is one concurrent call. The counts on ``Trunk`` are the ones in force now; a decrease
waits as a pending ``ChannelChange`` until the next billing month starts (the month is paid
already, and there is no refund), and is applied lazily by whoever next reads or changes the
counts after its ``effective_at``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from portal.models import Account


class ChannelKind(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"
    TWO_WAY = "two_way", "Two-way"


KINDS: tuple[str, ...] = tuple(ChannelKind.values)

# How a count reads in an explanation: "2 two-way channels".
KIND_NOUN = {
    ChannelKind.OUTBOUND: "outbound",
    ChannelKind.INBOUND: "inbound",
    ChannelKind.TWO_WAY: "two-way",
}


def describe_counts(counts: dict[str, int]) -> str:
    """``{"outbound": 1, "two_way": 3}`` → "1 outbound, 0 inbound, 3 two-way"."""
    return ", ".join(f"{counts.get(kind, 0)} {KIND_NOUN[ChannelKind(kind)]}" for kind in KINDS)


class ChannelPrice(models.Model):
    """The monthly price of one channel of a kind, from a date on. A billing month uses the
    price in effect on its first day, so a change made mid-month applies from the next month
    and charges already posted keep the price they were made at."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    monthly_price = models.DecimalField(
        max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    effective_from = models.DateField(
        help_text="First day (in the account's time zone) of the billing months this price "
        "applies to: a billing month starting on or after this date uses it."
    )

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "effective_from"], name="channel_price_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.monthly_price} from {self.effective_from}"


class ChannelMaximum(models.Model):
    """The most channels of a kind a customer may order: one row per kind without an account
    (the default), and optional rows for one account (its override)."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channel_maximums",
        help_text="Empty: the default for every account.",
    )
    maximum = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(account__isnull=True), name="channel_max_kind"
            ),
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=models.Q(account__isnull=False),
                name="channel_max_account_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ≤ {self.maximum}"


class Trunk(models.Model):
    """An account's channel counts in force now. ``version`` goes up with every change, so a
    form based on older counts is recognised and refused."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="trunk")
    outbound = models.PositiveIntegerField(default=0)
    inbound = models.PositiveIntegerField(default=0)
    two_way = models.PositiveIntegerField(default=0)
    trunk_only = models.BooleanField(
        default=False,
        help_text="Calls need a channel even with no channels at all (a trunk-only customer). "
        "Off: an account without channels is not limited by channels.",
    )
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"trunk of {self.account_id}"

    def counts(self) -> dict[str, int]:
        return {kind: int(getattr(self, kind)) for kind in KINDS}

    def set_counts(self, counts: dict[str, int]) -> None:
        for kind in KINDS:
            setattr(self, kind, counts[kind])


class ChannelChange(models.Model):
    """One change of an account's channel counts, kept for the history: who, when, from → to,
    and what was charged. A decrease stays PENDING until ``effective_at``."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Pending"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="channel_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField()
    effective_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    before = models.JSONField(help_text="Counts per kind before the change")
    after = models.JSONField(help_text="Counts per kind after the change")
    charge = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    explanation = models.CharField(max_length=500, blank=True, default="")
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="channel_change",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "status"], name="channel_change_status")]

    def __str__(self) -> str:
        return f"channel change {self.pk} of {self.account_id} ({self.status})"

    @property
    def change_text(self) -> str:
        """The kinds that changed, from → to: "Two-way 2 → 3, Outbound 0 → 1"."""
        moved = [
            f"{ChannelKind(kind).label} {self.before.get(kind, 0)} → {self.after.get(kind, 0)}"
            for kind in KINDS
            if self.before.get(kind, 0) != self.after.get(kind, 0)
        ]
        return ", ".join(moved) or "no change"

    @property
    def before_text(self) -> str:
        return describe_counts(self.before)

    @property
    def after_text(self) -> str:
        return describe_counts(self.after)
