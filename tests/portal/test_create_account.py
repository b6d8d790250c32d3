"""``manage.py create_account``: staff scripting of a new customer and its owner."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from portal.models import Account, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "harbor-lantern-velvet-88"


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_account", *args, stdout=out)
    return out.getvalue().strip()


def test_creates_account_and_owner_and_prints_the_code() -> None:
    code = _run("--email", "Boss@Dental.example", "--name", "Smile Dental", "--billing-day", "15")
    account = Account.objects.get(code=code)
    assert re.fullmatch(r"CC\d{7}", code)
    assert account.name == "Smile Dental"
    assert account.billing_day == 15
    assert account.timezone == "America/New_York"  # DEFAULT_ACCOUNT_TIMEZONE
    assert account.status == Account.Status.ACTIVE
    owner = User.objects.get(account=account)
    assert owner.email == "boss@dental.example"
    assert owner.role == User.Role.OWNER
    assert not owner.has_usable_password()
    assert not owner.is_staff
    assert EmailAddress.objects.get(user=owner).verified


def test_invitation_link_sets_a_password_that_logs_in() -> None:
    _run("--email", "boss@dental.example", "--name", "Smile Dental")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@dental.example"]
    match = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", str(message.body))
    assert match, message.body
    client = Client()
    page = client.get(re.sub(r"^https?://[^/]+", "", match.group(0)), follow=True)
    assert page.status_code == 200
    assert 'name="password1"' in page.content.decode()
    response = client.post(
        page.request["PATH_INFO"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302

    fresh = Client()
    response = fresh.post(
        reverse("account_login"), {"login": "boss@dental.example", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert "Smile Dental" in fresh.get(reverse("portal:dashboard")).content.decode()


def test_no_invite_sends_nothing() -> None:
    _run("--email", "quiet@dental.example", "--name", "Quiet Dental", "--no-invite")
    assert mail.outbox == []
    assert User.objects.filter(email="quiet@dental.example").exists()


def test_billing_day_as_a_start_date_takes_its_day() -> None:
    code = _run("--email", "a@b.example", "--name", "Month End Ltd", "--billing-day", "2026-01-31")
    assert Account.objects.get(code=code).billing_day == 31


def test_time_zone_and_explicit_code() -> None:
    code = _run(
        "--email", "a@b.example", "--name", "London Ltd", "--timezone", "Europe/London",
        "--code", "LDN00001",
    )  # fmt: skip
    assert code == "LDN00001"
    assert Account.objects.get(code="LDN00001").timezone == "Europe/London"


@time_machine.travel(dt.datetime(2027, 3, 1, 3, 0, tzinfo=dt.UTC), tick=False)
def test_default_billing_day_is_today_in_the_accounts_time_zone() -> None:
    # 03:00 UTC on 1 March is still 28 February in Los Angeles.
    code = _run("--email", "a@b.example", "--name", "West Ltd", "--timezone", "America/Los_Angeles")
    assert Account.objects.get(code=code).billing_day == 28


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Mars/Olympus_Mons"], "Unknown time zone"),
        (["--billing-day", "32"], "between 1 and 31"),
        (["--billing-day", "0"], "between 1 and 31"),
        (["--billing-day", "soon"], "not a day"),
        (["--name", "   "], "needs a name"),
    ],
)
def test_bad_input_is_a_command_error_and_creates_nothing(args: list[str], message: str) -> None:
    base = {"--email": "bad@b.example", "--name": "Bad Input Ltd"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    with pytest.raises(CommandError, match=message):
        _run(*[item for pair in base.items() for item in pair])
    assert Account.objects.count() == 0
    assert User.objects.count() == 0
    assert mail.outbox == []


def test_an_existing_email_is_refused() -> None:
    _run("--email", "dup@b.example", "--name", "First Ltd", "--no-invite")
    with pytest.raises(CommandError, match="already exists"):
        _run("--email", "DUP@b.example", "--name", "Second Ltd")
    assert list(Account.objects.values_list("name", flat=True)) == ["First Ltd"]


def test_a_taken_code_is_refused() -> None:
    _run("--email", "one@b.example", "--name", "First Ltd", "--code", "SAME0001", "--no-invite")
    with pytest.raises(CommandError, match="taken"):
        _run("--email", "two@b.example", "--name", "Second Ltd", "--code", "SAME0001")
    assert not User.objects.filter(email="two@b.example").exists()
