"""A number that ported in is the account's DID from that moment, rated by its DID group."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import DIDGroup
from billing.services.calls import call_record
from billing.services.ports import port_complete, port_start, port_submit
from portal.models import Account, User
from tests.billing.ports.conftest import draft
from tests.billing.rating_fixtures import NOW, cdr, set_up_account

pytestmark = pytest.mark.django_db


def test_a_call_to_a_newly_ported_did_is_rated_by_its_group(
    account: Account, user: User, staff: User
) -> None:
    set_up_account(account, credit="50.00", dids=False)
    pn_a = DIDGroup.objects.get(name="USA PN Group A")  # $0.0300/min, never included
    before = call_record(
        cdr=cdr(account, "+13055550142", 60, direction="inbound", frm="+12125551234"), now=NOW
    )
    assert (before.status, before.error_code) == ("rejected", "unknown_did")

    port = draft(account, user, numbers="+1 305 555 0142", now=NOW - dt.timedelta(days=1))
    port = port_submit(port=port, user=user, now=NOW - dt.timedelta(hours=2))
    port = port_start(
        port=port, staff_user=staff, foc_date=NOW.date(), note="", now=NOW - dt.timedelta(hours=1)
    )
    port_complete(
        port=port, staff_user=staff, ported=["+13055550142"], did_group=pn_a, note="", now=NOW
    )

    r = call_record(
        cdr=cdr(account, "+13055550142", 150, direction="inbound", frm="+12125551234"), now=NOW
    )
    assert r.status == "rated"
    assert (r.included_seconds, r.billed_seconds, r.charge) == (0, 180, Decimal("0.0900"))
    assert "USA PN Group A" in r.explanation
