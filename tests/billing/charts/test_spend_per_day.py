"""Spend per day (usage vs monthly charges) and the last billing months' totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import LedgerEntry, ServicePlan
from billing.selectors.usage_charts import SPEND_MONTHS, spend_by_day, usage_overview
from billing.services.ledger import ledger_post
from billing.services.plans import account_plan_set
from tests.billing.call_factories import CallFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
Kind = LedgerEntry.Kind
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def _post(account, when: dt.datetime, amount: str, kind: str) -> None:
    ledger_post(
        account=account,
        amount=Decimal(amount),
        kind=kind,
        description=kind,
        idempotency_key=f"test:{kind}:{when.isoformat()}:{amount}",
        now=when,
        announce=False,
    )


def test_it_splits_each_local_days_charges_into_usage_and_monthly_charges(
    account, django_assert_num_queries
) -> None:
    _post(account, dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "100", Kind.DEPOSIT)
    _post(account, dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "-19.99", Kind.PLAN_FEE)
    _post(account, dt.datetime(2026, 11, 1, 5, 1, tzinfo=UTC), "-8.00", Kind.TRUNK_FEE)
    _post(account, dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "-0.0750", Kind.CALL)
    # 23:30 in New York on Nov 2 (04:30 UTC Nov 3): the local day is Nov 2.
    _post(account, dt.datetime(2026, 11, 3, 4, 30, tzinfo=UTC), "-0.0250", Kind.CALL)
    _post(account, dt.datetime(2026, 11, 3, 4, 31, tzinfo=UTC), "-3.00", Kind.PORT_FEE)
    _post(account, dt.datetime(2026, 11, 3, 4, 32, tzinfo=UTC), "-1.2000", Kind.PRORATION)
    _post(account, dt.datetime(2026, 11, 3, 4, 33, tzinfo=UTC), "5", Kind.ADJUSTMENT)  # not spend
    start = dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    with django_assert_num_queries(1):
        spend = spend_by_day(account=account, start=start, end=start + dt.timedelta(days=30))
    assert sorted(spend) == [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    first, second = spend[dt.date(2026, 11, 1)], spend[dt.date(2026, 11, 2)]
    assert (first.usage, first.recurring) == (Decimal("0.0750"), Decimal("27.9900"))
    assert (second.usage, second.recurring) == (Decimal("3.0250"), Decimal("1.2000"))
    assert second.total == Decimal("4.2250")


def test_the_overview_reads_minutes_and_spend_in_one_query_each(
    account, django_assert_num_queries
) -> None:
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=NOW)
    _post(account, dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "-19.99", Kind.PLAN_FEE)
    _post(account, dt.datetime(2026, 10, 1, 5, 0, tzinfo=UTC), "-19.99", Kind.PLAN_FEE)
    _post(account, dt.datetime(2026, 10, 31, 20, 0, tzinfo=UTC), "-1.50", Kind.CALL)
    _post(account, dt.datetime(2026, 6, 1, 5, 0, tzinfo=UTC), "-19.99", Kind.PLAN_FEE)
    _post(account, dt.datetime(2026, 5, 31, 5, 0, tzinfo=UTC), "-99", Kind.PLAN_FEE)  # 7th month
    CallFactory(
        account=account,
        started_at=dt.datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        included_seconds=300,
        billed_seconds=300,
    )
    CallFactory(
        account=account,
        started_at=dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        category="overage",
        included_seconds=60,
        paid_seconds=120,
        billed_seconds=180,
    )
    # The plan summary (2 queries: the plan, the minutes counter), then calls, then the ledger.
    with django_assert_num_queries(4):
        overview = usage_overview(account=account, now=NOW)
    assert overview.today == dt.date(2026, 11, 24)
    assert len(overview.days) == 24 and len(overview.spend_days) == 30
    assert len(overview.period_days) == 30
    assert overview.plan_minutes_used == 480 and overview.overage_seconds == 120
    assert len(overview.months) == SPEND_MONTHS
    assert [m.period.start_date.month for m in overview.months] == [6, 7, 8, 9, 10, 11]
    assert [m.total for m in overview.months] == [
        Decimal("19.9900"),
        0,
        0,
        0,
        Decimal("21.4900"),
        Decimal("19.9900"),
    ]
    assert [m.current for m in overview.months] == [False] * 5 + [True]
    assert overview.spend_recurring == Decimal("19.9900") and overview.spend_usage == 0


def test_a_month_without_anything_is_all_zeros(account) -> None:
    overview = usage_overview(account=account, now=NOW)
    assert all(d.total == 0 for d in overview.days)
    assert all(m.total == 0 for m in overview.months)
    assert overview.plan_minutes_used == 0
