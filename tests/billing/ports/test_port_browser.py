"""Porting numbers in, in Chromium: a pasted list with one bad number is refused with its
line, fixed, submitted and paid; the request page. Screenshots at desktop and phone width."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from billing.models import LedgerEntry, PortRequest
from tests.billing.deposits.test_add_credit_browser import log_in
from tests.billing.ports.conftest import fund
from tests.factories import AccountFactory, UserFactory

PASTED = "(202) 555-0181, 416-555-0123\n+44 20 7946 0991\n555-01"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_port_numbers_in_with_chromium(live_server, page: Page, artifacts: Path) -> None:
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    account = AccountFactory(name="Lakeside Veterinary", timezone="America/Chicago")
    user = UserFactory(account=account, email="maria@lakeside-vet.example")
    fund(account, "50")
    log_in(page, live_server.url, user.email)

    page.get_by_role("link", name="Numbers").first.click()
    page.get_by_role("link", name="Port numbers in").click()
    expect(page.get_by_role("heading", name="Port numbers in")).to_be_visible()
    page.get_by_label("Numbers to port", exact=True).fill(PASTED)
    page.get_by_label("Current carrier", exact=True).fill("Old Telco")
    page.get_by_label("Account number at that carrier", exact=True).fill("ACC-991")
    page.get_by_label("PIN or passcode at that carrier", exact=True).fill("4321")
    page.get_by_label("Name on that account", exact=True).fill("Lakeside Veterinary LLC")
    page.get_by_label("Service address on that account", exact=True).fill(
        "12 Lake Rd\nAustin, TX 78701"
    )
    date = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    page.get_by_label("Requested port date", exact=True).fill(date)
    page.get_by_label("Authorised person's full name (your signature)", exact=True).fill(
        "Maria Lopez"
    )
    page.get_by_label(re.compile("I am authorised to sign")).check()
    page.locator("#port-continue").click()

    errors = page.get_by_test_id("number-errors")
    expect(errors).to_contain_text("1 of the numbers cannot be ported; nothing was submitted.")
    expect(errors).to_contain_text("Line 3 (555-01)")
    assert not PortRequest.objects.exists()
    page.screenshot(path=str(artifacts / "port-new-error.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "port-new-error-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # Fix the list: drop the bad number. The other fields kept what was typed.
    page.get_by_label("Numbers to port", exact=True).fill(
        "(202) 555-0181, 416-555-0123\n+44 20 7946 0991"
    )
    expect(page.get_by_label("Current carrier", exact=True)).to_have_value("Old Telco")
    page.get_by_label(re.compile("I am authorised to sign")).check()
    page.locator("#port-continue").click()

    expect(page.get_by_role("heading", name=re.compile(r"Port request #\d+"))).to_be_visible()
    expect(page.get_by_test_id("port-total")).to_have_text("$35.00")
    expect(page.get_by_test_id("port-status")).to_have_text("Draft")
    page.screenshot(path=str(artifacts / "port-draft.png"), full_page=True)
    page.get_by_role("button", name="Submit and pay $35.00").click()

    expect(page.get_by_text("was charged from your balance")).to_be_visible()
    expect(page.get_by_test_id("port-status")).to_have_text("Submitted")
    numbers = page.get_by_test_id("port-numbers")
    expect(numbers).to_contain_text("+1 202-555-0181")
    expect(numbers).to_contain_text("+44 20 7946 0991")
    expect(page.get_by_test_id("port-history")).to_contain_text("Submitted")
    fee = LedgerEntry.objects.get(kind="port_fee")
    assert str(fee.amount) == "-35.0000"
    page.screenshot(path=str(artifacts / "port-request.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "port-request-phone.png"), full_page=True)
