"""Every page in Chromium: axe-core finds no serious or critical accessibility violation, and on a
390 px phone no table cell with money in it is cut off. Screenshots of each page at 1366 px and
390 px land in ``tests/artifacts/<page>-<width>.png``.

The pages: every Control Center page of ``tests/urlcatalog.py`` (a new page joins without anyone
touching this file; its URL arguments are real objects of the customer's account), the pages of
the user menu, the sign-in, sign-up and password-reset pages, and the main billing pages of the
admin as staff (signed in through allauth with TOTP).

One walk for the whole module: the demo customer's data (a month of calls, card payments, the
Starter plan, a trunk, numbers) is seeded once and committed, one live server and one signed-in
browser context per kind of visitor serve every test, and each page is opened once — its axe
result and its phone check are kept for the two tests that read them. When the module ends the
database is flushed and the rows it held before (the data migrations') are put back, as Django's
``serialized_rollback`` does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page
from pytest_django.live_server_helper import LiveServer

from tests.urlcatalog import DOWNLOADS, POST_ONLY, control_center_urls

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP, PHONE = 1366, 390
HEIGHT = {DESKTOP: 900, PHONE: 844}
BLOCKING_IMPACTS = ("serious", "critical")
# Stripe.js is Stripe's (its card fields are Stripe's iframe in production): the walk serves an
# empty script in its place, so no page waits on the network.
STRIPE_JS = re.compile(r"^https://js\.stripe\.com/")


@dataclass(frozen=True)
class Visit:
    """A page of the walk: its id (the artifacts' name), who sees it, and how to find its URL."""

    id: str
    who: str  # "anonymous", "customer" or "staff"
    url: Callable[[Demo], str]


@dataclass
class Demo:
    """The seeded data the URLs are resolved with."""

    account: Any
    customer: Any
    staff: Any
    objects: dict[str, Any] = field(default_factory=dict)


def _catalog_visits() -> list[Visit]:
    visits = []
    for entry in control_center_urls():
        if entry.name in POST_ONLY or entry.name in DOWNLOADS:
            continue

        def url(demo: Demo, entry: Any = entry) -> str:
            return reverse(entry.name, kwargs={k: demo.objects[k] for k in entry.kwargs})

        visits.append(Visit(entry.name.replace(":", "-"), "customer", url))
    return visits


def _named(name: str, who: str) -> Visit:
    return Visit(name.replace("_", "-"), who, lambda demo: reverse(name))


def _admin(name: str, obj: str | None = None) -> Visit:
    def url(demo: Demo) -> str:
        args = [demo.objects[obj].pk] if obj else []
        return reverse(f"admin:{name}", args=args)

    return Visit("admin-" + name.replace("_", "-"), "staff", url)


def _password_reset_from_key(demo: Demo) -> str:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(demo.customer)
    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(demo.customer), "key": key},
    )


VISITS: list[Visit] = [
    _named("account_login", "anonymous"),
    _named("account_signup", "anonymous"),
    _named("account_reset_password", "anonymous"),
    _named("account_reset_password_done", "anonymous"),
    Visit("account-reset-password-from-key", "anonymous", _password_reset_from_key),
    *_catalog_visits(),
    _named("account_change_password", "customer"),
    _named("account_email", "customer"),
    _named("mfa_index", "customer"),
    _named("mfa_activate_totp", "customer"),
    _admin("index"),
    _admin("portal_account_changelist"),
    _admin("portal_account_change", "account"),
    _admin("billing_ledgerentry_changelist"),
    _admin("billing_ledgerentry_change", "ledger_entry"),
    _admin("billing_serviceplan_changelist"),
    _admin("billing_serviceplan_change", "plan"),
    _admin("billing_ratedeck_changelist"),
    _admin("billing_ratedeck_change", "rate_deck"),
    _admin("billing_rate_changelist"),
    _admin("billing_rate_change", "rate"),
    _admin("billing_portrequest_changelist"),
    _admin("billing_portrequest_change", "port_request"),
    _admin("billing_deposit_changelist"),
    _admin("billing_deposit_change", "deposit"),
]

# The phone check covers the customers' pages; staff work in the admin on a computer.
PHONE_VISITS = [visit for visit in VISITS if visit.who != "staff"]
MAX_LISTED = 12


@dataclass
class Seen:
    """What one visit found."""

    landed_on: str
    violations: list[dict[str, Any]]
    money_cut_off: list[dict[str, str]]


# The money cells of every shown table that a phone does not show whole (see the script).
_SCRIPT = (Path(__file__).parent / "money_cut_off.js").read_text(encoding="utf-8")
MONEY_CUT_OFF_JS = "\n".join(line for line in _SCRIPT.splitlines() if not line.startswith("//"))
# axe-core (bundled by axe-playwright-python) is loaded into every page the walk opens by the
# browser context, and run over the whole document.
AXE_RUN_JS = "() => axe.run(document, {resultTypes: ['violations'], iframes: false})"


class Walk:
    """Opens each page once per module and keeps what it found."""

    def __init__(self, server: LiveServer, demo: Demo, pages: dict[str, Page]) -> None:
        self.server, self.demo, self.pages = server, demo, pages
        self.seen: dict[str, Seen] = {}

    def visit(self, visit: Visit) -> Seen:
        if visit.id not in self.seen:
            self.seen[visit.id] = self._open(visit)
        return self.seen[visit.id]

    def _open(self, visit: Visit) -> Seen:
        page = self.pages[visit.who]
        page.set_viewport_size({"width": DESKTOP, "height": HEIGHT[DESKTOP]})
        response = page.goto(self.server.url + visit.url(self.demo))
        assert response is not None and response.ok, f"{visit.id}: {response and response.status}"
        kind = response.headers.get("content-type", "")
        assert kind.startswith("text/html"), (
            f"{visit.id} answers {kind}, not a page: add it to DOWNLOADS in tests/urlcatalog.py"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{visit.id}-{DESKTOP}.png"), full_page=True)
        results = page.evaluate(AXE_RUN_JS)
        violations = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
        page.set_viewport_size({"width": PHONE, "height": HEIGHT[PHONE]})
        page.screenshot(path=str(ARTIFACTS / f"{visit.id}-{PHONE}.png"), full_page=True)
        cut_off = page.evaluate(MONEY_CUT_OFF_JS, PHONE)
        return Seen(page.url, violations, cut_off)


def _seed(now: dt.datetime) -> Demo:
    from billing.models import Call, Deposit, LedgerEntry, PortRequest, Rate, RateDeck, ServicePlan
    from portal import demo
    from portal.models import User
    from tests import urlcatalog

    account = demo.seed(now=now)
    objects: dict[str, Any] = {
        "call_id": Call.objects.filter(account=account, charge__gt=0).order_by("-pk").first().pk,
    }
    needed = {
        kwarg
        for entry in control_center_urls()
        if entry.name not in POST_ONLY
        for kwarg in entry.kwargs
    }
    for kwarg in sorted(needed - objects.keys()):
        objects[kwarg] = urlcatalog.OBJECT_MAKERS[kwarg](account)
    objects.update(
        account=account,
        ledger_entry=LedgerEntry.objects.filter(account=account, kind="call").first(),
        plan=ServicePlan.objects.get(name="Starter"),
        rate_deck=RateDeck.objects.order_by("pk").first(),
        rate=Rate.objects.order_by("pk").first(),
        port_request=PortRequest.objects.get(pk=objects["port_id"]),
        deposit=Deposit.objects.filter(account=account).order_by("pk").first(),
    )
    return Demo(
        account=account,
        customer=User.objects.get(email=demo.CUSTOMER_EMAIL),
        staff=User.objects.get(email=demo.STAFF_EMAIL),
        objects=objects,
    )


def _sign_in(context: BrowserContext, base: str, email: str, totp_secret: str | None) -> Page:
    from portal.demo import DEMO_PASSWORD

    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}{reverse('account_login')}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    if totp_secret is not None:
        from allauth.mfa.totp.internal.auth import (
            format_hotp_value,
            hotp_value,
            yield_hotp_counters_from_time,
        )

        page.wait_for_url(re.compile(re.escape(reverse("mfa_authenticate"))))
        code = format_hotp_value(hotp_value(totp_secret, next(yield_hotp_counters_from_time())))
        page.locator("input[name=code]").fill(code)
        page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert reverse("account_login") not in page.url, f"{email} could not sign in"
    return page


def _new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": DESKTOP, "height": HEIGHT[DESKTOP]})
    context.add_init_script(script=Axe().axe_script)
    context.route(
        STRIPE_JS, lambda route: route.fulfill(body="", content_type="application/javascript")
    )
    return context


@pytest.fixture(scope="module")
def walk(browser: Browser, django_db_setup: None, django_db_blocker: Any) -> Iterator[Walk]:
    # The browser first: Playwright's sync API runs the code after it in a greenlet, where
    # Django's connections are others than before it. A test database set up before the browser
    # kept a connection that the database's teardown, run after it, could not close.
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.core.management import call_command
    from django.db import connection

    with django_db_blocker.unblock():
        before = connection.creation.serialize_db_to_string()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        contexts: list[BrowserContext] = []
        try:
            demo = _seed(timezone.now())
            secret = generate_totp_secret()
            TOTP.activate(demo.staff, secret)
            pages = {}
            for who, email, totp in (
                ("anonymous", None, None),
                ("customer", demo.customer.email, None),
                ("staff", demo.staff.email, secret),
            ):
                contexts.append(_new_context(browser))
                if email is None:
                    pages[who] = contexts[-1].new_page()
                else:
                    pages[who] = _sign_in(contexts[-1], server.url, email, totp)
            yield Walk(server, demo, pages)
        finally:
            for context in contexts:
                context.close()
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(before)


@pytest.mark.parametrize("visit", VISITS, ids=[v.id for v in VISITS])
def test_it_has_no_serious_accessibility_violations(walk: Walk, visit: Visit) -> None:
    seen = walk.visit(visit)
    found = [
        f"{rule['id']} ({rule['impact']}: {rule['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"])
        for rule in seen.violations
    ]
    assert not found, f"{visit.id} ({seen.landed_on}):\n  " + "\n  ".join(found)


@pytest.mark.parametrize("visit", PHONE_VISITS, ids=[v.id for v in PHONE_VISITS])
def test_it_shows_every_money_cell_whole_on_a_phone(walk: Walk, visit: Visit) -> None:
    seen = walk.visit(visit)
    found = [f"{cell['text']!r} {cell['why']} ({cell['cell']})" for cell in seen.money_cut_off]
    more = [f"and {len(found) - MAX_LISTED} more"] if len(found) > MAX_LISTED else []
    assert not found, f"{visit.id} at {PHONE}px ({seen.landed_on}):\n  " + "\n  ".join(
        found[:MAX_LISTED] + more
    )
