"""The Service Plan page and the navigation's Settings group in Chromium, desktop and phone.

Screenshots go to tests/artifacts/ (service-plan.png, service-plan-pending.png,
service-plan-phone.png, nav-settings-phone.png, nav-settings-desktop.png): look at them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.defaults import install_defaults
from billing.models import ServicePlan
from billing.selectors.plans import billing_period, plan_for_account
from portal import demo


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(demo.CUSTOMER_EMAIL)
    page.get_by_label(re.compile("password", re.I)).first.fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def assert_fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_service_plan_page_and_settings_navigation(
    live_server, page: Page, artifacts: Path
) -> None:
    install_defaults(apps)  # a transactional test starts from a flushed database
    account = demo.seed(now=timezone.now())
    ServicePlan.objects.create(
        name="Pro",
        monthly_price=Decimal("49.99"),
        included_minutes=2000,
        overage_rate=Decimal("0.02"),
        is_public=True,
    )
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url)
    nav = page.locator("nav.sidenav")
    expect(nav.get_by_role("link", name="Rates", exact=True)).to_be_visible()

    # Desktop: the Settings group opens (no JS) and holds Service Plan and Account.
    nav.locator("summary", has_text="Settings").click()
    expect(nav.get_by_role("link", name="Account", exact=True)).to_be_visible()
    nav.get_by_role("link", name="Service Plan").click()
    expect(page.get_by_role("heading", name="Service Plan", exact=True)).to_be_visible()
    expect(nav.locator("details.nav-group[open]")).to_have_count(1)
    nav.screenshot(path=str(artifacts / "nav-settings-desktop.png"))

    main = page.locator("main")
    expect(page.get_by_test_id("plan-name")).to_have_text("Starter")
    expect(main).to_contain_text("$19.99 per month")
    expect(main.get_by_role("meter")).to_be_visible()
    expect(main).to_contain_text("resets on")
    # The demo account's plan ($19.99) and its SIP trunk: 1 outbound × $8, 1 inbound × $6 and
    # 3 two-way × $12 = $50.00 a month.
    expect(main).to_contain_text("3 two-way channels × $12.00")
    expect(page.get_by_test_id("recurring-total")).to_have_text("$69.99")
    expect(main).to_contain_text("Germany")
    expect(main.locator(".exceptions")).to_contain_text("USA PN Group A")
    expect(main).to_contain_text("This month's bill (estimate)")
    page.screenshot(path=str(artifacts / "service-plan.png"), full_page=True)
    assert_fits(page, 1366)

    # Switch to Pro: pending until the next billing month, then cancel.
    page.get_by_role("button", name="Switch to Pro").click()
    pending = page.get_by_test_id("pending-switch")
    expect(pending).to_contain_text("Pro plan ($49.99/month)")
    expect(page.get_by_test_id("plan-name")).to_have_text("Starter")
    now = timezone.now()
    assert plan_for_account(account=account, at=now).name == "Starter"
    next_start = billing_period(account=account, at=now).end
    assert plan_for_account(account=account, at=next_start).name == "Pro"
    page.screenshot(path=str(artifacts / "service-plan-pending.png"), full_page=True)

    # A phone: everything fits, the Settings group is a row of its own.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(pending).to_be_visible()
    assert_fits(page, 390)
    page.screenshot(path=str(artifacts / "service-plan-phone.png"), full_page=True)

    pending.get_by_role("button", name="Cancel the switch").click()
    expect(main).to_contain_text("The plan switch was cancelled")
    expect(pending).to_have_count(0)
    assert plan_for_account(account=account, at=next_start).name == "Starter"

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_test_id("dashboard-plan")).to_have_text("Starter")
    expect(nav.get_by_role("link", name="Account", exact=True)).to_be_hidden()
    nav.locator("summary", has_text="Settings").click()
    expect(nav.get_by_role("link", name="Service Plan")).to_be_visible()
    expect(nav.get_by_role("link", name="Account", exact=True)).to_be_visible()
    assert_fits(page, 390)
    page.screenshot(path=str(artifacts / "nav-settings-phone.png"))
