"""The customer's port-in request: every bad number listed with its line and nothing
created, the fee shown is the fee charged, a short balance submits nothing, the bill copy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import DID, LedgerEntry, PortFee, PortRequest
from billing.services.ports import port_submit
from tests.billing.call_factories import DIDFactory, DIDGroupFactory
from tests.billing.ports.conftest import NUMBERS, draft, fund
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def form_data(numbers: str = NUMBERS, **extra: object) -> dict[str, object]:
    return {
        "numbers": numbers,
        "losing_carrier": "Old Telco",
        "carrier_account_number": "ACC-991",
        "carrier_pin": "4321",
        "account_holder_name": "Lakeside Vet LLC",
        "service_address": "12 Lake Rd, Austin TX",
        "requested_date": (dt.date.today() + dt.timedelta(days=14)).isoformat(),
        "loa_name": "Maria Lopez",
        "loa_agree": "on",
        **extra,
    }


def test_it_lists_every_bad_number_with_its_line_and_creates_nothing(
    customer_client: Client, account
) -> None:
    DIDFactory(account=account, group=DIDGroupFactory(), number="+12025550150")
    other = AccountFactory()
    other_port = draft(other, UserFactory(account=other), numbers="+12025550160")
    fund(other, "50")
    port_submit(port=other_port, user=other_port.loa_signed_by, now=timezone.now())
    pasted = "\n".join(
        [
            "+1 202-555-0181",  # 1 fine
            "not a number",  # 2
            "12345",  # 3 wrong length
            "(202) 555-0181",  # 4 duplicate of line 1
            "202.555.0150",  # 5 already ours
            "+1 202 555 0160",  # 6 in another account's open port
            "+1 800 555 1234",  # 7 toll-free, not portable by default
        ]
    )
    response = customer_client.post(reverse("billing:port_new"), form_data(pasted))
    assert response.status_code == 400
    html = " ".join(response.content.decode().split())
    assert "6 of the numbers cannot be ported; nothing was submitted." in html
    assert "Line 2 (not a number): " in html and "only digits" in html
    assert "Line 3 (12345): " in html and "wrong length" in html
    assert "Line 4 ((202) 555-0181): a duplicate of line 1." in html
    assert "Line 5 (+1 202-555-0150): already one of your numbers." in html
    assert "Line 6 (+1 202-555-0160): already in another open port request." in html
    assert "Line 7 (+1 800 555 1234): toll-free numbers cannot be ported in." in html
    assert "Line 1 " not in html
    assert PortRequest.objects.filter(account=account).count() == 0


def test_toll_free_ports_when_staff_allow_it(customer_client: Client, account) -> None:
    PortFee.objects.filter(country="US").update(toll_free_portable=True)
    response = customer_client.post(reverse("billing:port_new"), form_data("+1 800 555 1234"))
    assert response.status_code == 302
    assert PortRequest.objects.get(account=account).numbers.get().number == "+18005551234"


def test_the_fee_shown_is_the_fee_charged_per_country(
    customer_client: Client, account, django_capture_on_commit_callbacks
) -> None:
    PortFee.objects.create(country="GB", fee=Decimal("12.5000"))
    response = customer_client.post(reverse("billing:port_new"), form_data())
    port = PortRequest.objects.get(account=account)
    assert response["Location"] == reverse("billing:port_detail", args=[port.pk])
    page = " ".join(customer_client.get(response["Location"]).content.decode().split())
    assert "Submit and pay $32.50" in page  # US $10 + CA $10 + GB $12.50
    assert "+1 202-555-0181" in page and "+44 20 7946 0991" in page and "$12.50" in page
    fund(account, "40")
    with django_capture_on_commit_callbacks(execute=True):
        customer_client.post(reverse("billing:port_submit", args=[port.pk]))
    port.refresh_from_db()
    assert port.status == "submitted"
    fee = LedgerEntry.objects.get(account=account, kind="port_fee")
    assert (fee.amount, fee.idempotency_key) == (Decimal("-32.5000"), f"port-fee:{port.pk}")
    account.refresh_from_db()
    assert account.balance == Decimal("7.5000")
    assert port.numbers.filter(claimed=True).count() == 3
    assert mail.outbox and "submitted" in mail.outbox[-1].subject


def test_a_short_balance_charges_nothing_and_offers_the_missing_credit(
    customer_client: Client, account
) -> None:
    fund(account, "27.3333")
    port = draft(account, account.users.get())
    response = customer_client.post(reverse("billing:port_submit", args=[port.pk]))
    port.refresh_from_db()
    assert port.status == "draft" and port.submitted_at is None
    assert not LedgerEntry.objects.filter(kind="port_fee").exists()
    assert not port.numbers.filter(claimed=True).exists()
    page = " ".join(customer_client.get(response["Location"]).content.decode().split())
    assert "add at least $7.67" in page  # $35.00 - $27.3333, rounded up to a cent we can charge
    assert "Add Credit: $7.67" in page and "/per-minute/?amount=7.67#add-credit" in page
    credit_page = customer_client.get("/per-minute/?amount=7.67").content.decode()
    assert 'value="7.67"' in credit_page


def test_a_member_sees_requests_but_cannot_submit(client: Client, account) -> None:
    port = draft(account, UserFactory(account=account))
    fund(account, "100")
    member = UserFactory(account=account, role="member")
    client.force_login(member)
    page = client.get(reverse("billing:port_detail", args=[port.pk])).content.decode()
    assert "An owner or billing contact of your account can submit it." in page
    assert client.post(reverse("billing:port_submit", args=[port.pk])).status_code == 403
    port.refresh_from_db()
    assert port.status == "draft"
    assert "Port numbers in" not in client.get(reverse("billing:numbers")).content.decode()


def test_an_upload_that_lies_about_its_type_is_refused(customer_client: Client, account) -> None:
    fake = SimpleUploadedFile("bill.pdf", b"<html><script>x()</script></html>", "application/pdf")
    response = customer_client.post(reverse("billing:port_new"), form_data(bill=fake))
    assert response.status_code == 400
    assert "The bill copy must be a PDF, PNG or JPEG file." in response.content.decode()
    assert not PortRequest.objects.exists()


def test_a_bill_over_10_mb_is_refused(customer_client: Client) -> None:
    big = SimpleUploadedFile("bill.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")
    response = customer_client.post(reverse("billing:port_new"), form_data(bill=big))
    assert "larger than 10 MB" in response.content.decode()
    assert not PortRequest.objects.exists()


def test_the_bill_is_served_to_the_account_only(customer_client: Client, account) -> None:
    bill = SimpleUploadedFile("my bill.pdf", PDF, "application/pdf")
    customer_client.post(reverse("billing:port_new"), form_data(bill=bill))
    port = PortRequest.objects.get(account=account)
    assert port.bill_content_type == "application/pdf" and "my bill" not in str(port.bill.name)
    url = reverse("billing:port_bill", args=[port.pk])
    response = customer_client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_staff_download_the_bill_in_the_admin(client: Client, user, staff) -> None:
    port = draft(user.account, user, bill=SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\nxx"))
    client.force_login(staff)
    response = client.get(reverse("admin:billing_portrequest_bill", args=[port.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_the_loa_is_stored_with_who_when_and_ip(customer_client: Client, account, user) -> None:
    response = customer_client.post(
        reverse("billing:port_new"), form_data(), REMOTE_ADDR="198.51.100.23"
    )
    assert response.status_code == 302
    port = PortRequest.objects.get(account=account)
    assert (port.loa_name, port.loa_signed_by, port.loa_signed_ip) == (
        "Maria Lopez",
        user,
        "198.51.100.23",
    )
    assert port.loa_signed_at is not None
    assert port.loa_text.startswith(f"I authorize {account.name}'s provider")


def test_the_loa_must_be_signed(customer_client: Client) -> None:
    data = form_data()
    del data["loa_agree"]
    response = customer_client.post(reverse("billing:port_new"), data)
    assert "Tick the box to sign the letter of authorization." in response.content.decode()
    assert not PortRequest.objects.exists()


def test_a_rejected_request_prefills_a_new_one(customer_client: Client, account) -> None:
    port = draft(account, account.users.get())
    html = customer_client.get(reverse("billing:port_new") + f"?from={port.pk}").content.decode()
    assert "+12025550181" in html and "ACC-991" in html


def test_the_numbers_page_links_to_ports_and_lists_them(customer_client: Client, account) -> None:
    port = draft(account, account.users.get())
    html = customer_client.get(reverse("billing:numbers")).content.decode()
    assert "Port numbers in" in html and reverse("billing:port_new") in html
    assert reverse("billing:port_detail", args=[port.pk]) in html and "3 numbers" in html
    assert not DID.objects.exists()
