"""The Statements page in Chromium, at a desktop and a phone width, with screenshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from billing.models import Call
from billing.periods import Period
from billing.services.statements import statement_close
from tests.billing.deposits.test_add_credit_browser import log_in
from tests.billing.statements.conftest import FEB_1, MAR_1, post
from tests.factories import AccountFactory, UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_the_statements_page(live_server, page: Page, artifacts: Path, width, height) -> None:
    account = AccountFactory(name="Harbor Dental Group", timezone="UTC", billing_day=1)
    user = UserFactory(account=account, email=f"owner{width}@example.com")
    jan = Period(FEB_1 - dt.timedelta(days=31), FEB_1)
    post(account, "deposit", "100", jan.start + dt.timedelta(days=2))
    post(account, "plan_fee", "-20", jan.start + dt.timedelta(days=2))
    statement_close(account_id=account.pk, period=jan, now=FEB_1)
    at = FEB_1 + dt.timedelta(days=4)
    post(account, "call", "-3.4567", at, category=Call.Category.OVERAGE)
    post(account, "call", "-1.25", at, category=Call.Category.RATED)
    post(account, "plan_fee", "-20", FEB_1)
    post(account, "trunk_fee", "-36", FEB_1)
    post(account, "auto_recharge", "50", at)
    february = statement_close(account_id=account.pk, period=Period(FEB_1, MAR_1), now=MAR_1)

    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server.url, user.email)
    page.goto(f"{live_server.url}/per-minute/")
    page.get_by_role("link", name="Statements").first.click()
    expect(page.get_by_role("heading", name="Statements", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="INV-000002")).to_be_visible()
    page.screenshot(path=str(artifacts / f"statements-list-{width}.png"), full_page=True)

    page.get_by_role("link", name="INV-000002").click()
    # The closing balance in cents; the exact value in its tooltip.
    expect(page.get_by_test_id("closing")).to_have_text("$69.29")
    expect(page.get_by_test_id("closing").locator("data")).to_have_attribute(
        "title", "Exact: $69.2933"
    )
    expect(page.get_by_test_id("period")).to_contain_text("Feb 1, 2028 – Feb 29, 2028")
    # Nothing wider than the screen: the statement reads on a phone without sideways scroll.
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width
    page.screenshot(path=str(artifacts / f"statement-{width}.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(f"{february.invoice_label}.csv")
