"""DID groups, DIDs and extensions."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from portal.models import Account


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
