"""Sign-up, e-mail verification, login, rate limiting and password reset through allauth's views."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from portal.models import Account, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-anchor-lantern-42"
LINK = re.compile(r"https?://[^\s]+")


def _links(message: mail.EmailMessage) -> list[str]:
    return LINK.findall(str(message.body))


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def _sign_up(client: Client, email: str = "founder@clinic.example") -> Any:
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "account_name": "Riverside Clinic",
            "timezone": "Europe/London",
        },
    )


def _is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_signup_form_asks_for_company_and_time_zone(client: Client) -> None:
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    for field in ("email", "password1", "password2", "account_name", "timezone"):
        assert f'name="{field}"' in response.content.decode()


def test_signup_verify_and_land_on_dashboard(client: Client) -> None:
    response = _sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _is_logged_in(client)

    user = User.objects.get(email="founder@clinic.example")
    account = Account.objects.get(name="Riverside Clinic")
    assert user.account == account
    assert user.role == User.Role.OWNER
    assert account.timezone == "Europe/London"
    assert account.status == Account.Status.ACTIVE
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["founder@clinic.example"]
    confirm = [link for link in _links(message) if "/confirm-email/" in link]
    assert len(confirm) == 1, message.body

    # ACCOUNT_CONFIRM_EMAIL_ON_GET is False: GET shows a button, POST confirms.
    page = client.get(_path(confirm[0]))
    assert page.status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(_path(confirm[0]))
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert _is_logged_in(client)

    dashboard = client.get(response["Location"], follow=True)
    assert dashboard.status_code == 200
    assert dashboard.request["PATH_INFO"] == reverse("portal:dashboard")
    html = dashboard.content.decode()
    assert "Riverside Clinic" in html
    assert account.code in html


def test_signup_needs_a_company_name(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "email": "x@clinic.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "account_name": "",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["account_name"]
    assert not User.objects.filter(email="x@clinic.example").exists()
    assert Account.objects.count() == 0
    assert mail.outbox == []


def test_unverified_user_cannot_log_in_or_reach_the_dashboard(client: Client) -> None:
    _sign_up(client, "unverified@clinic.example")
    mail.outbox.clear()
    other = Client()
    response = _login(other, "unverified@clinic.example", PASSWORD)
    # allauth refuses the session and re-sends the verification mail instead.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _is_logged_in(other)
    dashboard = other.get(reverse("portal:dashboard"))
    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith(reverse("account_login"))


def test_verified_user_logs_in_with_email_and_password(client: Client) -> None:
    user = UserFactory(email="ok@clinic.example")
    response = _login(client, "OK@clinic.example", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_is_an_error_and_not_a_login(client: Client) -> None:
    UserFactory(email="ok@clinic.example")
    response = _login(client, "ok@clinic.example", "not-the-password")
    assert response.status_code == 200
    assert not _is_logged_in(client)
    errors = response.context["form"].non_field_errors()
    assert any("not correct" in error for error in errors), errors


def test_repeated_failed_logins_are_rate_limited(client: Client) -> None:
    UserFactory(email="target@clinic.example")
    # "5/5m/key": five failures for one e-mail address are allowed, the sixth attempt is refused.
    for _ in range(5):
        response = _login(client, "target@clinic.example", "guess-guess-guess")
        assert response.status_code == 200
        assert "Too many failed login attempts" not in response.content.decode()
    response = _login(client, "target@clinic.example", "guess-guess-guess")
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = _login(client, "target@clinic.example", PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()
    assert not _is_logged_in(client)


def test_failed_login_limit_per_ip_blocks_other_addresses_too(client: Client) -> None:
    UserFactory(email="victim@clinic.example")
    # "10/m/ip": ten failures from one address, spread over e-mails so the per-key limit is
    # not what stops them.
    for n in range(10):
        response = _login(client, f"nobody{n}@clinic.example", "guess-guess-guess")
        assert "Too many failed login attempts" not in response.content.decode()
    response = _login(client, "victim@clinic.example", PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()
    assert not _is_logged_in(client)


def test_password_reset_sets_a_new_password(client: Client) -> None:
    UserFactory(email="forgetful@clinic.example")
    response = client.post(reverse("account_reset_password"), {"email": "forgetful@clinic.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    links = [link for link in _links(mail.outbox[0]) if "/password/reset/key/" in link]
    assert len(links) == 1, mail.outbox[0].body

    # allauth moves the key into the session and redirects to a key-less URL.
    response = client.get(_path(links[0]), follow=True)
    assert response.status_code == 200
    form_url = response.request["PATH_INFO"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")

    assert _login(Client(), "forgetful@clinic.example", PASSWORD).status_code == 200
    fresh = Client()
    response = _login(fresh, "forgetful@clinic.example", NEW_PASSWORD)
    assert response.status_code == 302
    assert _is_logged_in(fresh)


def test_password_reset_link_works_only_once(client: Client) -> None:
    UserFactory(email="forgetful@clinic.example")
    client.post(reverse("account_reset_password"), {"email": "forgetful@clinic.example"})
    link = next(link for link in _links(mail.outbox[0]) if "/password/reset/key/" in link)
    response = client.get(_path(link), follow=True)
    client.post(
        response.request["PATH_INFO"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    again = Client().get(_path(link), follow=True)
    assert "password1" not in again.content.decode()
    assert "invalid" in again.content.decode().lower()
