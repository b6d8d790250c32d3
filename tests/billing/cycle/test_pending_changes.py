"""The cycle with the real providers: a plan switch and a trunk decrease made during a month
take effect at the next period start, and that period's charges are the new ones, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from billing.defaults import install_defaults
from billing.models import ClosedPeriod, LedgerEntry, ServicePlan
from billing.selectors.plans import plan_for_account
from billing.services.cycle import billing_cycle_run_account
from billing.services.ledger import ledger_post
from billing.services.plans import account_plan_set
from tests.billing.cycle.conftest import account_created_at
from trunking.defaults import install_channel_defaults
from trunking.models import Trunk
from trunking.services.trunks import channels_change

pytestmark = pytest.mark.django_db

SIGNUP = dt.datetime(2028, 1, 10, 12, 0, tzinfo=dt.UTC)
MID_JANUARY = dt.datetime(2028, 1, 20, 9, 0, tzinfo=dt.UTC)
FEB_1 = dt.datetime(2028, 2, 1, 0, 15, tzinfo=dt.UTC)
FEB_START = "2028-02-01T00:00:00+00:00"


@pytest.fixture
def account():
    install_defaults(apps)  # a flushing test before this one may have removed the seeded data
    install_channel_defaults(apps)
    account = account_created_at(SIGNUP, timezone="UTC", billing_day=1)
    ledger_post(
        account=account,
        amount=Decimal("500"),
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description="Opening credit",
        idempotency_key=f"test-credit:{account.pk}",
        now=SIGNUP,
    )
    account_plan_set(account=account, plan=ServicePlan.objects.get(name="Starter"), now=SIGNUP)
    channels_change(
        account=account,
        user=None,
        counts={"outbound": 0, "inbound": 0, "two_way": 3},
        version=0,
        now=SIGNUP,
    )
    billing_cycle_run_account(account_id=account.pk, now=SIGNUP)  # the scan sees it sign up
    return account


def test_a_plan_switch_and_a_trunk_decrease_are_billed_from_the_next_period(account) -> None:
    pro = ServicePlan.objects.create(
        name="Pro",
        monthly_price=Decimal("49.99"),
        included_minutes=2000,
        overage_rate=Decimal("0.0200"),
        is_public=True,
    )
    account_plan_set(account=account, plan=pro, now=MID_JANUARY)
    trunk = Trunk.objects.get(account=account)
    channels_change(
        account=account,
        user=None,
        counts={"outbound": 0, "inbound": 0, "two_way": 1},
        version=trunk.version,
        now=MID_JANUARY,
    )
    # Still January: the old plan and three channels.
    assert plan_for_account(account=account, at=MID_JANUARY).name == "Starter"
    assert Trunk.objects.get(account=account).two_way == 3

    billing_cycle_run_account(account_id=account.pk, now=FEB_1)
    billing_cycle_run_account(account_id=account.pk, now=FEB_1 + dt.timedelta(hours=1))

    february = LedgerEntry.objects.filter(account=account, idempotency_key__startswith="cycle:")
    charges = {entry.idempotency_key: entry for entry in february}
    plan = charges.pop(f"cycle:{account.pk}:plan:{FEB_START}")
    trunk_line = charges.pop(f"cycle:{account.pk}:trunk:two_way:{FEB_START}")
    assert charges == {}  # nothing else, and nothing twice
    assert (plan.kind, plan.amount) == (LedgerEntry.Kind.PLAN_FEE, Decimal("-49.9900"))
    assert plan.description.startswith("Pro plan")
    assert (trunk_line.kind, trunk_line.amount) == (LedgerEntry.Kind.TRUNK_FEE, Decimal("-12.0000"))
    assert trunk_line.description.startswith("1 two-way channel × $12.00")
    # The period opened with the decrease applied to the stored counts, and it is recorded.
    assert Trunk.objects.get(account=account).two_way == 1
    assert ClosedPeriod.objects.filter(account=account).count() == 1
