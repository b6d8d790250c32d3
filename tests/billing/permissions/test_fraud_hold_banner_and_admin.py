"""While the velocity alarm holds paid calls the dashboard says so and what to do; staff lift
the hold from the admin, recorded as staff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import CallPermissionChange, CallPermissions
from portal.models import Account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _hold(account: Account) -> CallPermissions:
    return CallPermissions.objects.create(
        account=account,
        price_ceiling=Decimal("0.50"),
        daily_cap=Decimal("50.00"),
        fraud_hold_at=timezone.now() - dt.timedelta(minutes=5),
        fraud_hold_reason="21 paid calls to +2399912345 within 60 minutes",
        updated_at=timezone.now(),
    )


def test_the_dashboard_shows_the_hold_and_where_to_review_it(
    customer_client: Client, account: Account
) -> None:
    assert "dashboard-fraud-hold" not in customer_client.get("/").content.decode()
    _hold(account)
    page = customer_client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="dashboard-fraud-hold"' in page
    assert "21 paid calls to +2399912345 within 60 minutes" in page
    assert reverse("billing:call_permissions") in page


def test_staff_lift_the_hold_from_the_admin_and_it_is_recorded_as_staff(account: Account) -> None:
    permissions = _hold(account)
    staff = Client()
    staff.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    changelist = reverse("admin:billing_callpermissions_changelist")
    assert staff.get(changelist).status_code == 200
    response = staff.post(
        changelist,
        {"action": "release_fraud_hold", "_selected_action": [permissions.pk]},
        follow=True,
    )
    assert response.status_code == 200
    permissions.refresh_from_db()
    assert permissions.fraud_hold_at is None
    change = CallPermissionChange.objects.filter(account=account).latest("pk")
    assert change.by_staff
