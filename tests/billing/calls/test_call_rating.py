"""Every case of the seeds' billing FAQ, end to end through ``call_record`` (exact amounts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Call, LedgerEntry, UsageCounter
from billing.selectors.plans import plan_for_account
from billing.selectors.usage import minutes_summary
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.rating_fixtures import (
    INTL_DID,
    NOW,
    PN_A_DID,
    US_DID,
    cdr,
    set_up_account,
    starter_plan,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account)


def balance(account: Account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def used_minutes(account: Account, now: dt.datetime = NOW) -> int:
    return minutes_summary(account=account, now=now).used_seconds // 60


def use_minutes(account: Account, minutes: int) -> None:
    result = call_record(cdr=cdr(account, "+12025550123", minutes * 60), now=NOW)
    assert result.status == "rated" and result.charge == 0


def test_starter_plan_is_as_the_issue_says() -> None:
    plan = starter_plan()
    assert (plan.included_minutes, plan.overage_rate) == (500, Decimal("0.0250"))
    assert (plan.overage_initial, plan.overage_increment, plan.includes_incoming) == (60, 60, True)
    assert plan.monthly_price == Decimal("19.9900")
    included = {d.country: d.mobile_included for d in plan.included_destinations.all()}
    assert included == {
        "US": True,
        "CA": True,
        "SG": True,
        "GB": False,
        "FR": False,
        "DE": False,
        "IE": False,
        "IL": False,
    }


def test_minute_501_is_billed_at_0_025(acct: Account) -> None:
    use_minutes(acct, 499)
    minute_500 = call_record(cdr=cdr(acct, "+12025550123", 45), now=NOW)
    assert (minute_500.included_seconds, minute_500.charge) == (60, Decimal("0.0000"))
    assert minute_500.explanation == "USA — 1 min included (499→500 of 500)"
    minute_501 = call_record(cdr=cdr(acct, "+12025550123", 60), now=NOW)
    assert (minute_501.included_seconds, minute_501.billed_seconds) == (0, 60)
    assert minute_501.charge == Decimal("0.0250")
    assert balance(acct) == Decimal("9.9750")
    entry = LedgerEntry.objects.get(idempotency_key=f"call:{minute_501.call_id}")
    assert (entry.kind, entry.amount) == ("call", Decimal("-0.0250"))
    assert used_minutes(acct) == 500


def test_call_straddling_500_is_split(acct: Account) -> None:
    use_minutes(acct, 498)
    r = call_record(cdr=cdr(acct, "+12025550123", 4 * 60 + 50), now=NOW)
    assert (r.billed_seconds, r.included_seconds) == (300, 120)
    assert r.charge == Decimal("0.0750")
    assert r.explanation == "USA — 2 min included, 3 min overage at $0.0250/min = $0.0750"
    assert balance(acct) == Decimal("9.9250")
    assert used_minutes(acct) == 500
    call = Call.objects.get(call_id=r.call_id)
    assert (call.category, call.paid_seconds, call.rate) == ("overage", 180, Decimal("0.0250"))


def test_germany_landline_is_included(acct: Account) -> None:
    use_minutes(acct, 497)
    r = call_record(cdr=cdr(acct, "+49 30 123456", 150), now=NOW)
    assert r.charge == Decimal("0.0000")
    assert r.explanation == "Germany landline — 3 min included (497→500 of 500)"
    assert balance(acct) == Decimal("10.0000")


def test_germany_mobile_is_billed_at_the_deck_rate(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "+4915112345678", 60), now=NOW)
    assert r.charge == Decimal("0.0600")
    assert used_minutes(acct) == 0


def test_cyprus_is_billed_at_its_deck_rate_and_uses_no_minutes(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "0035722123456", 125), now=NOW)
    assert (r.status, r.billed_seconds, r.included_seconds) == ("rated", 180, 0)
    assert r.charge == Decimal("0.1800")
    assert r.explanation == "Cyprus — 3 min at $0.0600/min = $0.1800"
    assert balance(acct) == Decimal("9.8200")
    assert used_minutes(acct) == 0
    call = Call.objects.get(call_id=r.call_id)
    assert (call.to_number, call.destination, call.category) == ("+35722123456", "Cyprus", "rated")


def test_uk_mobile_is_billed_at_the_deck_rate(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "+447400123456", 61), now=NOW)
    assert r.charge == Decimal("0.0900")  # 2 started minutes at $0.045
    assert r.explanation == "United Kingdom mobile — 2 min at $0.0450/min = $0.0900"
    assert used_minutes(acct) == 0


def test_uk_landline_is_included(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "+442071234567", 60), now=NOW)
    assert (r.charge, r.included_seconds) == (Decimal("0.0000"), 60)


def test_usa_and_singapore_mobiles_are_included(acct: Account) -> None:
    usa = call_record(cdr=cdr(acct, "+12125551234", 120), now=NOW)  # fixed-line-or-mobile
    singapore = call_record(cdr=cdr(acct, "+6591234567", 60), now=NOW)  # a mobile
    assert (usa.charge, usa.included_seconds) == (Decimal("0.0000"), 120)
    assert (singapore.charge, singapore.included_seconds) == (Decimal("0.0000"), 60)
    assert singapore.explanation == "Singapore — 1 min included (2→3 of 500)"
    assert used_minutes(acct) == 3


def test_incoming_usa_did_is_counted(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, US_DID, 100, direction="inbound", frm="+35722123456"), now=NOW)
    assert (r.charge, r.included_seconds) == (Decimal("0.0000"), 120)
    assert (
        r.explanation == "Incoming on +1 202-555-0100 (USA standard) — 2 min included (0→2 of 500)"
    )
    assert used_minutes(acct) == 2
    assert Call.objects.get(call_id=r.call_id).did.number == US_DID


def test_incoming_pn_group_a_billed_at_its_rate_and_not_counted(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, PN_A_DID, 150, direction="inbound", frm="+12125551234"), now=NOW)
    assert (r.included_seconds, r.billed_seconds) == (0, 180)
    assert r.charge == Decimal("0.0900")
    assert "not included" in r.explanation
    assert balance(acct) == Decimal("9.9100")
    assert used_minutes(acct) == 0


def test_on_net_is_free_and_not_counted(acct: Account) -> None:
    internal = call_record(cdr=cdr(acct, "102", 600, direction="internal"), now=NOW)
    dialled_out = call_record(cdr=cdr(acct, "102", 600, direction="outbound"), now=NOW)
    to_own_did = call_record(cdr=cdr(acct, US_DID, 600), now=NOW)
    for r in (internal, dialled_out, to_own_did):
        assert (r.status, r.charge, r.included_seconds) == ("rated", Decimal("0.0000"), 0)
        assert Call.objects.get(call_id=r.call_id).category == "on_net"
    assert used_minutes(acct) == 0
    assert balance(acct) == Decimal("10.0000")
    assert LedgerEntry.objects.filter(kind="call").count() == 0


def test_internal_call_to_a_foreign_number_is_rejected(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "+35722123456", 60, direction="internal"), now=NOW)
    assert (r.status, r.error_code) == ("rejected", "not_on_net")
    assert not Call.objects.exists()


def test_unanswered_costs_nothing(acct: Account) -> None:
    r = call_record(cdr=cdr(acct, "+35722123456", 0, answered=False), now=NOW)
    assert (r.status, r.charge, r.billed_seconds) == ("rated", Decimal("0.0000"), 0)
    assert Call.objects.get(call_id=r.call_id).category == "unanswered"
    assert balance(acct) == Decimal("10.0000")


def test_minutes_reset_at_the_next_billing_month_without_carry_over(acct: Account) -> None:
    # 30 Nov 23:30 in New York is 1 Dec 04:30 UTC: still November's minutes.
    late_november = dt.datetime(2026, 12, 1, 4, 30, tzinfo=dt.UTC)
    december = dt.datetime(2026, 12, 1, 5, 30, tzinfo=dt.UTC)  # 1 Dec 00:30 in New York
    use_minutes(acct, 100)  # 100 of 500 used on 24 Nov: 400 left, none carried over
    nov = call_record(cdr=cdr(acct, "+12025550123", 401 * 60, start=late_november), now=december)
    assert (nov.included_seconds, nov.charge) == (400 * 60, Decimal("0.0250"))
    dec = call_record(cdr=cdr(acct, "+12025550123", 60, start=december), now=december)
    assert dec.charge == Decimal("0.0000")
    assert dec.explanation == "USA — 1 min included (0→1 of 500)"
    summary = minutes_summary(account=acct, now=december)
    assert (summary.included_seconds, summary.used_seconds) == (30_000, 60)
    assert summary.left_minutes == 499
    assert summary.reset_date == dt.date(2027, 1, 1)
    assert minutes_summary(account=acct, now=NOW).used_minutes == 500


def test_did_monthly_cap(acct: Account) -> None:
    first = call_record(
        cdr=cdr(acct, INTL_DID, 198 * 60, direction="inbound", frm="+4930123"), now=NOW
    )
    assert (first.included_seconds, first.charge) == (198 * 60, Decimal("0.0000"))
    r = call_record(cdr=cdr(acct, INTL_DID, 5 * 60, direction="inbound", frm="+4930123"), now=NOW)
    assert (r.included_seconds, r.billed_seconds) == (120, 300)
    assert r.charge == Decimal("0.0600")  # 3 min beyond the 200-min cap at the DID's $0.02
    assert "over this DID's monthly cap of 200 min at $0.0200/min" in r.explanation
    assert used_minutes(acct) == 200
    did_counter = UsageCounter.objects.get(account=acct, did__number=INTL_DID)
    assert did_counter.included_seconds_used == 200 * 60
    # The cap is per DID: a USA DID call still uses the plan's minutes.
    us = call_record(cdr=cdr(acct, US_DID, 60, direction="inbound", frm="+4930123"), now=NOW)
    assert us.included_seconds == 60


def test_unknown_destination_and_bad_number_are_rejected(acct: Account) -> None:
    unknown = call_record(cdr=cdr(acct, "+81312345678", 60), now=NOW)  # Japan: not in the deck
    bad = call_record(cdr=cdr(acct, "+1999", 60), now=NOW)
    not_ours = call_record(cdr=cdr(acct, "+12025559999", 60, direction="inbound"), now=NOW)
    nobody = call_record(cdr=cdr(AccountFactory.build(code="NOPE"), "+1202", 60), now=NOW)
    assert (unknown.status, unknown.error_code) == ("rejected", "unknown_destination")
    assert (bad.status, bad.error_code) == ("rejected", "bad_number")
    assert (not_ours.status, not_ours.error_code) == ("rejected", "unknown_did")
    assert (nobody.status, nobody.error_code) == ("rejected", "unknown_account")
    assert not Call.objects.exists()


def test_same_call_id_twice_posts_once(acct: Account) -> None:
    first = call_record(cdr=cdr(acct, "+35722123456", 60, call_id="dup-1"), now=NOW)
    again = call_record(cdr=cdr(acct, "+35722123456", 60, call_id="dup-1"), now=NOW)
    assert (first.status, again.status) == ("rated", "duplicate")
    assert again.charge == first.charge == Decimal("0.0600")
    assert LedgerEntry.objects.filter(kind="call").count() == 1
    assert balance(acct) == Decimal("9.9400")


def test_call_id_of_another_account_is_rejected(acct: Account) -> None:
    other = set_up_account(AccountFactory(), dids=False)
    call_record(cdr=cdr(acct, "+35722123456", 60, call_id="shared"), now=NOW)
    r = call_record(cdr=cdr(other, "+35722123456", 60, call_id="shared"), now=NOW)
    assert (r.status, r.error_code) == ("rejected", "call_id_conflict")


def test_account_without_plan_pays_the_deck_for_everything(account: Account) -> None:
    from billing.models import AccountRating, RateDeck

    AccountRating.objects.create(account=account, rate_deck=RateDeck.objects.get(name="Standard"))
    Account.objects.filter(pk=account.pk).update(created_at=NOW - dt.timedelta(days=1))
    assert plan_for_account(account=account, at=NOW) is None
    r = call_record(cdr=cdr(account, "+12025550123", 60), now=NOW)
    assert (r.charge, r.included_seconds) == (Decimal("0.0100"), 0)
    assert balance(account) == Decimal("-0.0100")  # the call happened: posted even below 0


# --- property: charges posted == balance change -------------------------------------------

NUMBERS = ["+12025550123", "+35722123456", "+447400123456", "+4930123456", "102", "+6591234567"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(NUMBERS), st.integers(min_value=0, max_value=200 * 60)),
        min_size=1,
        max_size=8,
    )
)
def test_charges_posted_equal_balance_change(calls: list[tuple[str, int]]) -> None:
    acct = set_up_account(AccountFactory(), dids=False)
    before = balance(acct)
    total = Decimal(0)
    for to, billsec in calls:
        r = call_record(cdr=cdr(acct, to, billsec, answered=billsec > 0), now=NOW)
        assert r.status == "rated"
        assert r.included_seconds <= r.billed_seconds
        total += r.charge or 0
    assert before - balance(acct) == total
    posted = sum(e.amount for e in LedgerEntry.objects.filter(account=acct, kind="call"))
    assert -posted == total
    counted = sum(c.included_seconds for c in Call.objects.filter(account=acct))
    assert minutes_summary(account=acct, now=NOW).used_seconds == counted <= 500 * 60
