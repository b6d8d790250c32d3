"""Staff reach the Django admin only through allauth's login (its MFA step and rate limits), and
in production only with TOTP on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.portal.test_deploy_check import MANAGE, _production_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(account=None, is_staff=True, is_superuser=True)


@pytest.fixture
def totp_secret(staff) -> str:
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return secret


def _current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def _reaches_admin(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_it_sends_the_admin_login_to_allauths_login_with_next(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/billing/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2Fbilling%2F"


def test_it_refuses_a_staff_password_posted_to_the_admin_login(
    client: Client, staff, totp_secret: str
) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert not _reaches_admin(client)


def test_it_asks_a_staff_user_with_totp_for_the_code_before_the_admin(
    client: Client, staff, totp_secret: str
) -> None:
    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not _reaches_admin(client)  # the password alone is not a login

    response = client.post(reverse("mfa_authenticate"), {"code": _current_code(totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert _reaches_admin(client)


def test_it_rate_limits_wrong_staff_passwords(client: Client, staff) -> None:
    login_url = reverse("account_login") + "?next=/admin/"
    answers = [
        client.post(login_url, {"login": staff.email, "password": f"wrong-{i}"}) for i in range(25)
    ]
    admin_statuses = {
        client.post("/admin/login/", {"username": staff.email, "password": "wrong"}).status_code
        for _ in range(5)
    }
    # allauth's "login_failed" limit (5 per 5 minutes per login): from the sixth try on, the
    # password is not even checked, and the right one is refused too.
    too_many = "Too many failed login attempts"
    assert [too_many in a.content.decode() for a in answers] == [False] * 5 + [True] * 20
    right = client.post(login_url, {"login": staff.email, "password": PASSWORD})
    assert too_many in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert admin_statuses == {302}  # the admin's own form never checks a password


@override_settings(STAFF_REQUIRE_MFA=True)
def test_it_sends_staff_without_totp_to_set_it_up_before_the_admin(client: Client, staff) -> None:
    client.force_login(staff)
    response = client.get("/admin/billing/", follow=True)
    assert response.status_code == 200  # no redirect loop
    assert [url for url, _ in response.redirect_chain][:2] == [
        "/admin/login/?next=/admin/billing/",
        reverse("mfa_activate_totp"),
    ]
    assert not _reaches_admin(client)


@override_settings(STAFF_REQUIRE_MFA=True)
def test_staff_with_totp_reach_the_admin_when_it_is_required(
    client: Client, staff, totp_secret: str
) -> None:
    client.force_login(staff)
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert _reaches_admin(client)


@override_settings(STAFF_REQUIRE_MFA=False)
def test_staff_without_totp_reach_the_admin_when_it_is_not_required(client: Client, staff) -> None:
    client.force_login(staff)
    assert _reaches_admin(client)


def test_a_logged_in_customer_gets_no_admin(client: Client, user) -> None:
    client.force_login(user)
    assert client.get("/admin/login/").status_code == 403
    assert not _reaches_admin(client)


def _setting_in_production(name: str, **env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            str(MANAGE),
            "shell",
            "-c",
            f"from django.conf import settings; print(settings.{name})",
        ],
        env=_production_env(REDIS_URL="redis://127.0.0.1:6379/4", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_staff_mfa_is_required_by_default_in_production() -> None:
    assert _setting_in_production("STAFF_REQUIRE_MFA") == "True"
    assert _setting_in_production("STAFF_REQUIRE_MFA", STAFF_REQUIRE_MFA="0") == "False"
