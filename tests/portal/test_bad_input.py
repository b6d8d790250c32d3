"""NUL characters, lone surrogates and huge values in the portal's own forms (sign-up, account
settings, login): a form error, never a 500, nothing created or changed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.models import Account, User
from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

# A browser cannot send a lone surrogate as a form value; invalid UTF-8 is tested raw below.
NASTY = ["Acme\x00Dental", "x" * 100_000, "\x00", "\x00" * 5000]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["email", "password1", "account_name", "timezone"])
def test_sign_up_refuses_nasty_input(field: str, value: str) -> None:
    data = {
        "email": "founder@clinic.example",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "account_name": "Riverside Clinic",
        "timezone": "Europe/London",
        field: value,
    }
    response = Client().post(reverse("account_signup"), data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not Account.objects.exists()
    assert not User.objects.exists()


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("field", ["name", "timezone"])
def test_account_settings_refuse_nasty_input(field: str, value: str) -> None:
    account = AccountFactory(name="Old Name Ltd", timezone="America/New_York")
    client = Client()
    client.force_login(UserFactory(account=account))
    data = {"name": "New Name", "timezone": "Europe/London", field: value}
    response = client.post(reverse("portal:account_settings"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Old Name Ltd", "America/New_York")


@pytest.mark.parametrize("value", NASTY)
def test_login_refuses_nasty_input(value: str) -> None:
    response = Client().post(reverse("account_login"), {"login": value, "password": value})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


def test_account_settings_refuse_invalid_utf8() -> None:
    account = AccountFactory(name="Old Name Ltd", timezone="America/New_York")
    client = Client()
    client.force_login(UserFactory(account=account))
    raw = "name=%ED%A0%80%00&timezone=Europe%2FLondon%00"  # a UTF-8-encoded surrogate, and NUL
    response = client.post(
        reverse("portal:account_settings"), raw, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Old Name Ltd", "America/New_York")
