"""Under real concurrency (PostgreSQL row locks, one connection per thread): two submissions of
one change charge once, and simultaneous authorizations never oversubscribe the channels."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from billing.models import CallReservation, LedgerEntry
from billing.selectors.ledger import ledger_problems
from billing.services.authorize import AuthorizeInput, call_authorize
from portal.errors import DomainError
from tests.billing.rating_fixtures import NOW, US_DID, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory
from tests.trunking.conftest import give_credit, set_channels
from trunking.models import ChannelChange, Trunk
from trunking.services.trunks import channels_change

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

LATER = NOW + dt.timedelta(minutes=1)


@pytest.mark.parametrize("has_trunk", [False, True], ids=["first-order", "existing-trunk"])
def test_two_tabs_confirming_the_same_increase_charge_once(
    on_postgres: None, has_trunk: bool
) -> None:
    account = give_credit(AccountFactory(), "100.00", now=NOW)
    if has_trunk:
        set_channels(account)

    def submit(tab: int) -> str:
        try:
            channels_change(
                account=account,
                user=None,
                counts={"outbound": 0, "inbound": 0, "two_way": 2},
                version=0,
                now=NOW,
            )
        except DomainError as exc:
            return exc.code
        return "changed"

    results = run_in_threads(submit, [(tab,) for tab in range(6)])
    assert sorted(results) == ["changed"] + ["stale"] * 5
    assert LedgerEntry.objects.filter(account=account, kind="proration").count() == 1
    assert ChannelChange.objects.filter(account=account).count() == 1
    assert Trunk.objects.get(account=account).two_way == 2
    assert ledger_problems() == []


def test_two_different_increases_at_once_charge_once(on_postgres: None) -> None:
    account = give_credit(AccountFactory(), "100.00", now=NOW)
    set_channels(account)

    def submit(outbound: int) -> str:
        try:
            channels_change(
                account=account,
                user=None,
                counts={"outbound": outbound, "inbound": 0, "two_way": 0},
                version=0,
                now=NOW,
            )
        except DomainError as exc:
            return exc.code
        return f"changed to {outbound}"

    results = run_in_threads(submit, [(1,), (2,)])
    assert sorted(r == "stale" for r in results) == [False, True]
    [entry] = LedgerEntry.objects.filter(account=account, kind="proration")
    trunk = Trunk.objects.get(account=account)
    assert f"{trunk.outbound} outbound channel" in entry.description  # the winner was charged


@pytest.mark.parametrize("direction", ["outbound", "inbound"])
def test_3n_simultaneous_authorizations_allow_exactly_n(on_postgres: None, direction: str) -> None:
    account = set_up_account(AccountFactory(), credit="500.00")
    # N = 4 usable channels for each direction: 1 of its own kind and 3 two-way.
    set_channels(account, outbound=1, inbound=1, two_way=3)
    n = 4

    def ask(call_id: str):
        to, source = ("+12025550123", "101") if direction == "outbound" else (US_DID, "+357221")
        return call_authorize(
            request=AuthorizeInput(call_id, account.code, direction, source, to), now=LATER
        )

    results = run_in_threads(ask, [(f"{direction}-{i}",) for i in range(3 * n)])
    assert sum(r.allowed for r in results) == n
    assert Counter(r.reason for r in results if not r.allowed) == {"no_channel": 2 * n}
    held = Counter(
        CallReservation.objects.filter(account=account).values_list("channel_kind", flat=True)
    )
    assert held == {direction: 1, "two_way": 3}
