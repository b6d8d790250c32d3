"""The pictures on the dashboard, the Service Plan page and the Calls page: server-rendered SVG
with a title, a summary and the same numbers as a table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from billing.models import LedgerEntry, ServicePlan
from billing.services.ledger import ledger_post
from billing.services.plans import account_plan_set
from tests.billing.call_factories import CallFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


def _text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


@pytest.fixture
def usage(account) -> None:
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=NOW)
    ledger_post(
        account=account,
        amount=Decimal("-19.99"),
        kind=LedgerEntry.Kind.PLAN_FEE,
        description="Starter plan",
        idempotency_key="test:plan:nov",
        now=dt.datetime(2026, 11, 1, 5, 0, tzinfo=dt.UTC),
        announce=False,
    )
    CallFactory(account=account, started_at=dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC))


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_draws_minutes_spend_and_months_with_tables(
    customer_client: Client, usage
) -> None:
    html = _text(customer_client.get("/dashboard/"))
    for key in ("dash-minutes", "dash-spend", "dash-months"):
        assert f'data-testid="chart-{key}"' in html
        assert f'aria-labelledby="{key}-title {key}-desc"' in html
    assert "Included minutes used this billing month (resets Dec 1)" in html
    assert "3 of 500 included minutes used by Nov 24; they reset on Dec 1." in html
    assert "Show as table" in html
    # The tables: the day with minutes, the day with the plan fee, the month total so far.
    assert '<th scope="row">Nov 20</th><td class="num" data-label="Included">3</td>' in html
    assert (
        '<th scope="row">Nov 1</th><td class="num" data-label="Calls and usage">$0.00</td>'
        '<td class="num" data-label="Monthly charges">$19.99</td>'
    ) in html
    assert "Nov 2026 (so far)" in html
    assert "Your monthly allowance" in html


@time_machine.travel(NOW, tick=False)
def test_the_service_plan_page_draws_the_same_pictures(customer_client: Client, usage) -> None:
    html = _text(customer_client.get("/service-plan/"))
    assert "Your usage this billing month" in html
    for key in ("plan-minutes", "plan-spend", "plan-months"):
        assert f'data-testid="chart-{key}"' in html


@time_machine.travel(NOW, tick=False)
def test_an_account_without_a_plan_gets_no_allowance_picture(customer_client: Client) -> None:
    html = _text(customer_client.get("/dashboard/"))
    assert 'data-testid="chart-dash-minutes"' not in html
    assert 'data-testid="chart-dash-spend"' in html
    assert "Spent $0.00 this billing month so far" in html


@time_machine.travel(NOW, tick=False)
def test_the_calls_page_draws_minutes_per_day_for_its_filters(
    customer_client: Client, usage
) -> None:
    html = _text(customer_client.get("/calls/"))
    assert "Billed minutes per day, Nov 1 – Nov 24" in html
    assert '<th scope="row">Nov 20</th><td class="num" data-label="Included">3</td>' in html
    html = _text(customer_client.get("/calls/?date_from=2026-11-21&date_to=2026-11-23"))
    assert "Billed minutes per day, Nov 21 – Nov 23" in html
    assert "No billed minutes on these days." in html


@time_machine.travel(NOW, tick=False)
def test_the_calls_page_draws_nothing_when_the_filter_is_wrong(
    customer_client: Client, usage
) -> None:
    html = _text(customer_client.get("/calls/?date_from=2026-11-23&date_to=2026-11-21"))
    assert "chart-calls-minutes" not in html
