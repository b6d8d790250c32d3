"""The call permissions at ``POST /api/v1/calls/authorize``: every refusal reason with its
exact boundary, and ``max_seconds`` bounded by the daily cap left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import CallPermissions, CountryRisk, RiskTier
from billing.services.api_clients import api_client_create
from billing.services.authorize import AuthorizeInput, AuthorizeResult, call_authorize
from billing.services.calls import call_record
from billing.services.permissions import call_permissions_update
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account

pytestmark = pytest.mark.django_db

CYPRUS = "+35722123456"  # test deck: $0.06/min, low risk, not included
UK_PREMIUM = "+449098790000"  # a premium-rate number in an allowed (included) country


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account, credit="100.00")


def authorize(
    account: Account, to: str, call_id: str, now: dt.datetime = NOW, direction: str = "outbound"
) -> AuthorizeResult:
    return call_authorize(
        request=AuthorizeInput(call_id, account.code, direction, "101", to), now=now
    )


def permissions(account: Account, **changes: object) -> None:
    current = CallPermissions.objects.filter(account=account).first()
    values: dict[str, object] = {
        "allow_low": True,
        "allow_medium": False,
        "allow_high": False,
        "countries": {},
        "price_ceiling": Decimal("0.50"),
        "daily_cap": Decimal("50.00"),
    }
    if current is not None:
        values.update(
            allow_low=current.allow_low,
            allow_medium=current.allow_medium,
            allow_high=current.allow_high,
            price_ceiling=current.price_ceiling,
            daily_cap=current.daily_cap,
        )
    values.update(changes)
    call_permissions_update(account=account, actor=None, now=NOW, by_staff=True, **values)


def test_it_allows_a_low_risk_country_by_default(acct: Account) -> None:
    r = authorize(acct, CYPRUS, "low-1")
    assert (r.allowed, r.reason, r.rate) == (True, None, Decimal("0.0600"))


def test_it_refuses_a_medium_risk_country_until_its_tier_or_it_is_allowed(acct: Account) -> None:
    CountryRisk.objects.filter(country="CY").update(tier=RiskTier.MEDIUM)
    r = authorize(acct, CYPRUS, "m-1")
    assert (r.allowed, r.reason, r.max_seconds) == (False, "destination_not_allowed", 0)
    assert "Cyprus" in r.message
    permissions(acct, countries={"CY": True})
    assert authorize(acct, CYPRUS, "m-2").allowed
    permissions(acct, countries={"CY": None}, allow_medium=True)
    assert authorize(acct, CYPRUS, "m-3").allowed


def test_it_refuses_a_high_risk_country_and_a_country_the_customer_turned_off(
    acct: Account,
) -> None:
    CountryRisk.objects.filter(country="CY").update(tier=RiskTier.HIGH)
    assert authorize(acct, CYPRUS, "h-1").reason == "destination_not_allowed"
    permissions(acct, allow_high=True)
    assert authorize(acct, CYPRUS, "h-2").allowed
    permissions(acct, countries={"CY": False})
    assert authorize(acct, CYPRUS, "h-3").reason == "destination_not_allowed"


def test_it_refuses_premium_ranges_of_an_allowed_country_without_the_high_tier(
    acct: Account,
) -> None:
    r = authorize(acct, UK_PREMIUM, "p-1")
    assert (r.allowed, r.reason) == (False, "destination_not_allowed")
    assert "premium" in r.message
    permissions(acct, allow_high=True)
    assert authorize(acct, UK_PREMIUM, "p-2").allowed


def test_a_rate_equal_to_the_ceiling_is_allowed_and_one_above_is_refused(acct: Account) -> None:
    permissions(acct, price_ceiling=Decimal("0.06"))
    assert authorize(acct, CYPRUS, "c-1").allowed  # $0.0600 == ceiling
    permissions(acct, price_ceiling=Decimal("0.0599"))
    r = authorize(acct, CYPRUS, "c-2")
    assert (r.allowed, r.reason, r.rate) == (False, "rate_above_limit", Decimal("0.0600"))


def test_on_net_and_inbound_calls_ignore_destinations_and_ceiling(acct: Account) -> None:
    permissions(acct, allow_low=False, price_ceiling=Decimal("0"))
    assert authorize(acct, "102", "n-1", direction="internal").allowed
    assert authorize(acct, "+13055550100", "n-2", direction="inbound").allowed


def test_max_seconds_is_bounded_by_the_daily_cap_left(acct: Account) -> None:
    permissions(acct, daily_cap=Decimal("1.20"))
    first = authorize(acct, CYPRUS, "d-1")  # $1.20 at $0.06/min: 20 minutes
    assert (first.allowed, first.max_seconds) == (True, 1200)
    second = authorize(acct, CYPRUS, "d-2")  # the live reservation holds the whole cap
    assert (second.allowed, second.reason, second.max_seconds) == (
        False,
        "daily_limit_reached",
        0,
    )
    assert "resume at 2026-11-25 00:00 (America/New_York)" in second.message


def test_the_days_charges_count_and_a_cap_left_below_one_block_refuses(acct: Account) -> None:
    permissions(acct, daily_cap=Decimal("0.1199"))
    call_record(cdr=cdr(acct, CYPRUS, 60), now=NOW)  # $0.06 charged today
    r = authorize(acct, CYPRUS, "d-3")  # $0.0599 left: not a whole minute
    assert (r.allowed, r.reason) == (False, "daily_limit_reached")
    permissions(acct, daily_cap=Decimal("0.12"))
    r = authorize(acct, CYPRUS, "d-4")  # exactly one minute left
    assert (r.allowed, r.max_seconds) == (True, 60)


def test_included_minutes_go_on_when_the_daily_cap_is_reached(acct: Account) -> None:
    permissions(acct, daily_cap=Decimal("0"))
    r = authorize(acct, "+12025550123", "i-1")  # USA: included in the Starter minutes
    # 500 included minutes, capped at the 4-hour call limit; no paid part.
    assert (r.allowed, r.included_seconds, r.max_seconds) == (True, 4 * 3600, 4 * 3600)
    assert authorize(acct, CYPRUS, "i-2").reason == "daily_limit_reached"


def test_it_refuses_paid_calls_on_fraud_hold_but_not_included_ones(acct: Account) -> None:
    CallPermissions.objects.filter(account=acct).delete()
    permissions(acct)
    CallPermissions.objects.filter(account=acct).update(fraud_hold_at=NOW, fraud_hold_reason="x")
    r = authorize(acct, CYPRUS, "f-1")
    assert (r.allowed, r.reason, r.max_seconds) == (False, "fraud_hold", 0)
    included = authorize(acct, "+12025550123", "f-2")
    assert included.allowed and included.max_seconds == included.included_seconds


def test_the_api_answers_each_reason_as_json(acct: Account) -> None:
    _client, token = api_client_create(name="asterisk-perms")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    permissions(acct, price_ceiling=Decimal("0.05"))
    response = api.post(
        "/api/v1/calls/authorize",
        {
            "call_id": "api-1",
            "account": acct.code,
            "direction": "outbound",
            "from": "101",
            "to": CYPRUS,
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["allowed"], body["reason"], body["max_seconds"]) == (
        False,
        "rate_above_limit",
        0,
    )
