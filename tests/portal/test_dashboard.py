"""The dashboard and the Control Center shell around it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.dashboard import dashboard_panels, register_panel
from portal.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client_for(account: Account, **user_fields: object) -> Client:
    client = Client()
    client.force_login(UserFactory(account=account, **user_fields))
    return client


def test_dashboard_shows_the_account() -> None:
    account = AccountFactory(
        name="Harbor Freight Dental", code="HFD00042", timezone="Europe/London", billing_day=31
    )
    response = _client_for(account).get(reverse("portal:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Harbor Freight Dental" in html
    assert "HFD00042" in html
    assert "Europe/London" in html
    assert "Active" in html
    assert "31st of each month" in html
    assert "last day in shorter months" in html


def test_shell_has_navigation_user_menu_and_account() -> None:
    account = AccountFactory(name="Harbor Freight Dental", code="HFD00042")
    client = _client_for(account, email="front-desk@harbor.example")
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("portal:dashboard")}" class="active" aria-current="page"' in html
    assert f'href="{reverse("portal:account_settings")}"' in html
    assert "front-desk@harbor.example" in html
    assert reverse("account_logout") in html
    assert reverse("mfa_index") in html  # two-factor is one click away
    assert '<meta name="viewport"' in html


def test_suspended_account_is_flagged() -> None:
    account = AccountFactory(status=Account.Status.SUSPENDED)
    html = _client_for(account).get(reverse("portal:dashboard")).content.decode()
    assert "Suspended" in html
    assert "badge-warn" in html


def test_staff_without_a_customer_account_get_404() -> None:
    client = _client_for(None, is_staff=True)
    assert client.get(reverse("portal:dashboard")).status_code == 404


def test_home_sends_customers_to_the_dashboard_and_others_to_login() -> None:
    assert Client().get("/")["Location"] == reverse("account_login")
    client = _client_for(AccountFactory())
    assert client.get("/")["Location"] == reverse("portal:dashboard")


def test_apps_add_dashboard_panels() -> None:
    account = AccountFactory(name="Panel Test Ltd")
    calls: list[Account] = []

    def provider(acc: Account) -> dict[str, object] | None:
        calls.append(acc)
        return {"template": "x.html", "title": acc.name} if acc.name == "Panel Test Ltd" else None

    register_panel(provider)
    register_panel(provider)  # registering twice is harmless
    try:
        panels = dashboard_panels(account=account)
        assert {"template": "x.html", "title": "Panel Test Ltd"} in panels
        assert calls.count(account) == 1
        assert all(p.get("title") != "Other" for p in dashboard_panels(account=AccountFactory()))
    finally:
        from portal import dashboard

        dashboard._providers.remove(provider)
