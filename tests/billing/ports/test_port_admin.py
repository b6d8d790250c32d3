"""Staff move requests in the admin: an action opens the step's form; confirming calls the
service; a repeated click is refused with a message and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import DID, LedgerEntry, PortFee, PortRequest, PortTransition
from billing.services.ports import port_start, port_submit
from tests.billing.ports.conftest import draft, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def submitted(user):
    fund(user.account, "100")
    return port_submit(port=draft(user.account, user), user=user, now=timezone.now())


def step(port: PortRequest, name: str) -> str:
    return reverse("admin:billing_portrequest_step", args=[port.pk, name])


def test_the_action_opens_the_steps_form(staff_client: Client, submitted) -> None:
    response = staff_client.post(
        reverse("admin:billing_portrequest_changelist"),
        {"action": "port_start", "_selected_action": [submitted.pk]},
    )
    assert response.status_code == 302 and response["Location"] == step(submitted, "start")
    page = staff_client.get(step(submitted, "start")).content.decode()
    assert "FOC date" in page


def test_staff_start_and_complete_with_ticked_numbers(
    staff_client: Client, submitted, did_group, staff
) -> None:
    response = staff_client.post(
        step(submitted, "start"), {"foc_date": "2026-12-20", "note": "Carrier confirmed"}
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.foc_date) == ("in_progress", dt.date(2026, 12, 20))
    page = staff_client.get(step(submitted, "complete")).content.decode()
    assert "+12025550181" in page and "+442079460991" in page
    done = staff_client.post(
        step(submitted, "complete"),
        {"ported": ["+12025550181", "+14165550123"], "did_group": did_group.pk, "note": ""},
    )
    assert done.status_code == 302
    again = staff_client.post(
        step(submitted, "complete"),
        {"ported": ["+12025550181"], "did_group": did_group.pk, "note": ""},
    )
    assert again.status_code == 200 and "it cannot be completed now" in again.content.decode()
    assert DID.objects.filter(account=submitted.account, group=did_group).count() == 2
    assert LedgerEntry.objects.get(kind="refund").amount == Decimal("15.0000")
    last = PortTransition.objects.filter(request=submitted).latest("id")
    assert (last.to_status, last.by, last.by_staff) == ("completed", staff, True)


def test_reject_needs_a_reason(staff_client: Client, submitted) -> None:
    response = staff_client.post(step(submitted, "reject"), {"reason": ""})
    assert response.status_code == 200
    assert PortRequest.objects.get(pk=submitted.pk).status == "submitted"
    staff_client.post(step(submitted, "reject"), {"reason": "Name does not match the bill"})
    submitted.refresh_from_db()
    assert (submitted.status, submitted.reject_reason) == (
        "rejected",
        "Name does not match the bill",
    )


def test_staff_cancel_in_progress(staff_client: Client, submitted, staff) -> None:
    port_start(
        port=submitted,
        staff_user=staff,
        foc_date=dt.date(2026, 12, 20),
        note="",
        now=timezone.now(),
    )
    staff_client.post(step(submitted, "cancel"), {"note": "Customer called"})
    assert PortRequest.objects.get(pk=submitted.pk).status == "cancelled"
    assert LedgerEntry.objects.get(kind="refund").amount == Decimal("35.0000")


def test_the_change_page_and_the_fee_table(staff_client: Client, submitted) -> None:
    page = staff_client.get(reverse("admin:billing_portrequest_change", args=[submitted.pk]))
    assert page.status_code == 200 and "Old Telco" in page.content.decode()
    fees = staff_client.get(reverse("admin:billing_portfee_changelist")).content.decode()
    assert "Default (every other country)" in fees
    default = PortFee.objects.get(country="")
    delete = staff_client.get(reverse("admin:billing_portfee_delete", args=[default.pk]))
    assert delete.status_code == 403
