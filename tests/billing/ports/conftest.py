"""Number ports: a private media directory per test, a funded account and its draft requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from billing.models import DIDGroup, PortFee, PortRequest
from billing.services.ledger import ledger_post
from billing.services.ports import port_draft_create
from portal.models import Account, User
from tests.factories import UserFactory

NUMBERS = "+1 202-555-0181\n(416) 555-0123\n+44 20 7946 0991"  # US $10, CA $10, UK $15


# The migration's seed; a transactional test elsewhere in the suite flushes the tables.
SEED_FEES = {"": Decimal("15.0000"), "US": Decimal("10.0000"), "CA": Decimal("10.0000")}


@pytest.fixture(autouse=True)
def _seed_fees(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("_django_db_helper")  # every test here is django_db-marked
    for country, fee in SEED_FEES.items():
        PortFee.objects.get_or_create(country=country, defaults={"fee": fee})


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def fund(account: Account, amount: str, key: str = "test-fund") -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="adjustment",
        description="test credit",
        idempotency_key=f"{key}:{account.pk}",
        now=timezone.now(),
    )
    account.refresh_from_db()


def draft(account: Account, user: User, numbers: str = NUMBERS, **kwargs: Any) -> PortRequest:
    now = kwargs.pop("now", timezone.now())
    return port_draft_create(
        account=account,
        user=user,
        numbers_text=numbers,
        losing_carrier="Old Telco",
        carrier_account_number="ACC-991",
        carrier_pin="4321",
        account_holder_name="Lakeside Vet LLC",
        service_address="12 Lake Rd, Austin TX",
        requested_date=now.date() + dt.timedelta(days=10),
        loa_name="Maria Lopez",
        loa_ip="203.0.113.7",
        bill=kwargs.pop("bill", None),
        now=now,
    )


@pytest.fixture
def staff(db) -> User:
    UserFactory(account=None, is_staff=True, is_superuser=True, email="ops@provider.example")
    return User.objects.get(email="ops@provider.example")


@pytest.fixture
def did_group(db) -> DIDGroup:
    return DIDGroup.objects.get_or_create(
        name="Ported numbers", defaults={"rate": Decimal("0.0400"), "included": False}
    )[0]
