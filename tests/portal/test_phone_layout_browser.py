"""Every Control Center page at a laptop (1366 px) and a phone (390 px) width, in Chromium:
nothing scrolls sideways, every cell with money in it lies inside the screen, every menu entry is
reachable, and each page leaves a screenshot in tests/artifacts/."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.models import Call
from portal import demo
from tests.billing.call_factories import CallFactory
from tests.urlcatalog import _make_port, _make_statement

WIDTHS = [(1366, 900), (390, 844)]

# Cells holding money, by the page's own markup: money filters write "$", every stacked cell
# carries its label, and amounts sit in .num columns.
MONEY_CELLS_OUTSIDE = """(width) => {
  const cells = [...document.querySelectorAll('td, th, dd, .stat-value, .balance-amount')]
    .filter(el => el.textContent.includes('$') && el.offsetParent !== null);
  return [cells.length, cells.filter(el => {
    const box = el.getBoundingClientRect();
    return box.left < -0.5 || box.right > width + 0.5;
  }).map(el => el.textContent.trim().slice(0, 60))];
}"""

HIDDEN_OVERFLOW = """() => [...document.querySelectorAll('.table-wrap, main, .card')]
  .filter(el => el.scrollWidth > el.clientWidth + 1)
  .map(el => el.className + ': ' + el.scrollWidth + ' > ' + el.clientWidth)"""


def _pages(account) -> list[tuple[str, str]]:
    call = Call.objects.filter(account=account).order_by("-started_at").first()
    if call is None:  # the demo's calls are seeded once per database
        call = CallFactory.create(
            account=account, started_at=timezone.now() - dt.timedelta(hours=1)
        )
    statement = _make_statement(account)
    port = _make_port(account)
    return [
        ("dashboard", "/dashboard/"),
        ("per-minute", "/per-minute/"),
        ("payments", "/per-minute/payments/"),
        ("calls", "/calls/"),
        ("call-detail", f"/calls/{call.pk}/"),
        ("numbers", "/numbers/"),
        ("rates", "/rates/"),
        ("service-plan", "/service-plan/"),
        ("call-permissions", "/call-permissions/"),
        ("trunking", "/trunking/"),
        ("statements", "/per-minute/statements/"),
        ("statement", f"/per-minute/statements/{statement}/"),
        ("port", f"/numbers/ports/{port}/"),
        ("port-new", "/numbers/ports/new/"),
        ("account", "/account/"),
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width,height", WIDTHS)
def test_every_page_fits_the_screen(
    live_server, page: Page, artifacts: Path, width: int, height: int
) -> None:
    account = demo.seed(now=timezone.now() - dt.timedelta(minutes=5))
    pages = _pages(account)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(demo.CUSTOMER_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    for name, path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.screenshot(path=str(artifacts / f"layout-{name}-{width}.png"), full_page=True)
        for i, table in enumerate(page.locator("main table").all()[:3]):
            table.scroll_into_view_if_needed()  # each table as a person sees it on the screen
            page.screenshot(path=str(artifacts / f"layout-{name}-{width}-table{i}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.evaluate(HIDDEN_OVERFLOW) == [], path
        count, outside = page.evaluate(MONEY_CELLS_OUTSIDE, width)
        assert outside == [], (path, outside)
        note = page.get_by_test_id("times-note").inner_text()
        assert note.startswith("Times in America/New York ("), path
        if name in ("per-minute", "calls", "dashboard"):
            assert count > 0, f"{path}: no money shown, the check checked nothing"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_menu_entry_is_reachable_on_a_phone(live_server, page: Page, artifacts: Path) -> None:
    demo.seed(now=timezone.now() - dt.timedelta(minutes=5))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(demo.CUSTOMER_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # The account menu says what it is, and opens on a tap.
    menu = page.locator(".user-menu summary")
    expect(menu).to_contain_text("Account")
    menu.click()
    page.screenshot(path=str(artifacts / "layout-account-menu-390.png"))
    for entry in ("Account settings", "Change password", "Two-factor authentication"):
        link = page.get_by_role("link", name=entry)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, entry
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    menu.click()

    # Every page of the navigation is on screen (groups open on a tap).
    for group in page.locator(".nav-group summary").all():
        group.click()
    for link in page.locator(".sidenav a").all():
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(artifacts / "layout-navigation-390.png"))
