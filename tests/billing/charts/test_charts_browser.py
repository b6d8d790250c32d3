"""The usage pictures in Chromium at 1366 px and on a 390 px phone: drawn, labelled, not cut
off, the table behind "Show as table". Screenshots (tests/artifacts/charts-*.png): look at them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.defaults import install_defaults
from billing.models import LedgerEntry
from billing.selectors.plans import billing_period
from billing.services.ledger import ledger_post
from portal import demo

PAGES = [("dashboard", "/dashboard/"), ("service-plan", "/service-plan/"), ("calls", "/calls/")]


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(demo.CUSTOMER_EMAIL)
    page.get_by_label(re.compile("password", re.I)).first.fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def _past_months(account, now: dt.datetime) -> None:
    """Plan fees and call charges in earlier billing months, so the months' bars have a history."""
    period = billing_period(account=account, at=now)
    ledger_post(
        account=account,
        amount=Decimal("-19.99"),
        kind=LedgerEntry.Kind.PLAN_FEE,
        description="Starter plan",
        idempotency_key="chart-test:plan:0",
        now=period.start,
        announce=False,
    )
    start = period.start
    for back, usage in enumerate(["4.20", "11.75", "2.10", "7.35", "9.80"], start=1):
        start = billing_period(account=account, at=start - dt.timedelta(days=1)).start
        for key, (amount, kind) in enumerate(
            [("-19.99", LedgerEntry.Kind.PLAN_FEE), (f"-{usage}", LedgerEntry.Kind.CALL)]
        ):
            ledger_post(
                account=account,
                amount=Decimal(amount),
                kind=kind,
                description=kind,
                idempotency_key=f"chart-test:{back}:{key}",
                now=start + dt.timedelta(days=3 + key),
                announce=False,
            )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_usage_pictures_fit_and_read_on_laptop_and_phone(
    live_server, page: Page, artifacts: Path
) -> None:
    install_defaults(apps)
    now = timezone.now()
    account = demo.seed(now=now)
    _past_months(account, now)
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1366, "height": 900})
    _log_in(page, live_server.url)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in PAGES:
            page.goto(f"{live_server.url}{path}")
            charts = page.locator("figure.chart")
            expect(charts.first).to_be_visible()
            for index in range(charts.count()):
                chart = charts.nth(index)
                svg = chart.locator("svg.chart-svg")
                expect(svg).to_have_attribute("role", "img")
                box = svg.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                # Labels stay legible: their font size in viewBox units, as drawn, is 12 px+.
                units = svg.locator("text").first.evaluate(
                    "e => parseFloat(getComputedStyle(e).fontSize)"
                )
                drawn = units * box["width"] / 400
                assert drawn >= 12, f"{name}: labels {drawn:.1f}px at {width}px"
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{name} is {scroll}px wide on a {width}px screen"
            suffix = "" if width == 1366 else "-phone"
            page.screenshot(path=str(artifacts / f"charts-{name}{suffix}.png"), full_page=True)
    # The numbers behind a picture, opened without JavaScript's help.
    page.goto(f"{live_server.url}/dashboard/")
    spend = page.get_by_test_id("chart-dash-months")
    spend.get_by_text("Show as table").click()
    table = spend.locator("table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table).to_contain_text("(so far)")
    # On the phone every column of the table is on screen (no sideways scrolling).
    for cell in table.locator("tbody tr").first.locator("th, td").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, cell.inner_text()
    spend.screenshot(path=str(artifacts / "charts-months-table-phone.png"))
    page.goto(f"{live_server.url}/calls/")
    minutes = page.get_by_test_id("chart-calls-minutes")
    minutes.get_by_text("Show as table").click()
    for cell in (
        minutes.locator("table thead th").all()
        + minutes.locator("table tbody tr").first.locator("th, td").all()
    ):
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, cell.inner_text()
    minutes.screenshot(path=str(artifacts / "charts-calls-table-phone.png"))
