"""The reference data every installation starts with: the Starter plan, its DID groups and the
"Standard" rate deck (billing/data/standard_rates.csv).

``install_defaults(apps)`` is idempotent (get-or-create by name) and works with the historical
models of a migration as well as with the real ones (``django.apps.apps``), so tests that
flush the database can re-create exactly what the data migration created.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

STANDARD_DECK = "Standard"
STANDARD_RATES_CSV = Path(__file__).parent / "data" / "standard_rates.csv"

STARTER = {
    "name": "Starter",
    # Monthly price: $19.99 (our choice: the seeds give none; typical for a hosted-PBX starter).
    "monthly_price": Decimal("19.9900"),
    "included_minutes": 500,
    "overage_rate": Decimal("0.0250"),
    "overage_initial": 60,
    "overage_increment": 60,
    "includes_incoming": True,
}

# (ISO country, name, any line type?) — SPEC §4: landlines only unless "mobile too".
STARTER_DESTINATIONS = [
    ("US", "USA", True),
    ("CA", "Canada", True),
    ("SG", "Singapore", True),
    ("GB", "United Kingdom", False),
    ("FR", "France", False),
    ("DE", "Germany", False),
    ("IE", "Ireland", False),
    ("IL", "Israel", False),
]

DID_GROUPS = [
    # name, incoming USD/min, included in plan minutes, monthly included cap per DID (minutes)
    ("USA standard", Decimal("0.0100"), True, None),
    ("USA PN Group A", Decimal("0.0300"), False, None),
    ("USA PN Group B", Decimal("0.0450"), False, None),
    ("USA PN Group C", Decimal("0.0600"), False, None),
    ("International (200 min cap)", Decimal("0.0200"), True, 200),
]


def standard_rate_rows() -> list[dict[str, Any]]:
    with STANDARD_RATES_CSV.open(newline="", encoding="utf-8") as handle:
        return [
            {
                "prefix": row["prefix"],
                "destination": row["destination"],
                "rate": Decimal(row["rate"]),
                "connect_fee": Decimal(row["connect_fee"] or "0"),
                "initial": int(row["initial"] or 60),
                "increment": int(row["increment"] or 60),
            }
            for row in csv.DictReader(handle)
        ]


def install_defaults(apps: Any) -> Any:
    """Create the Standard deck, the Starter plan and the DID groups if missing; returns the
    Starter plan."""
    RateDeck = apps.get_model("billing", "RateDeck")
    Rate = apps.get_model("billing", "Rate")
    ServicePlan = apps.get_model("billing", "ServicePlan")
    IncludedDestination = apps.get_model("billing", "IncludedDestination")
    DIDGroup = apps.get_model("billing", "DIDGroup")

    deck, created = RateDeck.objects.get_or_create(
        name=STANDARD_DECK, defaults={"description": "Default outgoing rates"}
    )
    if created:
        Rate.objects.bulk_create(Rate(deck=deck, **row) for row in standard_rate_rows())
    plan, _ = ServicePlan.objects.get_or_create(
        name=STARTER["name"], defaults={**STARTER, "rate_deck": deck}
    )
    for country, name, any_type in STARTER_DESTINATIONS:
        IncludedDestination.objects.get_or_create(
            plan=plan, country=country, defaults={"name": name, "mobile_included": any_type}
        )
    offer_starter(apps)
    for name, rate, included, cap in DID_GROUPS:
        DIDGroup.objects.get_or_create(
            name=name,
            defaults={"rate": rate, "included": included, "monthly_included_cap_minutes": cap},
        )
    install_country_risk(apps)
    return plan


def offer_starter(apps: Any) -> None:
    """Make Starter public and the default plan for new accounts, unless staff already chose
    another default (no-op for the historical models before the fields existed)."""
    ServicePlan = apps.get_model("billing", "ServicePlan")
    fields = {field.name for field in ServicePlan._meta.get_fields()}
    if not {"is_public", "is_default"} <= fields:
        return
    has_default = ServicePlan.objects.filter(is_default=True).exists()
    ServicePlan.objects.filter(name=STARTER["name"]).update(
        is_public=True, **({} if has_default else {"is_default": True})
    )


COUNTRY_RISK_CSV = Path(__file__).parent / "data" / "country_risk.csv"


def install_country_risk(apps: Any) -> None:
    """The shipped risk tiers (billing/data/country_risk.csv); rows staff changed are kept."""
    try:
        model = apps.get_model("billing", "CountryRisk")
    except LookupError:  # an earlier migration's models: its own migration installs them
        return
    with COUNTRY_RISK_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            model.objects.get_or_create(
                country=row["country"], defaults={"tier": row["tier"], "note": row["note"]}
            )
