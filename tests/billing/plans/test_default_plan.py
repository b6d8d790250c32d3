"""New accounts start on the default plan (and its rate deck); plan names ignore case."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import AccountPlan, ServicePlan
from billing.selectors.plans import billing_period, plan_for_account
from billing.selectors.pricing import price_lookup
from portal.models import Account
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
BASE = ("--email", "owner@clinic.example", "--name", "Clinic", "--no-invite")


def _create_account(*args: str) -> Account:
    out = StringIO()
    call_command("create_account", *BASE, *args, stdout=out)
    return Account.objects.get(code=out.getvalue().strip())


def _sign_up(client: Client) -> Account:
    response = client.post(
        reverse("account_signup"),
        {
            "email": "founder@clinic.example",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "account_name": "Riverside Clinic",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Account.objects.get(name="Riverside Clinic")


def test_starter_is_the_public_default_plan_after_migrating() -> None:
    starter = ServicePlan.objects.get(name="Starter")
    assert starter.is_public and starter.is_default


def test_it_refuses_a_second_default_plan() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePlan.objects.create(
            name="Pro", monthly_price="49.99", overage_rate="0.02", is_default=True
        )


def test_a_new_sign_up_starts_on_the_default_plan_and_can_price_germany(client: Client) -> None:
    account = _sign_up(client)
    now = timezone.now()
    plan = plan_for_account(account=account, at=now)
    assert plan is not None and plan.name == "Starter"
    # From the start of the current billing month: the new customer can call today.
    row = AccountPlan.objects.get(account=account)
    assert row.starts_at == billing_period(account=account, at=now).start

    quote = price_lookup(account=account, number="+49 30 1234567", now=now)
    assert quote.included
    assert quote.destination.startswith("Germany")


def test_the_rate_lookup_page_prices_germany_for_a_new_sign_up(client: Client) -> None:
    account = _sign_up(client)
    client.force_login(account.users.get())
    html = client.get(reverse("billing:rate_lookup"), {"number": "+49 30 1234567"}).content
    text = html.decode()
    assert "We have no rate for this number" not in text
    assert "Included in your plan" in text


def test_sign_up_without_a_default_plan_creates_an_account_without_one(client: Client) -> None:
    ServicePlan.objects.update(is_default=False)
    account = _sign_up(client)
    assert not AccountPlan.objects.filter(account=account).exists()


def test_create_account_without_plan_gets_the_default_plan() -> None:
    account = _create_account()
    plan = plan_for_account(account=account, at=timezone.now())
    assert plan is not None and plan.name == "Starter"


def test_create_account_gets_whichever_plan_staff_made_the_default() -> None:
    ServicePlan.objects.update(is_default=False)
    ServicePlan.objects.create(
        name="Pro", monthly_price="49.99", overage_rate="0.02", is_default=True
    )
    account = _create_account()
    plan = plan_for_account(account=account, at=timezone.now())
    assert plan is not None and plan.name == "Pro"


@pytest.mark.parametrize("name", ["starter", "STARTER", " Starter "])
def test_create_account_plan_names_ignore_case(name: str) -> None:
    account = _create_account("--plan", name)
    plan = plan_for_account(account=account, at=timezone.now())
    assert plan is not None and plan.name == "Starter"


def test_an_explicit_plan_is_not_overridden_by_the_default() -> None:
    ServicePlan.objects.create(name="Pro", monthly_price="49.99", overage_rate="0.02")
    account = _create_account("--plan", "pro")
    assert AccountPlan.objects.filter(account=account).count() == 1
    plan = plan_for_account(account=account, at=timezone.now())
    assert plan is not None and plan.name == "Pro"
