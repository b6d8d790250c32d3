"""The Call permissions page in Chromium: search, toggle a country, save; desktop and phone.

Screenshots go to tests/artifacts/ (call-permissions.png, call-permissions-phone.png): look at
them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.defaults import install_defaults
from billing.models import CallPermissionChange, CallPermissions
from portal import demo
from tests.billing.plans.test_service_plan_browser import assert_fits, log_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_toggle_a_country_and_save(live_server, page: Page, artifacts: Path) -> None:
    install_defaults(apps)  # a transactional test starts from a flushed database
    account = demo.seed(now=timezone.now())
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url)
    nav = page.locator("nav.sidenav")
    nav.locator("summary", has_text="Settings").click()
    nav.get_by_role("link", name="Call permissions").click()
    expect(page.get_by_role("heading", name="Call permissions", exact=True)).to_be_visible()
    table = page.get_by_test_id("countries")
    expect(table).to_contain_text("Germany")
    expect(table).to_contain_text("Cyprus")

    # The search (a GET filter; the script filters as you type).
    page.get_by_test_id("country-search").fill("cyp")
    page.get_by_role("button", name="Search").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    cyprus = page.get_by_label("Allow Cyprus")
    expect(cyprus).to_be_checked()
    cyprus.uncheck()
    page.get_by_label("Daily spend cap (USD per day)").fill("20")
    page.screenshot(path=str(artifacts / "call-permissions.png"), full_page=True)
    assert_fits(page, 1366)
    page.get_by_test_id("save-permissions").click()
    expect(page.locator(".messages")).to_contain_text("Your call permissions are saved")
    expect(page.get_by_label("Allow Cyprus")).not_to_be_checked()
    expect(page.get_by_test_id("permission-history")).to_contain_text("country CY")
    row = CallPermissions.objects.get(account=account)
    assert row.countries["CY"] is False and str(row.daily_cap) == "20.0000"
    assert row.countries.get("DE") is True  # the search hid Germany: it stays as it was
    assert CallPermissionChange.objects.filter(account=account).count() == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/call-permissions/")
    expect(page.get_by_test_id("countries")).to_contain_text("Germany")
    page.screenshot(path=str(artifacts / "call-permissions-phone.png"), full_page=True)
    assert_fits(page, 390)
