"""The Trunking change flow in Chromium on the demo account, at desktop (1366 px) and phone
(390 px) widths: increase, the confirmation with the charge now, the charge in the history.

Screenshots go to tests/artifacts/ (trunking-*.png): look at them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.defaults import install_defaults
from billing.models import LedgerEntry
from portal import demo
from trunking.models import Trunk


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(demo.CUSTOMER_EMAIL)
    page.get_by_label(re.compile("password", re.I)).first.fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def change_flow(page: Page, artifacts: Path, *, name: str, kind: str, to: int) -> None:
    # Trunking sits in the navigation's Settings group, closed outside its pages.
    link = page.get_by_role("link", name="Trunking", exact=True).first
    if not link.is_visible():
        page.locator("nav summary", has_text="Settings").first.click()
    link.click()
    expect(page.get_by_role("heading", name="Trunking", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / f"trunking-{name}.png"), full_page=True)
    page.locator(f"#id_{kind}").fill(str(to))
    page.locator("#review-change").click()
    confirm = page.get_by_test_id("confirm")
    expect(confirm).to_contain_text("Confirm the change")
    charge = page.get_by_test_id("charge-now")
    expect(charge).to_contain_text(re.compile(r"× \$\d+\.\d\d × \d+/\d+ days = \$\d+\.\d\d"))
    explanation = charge.locator(".small").inner_text()
    page.screenshot(path=str(artifacts / f"trunking-{name}-confirm.png"), full_page=True)
    page.locator("#confirm-change").click()
    expect(page.locator(".message-success")).to_contain_text("Channels added")
    expect(page.get_by_test_id("history").locator("tbody tr").first).to_contain_text(explanation)
    page.screenshot(path=str(artifacts / f"trunking-{name}-done.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_trunking_change_flow_in_chromium(live_server, page: Page, artifacts: Path) -> None:
    install_defaults(apps)  # a transactional test starts from a flushed database
    account = demo.seed(now=timezone.now())
    assert Trunk.objects.get(account=account).counts() == {
        "outbound": 1,
        "inbound": 1,
        "two_way": 3,
    }
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url)
    change_flow(page, artifacts, name="desktop", kind="two_way", to=5)
    expect(page.get_by_test_id("monthly-total")).to_have_text("$74.00")  # 8 + 6 + 5 × 12

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard/")
    change_flow(page, artifacts, name="phone", kind="outbound", to=2)
    expect(page.get_by_test_id("monthly-total")).to_have_text("$82.00")
    # The page fits the phone: no sideways scrolling of the whole page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"

    # Both charges (and the demo's two earlier ones) are in the ledger, once each.
    assert LedgerEntry.objects.filter(account=account, kind="proration").count() == 4
