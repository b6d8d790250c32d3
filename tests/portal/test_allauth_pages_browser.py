"""allauth's pages (sign-in, sign-up, password reset and change, e-mail addresses, two-factor:
TOTP, recovery codes, re-authentication) drawn with the Control Center's parts, checked in
Chromium at 1366 px and on a 390 px phone (screenshots in tests/artifacts/)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, UserFactory

SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def check_page(page: Page, artifacts: Path, name: str) -> None:
    """At each size: a screenshot, nothing wider than the screen, every action a styled button
    or link standing on its own (allauth's bare pages ran "Download codes Generate new codes"
    together as one line of text)."""
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(artifacts / f"allauth-{name}-{size}.png"), full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} is {scroll_width}px wide at {width}px"
        for button in page.locator("main button:visible, main a.button:visible").all():
            background = button.evaluate("e => getComputedStyle(e).backgroundColor")
            border = button.evaluate("e => getComputedStyle(e).borderTopStyle")
            padding = button.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)")
            text = button.inner_text()
            if "link" in (button.get_attribute("class") or "").split():
                continue
            assert background != "rgba(0, 0, 0, 0)" or border != "none", f"{name}: {text}"
            assert padding >= 8, f"{name}: {text!r} is not padded like a button"


def visit(page: Page, url: str) -> None:
    """Open ``url``; when allauth first asks to confirm the password (its re-authentication
    step before security settings), give it and come back."""
    page.goto(url)
    if "/reauthenticate/" in page.url and "reauthenticate" not in url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.goto(url)


def boxes_apart(page: Page, *names: str) -> None:
    boxes = [page.get_by_role("link", name=n).bounding_box() for n in names]
    assert all(boxes)
    for a, b in itertools.pairwise(boxes):
        assert a and b
        apart_x = a["x"] + a["width"] < b["x"] or b["x"] + b["width"] < a["x"]
        apart_y = a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
        assert apart_x or apart_y, f"{names} overlap"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_entrance_pages_look_like_the_control_center(
    live_server, page: Page, artifacts: Path
) -> None:
    page.set_default_timeout(10_000)
    base = live_server.url
    for name, url in [
        ("login", reverse("account_login")),
        ("signup", reverse("account_signup")),
        ("password-reset", reverse("account_reset_password")),
        ("password-reset-done", reverse("account_reset_password_done")),
        ("password-reset-key-done", reverse("account_reset_password_from_key_done")),
    ]:
        page.goto(base + url)
        expect(page.locator(".entrance-card h1")).to_be_visible()
        check_page(page, artifacts, name)
    # The end of a password reset leads back to signing in; "contact support" is a link.
    page.goto(base + reverse("account_reset_password_from_key_done"))
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(base + reverse("account_reset_password_done"))
    expect(page.get_by_test_id("support-email")).to_have_attribute(
        "href", "mailto:support@example.com"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_two_factor_pages_look_like_the_control_center(
    live_server, page: Page, artifacts: Path
) -> None:
    page.set_default_timeout(10_000)
    base = live_server.url
    user = UserFactory()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    for name, url in [
        ("mfa-index-off", reverse("mfa_index")),
        ("mfa-totp-activate", reverse("mfa_activate_totp")),
        ("email", reverse("account_email")),
        ("password-change", reverse("account_change_password")),
        ("reauthenticate", reverse("account_reauthenticate")),
    ]:
        visit(page, base + url)
        expect(page.locator("main h1")).to_be_visible()
        check_page(page, artifacts, name)

    TOTP.activate(user, generate_totp_secret())
    RecoveryCodes.activate(user)
    for name, url in [
        ("mfa-index-on", reverse("mfa_index")),
        ("mfa-recovery-codes", reverse("mfa_view_recovery_codes")),
        ("mfa-recovery-codes-generate", reverse("mfa_generate_recovery_codes")),
        ("mfa-totp-deactivate", reverse("mfa_deactivate_totp")),
        ("mfa-reauthenticate", reverse("mfa_reauthenticate")),
    ]:
        visit(page, base + url)
        expect(page.locator("main h1")).to_be_visible()
        check_page(page, artifacts, name)

    # "Download codes" and "Generate new codes" are two buttons, apart, at both sizes.
    visit(page, base + reverse("mfa_view_recovery_codes"))
    for width, height in SIZES.values():
        page.set_viewport_size({"width": width, "height": height})
        boxes_apart(page, "Download codes", "Generate new codes")
    # The two-factor pages sit in the Control Center shell (its navigation and user menu).
    expect(page.locator("nav.sidenav")).to_be_visible()
