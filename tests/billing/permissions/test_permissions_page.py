"""The Call permissions page: the deck's countries with price range and tier, the search as a
GET filter, saving toggles and limits (owner and billing only), the staff maximum as a form
error, re-enabling after a fraud hold only after re-authentication; the rate lookup's verdict."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import CallPermissionChange, CallPermissions
from portal.models import Account
from tests.billing.rating_fixtures import NOW, set_up_account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/call-permissions/"


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account, credit="10")


def client_for(account: Account, role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(account=account, role=role, password="pw-123456789"))
    return client


def save_body(**extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "allow_low": "on",
        "price_ceiling": "0.50",
        "daily_cap": "50.00",
        "shown": ["CY", "DE", "GB", "US"],
        "country": ["DE", "GB", "US"],  # Cyprus turned off
    }
    body.update(extra)
    return body


def test_the_page_lists_the_decks_countries_with_range_and_tier(acct: Account) -> None:
    response = client_for(acct, "member").get(reverse("billing:call_permissions"))
    assert response.status_code == 200
    rows = {row.country: row for row in response.context["countries"]}
    assert set(rows) == {"US", "GB", "DE", "CY"}
    assert (rows["GB"].min_rate, rows["GB"].max_rate, rows["GB"].tier) == (
        Decimal("0.0200"),
        Decimal("0.0450"),
        "low",
    )
    assert all(row.allowed for row in rows.values())
    assert b"Save call permissions" not in response.content  # members only look


def test_the_search_is_a_get_filter(acct: Account) -> None:
    response = client_for(acct, "owner").get(PAGE, {"q": "germ"})
    assert [row.country for row in response.context["countries"]] == ["DE"]
    assert [
        row.country for row in client_for(acct, "owner").get(PAGE, {"q": "cy"}).context["countries"]
    ] == ["CY"]


@pytest.mark.parametrize("role", ["owner", "billing"])
def test_owner_and_billing_save_and_the_change_is_recorded(acct: Account, role: str) -> None:
    response = client_for(acct, role).post(reverse("billing:call_permissions_save"), save_body())
    assert response.status_code == 302
    row = CallPermissions.objects.get(account=acct)
    assert row.countries.get("CY") is False
    assert CallPermissionChange.objects.filter(account=acct).count() == 1


def test_a_member_cannot_save(acct: Account) -> None:
    response = client_for(acct, "member").post(
        reverse("billing:call_permissions_save"), save_body()
    )
    assert response.status_code == 403
    assert not CallPermissions.objects.filter(account=acct).exists()


def test_a_cap_above_the_staff_maximum_is_a_form_error_not_a_500(acct: Account) -> None:
    response = client_for(acct, "owner").post(
        reverse("billing:call_permissions_save"), save_body(daily_cap="100000")
    )
    assert response.status_code == 200
    assert "only support can raise the cap" in response.content.decode()
    bad = client_for(acct, "owner").post(
        reverse("billing:call_permissions_save"), save_body(price_ceiling="abc")
    )
    assert bad.status_code == 200 and b"Enter a number" in bad.content
    assert not CallPermissions.objects.filter(account=acct).exists()


def test_releasing_a_fraud_hold_needs_a_fresh_sign_in(acct: Account) -> None:
    owner = UserFactory(account=acct, role="owner", password="pw-123456789")
    CallPermissions.objects.create(
        account=acct,
        price_ceiling=Decimal("0.5"),
        daily_cap=Decimal("50"),
        fraud_hold_at=NOW,
        fraud_hold_reason="21 paid calls to +35722123456",
        updated_at=NOW,
    )
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("billing:call_permissions_release"))
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    assert CallPermissions.objects.get(account=acct).on_hold
    client.post(response["Location"], {"password": "pw-123456789"})
    client.post(reverse("billing:call_permissions_release"))
    assert not CallPermissions.objects.get(account=acct).on_hold
    billing = client_for(acct, "billing")
    assert billing.post(reverse("billing:call_permissions_release")).status_code == 403


def test_the_rate_lookup_says_whether_a_number_is_allowed(acct: Account) -> None:
    owner = client_for(acct, "owner")
    allowed = owner.get(reverse("billing:rate_lookup"), {"number": "+35722123456"})
    assert "Allowed by your call permissions" in allowed.content.decode()
    owner.post(reverse("billing:call_permissions_save"), save_body())
    refused = owner.get(reverse("billing:rate_lookup"), {"number": "+35722123456"})
    assert refused.context["refusal"].reason == "destination_not_allowed"
    assert "Not allowed:" in refused.content.decode()
