"""Account settings: the owner changes the company name and time zone; members cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.models import Account, User
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("portal:account_settings")


@pytest.fixture
def account():
    return AccountFactory(name="Old Name Ltd", timezone="America/New_York")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_shows_the_form_and_the_people(account: Account) -> None:
    owner = UserFactory(account=account, email="owner@old.example")
    UserFactory(account=account, email="member@old.example", role=User.Role.MEMBER)
    UserFactory(email="stranger@other.example")
    response = _client(owner).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Old Name Ltd"' in html
    assert "owner@old.example" in html and "member@old.example" in html
    assert "stranger@other.example" not in html


def test_owner_changes_name_and_time_zone(account: Account) -> None:
    owner = UserFactory(account=account)
    client = _client(owner)
    response = client.post(URL, {"name": "  New Name LLC ", "timezone": "Europe/London"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "New Name LLC"
    assert account.timezone == "Europe/London"
    page = client.get(response["Location"]).content.decode()
    assert "Account settings saved." in page
    assert "New Name LLC" in page


def test_member_cannot_change_settings(account: Account) -> None:
    member = UserFactory(account=account, role=User.Role.MEMBER)
    response = _client(member).post(URL, {"name": "Hijacked", "timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert "Only the account owner can change these settings." in response.content.decode()
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Old Name Ltd", "America/New_York")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "timezone": "Europe/London"}, "name"),
        ({"name": "New", "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"name": "x" * 201, "timezone": "Europe/London"}, "name"),
    ],
)
def test_bad_input_shows_a_message_and_changes_nothing(
    account: Account, data: dict[str, str], field: str
) -> None:
    owner = UserFactory(account=account)
    response = _client(owner).post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="errorlist' in response.content.decode()
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Old Name Ltd", "America/New_York")


def test_blank_name_after_trimming_is_refused(account: Account) -> None:
    owner = UserFactory(account=account)
    response = _client(owner).post(URL, {"name": "   ", "timezone": "Europe/London"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.name == "Old Name Ltd"


def test_owner_cannot_change_another_account(account: Account) -> None:
    other = AccountFactory(name="Other Co")
    owner = UserFactory(account=account)
    _client(owner).post(URL, {"name": "Renamed", "timezone": "Europe/London"})
    other.refresh_from_db()
    assert other.name == "Other Co"
