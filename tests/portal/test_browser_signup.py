"""A customer signs up in a real browser (Chromium): verify the e-mail, land on the dashboard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from portal.models import Account

PASSWORD = "maple-harbor-quartz-71"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_up_verify_and_see_the_dashboard(live_server, page: Page, artifacts: Path) -> None:
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.screenshot(path=str(artifacts / "login.png"))
    page.get_by_role("link", name=re.compile("sign up", re.I)).first.click()

    page.get_by_label("Email").fill("maria@lakeside-vet.example")
    page.get_by_label("Company name").fill("Lakeside Veterinary")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.screenshot(path=str(artifacts / "signup.png"))
    page.get_by_role("button", name=re.compile("sign up", re.I)).click()
    expect(page.get_by_text(re.compile("verify your e-?mail", re.I)).first).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/confirm-email/\S+/", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body
    path = re.sub(r"^https?://[^/]+", "", link.group(0))
    page.goto(f"{live_server.url}{path}")
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    account = Account.objects.get(name="Lakeside Veterinary")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".topbar-account")).to_contain_text("Lakeside Veterinary")
    expect(page.locator(".topbar-account")).to_contain_text(account.code)
    expect(page.locator("main")).to_contain_text("America/Chicago")
    expect(page.locator("main")).to_contain_text("Active")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.locator("main")).to_contain_text(account.code)
    page.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True)
    # Nothing is wider than the phone's screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
