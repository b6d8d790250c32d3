"""Calls in progress on a capped DID hold its remaining included minutes.

The authorize API counts what calls in progress have reserved (SPEC §4). For a DID with a
monthly cap of included minutes, two calls at once must not both be promised the same last
minutes under the cap: the second's would be billed at the DID rate while it reserved no credit
for them."""

from __future__ import annotations

import pytest

from billing.services.authorize import AuthorizeInput, AuthorizeResult, call_authorize
from billing.services.calls import call_record
from portal.models import Account
from tests.billing.rating_fixtures import INTL_DID, NOW, cdr, set_up_account

pytestmark = pytest.mark.django_db


def test_calls_in_progress_hold_a_capped_dids_included_minutes(account: Account) -> None:
    acct = set_up_account(account)
    used = call_record(
        cdr=cdr(acct, INTL_DID, 198 * 60, direction="inbound", frm="+4930123"), now=NOW
    )
    assert used.included_seconds == 198 * 60  # 2 of the DID's 200 minutes left

    def authorize(call_id: str, to: str = INTL_DID) -> AuthorizeResult:
        return call_authorize(
            request=AuthorizeInput(call_id, acct.code, "inbound", "+4930123", to), now=NOW
        )

    first = authorize("in-1")
    assert (first.allowed, first.included_seconds) == (True, 120)
    second = authorize("in-2", to="+44 20 7123 0000")  # the same DID, written another way
    assert second.allowed
    assert second.included_seconds == 0  # the first call holds the last 2 capped minutes
