"""In Chromium, at 1366 px and on a 390 px phone: after Save settings, Remove card and Filter,
the answer is on screen where the action was — not at the top of a page scrolled away from,
and not under the sticky top bar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from billing.models import BillingProfile
from billing.services.ledger import ledger_post
from tests.billing.deposits.test_add_credit_browser import log_in
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card
from tests.factories import AccountFactory, UserFactory


def assert_in_view(page: Page, locator: Locator) -> None:
    """Inside the viewport and below the sticky top bar (when the bar is sticky)."""
    expect(locator).to_be_visible()
    expect(locator).to_be_in_viewport()
    box = locator.bounding_box()
    bar = page.locator("header.topbar")
    sticky = bar.evaluate("e => getComputedStyle(e).position") == "sticky"
    bar_box = bar.bounding_box()
    assert box and bar_box
    if sticky:
        assert box["y"] >= bar_box["y"] + bar_box["height"] - 1, "hidden under the top bar"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_answer_is_where_the_action_was(
    live_server, page: Page, artifacts: Path, stripe_local: LocalStripe, width: int, height: int
) -> None:
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": width, "height": height})
    size = "desktop" if width > 500 else "phone"
    account = AccountFactory(name="Lakeside Veterinary")
    user = UserFactory(account=account, email="maria@lakeside-vet.example")
    ledger_post(
        account=account,
        amount=Decimal("40"),
        kind="deposit",
        description="Summer promotion top-up",
        idempotency_key="d1",
        now=dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC),
    )
    save_card(account, CARD_OK)
    log_in(page, live_server.url, user.email)
    page.goto(f"{live_server.url}/per-minute/")

    # Save settings: back at the auto-recharge section, its message inside it, on screen.
    section = page.locator("#auto-recharge")
    section.get_by_label("Turn on auto-recharge").check()
    section.get_by_label("When my balance falls below (USD)", exact=True).fill("10")
    section.get_by_role("button", name="Save settings").click()
    page.wait_for_url("**/per-minute/#auto-recharge")
    message = section.locator(".section-messages")
    expect(message).to_contain_text("Auto-recharge settings saved.")
    assert_in_view(page, message)
    assert_in_view(page, page.locator("#auto-h"))
    expect(page.locator("main > .messages")).to_have_count(0)
    page.screenshot(path=str(artifacts / f"feedback-saved-{size}.png"))

    # Remove card: a question first (no script needed), then the answer in the same place.
    page.locator("#remove-card").click()
    confirm = page.locator("#remove-card-confirm")
    expect(confirm).to_be_visible()
    assert BillingProfile.objects.get(account=account).has_card
    page.screenshot(path=str(artifacts / f"feedback-remove-card-confirm-{size}.png"))
    confirm.click()
    page.wait_for_url("**/per-minute/#auto-recharge")
    expect(message).to_contain_text("was removed. Auto-recharge is off.")
    assert_in_view(page, message)
    assert not BillingProfile.objects.get(account=account).has_card
    page.screenshot(path=str(artifacts / f"feedback-card-removed-{size}.png"))

    # Filter with From after To: the error at the history, and no table.
    history = page.locator("#history")
    history.locator("#id_date_from").fill("2026-11-05")
    history.locator("#id_date_to").fill("2026-11-01")
    history.get_by_role("button", name="Filter").click()
    page.wait_for_url("**#history")
    error = history.locator(".errorlist")
    expect(error).to_contain_text("is after the")
    assert_in_view(page, error)
    expect(history.locator("table.history")).to_have_count(0)
    expect(history).not_to_contain_text("Summer promotion top-up")
    page.screenshot(path=str(artifacts / f"feedback-filter-error-{size}.png"))
