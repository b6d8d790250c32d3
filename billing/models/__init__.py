"""Billing models, one module per domain, every model re-exported here so that
``billing.models.X``, the admin and the migrations keep one name for each."""

from billing.models.calls import ApiClient, Call, CallKey, CallReservation, UsageCounter
from billing.models.cycle import AccountCycle, ClosedPeriod
from billing.models.ledger import ImmutableError, LedgerEntry, LedgerEntryQuerySet
from billing.models.numbers import DID, DIDGroup, Extension
from billing.models.payments import BillingProfile, Deposit, StripeEvent, card_label
from billing.models.permissions import (
    CallPermissionChange,
    CallPermissions,
    CountryRisk,
    RiskTier,
)
from billing.models.plans import (
    AccountPlan,
    AccountRating,
    IncludedDestination,
    PricingCatalog,
    Rate,
    RateDeck,
    ServicePlan,
)
from billing.models.ports import PortFee, PortNumber, PortRequest, PortTransition
from billing.models.statements import InvoiceCounter, Statement, StatementLine

__all__ = [
    "DID",
    "AccountCycle",
    "AccountPlan",
    "AccountRating",
    "ApiClient",
    "BillingProfile",
    "Call",
    "CallKey",
    "CallPermissionChange",
    "CallPermissions",
    "CallReservation",
    "ClosedPeriod",
    "CountryRisk",
    "DIDGroup",
    "Deposit",
    "Extension",
    "ImmutableError",
    "IncludedDestination",
    "InvoiceCounter",
    "LedgerEntry",
    "LedgerEntryQuerySet",
    "PortFee",
    "PortNumber",
    "PortRequest",
    "PortTransition",
    "PricingCatalog",
    "Rate",
    "RateDeck",
    "RiskTier",
    "ServicePlan",
    "Statement",
    "StatementLine",
    "StripeEvent",
    "UsageCounter",
    "card_label",
]
