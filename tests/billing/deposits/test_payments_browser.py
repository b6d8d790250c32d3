"""Card payments in Chromium at 1366 px and 390 px: the Per Minute page's list and the Card
payments page, a payment held for 3-D Secure cancelled from the page, money cells on screen."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing import stripe_gateway
from billing.declines import decline_reason
from billing.models import Deposit
from billing.services.deposits import deposit_confirm, deposit_start
from billing.services.ledger import ledger_post
from tests.billing.deposits.test_add_credit_browser import log_in
from tests.billing.stripe_helpers import CARD_3DS, LocalStripe
from tests.factories import AccountFactory, UserFactory


def _payment(account, days: int, amount: str, status: str, **fields: str) -> Deposit:
    at = timezone.now() - dt.timedelta(days=days)
    deposit = Deposit.objects.create(
        account=account,
        amount=Decimal(amount),
        status=status,
        key=uuid.uuid4(),
        card_brand="visa",
        card_last4="4242",
        created_at=at,
        updated_at=at,
        completed_at=at if status != Deposit.Status.REQUIRES_ACTION else None,
        **fields,
    )
    if status == Deposit.Status.SUCCEEDED:
        entry = ledger_post(
            account=account,
            amount=deposit.amount,
            kind=deposit.kind,
            description=f"Credit added by card ({deposit.card_label})",
            idempotency_key=f"browser:{deposit.pk}",
            now=at,
        ).entry
        Deposit.objects.filter(pk=deposit.pk).update(ledger_entry=entry)
    return deposit


def held_payment(account, user, local: LocalStripe) -> Deposit:
    """An Add Credit the bank holds for 3-D Secure, made as the page makes it."""
    start = deposit_start(
        account=account,
        user=user,
        amount=Decimal("40.00"),
        save_card=False,
        use_saved_card=False,
        now=timezone.now(),
    )
    setup = local.confirm_setup(start.setup_client_secret, CARD_3DS)
    deposit = deposit_confirm(
        deposit=start.deposit, setup_intent_id=setup["id"], now=timezone.now()
    )
    assert deposit.status == Deposit.Status.REQUIRES_ACTION
    return deposit


def money_cells_on_screen(page: Page, width: int) -> None:
    for cell in page.locator("table.payments td.num").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_card_payments_at_desktop_and_phone_widths(
    live_server, page: Page, artifacts: Path, stripe_local: LocalStripe
) -> None:
    account = AccountFactory(name="Acme Dental Group")
    user = UserFactory(account=account, email="owner@acme.test")
    for i in range(12):
        _payment(account, 40 - i, "25.00", Deposit.Status.SUCCEEDED)
    _payment(
        account,
        5,
        "50.00",
        Deposit.Status.FAILED,
        failure_code="insufficient_funds",
        failure_message="Your card has insufficient funds.",
    )
    _payment(
        account,
        4,
        "25.00",
        Deposit.Status.EXPIRED,
        kind=Deposit.Kind.AUTO_RECHARGE,
        failure_code="authentication_expired",
    )
    _payment(account, 3, "100.00", Deposit.Status.SUCCEEDED, kind=Deposit.Kind.AUTO_RECHARGE)
    held = held_payment(account, user, stripe_local)

    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, user.email)
    page.goto(f"{live_server.url}/per-minute/")
    payments = page.locator("#payments")
    expect(payments.locator("tbody tr")).to_have_count(8)
    expect(payments).to_contain_text(decline_reason("insufficient_funds"))
    expect(payments).to_contain_text("Needs authentication")
    expect(payments.get_by_role("link", name="Complete authentication")).to_be_visible()
    page.screenshot(path=str(artifacts / "per-minute-payments.png"), full_page=True)
    money_cells_on_screen(page, 1366)

    page.get_by_role("link", name="See all card payments").click()
    expect(page.get_by_role("heading", name="Card payments", exact=True)).to_be_visible()
    main = page.locator("main")
    expect(main.locator("tbody tr")).to_have_count(16)
    expect(main).to_contain_text("16 payments")
    expect(main).to_contain_text("Expired")
    expect(main).to_contain_text("within a day")
    expect(main.get_by_role("link", name="Receipt (PDF)").first).to_be_visible()
    page.screenshot(path=str(artifacts / "card-payments.png"), full_page=True)
    money_cells_on_screen(page, 1366)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    money_cells_on_screen(page, 390)
    expect(main.locator("tbody tr").first.get_by_text("Needs authentication")).to_be_visible()
    page.screenshot(path=str(artifacts / "card-payments-phone.png"), full_page=True)

    # Cancel the held payment from the phone: cancelled at Stripe, said where the list is.
    main.get_by_role("button", name="Cancel the payment of $40.00").click()
    expect(main).to_contain_text("The payment of $40.00 was cancelled. Nothing was charged.")
    expect(main.get_by_role("button", name="Cancel the payment of $40.00")).to_have_count(0)
    held.refresh_from_db()
    assert held.status == Deposit.Status.CANCELED
    assert stripe_gateway.payment_intent_retrieve(held.stripe_payment_intent_id).status == (
        "canceled"
    )
    page.screenshot(path=str(artifacts / "card-payments-cancelled-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/per-minute/")
    money_cells_on_screen(page, 390)
    page.screenshot(path=str(artifacts / "per-minute-payments-phone.png"), full_page=True)
