"""Shared set-up for the trunking tests: an account with credit and channels."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.apps import apps

from billing.services.ledger import ledger_post
from portal.models import Account
from trunking.defaults import install_channel_defaults
from trunking.models import Trunk

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _channel_prices(request: pytest.FixtureRequest) -> None:
    """The prices and maximums of the data migration (a flushing test may have removed them)."""
    if (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or any(mark.name == "django_db" for mark in request.node.iter_markers())
    ):
        request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
        install_channel_defaults(apps)


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or "transaction" in marker.args))


def give_credit(account: Account, amount: str, *, now: dt.datetime) -> Account:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind="deposit",
        description="test credit",
        idempotency_key=f"trunk-test-credit:{account.pk}:{next(_keys)}",
        now=now,
    )
    account.refresh_from_db()
    return account


def set_channels(
    account: Account, *, outbound: int = 0, inbound: int = 0, two_way: int = 0, only=False
) -> Trunk:
    """Counts set directly (no charge): for tests about what the counts allow."""
    trunk, _ = Trunk.objects.update_or_create(
        account=account,
        defaults={
            "outbound": outbound,
            "inbound": inbound,
            "two_way": two_way,
            "trunk_only": only,
        },
    )
    return trunk
