"""The Per Minute page answers where the action was: a form's message is shown in its own
section (the redirect scrolls there), removing the card takes a confirmation, and a history
filter whose From is after its To shows the error and no table."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import BillingProfile
from billing.services.ledger import ledger_post
from portal.models import Account
from tests.billing.stripe_helpers import CARD_OK, LocalStripe, save_card

pytestmark = pytest.mark.django_db
URL = "/per-minute/"


def section_html(html: str, section: str) -> str:
    """The HTML of <section id="section">, up to the next section."""
    match = re.search(rf'<section[^>]*id="{section}".*?</section>', html, re.S)
    assert match, f"no section #{section}"
    return match.group(0)


def page_top(html: str) -> str:
    """What is shown above the page's first section (the page-wide messages)."""
    return html.split('<div class="page-header">', 1)[0]


def test_it_shows_the_saved_auto_recharge_settings_message_in_its_section(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    save_card(account, CARD_OK)
    data = {"enabled": "on", "threshold": "10", "amount": "25", "low_balance_threshold": "5"}
    response = customer_client.post(reverse("billing:auto_recharge"), data)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}#auto-recharge"
    html = customer_client.get(URL).content.decode()
    assert "Auto-recharge settings saved." in section_html(html, "auto-recharge")
    assert "Auto-recharge settings saved." not in page_top(html)


def test_it_posts_the_settings_form_to_its_own_section(account: Account, customer_client: Client):
    # A form with errors is rendered by the POST itself: the fragment scrolls to its section.
    html = customer_client.get(URL).content.decode()
    assert f'action="{reverse("billing:auto_recharge")}#auto-recharge"' in html
    assert f'action="{URL}#history"' in html


def test_it_asks_before_removing_the_card(
    stripe_local: LocalStripe, account: Account, customer_client: Client
) -> None:
    save_card(account, CARD_OK)
    html = customer_client.get(URL).content.decode()
    # "Remove card" only opens the question (a <details>, no script); the form inside confirms.
    remove = section_html(html, "auto-recharge")
    assert re.search(r'<details class="confirm-step"[^>]*>\s*<summary[^>]*>Remove card', remove)
    assert 'name="confirm" value="yes"' in remove
    assert "Yes, remove the card" in remove

    # A post without the confirmation removes nothing and asks on a page of its own.
    asked = customer_client.post(reverse("billing:card_remove"))
    assert asked.status_code == 200
    assert "Remove the saved card?" in asked.content.decode()
    assert BillingProfile.objects.get(account=account).has_card

    removed = customer_client.post(reverse("billing:card_remove"), {"confirm": "yes"})
    assert removed.status_code == 302
    assert removed["Location"] == f"{URL}#auto-recharge"
    assert not BillingProfile.objects.get(account=account).has_card
    html = customer_client.get(URL).content.decode()
    assert "was removed. Auto-recharge is off." in section_html(html, "auto-recharge")
    assert "was removed" not in page_top(html)


def test_it_shows_no_history_table_when_from_is_after_to(
    account: Account, customer_client: Client
) -> None:
    ledger_post(
        account=account,
        amount=Decimal("50"),
        kind="deposit",
        description="Summer promotion top-up",
        idempotency_key="d1",
        now=dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC),
    )
    assert 'class="stack history"' in customer_client.get(URL).content.decode()
    response = customer_client.get(URL, {"date_from": "2026-11-05", "date_to": "2026-11-01"})
    assert response.status_code == 200
    history = section_html(response.content.decode(), "history")
    assert "is after the" in history
    assert 'class="stack history"' not in history
    assert "Summer promotion top-up" not in history
    assert "Correct the filter above to see transactions." in history
    assert response.context["page"] is None
