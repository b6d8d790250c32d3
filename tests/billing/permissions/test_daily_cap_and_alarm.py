"""The daily cap across local midnight, the velocity alarm, flagged CDRs, the history of
changes and concurrent authorizations against the cap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing.models import Call, CallPermissionChange, CallPermissions
from billing.services.authorize import AuthorizeInput, AuthorizeResult, call_authorize
from billing.services.calls import call_record, call_record_batch
from billing.services.permissions import (
    call_permissions_update,
    call_velocity_check,
    fraud_hold_release,
)
from portal.models import Account
from tests.billing.rating_fixtures import NOW, cdr, set_up_account
from tests.conftest import run_in_threads
from tests.factories import AccountFactory, UserFactory

CYPRUS = "+35722123456"  # $0.06/min in the test deck


def limits(account: Account, *, now: dt.datetime = NOW, **values: object) -> None:
    current = CallPermissions.objects.filter(account=account).first()
    base: dict[str, object] = {
        "allow_low": True,
        "allow_medium": False,
        "allow_high": False,
        "countries": {},
        "price_ceiling": current.price_ceiling if current else Decimal("0.50"),
        "daily_cap": current.daily_cap if current else Decimal("50"),
    }
    base.update(values)
    call_permissions_update(account=account, actor=None, now=now, by_staff=True, **base)


def authorize(account: Account, call_id: str, now: dt.datetime) -> AuthorizeResult:
    return call_authorize(
        request=AuthorizeInput(call_id, account.code, "outbound", "101", CYPRUS), now=now
    )


@pytest.mark.django_db
def test_the_daily_cap_resets_at_local_midnight_in_auckland() -> None:
    acct = set_up_account(AccountFactory(timezone="Pacific/Auckland"), credit="50")
    limits(acct, daily_cap=Decimal("0.12"))
    # 23:58 on Nov 25 in Auckland (NZDT, UTC+13) is 10:58 UTC on Nov 25.
    before = dt.datetime(2026, 11, 25, 10, 58, tzinfo=dt.UTC)
    call_record(cdr=cdr(acct, CYPRUS, 120, start=before - dt.timedelta(minutes=3)), now=before)
    refused = authorize(acct, "nz-1", before)
    assert (refused.allowed, refused.reason) == (False, "daily_limit_reached")
    assert "2026-11-26 00:00 (Pacific/Auckland)" in refused.message
    # 00:00:01 local (11:00:01 UTC, still Nov 25 in UTC): a new day, the full cap again.
    after = dt.datetime(2026, 11, 25, 11, 0, 1, tzinfo=dt.UTC)
    allowed = authorize(acct, "nz-2", after)
    assert (allowed.allowed, allowed.max_seconds) == (True, 120)
    # One second before local midnight is still the old day.
    assert authorize(acct, "nz-3", after - dt.timedelta(seconds=2)).reason == (
        "daily_limit_reached"
    )


@pytest.mark.django_db
def test_a_cdr_for_a_call_that_should_have_been_refused_is_billed_and_flagged() -> None:
    acct = set_up_account(AccountFactory(), credit="10")
    limits(acct, price_ceiling=Decimal("0.05"))
    result = call_record(cdr=cdr(acct, CYPRUS, 60, call_id="leak-1"), now=NOW)
    assert (result.status, result.charge) == ("rated", Decimal("0.0600"))
    call = Call.objects.get(call_id="leak-1")
    assert (call.charge, call.refusal_flag) == (Decimal("0.0600"), "rate_above_limit")
    assert call.ledger_entry is not None
    limits(acct, price_ceiling=Decimal("0.50"), countries={"CY": False})
    call_record_batch(cdrs=[cdr(acct, CYPRUS, 60, call_id="leak-2")], now=NOW)
    assert Call.objects.get(call_id="leak-2").refusal_flag == "destination_not_allowed"
    limits(acct, countries={"CY": None})
    call_record(cdr=cdr(acct, CYPRUS, 60, call_id="fine"), now=NOW)
    assert Call.objects.get(call_id="fine").refusal_flag == ""


@pytest.mark.django_db
def test_a_cdr_beyond_the_daily_cap_is_flagged() -> None:
    acct = set_up_account(AccountFactory(), credit="10")
    limits(acct, daily_cap=Decimal("0.12"))
    batch = [cdr(acct, CYPRUS, 60, call_id=f"cap-{i}") for i in range(3)]
    call_record_batch(cdrs=batch, now=NOW)
    flags = [Call.objects.get(call_id=f"cap-{i}").refusal_flag for i in range(3)]
    assert flags == ["", "", "daily_limit_reached"]


@pytest.mark.django_db
def test_the_velocity_alarm_trips_once_and_clears(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.BILLING_VELOCITY_MAX_CALLS = 3
    settings.BILLING_VELOCITY_MAX_SPEND = Decimal("100")
    settings.STAFF_ALERT_EMAILS = ["noc@example.com"]
    acct = set_up_account(AccountFactory(), credit="50")
    owner = UserFactory(account=acct, role="owner")
    for i in range(3):
        call_record(cdr=cdr(acct, CYPRUS, 60, call_id=f"v-{i}"), now=NOW)
    assert call_velocity_check(account_id=acct.pk, now=NOW) is False  # 3 is not more than 3
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        # The 4th call, posted through the CDR path, trips it via the receiver and task.
        call_record(cdr=cdr(acct, CYPRUS, 60, call_id="v-3"), now=NOW)
    held = CallPermissions.objects.get(account=acct)
    assert held.on_hold and "4 paid calls to +35722123456" in held.fraud_hold_reason
    assert sorted(str(m.to[0]) for m in mail.outbox) == sorted(
        [str(owner.email), "noc@example.com"]
    )
    assert authorize(acct, "v-after", NOW).reason == "fraud_hold"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert call_velocity_check(account_id=acct.pk, now=NOW) is False  # trips once
    assert mail.outbox == []
    later = NOW + dt.timedelta(minutes=5)
    assert fraud_hold_release(account=acct, actor=owner, now=later) is True
    assert not CallPermissions.objects.get(account=acct).on_hold
    # The calls that tripped it do not trip it again; new ones past the threshold would.
    assert call_velocity_check(account_id=acct.pk, now=later) is False
    assert authorize(acct, "v-released", later).allowed


@pytest.mark.django_db
def test_a_batch_over_many_accounts_trips_the_alarm_of_the_one_past_it(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.BILLING_VELOCITY_MAX_CALLS = 3
    settings.BILLING_VELOCITY_MAX_SPEND = Decimal("100")
    busy = set_up_account(AccountFactory(), credit="50")
    calm = set_up_account(AccountFactory(), credit="50", dids=False)
    batch = [cdr(busy, CYPRUS, 60, call_id=f"vb-{i}") for i in range(4)]
    batch += [cdr(calm, CYPRUS, 60, call_id=f"vc-{i}") for i in range(2)]
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        results = call_record_batch(cdrs=batch, now=NOW)  # one task for both accounts
    assert {r.status for r in results} == {"rated"}
    assert CallPermissions.objects.get(account=busy).on_hold
    assert not CallPermissions.objects.filter(account=calm, fraud_hold_at__isnull=False).exists()


@pytest.mark.django_db
def test_usage_spend_within_the_window_trips_the_alarm(settings) -> None:
    settings.BILLING_VELOCITY_MAX_SPEND = Decimal("0.10")
    acct = set_up_account(AccountFactory(), credit="50")
    call_record(cdr=cdr(acct, CYPRUS, 60, call_id="s-1"), now=NOW)
    assert call_velocity_check(account_id=acct.pk, now=NOW) is False  # $0.06
    call_record(cdr=cdr(acct, "+35722123457", 60, call_id="s-2"), now=NOW)
    assert call_velocity_check(account_id=acct.pk, now=NOW) is True  # $0.12 > $0.10
    # Outside the rolling window the same calls count no more.
    CallPermissions.objects.filter(account=acct).update(fraud_hold_at=None)
    assert call_velocity_check(account_id=acct.pk, now=NOW + dt.timedelta(hours=2)) is False


@pytest.mark.django_db
def test_every_change_is_recorded_and_emailed_to_the_owner(
    django_capture_on_commit_callbacks,
) -> None:
    acct = set_up_account(AccountFactory(), credit="10")
    owner = UserFactory(account=acct, role="owner")
    billing = UserFactory(account=acct, role="billing")
    with django_capture_on_commit_callbacks(execute=True):
        change = call_permissions_update(
            account=acct,
            actor=billing,
            now=NOW,
            allow_low=True,
            allow_medium=True,
            allow_high=False,
            countries={"CY": False},
            price_ceiling=Decimal("0.25"),
            daily_cap=Decimal("20"),
        )
    assert change is not None
    row = CallPermissionChange.objects.get(account=acct)
    assert (row.changed_by, row.by_staff, row.created_at) == (billing, False, NOW)
    assert row.changes == {
        "allow_medium": [False, True],
        "price_ceiling": ["0.5000", "0.2500"],
        "daily_cap": ["50.0000", "20.0000"],
        "country CY": [None, False],
    }
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert "Price ceiling (USD/min): 0.5000 → 0.2500" in message.body
    assert billing.email in message.body
    again = call_permissions_update(
        account=acct,
        actor=billing,
        now=NOW,
        allow_low=True,
        allow_medium=True,
        allow_high=False,
        countries={"CY": False},
        price_ceiling=Decimal("0.25"),
        daily_cap=Decimal("20"),
    )
    assert again is None and CallPermissionChange.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_customer_raising_the_cap_above_the_staff_maximum(settings) -> None:
    from portal.errors import DomainError

    settings.BILLING_CALL_DAILY_CAP_MAX = Decimal("100")
    acct = set_up_account(AccountFactory(), credit="10")
    args = {"allow_low": True, "allow_medium": False, "allow_high": False, "countries": {}}
    with pytest.raises(DomainError) as exc:
        call_permissions_update(
            account=acct,
            actor=None,
            now=NOW,
            price_ceiling=Decimal("0.5"),
            daily_cap=Decimal("100.01"),
            **args,
        )
    assert exc.value.code == "daily_cap_above_maximum"
    call_permissions_update(
        account=acct,
        actor=None,
        now=NOW,
        price_ceiling=Decimal("0.5"),
        daily_cap=Decimal("100"),
        **args,
    )  # the maximum itself is fine
    call_permissions_update(
        account=acct,
        actor=None,
        now=NOW,
        price_ceiling=Decimal("0.5"),
        daily_cap=Decimal("500"),
        by_staff=True,
        **args,
    )
    assert CallPermissions.objects.get(account=acct).daily_cap == Decimal("500")


@pytest.mark.django_db(transaction=True)
def test_concurrent_authorizations_cannot_exceed_the_daily_cap_together(on_postgres) -> None:
    acct = set_up_account(AccountFactory(), credit="100")
    limits(acct, daily_cap=Decimal("0.60"))  # 10 minutes at $0.06
    results = run_in_threads(
        lambda i: call_authorize(
            request=AuthorizeInput(f"race-{i}", acct.code, "outbound", "101", CYPRUS), now=NOW
        ),
        [(i,) for i in range(8)],
    )
    allowed = [r for r in results if r.allowed]
    assert len(allowed) == 1 and allowed[0].max_seconds == 600
    assert {r.reason for r in results if not r.allowed} == {"daily_limit_reached"}
    from billing.models import CallReservation

    held = sum(r.amount for r in CallReservation.objects.filter(account=acct))
    assert held == Decimal("0.6000")
