"""The Calls page's count: a first page that holds every matching call is its own count (one
query, not two); a longer list is counted up to the cap by a second query."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from billing.selectors.calls import CALLS_PER_PAGE, CallFilters, call_page
from tests.billing.call_factories import T0, CallFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_it_counts_a_first_page_holding_every_call_without_a_count_query(
    django_assert_num_queries: Any,
) -> None:
    account = AccountFactory.create()
    for n in range(3):
        CallFactory(account=account, started_at=T0 - dt.timedelta(minutes=n))
    with django_assert_num_queries(1):
        page = call_page(account=account, filters=CallFilters())
    assert (len(page.calls), page.count, page.count_capped) == (3, 3, False)
    assert page.older_cursor is None


def test_it_counts_a_longer_list_with_a_second_query(django_assert_num_queries: Any) -> None:
    account = AccountFactory.create()
    for n in range(CALLS_PER_PAGE + 2):
        CallFactory(account=account, started_at=T0 - dt.timedelta(minutes=n))
    with django_assert_num_queries(2):
        page = call_page(account=account, filters=CallFilters())
    assert (len(page.calls), page.count) == (CALLS_PER_PAGE, CALLS_PER_PAGE + 2)
    assert page.older_cursor is not None
    older = call_page(account=account, filters=CallFilters(), after=page.older_cursor)
    assert (len(older.calls), older.count) == (2, CALLS_PER_PAGE + 2)


def test_it_counts_a_search_with_no_match_as_zero() -> None:
    account = AccountFactory.create()
    CallFactory(account=account, to_number="+12025550123")
    page = call_page(account=account, filters=CallFilters(number="999999"))
    assert (page.calls, page.count, page.count_capped) == ([], 0, False)
