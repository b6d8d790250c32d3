"""Add Credit with the keyboard alone, in Chromium: from the dashboard's Add Credit link to the
credited balance with Tab, Enter and typing, the focus visible on every control on the way."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from billing.models import Deposit, LedgerEntry
from tests.billing.deposits.test_add_credit_browser import log_in, some_history
from tests.billing.stripe_helpers import CARD_OK, LocalStripe
from tests.factories import AccountFactory, UserFactory

MAX_TABS = 40
# localstripe's stand-in for Stripe's card element: one plain input per part of the card.
CARD_PARTS = {
    "number": CARD_OK,
    "exp_month": "12",
    "exp_year": "34",
    "cvc": "123",
    "postal_code": "10001",
}

# The focused element, and whether a focus ring is drawn: an outline or a box shadow.
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("name") || "",
    placeholder: el.getAttribute("placeholder") || "",
    text: (el.innerText || el.value || "").trim().slice(0, 40),
    ring: outline || style.boxShadow !== "none",
    outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
  };
}
"""


def press_tab(page: Page, seen: list[dict[str, Any]]) -> dict[str, Any]:
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED_JS)
    seen.append(focused)
    assert focused is not None, f"Tab left the page after {seen[-8:]}"
    assert focused["ring"], f"no visible focus on {focused}; before it: {seen[-6:-1]}"
    return focused


def tab_until(page: Page, seen: list[dict[str, Any]], wanted: Any) -> dict[str, Any]:
    """Tab until the focus is on the wanted control (where it may already be: the card form
    moves on by itself once a part is complete)."""
    focused = page.evaluate(FOCUSED_JS)
    if focused is not None and wanted(focused):
        return focused
    for _ in range(MAX_TABS):
        focused = press_tab(page, seen)
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached in {MAX_TABS} tabs; focus went through {seen[-MAX_TABS:]}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_adds_credit_with_the_keyboard_alone(
    live_server: Any, page: Page, artifacts: Path, stripe_webhooks: LocalStripe
) -> None:
    page.set_default_timeout(15_000)
    account = AccountFactory(name="Harbor Physio", timezone="America/Chicago")
    user = UserFactory(account=account, email="kim@harbor-physio.example")
    some_history(account)
    log_in(page, live_server.url, user.email)
    expect(page.get_by_test_id("dashboard-balance")).to_have_text("$23.21")
    seen: list[dict[str, Any]] = []

    # The skip link comes first and takes the focus past the navigation.
    skip = press_tab(page, seen)
    assert skip["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    tab_until(page, seen, lambda f: f["text"] == "Add Credit")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/per-minute/#add-credit$"))

    # The link's target is the Add Credit box: the next Tab is its amount field.
    tab_until(page, seen, lambda f: f["name"] == "amount")
    page.keyboard.type("25.00")
    for part, value in CARD_PARTS.items():
        tab_until(page, seen, lambda f, part=part: f["placeholder"] == part)
        page.keyboard.type(value)
    tab_until(page, seen, lambda f: f["id"] == "add-credit-submit")
    page.screenshot(path=str(artifacts / "add-credit-keyboard-focus.png"))
    page.keyboard.press("Enter")

    expect(page.locator(".message-success")).to_contain_text(
        "Payment received: $25.00 was added to your balance."
    )
    expect(page.get_by_test_id("balance")).to_have_text("$48.21")
    assert LedgerEntry.objects.filter(account=account, kind="deposit").count() == 1
    assert Deposit.objects.get(account=account).amount == Decimal("25.00")
    account.refresh_from_db()
    assert account.balance == Decimal("48.2100")
    assert {f["tag"] for f in seen} >= {"a", "input", "button"}
