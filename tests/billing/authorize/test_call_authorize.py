"""Authorizing a call (``call_authorize``): the seconds the balance and included minutes allow,
reservations held until the CDR or their expiry, and the refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.services.authorize import AuthorizeInput, call_authorize
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.calls.test_call_rating import use_minutes
from tests.billing.rating_fixtures import NOW, cdr, set_up_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account)


def authorize(account: Account, to: str, call_id: str, direction: str = "outbound") -> object:
    return call_authorize(
        request=AuthorizeInput(call_id, account.code, direction, "101", to), now=NOW
    )


def test_balance_zero_refuses_every_call(account: Account) -> None:
    acct = set_up_account(account, credit="0")
    for to, direction in (
        ("+12025550123", "outbound"),
        ("+35722123456", "outbound"),
        ("102", "internal"),
    ):
        r = authorize(acct, to, f"z-{to}", direction)
        assert (r.allowed, r.reason, r.max_seconds) == (False, "insufficient_balance", 0)


def test_authorize_included_destination_counts_minutes_and_balance(acct: Account) -> None:
    use_minutes(acct, 490)
    r = authorize(acct, "+12025550123", "a-1")
    # 10 included minutes + $10.00 at $0.025/min = 400 min, capped at 4 hours in all.
    assert (r.allowed, r.included_seconds, r.rate) == (True, 600, Decimal("0.0250"))
    assert r.max_seconds == 4 * 3600
    second = authorize(acct, "+12025550123", "a-2")
    assert second.included_seconds == 0  # the first call holds the last 10 minutes


def test_authorize_paid_destination_and_reservations(account: Account) -> None:
    acct = set_up_account(account, credit="1.00")
    r = authorize(acct, "+35722123456", "c-1")  # $1.00 at $0.06/min: 16 whole minutes
    assert (r.allowed, r.max_seconds, r.rate) == (True, 960, Decimal("0.0600"))
    again = authorize(acct, "+35722123456", "c-1")
    assert again.max_seconds == 960  # same call asked twice: same answer, one reservation
    second = authorize(acct, "+35722123456", "c-2")  # $0.04 left unreserved: < 1 minute
    assert (second.allowed, second.reason) == (False, "insufficient_balance")
    on_net = authorize(acct, "102", "c-3", "internal")
    assert (on_net.allowed, on_net.max_seconds) == (True, 4 * 3600)
    # The CDR releases the reservation: the credit is available again.
    call_record(cdr=cdr(acct, "+35722123456", 60, call_id="c-1"), now=NOW)
    third = authorize(acct, "+35722123456", "c-4")
    assert (third.allowed, third.max_seconds) == (True, 900)  # $0.94 → 15 min


def test_authorize_refusals(acct: Account) -> None:
    assert authorize(acct, "+81312345678", "r-1").reason == "unknown_destination"
    assert authorize(acct, "+1999", "r-2").reason == "bad_number"
    Account.objects.filter(pk=acct.pk).update(status=Account.Status.SUSPENDED)
    assert authorize(acct, "+12025550123", "r-3").reason == "account_suspended"
    nobody = call_authorize(
        request=AuthorizeInput("r-4", "NOPE", "outbound", "101", "+12025550123"), now=NOW
    )
    assert nobody.reason == "unknown_account"


def test_reservations_expire(acct: Account) -> None:
    from billing.models import CallReservation
    from billing.services.authorize import reservation_expire

    authorize(acct, "+35722123456", "e-1")
    assert reservation_expire(now=NOW + dt.timedelta(hours=1)) == 0
    assert reservation_expire(now=NOW + dt.timedelta(hours=5)) == 1
    assert not CallReservation.objects.exists()
