"""Authorization's queries: the account lock, one query of everything it reads after the lock,
the reservation's INSERT — for included, paid, inbound and trunk-limited calls alike."""

from __future__ import annotations

import pytest

from billing.selectors.pricing import price_lookup
from billing.services.authorize import AuthorizeInput, call_authorize
from portal.models import Account
from tests.billing.rating_fixtures import NOW, PN_A_DID, set_up_account
from trunking.models import Trunk

pytestmark = pytest.mark.django_db

# The lock, the facts, the INSERT; and the SAVEPOINT and RELEASE of the service's atomic block
# inside the test's transaction (outside a transaction they are BEGIN and COMMIT, which Django
# does not count as queries).
ALLOWED_CALL_QUERIES = 3 + 2


@pytest.fixture
def acct(account: Account) -> Account:
    acct = set_up_account(account, credit="100.00")
    price_lookup(account=acct, number="+35722123456", now=NOW)  # the process holds the catalog
    return acct


@pytest.mark.parametrize(
    ("direction", "frm", "to", "trunk"),
    [
        ("outbound", "101", "+12025550123", False),  # included minutes
        ("outbound", "101", "+35722123456", False),  # the deck's price
        ("inbound", "+12125550199", PN_A_DID, False),  # a DID group's price
        ("outbound", "101", "+35722123456", True),  # a trunk's channel is needed
        ("internal", "101", "102", False),  # on-net
    ],
    ids=["included", "paid", "inbound", "trunk", "on-net"],
)
def test_it_authorizes_a_call_in_three_queries(
    acct: Account,
    django_assert_num_queries,
    direction: str,
    frm: str,
    to: str,
    trunk: bool,
) -> None:
    if trunk:
        Trunk.objects.create(account=acct, outbound=2, inbound=0, two_way=0)
    call_authorize(request=AuthorizeInput("warm", acct.code, direction, frm, to), now=NOW)
    with django_assert_num_queries(ALLOWED_CALL_QUERIES):
        result = call_authorize(
            request=AuthorizeInput("q-1", acct.code, direction, frm, to), now=NOW
        )
    assert result.allowed


def test_it_answers_a_repeated_call_id_from_the_reservation(
    acct: Account, django_assert_num_queries
) -> None:
    request = AuthorizeInput("again", acct.code, "outbound", "101", "+35722123456")
    first = call_authorize(request=request, now=NOW)
    with django_assert_num_queries(2 + 3):  # lock, facts, the reservation itself
        again = call_authorize(request=request, now=NOW)
    assert (again.max_seconds, again.message) == (first.max_seconds, "already authorized")
