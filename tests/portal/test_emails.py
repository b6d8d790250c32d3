"""Every e-mail is the provider's: the subject carries SITE_NAME, the greeting and sign-off name
it and the support contact, and every link is built from SITE_URL, whatever host the request
that sent it came in on (allauth's sign-up confirmation and password reset, and our own)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sites.models import Site
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.services.auto_recharge import auto_recharge_configure
from billing.services.ledger import ledger_post
from portal import people
from portal.site import site_sync
from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://voice.acme.example"
LINK = re.compile(r"https?://[^\s]+")
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


@pytest.fixture
def provider(settings):
    settings.SITE_NAME = "Acme Voice"
    settings.SITE_URL = SITE
    settings.SUPPORT_EMAIL = "help@acme.example"
    settings.SUPPORT_URL = "https://acme.example/support"
    return settings


def assert_the_providers(message: mail.EmailMessage) -> list[str]:
    """The subject, greeting-free sign-off and links of one e-mail; returns its links."""
    body = str(message.body)
    assert message.subject.startswith("[Acme Voice] "), message.subject
    assert "— Acme Voice" in body
    assert "help@acme.example" in body and "https://acme.example/support" in body
    assert "example.com" not in body and ":8000" not in body and "testserver" not in body
    links = [link for link in LINK.findall(body) if "acme.example/support" not in link]
    assert links, body
    assert all(link.startswith(f"{SITE}/") for link in links), links
    return links


def test_it_sends_the_signup_confirmation_as_the_provider(client: Client, provider) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "email": "founder@clinic.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "account_name": "Riverside Clinic",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 302
    [message] = mail.outbox
    links = assert_the_providers(message)
    body = str(message.body)
    assert body.startswith("Hello from Acme Voice,")
    assert "Please confirm that founder@clinic.test is your e-mail address for Acme Voice." in body
    assert "for user" not in body
    assert links[0].startswith(f"{SITE}/accounts/confirm-email/")


def test_it_sends_the_password_reset_link_on_the_site_url(client: Client, provider) -> None:
    user = UserFactory(email="owner@clinic.test")
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    [message] = mail.outbox
    links = assert_the_providers(message)
    assert str(message.body).startswith("Hello from Acme Voice,")
    assert re.match(rf"{re.escape(SITE)}/accounts/password/reset/key/[\w-]+/$", links[0])


def test_it_sends_the_invitation_as_the_provider(provider, django_capture_on_commit_callbacks):
    owner = UserFactory(email="owner@clinic.test")
    with django_capture_on_commit_callbacks(execute=True):
        people.invitation_create(
            account=owner.account,
            actor=owner,
            email="new@clinic.test",
            role="member",
            now=timezone.now(),
        )
    [message] = mail.outbox
    links = assert_the_providers(message)
    assert message.subject == f"[Acme Voice] owner@clinic.test invited you to {owner.account.name}"
    assert "in Acme Voice, as Member" in str(message.body)
    assert links[0].startswith(f"{SITE}/invitations/")


def test_it_sends_the_low_balance_alert_as_the_provider(
    provider, django_capture_on_commit_callbacks
) -> None:
    account = AccountFactory()
    UserFactory(account=account, email="owner@clinic.test")
    now = timezone.now()
    ledger_post(
        account=account,
        amount=Decimal("10"),
        kind="adjustment",
        description="Credit",
        idempotency_key="start",
        now=now,
    )
    auto_recharge_configure(
        account=account,
        enabled=False,
        threshold=Decimal("0"),
        amount=Decimal("25"),
        low_balance_threshold=Decimal("5"),
        now=now,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ledger_post(
            account=account,
            amount=Decimal("-6"),
            kind="call",
            description="Call",
            idempotency_key="call",
            now=now,
        )
    [message] = [m for m in mail.outbox if "balance is low" in m.subject]
    links = assert_the_providers(message)
    assert message.subject == "[Acme Voice] Your balance is low: $4.00"
    assert links[0] == f"{SITE}{reverse('billing:per_minute')}"


@pytest.mark.parametrize(
    "template",
    sorted(
        str(p.relative_to(TEMPLATES))
        for folder in ("billing/email", "portal/email", "account/email")
        for p in (TEMPLATES / folder).glob("*.txt")
        if not p.name.startswith("_") and not p.name.endswith("_subject.txt")
    ),
)
def test_every_email_template_signs_off_as_the_provider(template: str) -> None:
    # No e-mail names a provider of its own: each ends with the shared sign-off (or extends
    # allauth's base message, which does), so SITE_NAME and the support contact are in all.
    text = (TEMPLATES / template).read_text()
    assert "{% mail_signature" in text or 'extends "account/email/base_message.txt"' in text
    assert "Control Center" not in text
    assert "SITE_URL" not in text and "example.com" not in text


def test_the_site_row_follows_the_settings(provider) -> None:
    site_sync()
    site = Site.objects.get_current()
    assert (site.name, site.domain) == ("Acme Voice", "voice.acme.example")


def test_migrate_left_the_site_row_as_the_settings_say() -> None:
    site = Site.objects.get(pk=django_settings.SITE_ID)
    assert site.name == django_settings.SITE_NAME
    assert site.domain != "example.com"
