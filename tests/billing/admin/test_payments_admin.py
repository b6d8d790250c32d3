"""Staff admin for payments: the auto-recharge caps, Stripe events shown and processed again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from billing.models import BillingProfile, Deposit, StripeEvent
from portal.models import Account
from tests.billing.stripe_events.test_webhook import authenticated_3ds_deposit
from tests.billing.stripe_helpers import LocalStripe, event_body, sign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    return client


def test_staff_set_the_auto_recharge_caps(staff_client: Client, account: Account) -> None:
    profile = BillingProfile.objects.create(account=account, auto_recharge_amount=Decimal("25"))
    url = reverse("admin:billing_billingprofile_change", args=[profile.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url, {"auto_recharge_daily_cap": "50.00", "auto_recharge_monthly_cap": "300.00"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.auto_recharge_daily_cap == Decimal("50.0000")
    assert profile.auto_recharge_monthly_cap == Decimal("300.0000")
    assert profile.auto_recharge_amount == Decimal("25.0000")  # the customer's, untouched
    for model in (Deposit, StripeEvent):
        assert not site._registry[model].has_change_permission(None)


def test_staff_see_events_and_process_failed_ones_again(
    staff_client: Client, customer_client: Client, stripe_local: LocalStripe
) -> None:
    deposit = authenticated_3ds_deposit(customer_client, stripe_local)
    from tests.billing.stripe_events.test_webhook import intent_dict

    obj = intent_dict(deposit.stripe_payment_intent_id)
    body = event_body("payment_intent.succeeded", obj, event_id="evt_admin")
    # The portal's deposit says another PaymentIntent: the event fails, as a broken state would.
    Deposit.objects.filter(pk=deposit.pk).update(stripe_payment_intent_id="pi_other")
    response = Client().post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert response.status_code == 500
    listing = staff_client.get(reverse("admin:billing_stripeevent_changelist"))
    assert "evt_admin" in listing.content.decode()

    Deposit.objects.filter(pk=deposit.pk).update(
        stripe_payment_intent_id=obj["id"]
    )  # staff fixed it
    event = StripeEvent.objects.get(event_id="evt_admin")
    staff_client.post(
        reverse("admin:billing_stripeevent_changelist"),
        {"action": "process_again", "_selected_action": [event.pk]},
    )
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 2
    assert Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.SUCCEEDED
