from __future__ import annotations

import secrets
import zoneinfo
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from portal.times import zone_label


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


def new_account_code() -> str:
    """A short, unambiguous account code such as ``CC4821730`` (the switch's accountcode)."""
    return f"CC{secrets.randbelow(9_000_000) + 1_000_000}"


class Account(models.Model):
    """A customer organisation: the unit that owns a balance, a plan, trunks and numbers."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    code = models.CharField(
        max_length=32,
        unique=True,
        default=new_account_code,
        help_text="Account code used by the voice switch (accountcode).",
    )
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    billing_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="Day of the month the billing period starts (clamped in short months).",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Cached balance: changed only by billing.services.ledger_post, in the same transaction as
    # the ledger entry, under a row lock. `manage.py check_ledger` verifies it.
    balance = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def timezone_label(self) -> str:
        """``America/New_York`` → ``America/New York (EST)``, as every page writes it."""
        return zone_label(self.timezone)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with an e-mail address. Customers belong to one account."""

    class Role(models.TextChoices):
        # owner: everything, including people and account settings; billing: money settings,
        # Add Credit, trunks, ports; member: reads money pages, calls and numbers.
        OWNER = "owner", "Owner"
        BILLING = "billing", "Billing"
        MEMBER = "member", "Member"

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.email

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def can_manage_money(self) -> bool:
        """Owners and billing contacts change money settings; members only read them."""
        return self.role in MONEY_ROLES


# Who may do what inside an account (``customer_view(roles=...)`` enforces these).
OWNER_ROLES = frozenset({User.Role.OWNER})
MONEY_ROLES = frozenset({User.Role.OWNER, User.Role.BILLING})


class Invitation(models.Model):
    """An owner's invitation of an e-mail address to the account, with a role. The e-mailed link
    carries this row's id, signed and time-stamped; once accepted or revoked it is dead, so a
    removed person cannot rejoin through an old e-mail."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=User.Role.choices)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.account} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
