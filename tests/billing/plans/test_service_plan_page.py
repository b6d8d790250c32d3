"""The Service Plan page: plan and price, minutes, recurring charges and next bill, included
destinations, this month's forecast, and switching plan from the next billing month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from billing.models import AccountPlan, LedgerEntry, ServicePlan, UsageCounter
from billing.selectors.plans import billing_period, plan_for_account
from billing.selectors.service_plan import bill_forecast
from billing.services.ledger import ledger_post
from billing.services.plans import account_plan_set
from portal.models import User
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)  # Nov 24, 12:00 in New York
URL = "/service-plan/"


def _text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def starter() -> ServicePlan:
    return ServicePlan.objects.get(name="Starter")


@pytest.fixture
def pro() -> ServicePlan:
    return ServicePlan.objects.create(
        name="Pro",
        monthly_price=Decimal("49.9900"),
        included_minutes=2000,
        overage_rate=Decimal("0.0200"),
        is_public=True,
    )


@pytest.fixture
def on_starter(account, starter):
    account_plan_set(account=account, plan=starter, now=NOW)
    return account


def _charge_call(account, amount: str, at: dt.datetime, key: str) -> None:
    ledger_post(
        account=account,
        amount=-Decimal(amount),
        kind=LedgerEntry.Kind.CALL,
        description="call",
        idempotency_key=key,
        now=at,
    )


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_plan_its_minutes_and_the_monthly_charges(
    customer_client: Client, on_starter
) -> None:
    period = billing_period(account=on_starter, at=NOW)
    UsageCounter.objects.create(
        account=on_starter, period_start=period.start, included_seconds_used=312 * 60
    )
    response = customer_client.get(URL)
    assert response.status_code == 200
    html = _text(response)
    assert 'data-testid="plan-name">Starter<' in html
    assert "$19.99</strong> per month" in html
    assert '188 <span class="stat-sub">of 500 left</span>' in html
    assert "312 used since Nov 1 · resets on Dec 1" in html
    assert 'role="meter"' in html and 'style="width:62%"' in html
    assert '<td data-label="Charge">Starter plan</td>' in html
    assert 'data-testid="recurring-total">$19.99<' in html
    assert 'data-testid="next-bill-date">Dec 1, 2026<' in html


@time_machine.travel(NOW, tick=False)
def test_it_lists_the_included_destinations_and_the_pn_group_exception(
    customer_client: Client, on_starter
) -> None:
    html = _text(customer_client.get(URL))
    assert 'Germany <span class="muted small">landlines only</span>' in html
    assert 'USA <span class="muted small">landlines and mobiles</span>' in html
    assert "USA standard" in html
    assert 'International (200 min cap) <span class="muted small">up to 200 minutes' in html
    exceptions = html.split('class="exceptions"')[1].split("</p>")[0]
    for group in ("USA PN Group A", "USA PN Group B", "USA PN Group C"):
        assert group in exceptions
    assert "are not included in your plan's minutes" in exceptions
    assert "smaller cities and rural areas" in exceptions


@time_machine.travel(NOW, tick=False)
def test_the_forecast_extrapolates_usage_by_days_and_is_labelled_an_estimate(
    customer_client: Client, on_starter
) -> None:
    # Nov 1-24 in New York: 24 of 30 days elapsed; $6.00 of calls so far → $7.50 by Nov 30.
    _charge_call(on_starter, "4.00", NOW - dt.timedelta(days=3), "c1")
    _charge_call(on_starter, "2.00", NOW - dt.timedelta(hours=1), "c2")
    # A call of the previous billing month is not this month's usage.
    _charge_call(on_starter, "9.00", dt.datetime(2026, 10, 31, 12, tzinfo=dt.UTC), "c0")
    html = _text(customer_client.get(URL))
    assert "This month's bill (estimate)" in html
    assert 'data-testid="forecast">$27.49<' in html  # $19.99 + $7.50
    assert "first 24 of 30 days ($6.00 so far)" in html


@pytest.mark.parametrize(
    ("tz", "now", "elapsed"),
    [
        # 07:30 UTC on Nov 1 is still Oct 31 in Los Angeles: day 31 of October's 31 days.
        ("America/Los_Angeles", dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC), (31, 31)),
        # ... and already Nov 1 (its first day) in Auckland.
        ("Pacific/Auckland", dt.datetime(2026, 10, 31, 12, 30, tzinfo=dt.UTC), (1, 30)),
    ],
)
def test_the_forecast_counts_days_in_the_accounts_time_zone(tz, now, elapsed) -> None:
    account = AccountFactory(timezone=tz, billing_day=1)
    period = billing_period(account=account, at=now)
    _charge_call(account, "3.00", now, f"tz-{tz}")
    forecast = bill_forecast(account=account, period=period, recurring=Decimal("0"), now=now)
    assert (forecast.days_elapsed, forecast.days_in_period) == elapsed
    days, total = elapsed
    assert forecast.usage_projected == Decimal("3.00") * total / days


@time_machine.travel(NOW, tick=False)
def test_switching_plan_is_pending_until_the_next_billing_month(
    customer_client: Client, on_starter, pro
) -> None:
    response = customer_client.post(reverse("billing:service_plan_switch"), {"plan": pro.pk})
    assert response.status_code == 302
    # Nothing changes this month: still Starter, no charge.
    assert plan_for_account(account=on_starter, at=NOW).name == "Starter"
    assert not LedgerEntry.objects.filter(account=on_starter).exists()
    next_start = billing_period(account=on_starter, at=NOW).end
    assert plan_for_account(account=on_starter, at=next_start).name == "Pro"

    html = _text(customer_client.get(URL))
    assert "You will switch to the Pro plan on December 1." in html
    assert "Switch pending:" in html and "Pro plan ($49.99/month) on Dec 1, 2026" in html
    assert "Cancel the switch" in html
    assert "From Dec 1 your monthly total is <strong>$49.99</strong>" in html
    assert 'data-testid="recurring-total">$19.99<' in html  # this month is still Starter


@time_machine.travel(NOW, tick=False)
def test_a_pending_switch_can_be_cancelled_once(customer_client: Client, on_starter, pro) -> None:
    customer_client.post(reverse("billing:service_plan_switch"), {"plan": pro.pk})
    response = customer_client.post(reverse("billing:service_plan_cancel"), follow=True)
    assert "The plan switch was cancelled" in _text(response)
    assert AccountPlan.objects.filter(account=on_starter).count() == 1
    next_start = billing_period(account=on_starter, at=NOW).end
    assert plan_for_account(account=on_starter, at=next_start).name == "Starter"
    assert "Switch pending" not in _text(customer_client.get(URL))
    # A second cancel (another tab) changes nothing.
    again = customer_client.post(reverse("billing:service_plan_cancel"), follow=True)
    assert "There was no pending plan switch" in _text(again)
    assert AccountPlan.objects.filter(account=on_starter).count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_switch_takes_effect_at_the_next_billing_month(
    customer_client: Client, on_starter, pro
) -> None:
    customer_client.post(reverse("billing:service_plan_switch"), {"plan": pro.pk})
    with time_machine.travel(dt.datetime(2026, 12, 1, 5, 1, tzinfo=dt.UTC), tick=False):
        html = _text(customer_client.get(URL))
    assert 'data-testid="plan-name">Pro<' in html
    assert "Switch pending" not in html
    assert 'data-testid="recurring-total">$49.99<' in html


@pytest.mark.parametrize("value", ["", "abc", "1.5", "-1", "0", "999999"])
@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_bad_plan_choice_and_changes_nothing(
    customer_client: Client, on_starter, value: str
) -> None:
    response = customer_client.post(
        reverse("billing:service_plan_switch"), {"plan": value}, follow=True
    )
    assert response.status_code == 200
    assert "Choose" in _text(response) and "message-error" in _text(response)
    assert AccountPlan.objects.filter(account=on_starter).count() == 1


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_plan_that_is_not_offered(customer_client: Client, on_starter) -> None:
    hidden = ServicePlan.objects.create(
        name="Reseller", monthly_price="5.00", overage_rate="0.01", is_public=False
    )
    response = customer_client.post(
        reverse("billing:service_plan_switch"), {"plan": hidden.pk}, follow=True
    )
    assert "That plan is not offered" in _text(response)
    assert AccountPlan.objects.filter(account=on_starter).count() == 1


@time_machine.travel(NOW, tick=False)
def test_members_see_the_page_read_only(on_starter, pro) -> None:
    member = UserFactory(account=on_starter, role=User.Role.MEMBER)
    client = Client()
    client.force_login(member)
    html = _text(client.get(URL))
    assert "Switch to Pro" not in html
    assert "Only the account owner or a billing user can switch plans." in html
    assert client.post(reverse("billing:service_plan_switch"), {"plan": pro.pk}).status_code == 403
    account_plan_set(account=on_starter, plan=pro, now=NOW)  # the owner's switch, pending
    assert "Cancel" not in _text(client.get(URL))
    assert client.post(reverse("billing:service_plan_cancel")).status_code == 403
    assert AccountPlan.objects.filter(account=on_starter, plan=pro).exists()


@time_machine.travel(NOW, tick=False)
def test_the_public_plans_are_offered_side_by_side(
    customer_client: Client, on_starter, pro
) -> None:
    ServicePlan.objects.create(
        name="Internal", monthly_price="1.00", overage_rate="0.01", is_public=False
    )
    html = _text(customer_client.get(URL))
    assert html.count('class="plan-offer') == 2
    assert "Switch to Pro" in html and "Switch to Internal" not in html
    assert '<span class="badge badge-ok">Your plan</span>' in html


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_the_plan_and_the_next_bill_date(
    customer_client: Client, on_starter
) -> None:
    html = _text(customer_client.get("/dashboard/"))
    assert 'data-testid="dashboard-plan">Starter<' in html
    assert 'data-testid="dashboard-next-bill">Dec 1, 2026<' in html
    assert f'href="{URL}"' in html


def test_the_isolation_catalogue_covers_the_service_plan_urls() -> None:
    from tests.urlcatalog import POST_ONLY, control_center_urls

    names = {url.name for url in control_center_urls()}
    assert {
        "billing:service_plan",
        "billing:service_plan_switch",
        "billing:service_plan_cancel",
    } <= names
    assert {"billing:service_plan_switch", "billing:service_plan_cancel"} <= POST_ONLY
