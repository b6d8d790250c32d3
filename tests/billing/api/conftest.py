"""The switch API tests' shared fixtures: a token-holding client, and an account set up with
the reference plan and numbers at the fixtures' fixed ``NOW``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client

from billing.services.api_clients import api_client_create
from portal.models import Account
from tests.billing.rating_fixtures import NOW, set_up_account


@pytest.fixture
def frozen_at_now() -> Iterator[None]:
    """The clock stands at ``NOW`` (the tests' CDRs are dated around it)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acct(account: Account) -> Account:
    with time_machine.travel(NOW, tick=False):
        return set_up_account(account)


@pytest.fixture
def api() -> Client:
    _client, token = api_client_create(name="asterisk-1")
    return Client(headers={"Authorization": f"Bearer {token}"})
