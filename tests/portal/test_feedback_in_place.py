"""Account settings: each form's message is shown in its own section, which the redirect
scrolls to; a message that belongs to no section stays at the top of the page."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.feedback import section_message, section_of
from portal.models import Account, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def section_html(html: str, section: str) -> str:
    match = re.search(rf'<section[^>]*id="{section}".*?</section>', html, re.S)
    assert match, f"no section #{section}"
    return match.group(0)


def test_it_reads_the_section_from_the_message_tags() -> None:
    assert section_of("at-people") == "people"
    assert section_of("safe at-auto-recharge") == "auto-recharge"
    assert section_of("") == "" and section_of(None) == ""


def test_it_shows_saved_settings_in_the_settings_section(
    account: Account, customer_client: Client
) -> None:
    url = reverse("portal:account_settings")
    response = customer_client.post(url, {"name": "Renamed Dental", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}#settings"
    html = customer_client.get(url).content.decode()
    assert "Account settings saved." in section_html(html, "settings")
    assert "Account settings saved." not in html.split('<div class="page-header">', 1)[0]
    assert "Account settings saved." not in section_html(html, "people")


def test_it_shows_people_changes_in_the_people_section(
    account: Account, customer_client: Client
) -> None:
    member = UserFactory(account=account, role=User.Role.MEMBER)
    url = reverse("portal:account_settings")
    response = customer_client.post(
        reverse("portal:people_role", args=[member.pk]), {"role": User.Role.BILLING}
    )
    assert response["Location"] == f"{url}#people"
    html = customer_client.get(url).content.decode()
    assert f"{member.email} is now Billing." in section_html(html, "people")
    assert "is now Billing" not in section_html(html, "settings")


def test_a_page_wide_message_stays_at_the_top(account: Account, customer_client: Client) -> None:
    # A message that belongs to no section is shown above the page, once.
    response = customer_client.post(reverse("billing:service_plan_cancel"), follow=True)
    html = response.content.decode()
    top = html.split('<div class="page-header">', 1)[0]
    assert "There was no pending plan switch." in top
    assert html.count("There was no pending plan switch.") == 1
    assert "section-messages" not in html


def test_section_message_tags_the_message(rf: RequestFactory) -> None:
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    section_message(request, messages.SUCCESS, "Saved.", section="people")
    [message] = list(messages.get_messages(request))
    assert message.extra_tags == "at-people" and message.level == messages.SUCCESS
