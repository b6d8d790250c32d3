"""``create_account --plan --rate-deck --did NUMBER[:GROUP] --extension``: all or nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import DID, AccountPlan, AccountRating, Extension, RateDeck
from billing.selectors.plans import billing_period, plan_for_account
from portal.models import Account, User
from tests.billing.call_factories import DIDFactory

pytestmark = pytest.mark.django_db
BASE = ("--email", "owner@clinic.example", "--name", "Clinic", "--no-invite")


def run(*args: str) -> Account:
    out = StringIO()
    call_command("create_account", *BASE, *args, stdout=out)
    return Account.objects.get(code=out.getvalue().strip())


def assert_nothing_created() -> None:
    assert not Account.objects.filter(name="Clinic").exists()
    assert not User.objects.filter(email="owner@clinic.example").exists()
    assert not AccountPlan.objects.exists()
    assert not DID.objects.exists() and not Extension.objects.exists()


def test_plan_deck_dids_and_extensions() -> None:
    RateDeck.objects.create(name="Wholesale")
    account = run(
        "--plan",
        "Starter",
        "--rate-deck",
        "Wholesale",
        "--did",
        "+1 (202) 555-0123",
        "--did",
        "+14065550100:USA PN Group A",
        "--did",
        "+442071234567:International (200 min cap)",
        "--extension",
        "101",
        "--extension",
        "102",
        "--credit",
        "25",
    )
    now = timezone.now()
    plan = plan_for_account(account=account, at=now)
    assert plan is not None and plan.name == "Starter"
    assert AccountPlan.objects.get(account=account).starts_at == (
        billing_period(account=account, at=now).start
    )
    assert AccountRating.objects.get(account=account).rate_deck.name == "Wholesale"
    dids = {d.number: d.group.name for d in DID.objects.filter(account=account)}
    assert dids == {
        "+12025550123": "USA standard",
        "+14065550100": "USA PN Group A",
        "+442071234567": "International (200 min cap)",
    }
    assert sorted(account.extensions.values_list("number", flat=True)) == ["101", "102"]
    account.refresh_from_db()
    assert str(account.balance) == "25.0000"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plan", "Platinum"), "no active plan 'Platinum'"),
        (("--rate-deck", "Nope"), "no rate deck 'Nope'"),
        (("--did", "not-a-number"), "--did not-a-number"),
        (("--did", "+12025550123:No Such Group"), "no DID group 'No Such Group'"),
        (("--did", "+442071234567"), "name its DID group"),
        (("--extension", "1"), "2 to 8 digits"),
        (("--extension", "10a"), "2 to 8 digits"),
        # A good option followed by a bad one: the good one is rolled back too.
        (("--plan", "Starter", "--did", "+12025550123", "--extension", "x"), "--extension"),
    ],
)
def test_bad_values_create_nothing(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert_nothing_created()


def test_a_did_of_another_account_is_refused(account) -> None:
    DIDFactory(account=account, number="+12025550123")
    with pytest.raises(CommandError, match="already belongs to an account"):
        run("--did", "+12025550123")
    assert_nothing_created_but(account)


def assert_nothing_created_but(existing: Account) -> None:
    assert list(Account.objects.all()) == [existing]
    assert DID.objects.get().account == existing
