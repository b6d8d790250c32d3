"""Demo data: every FAQ case on the Calls page and the meter, the balance's deposits; idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.models import Call, LedgerEntry
from billing.selectors.usage import minutes_summary
from portal import demo
from portal.models import Account

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


def test_demo_month_shows_every_case_and_runs_twice_without_change() -> None:
    account = demo.seed(now=NOW)
    calls = Call.objects.filter(account=account)
    categories = set(calls.values_list("category", flat=True))
    assert categories == {"included", "overage", "rated", "did_rate", "on_net", "unanswered"}
    straddle = calls.get(category="overage", included_seconds__gt=0)
    assert (straddle.included_seconds, straddle.paid_seconds) == (360, 300)
    assert straddle.charge == Decimal("0.1250")
    assert "Cyprus" in calls.get(to_number="+35722123456").explanation
    assert calls.filter(did__number="+14065550187", category="did_rate").count() == 2
    assert not calls.filter(started_at__gte=NOW).exists()
    summary = minutes_summary(account=account, now=NOW)
    assert (summary.used_minutes, summary.left_minutes) == (500, 0)
    assert all(c.period_start == summary.period.start for c in calls)
    charges = calls.aggregate(s=Sum("charge"))["s"]
    posted = LedgerEntry.objects.filter(account=account, kind="call").aggregate(s=Sum("amount"))
    assert posted["s"] == -charges

    account.refresh_from_db()
    count, balance = calls.count(), account.balance
    account = demo.seed(now=NOW + dt.timedelta(hours=2))
    account.refresh_from_db()
    assert calls.count() == count
    assert account.balance == balance


def test_demo_data_is_seeded_once(db: None) -> None:
    from django.core.management import call_command

    from portal import demo

    call_command("seed_demo")
    call_command("seed_demo")
    account = Account.objects.get(code=demo.DEMO_CODE)
    deposits = LedgerEntry.objects.filter(account=account, kind__in=["deposit", "auto_recharge"])
    assert deposits.count() == 3
    assert sum(e.amount for e in deposits) == Decimal("100")
