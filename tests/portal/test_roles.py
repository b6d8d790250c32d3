"""Roles inside an account: owners and billing people change money settings; members read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import BillingProfile, Deposit
from portal.models import Account, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AUTO_RECHARGE = {
    "enabled": "on",
    "threshold": "10.00",
    "amount": "50.00",
    "low_balance_threshold": "",
}


def _client(account: Account, role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(account=account, role=role))
    return client


@pytest.fixture
def profile(account: Account) -> BillingProfile:
    return BillingProfile.objects.create(
        account=account,
        stripe_customer_id="cus_owner",
        payment_method_id="pm_owner_card",
        card_brand="visa",
        card_last4="4242",
    )


def test_it_refuses_a_member_turning_on_auto_recharge(
    account: Account, profile: BillingProfile
) -> None:
    response = _client(account, User.Role.MEMBER).post(
        reverse("billing:auto_recharge"), AUTO_RECHARGE
    )
    assert response.status_code == 403
    assert "owner or a billing contact" in response.content.decode()
    profile.refresh_from_db()
    assert profile.auto_recharge_enabled is False


def test_it_refuses_a_member_removing_the_owners_card(
    account: Account, profile: BillingProfile
) -> None:
    response = _client(account, User.Role.MEMBER).post(reverse("billing:card_remove"))
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.payment_method_id == "pm_owner_card"


def test_it_refuses_a_member_adding_credit_with_a_json_answer(account: Account) -> None:
    response = _client(account, User.Role.MEMBER).post(
        reverse("billing:add_credit"),
        {"amount": "25.00", "use_saved_card": "on"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert response.json()["errors"]["__all__"][0]["message"]
    assert not Deposit.objects.exists()


def test_a_billing_contact_changes_auto_recharge(account: Account, profile: BillingProfile) -> None:
    response = _client(account, User.Role.BILLING).post(
        reverse("billing:auto_recharge"), AUTO_RECHARGE
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.auto_recharge_enabled is True
    assert profile.auto_recharge_amount == Decimal("50.00")


def test_a_member_reads_the_money_page_without_its_forms(
    account: Account, profile: BillingProfile
) -> None:
    response = _client(account, User.Role.MEMBER).get(reverse("billing:per_minute"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Available balance" in html and "4242" in html
    for action in ("billing:add_credit", "billing:auto_recharge", "billing:card_remove"):
        assert f'action="{reverse(action)}"' not in html
    assert "Only the account owner or a billing contact" in html


def test_the_owner_still_sees_every_money_form(account: Account, profile: BillingProfile) -> None:
    html = _client(account, User.Role.OWNER).get(reverse("billing:per_minute")).content.decode()
    for action in ("billing:add_credit", "billing:auto_recharge", "billing:card_remove"):
        assert f'action="{reverse(action)}' in html
