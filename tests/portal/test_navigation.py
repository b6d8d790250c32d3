"""The left navigation: top-level pages, then the Settings group (a disclosure, no JS)."""

from __future__ import annotations

import pytest
from django.test import Client

from portal import navigation

pytestmark = pytest.mark.django_db


def _nav(html: str) -> str:
    return html.split('<nav class="sidenav"')[1].split("</nav>")[0]


def test_top_level_entries_include_rates_and_leave_settings_pages_to_the_group() -> None:
    labels = [entry.label for entry in navigation.nav_entries("/dashboard/")]
    assert labels == ["Dashboard", "Per Minute", "Calls", "Numbers", "Rates"]
    (settings,) = navigation.nav_groups("/dashboard/")
    assert settings.label == "Settings"
    # Trunking joins once its URL exists (another app); these two exist now.
    assert {"Service Plan", "Account"} <= {entry.label for entry in settings.entries}
    assert [e.label for e in settings.entries][-2:] == ["Service Plan", "Account"]


def test_the_settings_group_is_open_while_one_of_its_pages_is_shown(
    customer_client: Client,
) -> None:
    nav = _nav(customer_client.get("/service-plan/").content.decode())
    assert '<details class="nav-group active" open>' in nav
    assert '<a href="/service-plan/" class="active" aria-current="page">Service Plan</a>' in nav
    assert '<a href="/account/">Account</a>' in nav

    nav = _nav(customer_client.get("/dashboard/").content.decode())
    assert '<details class="nav-group">' in nav
    assert "<summary>Settings</summary>" in nav
    assert '<a href="/rates/">Rates</a>' in nav


def test_a_group_without_any_page_is_not_shown(monkeypatch) -> None:
    monkeypatch.setattr(navigation, "NAV_GROUPS", [("Later", [("Soon", "nowhere:page")])])
    assert navigation.nav_groups("/") == []
