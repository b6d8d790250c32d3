"""The dashboard's included-minutes meter."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from billing.models import ServicePlan, UsageCounter
from billing.selectors.plans import billing_period
from billing.services.plans import account_plan_set

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_meter_shows_used_and_left_with_the_reset_date(customer_client: Client, account) -> None:
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=NOW)
    period = billing_period(account=account, at=NOW)
    UsageCounter.objects.create(
        account=account, period_start=period.start, included_seconds_used=312 * 60
    )
    html = " ".join(customer_client.get("/dashboard/").content.decode().split())
    assert "Included minutes" in html
    assert '188 <span class="stat-sub">of 500 left</span>' in html
    assert "312 used since Nov 1 · resets on Dec 1" in html
    assert 'style="width:62%"' in html


@time_machine.travel(NOW, tick=False)
def test_meter_when_all_minutes_are_used(customer_client: Client, account) -> None:
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=NOW)
    period = billing_period(account=account, at=NOW)
    UsageCounter.objects.create(
        account=account, period_start=period.start, included_seconds_used=500 * 60
    )
    html = " ".join(customer_client.get("/dashboard/").content.decode().split())
    assert '0 <span class="stat-sub">of 500 left</span>' in html
    assert "now cost $0.0250/min until the reset" in html
    assert 'class="meter over"' in html


def test_account_without_a_plan(customer_client: Client) -> None:
    html = customer_client.get("/dashboard/").content.decode()
    assert "No included minutes on this account" in html
