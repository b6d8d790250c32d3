"""Add Credit end to end in Chromium, through localstripe's Stripe.js, and the page's look."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import Deposit, LedgerEntry
from billing.services.ledger import ledger_post
from tests.billing.stripe_helpers import CARD_3DS, CARD_OK, LocalStripe
from tests.factories import PASSWORD, AccountFactory, UserFactory


def some_history(account) -> None:
    now = timezone.now()
    rows = [
        (20, "50.00", "adjustment", "Welcome credit"),
        (9, "-0.0500", "call", "Call to Cyprus +357 22 123456, 2 min at $0.025/min"),
        (8, "-14.99", "plan_fee", "Starter plan, Nov 1 to Nov 30"),
        (6, "-10.00", "trunk_fee", "SIP trunk: 2 two-way channels at $5.00, Nov 1 to Nov 30"),
        (2, "-1.7500", "call", "Call to UK mobile +44 7700 900123, 7 min at $0.25/min"),
    ]
    for i, (days, amount, kind, text) in enumerate(rows):
        ledger_post(
            account=account,
            amount=Decimal(amount),
            kind=kind,
            description=text,
            idempotency_key=f"demo:{i}",
            now=now - dt.timedelta(days=days),
        )


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def enter_card(page: Page, number: str) -> None:
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10001")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_add_credit_in_chromium(
    live_server, page: Page, artifacts: Path, stripe_webhooks: LocalStripe
) -> None:
    page.set_default_timeout(15_000)
    account = AccountFactory(name="Lakeside Veterinary", timezone="America/Chicago")
    user = UserFactory(account=account, email="maria@lakeside-vet.example")
    some_history(account)
    log_in(page, live_server.url, user.email)
    expect(page.get_by_test_id("dashboard-balance")).to_have_text("$23.21")

    page.get_by_role("link", name="Per Minute").click()
    expect(page.get_by_role("heading", name="Per Minute")).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text("$23.21")
    page.screenshot(path=str(artifacts / "per-minute-before.png"), full_page=True)

    # A bad amount: a clear message on the form, nothing created.
    page.locator("#id_amount").fill("4.99")
    enter_card(page, CARD_OK)
    page.locator("#add-credit-submit").click()
    expect(page.locator("#amount-errors")).to_contain_text("The minimum is $5.00")
    assert not Deposit.objects.exists()

    # $25.00 with a good card, kept for auto-recharge.
    page.locator("#id_amount").fill("25.00")
    page.locator("#add-credit-submit").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Payment received: $25.00 was added to your balance."
    )
    expect(page.get_by_test_id("balance")).to_have_text("$48.21")
    expect(page.locator(".history tbody tr").first).to_contain_text(
        "Credit added by card (Visa •••• 4242)"
    )
    expect(page.locator("#auto-recharge")).to_contain_text("Visa •••• 4242")
    assert LedgerEntry.objects.filter(kind="deposit").count() == 1
    page.screenshot(path=str(artifacts / "per-minute.png"), full_page=True)

    # A 3-D Secure card: localstripe's Stripe.js shows its authentication box.
    page.get_by_label("A different card").check()
    page.locator("#id_amount").fill("10")
    enter_card(page, CARD_3DS)
    page.locator("#add-credit-submit").click()
    page.get_by_role("button", name="Complete authentication").click()  # card setup
    page.get_by_role("button", name="Complete authentication").click()  # the payment
    expect(page.locator(".message-success")).to_contain_text("$10.00 was added")
    expect(page.get_by_test_id("balance")).to_have_text("$58.21")
    assert LedgerEntry.objects.filter(kind="deposit").count() == 2

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "per-minute-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
