"""Shared set-up for the rating tests: the Starter plan as the data migration defines it, a
test deck with known prices, an account with extensions, DIDs and credit."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal

from django.apps import apps

from billing.defaults import install_defaults
from billing.models import DID, AccountRating, DIDGroup, Extension, RateDeck, ServicePlan
from billing.services.cdr_input import CdrInput
from billing.services.ledger import ledger_post
from billing.services.plans import account_plan_set
from billing.services.rate_import import rate_deck_import
from portal.models import Account

NOW = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)  # 12:00 in New York, period Nov 1-Dec 1

TEST_DECK_CSV = """prefix,destination,rate,connect_fee,initial,increment
1,USA and Canada,0.0100,0,60,60
44,United Kingdom,0.0200,0,60,60
447,United Kingdom mobile,0.0450,0,60,60
49,Germany,0.0200,0,60,60
4915,Germany mobile,0.0600,0,60,60
357,Cyprus,0.0600,0,60,60
3579,Cyprus mobile,0.0900,0,60,60
"""

US_DID = "+12025550100"  # USA standard: included
PN_A_DID = "+13055550100"  # USA PN Group A: $0.0300/min, not included
INTL_DID = "+442071230000"  # International (200 min cap): included up to 200 min per month

_ids = itertools.count(1)


def starter_plan() -> ServicePlan:
    return install_defaults(apps)


def test_deck() -> RateDeck:
    return rate_deck_import(
        deck_name="Test deck", csv_file=io.StringIO(TEST_DECK_CSV), replace=True, now=NOW
    ).deck


def set_up_account(
    account: Account, *, credit: str = "10.00", now: dt.datetime = NOW, dids: bool = True
) -> Account:
    # Calls from before an account was created are rejected: the tests' calls are on fixed
    # dates, so the account has existed for a year before them.
    Account.objects.filter(pk=account.pk).update(created_at=now - dt.timedelta(days=365))
    plan = starter_plan()
    account_plan_set(account=account, plan=plan, now=now)
    AccountRating.objects.update_or_create(account=account, defaults={"rate_deck": test_deck()})
    for ext in ("101", "102"):
        Extension.objects.create(account=account, number=ext)
    for number, group in (
        (US_DID, "USA standard"),
        (PN_A_DID, "USA PN Group A"),
        (INTL_DID, "International (200 min cap)"),
    ):
        if not dids:
            break
        DID.objects.create(account=account, number=number, group=DIDGroup.objects.get(name=group))
    if Decimal(credit):
        ledger_post(
            account=account,
            amount=Decimal(credit),
            kind="deposit",
            description="test credit",
            idempotency_key=f"test-credit:{account.code}",
            now=now,
        )
    account.refresh_from_db()
    return account


def cdr(
    account: Account,
    to: str,
    billsec: int,
    *,
    direction: str = "outbound",
    frm: str = "101",
    start: dt.datetime = NOW,
    call_id: str | None = None,
    answered: bool = True,
) -> CdrInput:
    answer = start + dt.timedelta(seconds=3) if answered else None
    return CdrInput(
        call_id=call_id or f"test-{next(_ids)}",
        account=account.code,
        direction=direction,
        from_number=frm,
        to_number=to,
        start=start,
        answer=answer,
        end=(answer or start) + dt.timedelta(seconds=billsec),
        billsec=billsec if answered else 0,
        disposition="ANSWERED" if answered else "NO ANSWER",
    )
