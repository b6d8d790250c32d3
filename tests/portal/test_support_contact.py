"""Every message that says to contact support names the support address from settings and links
it (SUPPORT_EMAIL, SUPPORT_URL): on pages, in errors and on allauth's pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.templatetags.feedback import support_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(settings):
    settings.SUPPORT_EMAIL = "help@acme.example"
    settings.SUPPORT_URL = "https://acme.example/support"
    return settings


def test_it_links_the_support_address_in_a_message(support) -> None:
    html = support_links("Contact support at help@acme.example or https://acme.example/support.")
    assert '<a href="mailto:help@acme.example">help@acme.example</a>' in html
    assert '<a href="https://acme.example/support">https://acme.example/support</a>' in html


def test_it_escapes_the_rest_of_the_message(support) -> None:
    assert support_links("<b>x</b> help@acme.example").startswith("&lt;b&gt;x&lt;/b&gt; <a ")


def test_an_unknown_destination_says_whom_to_contact(support, customer_client: Client) -> None:
    response = customer_client.get(reverse("billing:rate_lookup"), {"number": "+49 30 1234567"})
    html = response.content.decode()
    assert "We have no rate for this number" in html
    assert '<a href="mailto:help@acme.example">help@acme.example</a>' in html


@pytest.mark.parametrize(
    "url_name",
    ["account_reset_password", "account_reset_password_done", "account_email_verification_sent"],
)
def test_allauths_pages_link_support_instead_of_please_contact_us(
    support, client: Client, url_name: str
) -> None:
    html = client.get(reverse(url_name)).content.decode()
    assert "Please contact us" not in html and "contact us" not in html
    assert 'href="mailto:help@acme.example"' in html
    assert 'href="https://acme.example/support"' in html


def test_the_password_reset_ends_with_a_sign_in_link(client: Client) -> None:
    html = client.get(reverse("account_reset_password_from_key_done")).content.decode()
    assert f'href="{reverse("account_login")}"' in html
    assert "Sign in" in html


def test_the_confirmation_page_reads_like_a_person_wrote_it(client: Client) -> None:
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    from tests.factories import UserFactory

    user = UserFactory(email="maria@lakeside.test")
    address = EmailAddress.objects.filter(user=user).first() or EmailAddress.objects.create(
        user=user, email=user.email, verified=False, primary=True
    )
    address.verified = False
    address.save()
    key = EmailConfirmationHMAC(address).key
    html = client.get(reverse("account_confirm_email", args=[key])).content.decode()
    assert "Is <strong>maria@lakeside.test</strong> your e-mail address?" in html
    assert "is an email address for user" not in html
