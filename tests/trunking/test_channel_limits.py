"""Channel limits at authorization: an outbound call needs a free outbound or two-way channel,
an inbound call a free inbound or two-way one (dedicated kind first); a channel is held until
the CDR arrives or the reservation expires; on-net calls and accounts without channels are not
limited (unless trunk-only); the API's account endpoint reports channels by kind and in use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import CallReservation
from billing.services.api_clients import api_client_create
from billing.services.authorize import (
    RESERVATION_GRACE,
    AuthorizeInput,
    call_authorize,
    reservation_expire,
)
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.rating_fixtures import NOW, US_DID, cdr, set_up_account
from tests.trunking.conftest import set_channels
from trunking.models import ChannelChange
from trunking.services.trunks import channels_change

pytestmark = pytest.mark.django_db

US_NUMBER = "+12025550123"
OUTSIDE = "+35722123456"


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account, credit="50.00")


def out(account: Account, call_id: str, now: dt.datetime = NOW):
    return call_authorize(
        request=AuthorizeInput(call_id, account.code, "outbound", "101", US_NUMBER), now=now
    )


def inbound(account: Account, call_id: str, now: dt.datetime = NOW):
    return call_authorize(
        request=AuthorizeInput(call_id, account.code, "inbound", OUTSIDE, US_DID), now=now
    )


def held(call_id: str) -> str | None:
    return CallReservation.objects.get(call_id=call_id).channel_kind


def test_an_account_without_channels_is_not_limited(acct: Account) -> None:
    results = [out(acct, f"free-{i}") for i in range(5)]
    assert all(r.allowed for r in results)
    assert {held(f"free-{i}") for i in range(5)} == {None}


def test_a_trunk_only_account_without_channels_is_refused(acct: Account) -> None:
    set_channels(acct, only=True)
    refused = out(acct, "t-1")
    assert (refused.allowed, refused.reason) == (False, "no_channel")
    assert not CallReservation.objects.filter(call_id="t-1").exists()


def test_outbound_uses_outbound_then_two_way_then_refuses(acct: Account) -> None:
    set_channels(acct, outbound=1, inbound=5, two_way=1)
    assert out(acct, "o-1").allowed and held("o-1") == "outbound"
    assert out(acct, "o-2").allowed and held("o-2") == "two_way"
    refused = out(acct, "o-3")  # the 5 inbound channels are no use to an outbound call
    assert (refused.allowed, refused.reason, refused.max_seconds) == (False, "no_channel", 0)
    assert "outbound or two-way" in refused.message


def test_inbound_uses_inbound_then_two_way(acct: Account) -> None:
    set_channels(acct, outbound=3, inbound=1, two_way=1)
    assert inbound(acct, "i-1").allowed and held("i-1") == "inbound"
    assert inbound(acct, "i-2").allowed and held("i-2") == "two_way"
    assert inbound(acct, "i-3").reason == "no_channel"
    assert out(acct, "o-1").allowed and held("o-1") == "outbound"  # outbound still free


def test_on_net_calls_hold_no_channel(acct: Account) -> None:
    set_channels(acct, two_way=1, only=True)
    assert out(acct, "o-1").allowed
    internal = call_authorize(
        request=AuthorizeInput("x-1", acct.code, "internal", "101", "102"), now=NOW
    )
    assert internal.allowed and held("x-1") is None


def test_the_cdr_frees_the_channel(acct: Account) -> None:
    set_channels(acct, two_way=1)
    assert out(acct, "c-1").allowed
    assert out(acct, "c-2").reason == "no_channel"
    call_record(cdr=cdr(acct, US_NUMBER, 60, call_id="c-1"), now=NOW)
    assert out(acct, "c-3").allowed


def test_an_expired_reservation_frees_its_channel(acct: Account) -> None:
    set_channels(acct, outbound=1)
    first = out(acct, "e-1")
    assert first.allowed
    expiry = NOW + dt.timedelta(seconds=first.max_seconds) + RESERVATION_GRACE
    # Counted while live, even a second before its expiry ...
    assert out(acct, "e-2", now=expiry - dt.timedelta(seconds=1)).reason == "no_channel"
    # ... free once it expired, before the beat job has even removed it,
    assert out(acct, "e-3", now=expiry).allowed
    # and the beat job's clean-up leaves the new call's channel held.
    assert reservation_expire(now=expiry) == 1
    assert out(acct, "e-4", now=expiry).reason == "no_channel"


def test_a_decrease_limits_calls_from_the_next_billing_month(acct: Account) -> None:
    channels_change(
        account=acct,
        user=None,
        counts={"outbound": 0, "inbound": 0, "two_way": 2},
        version=0,
        now=NOW,
    )
    channels_change(
        account=acct,
        user=None,
        counts={"outbound": 0, "inbound": 0, "two_way": 1},
        version=1,
        now=NOW,
    )
    assert ChannelChange.objects.filter(status="pending").exists()
    assert out(acct, "d-1").allowed and out(acct, "d-2").allowed  # 2 this month
    december = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)
    assert out(acct, "d-3", now=december + dt.timedelta(days=1)).allowed
    assert out(acct, "d-4", now=december + dt.timedelta(days=1)).reason == "no_channel"


def test_the_authorize_api_answers_no_channel(acct: Account) -> None:
    _client, token = api_client_create(name="switch-test")
    switch = Client(headers={"Authorization": f"Bearer {token}"})
    set_channels(acct, inbound=1)
    body = {"call_id": "api-o-1", "account": acct.code, "direction": "outbound"}
    response = switch.post(
        "/api/v1/calls/authorize",
        {**body, "from": "101", "to": US_NUMBER},
        content_type="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["allowed"], data["reason"], data["max_seconds"]) == (False, "no_channel", 0)


def test_the_api_reports_channels_by_kind_and_in_use(acct: Account) -> None:
    _client, token = api_client_create(name="switch-test")
    set_channels(acct, outbound=2, two_way=1)
    call_authorize(
        request=AuthorizeInput("api-1", acct.code, "outbound", "101", US_NUMBER),
        now=timezone.now(),
    )
    switch = Client(headers={"Authorization": f"Bearer {token}"})
    data = switch.get(f"/api/v1/accounts/{acct.code}").json()
    assert data["channels"] == {
        "outbound": {"count": 2, "in_use": 1},
        "inbound": {"count": 0, "in_use": 0},
        "two_way": {"count": 1, "in_use": 0},
    }
    assert data["trunk_only"] is False
