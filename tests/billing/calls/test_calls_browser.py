"""The Calls, Numbers and rate lookup pages in Chromium, with the demo month of calls.

Screenshots go to tests/artifacts/ (calls.png, calls-full.png, calls-filtered.png, call-detail.png,
numbers.png, rate-lookup.png, dashboard-minutes.png, calls-phone.png): look at them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.defaults import install_defaults
from billing.models import Call
from portal import demo


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(demo.CUSTOMER_EMAIL)
    page.get_by_label(re.compile("password", re.I)).first.fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_calls_numbers_and_rates_in_chromium(live_server, page: Page, artifacts: Path) -> None:
    install_defaults(apps)  # a transactional test starts from a flushed database
    account = demo.seed(now=timezone.now())
    calls = Call.objects.filter(account=account)
    assert calls.count() > 60
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url)

    meter = page.locator(".minutes-panel")
    expect(meter).to_contain_text("Included minutes")
    expect(meter).to_contain_text("of 500 left")
    meter.screenshot(path=str(artifacts / "dashboard-minutes.png"))

    page.get_by_role("link", name="Calls", exact=True).click()
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()
    rows = page.locator("tbody.call")
    expect(rows).to_have_count(50)
    straddle = calls.get(category="overage", included_seconds__gt=0)
    expect(page.locator("main")).to_contain_text(straddle.explanation)
    expect(page.get_by_role("link", name=re.compile("Older"))).to_be_visible()
    page.screenshot(path=str(artifacts / "calls.png"))  # what the customer sees first
    page.screenshot(path=str(artifacts / "calls-full.png"), full_page=True)

    # Filter: incoming calls only.
    page.get_by_label("Direction").select_option("inbound")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"direction=inbound"))
    inbound = calls.filter(direction="inbound").count()
    expect(page.locator(".call-count")).to_contain_text(f"{inbound} call")
    expect(rows).to_have_count(min(inbound, 50))
    expect(page.locator("main")).to_contain_text("USA PN Group A")
    page.screenshot(path=str(artifacts / "calls-filtered.png"), full_page=True)

    # Number filter + the call's own page.
    page.get_by_label("Direction").select_option("")
    page.get_by_label("Number").fill("35722")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile("Call to"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("Cyprus")
    page.screenshot(path=str(artifacts / "call-detail.png"), full_page=True)

    # CSV export of the filtered set.
    page.goto(f"{live_server.url}/calls/?direction=outbound")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("call_id,start,direction")
    assert len(csv_text.splitlines()) == 1 + calls.filter(direction="outbound").count()

    page.get_by_role("link", name="Numbers", exact=True).click()
    expect(page.locator("main")).to_contain_text("+1 212-555-0140")
    expect(page.locator("main")).to_contain_text("Billed per minute")
    page.screenshot(path=str(artifacts / "numbers.png"), full_page=True)

    page.goto(f"{live_server.url}/rates/")
    page.get_by_label("Phone number").fill("+357 22 123456")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#quote")).to_contain_text("Cyprus")
    expect(page.locator("#quote")).to_contain_text("$0.0600/min")
    page.screenshot(path=str(artifacts / "rate-lookup.png"), full_page=True)
    page.get_by_label("Phone number").fill("+49 30 901820")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#quote")).to_contain_text("Included in your plan")
    page.screenshot(path=str(artifacts / "rate-lookup-included.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server.url}/calls/")
    page.screenshot(path=str(artifacts / "calls-phone.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Calls page is {width}px wide on a 390px phone"
