"""The Calls page: filters, keyset pagination and a capped count."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from billing.models import (
    Call,
)
from billing.periods import local_midnight
from portal.models import Account

CALLS_PER_PAGE = 50


CALL_COUNT_CAP = 10_000  # counting stops here: "10,000+ calls" (no COUNT(*) over millions)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CallFilters:
    """The Calls page filters. Dates are days in the account's time zone, both inclusive."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    direction: str = ""
    number: str = ""

    @property
    def number_digits(self) -> str:
        return re.sub(r"\D", "", self.number)


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    count: int  # of the whole filtered set, up to CALL_COUNT_CAP
    count_capped: bool  # True when there are more than CALL_COUNT_CAP
    newer_cursor: str | None  # show the page before this one (newer calls)
    older_cursor: str | None  # show the page after this one (older calls)


def calls_for_account(*, account: Account, filters: CallFilters) -> QuerySet[Call]:
    """The account's calls matching ``filters``, newest first (index ``call_account_recent``,
    or ``call_account_dir`` with a direction)."""
    calls = Call.objects.filter(account=account)
    tz = account.tz
    if filters.date_from is not None:
        calls = calls.filter(started_at__gte=local_midnight(filters.date_from, tz))
    if filters.date_to is not None:
        day_after = filters.date_to + dt.timedelta(days=1)
        calls = calls.filter(started_at__lt=local_midnight(day_after, tz))
    if filters.direction:
        calls = calls.filter(direction=filters.direction)
    digits = filters.number_digits
    if digits:
        calls = calls.filter(Q(from_number__contains=digits) | Q(to_number__contains=digits))
    return calls.order_by("-started_at", "-id")


def _cursor(call: Call) -> str:
    return f"{(call.started_at - _EPOCH) // dt.timedelta(microseconds=1)}.{call.pk}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    match = re.fullmatch(r"(-?\d{1,18})\.(\d{1,18})", cursor or "")
    if match is None:
        return None
    try:
        moment = _EPOCH + dt.timedelta(microseconds=int(match[1]))
    except OverflowError:
        return None
    return moment, int(match[2])


def call_count(*, calls: QuerySet[Call], cap: int = CALL_COUNT_CAP) -> tuple[int, bool]:
    """How many calls, counting at most ``cap + 1`` rows: (count, more than ``cap``)."""
    counted = calls.order_by()[: cap + 1].count()
    return min(counted, cap), counted > cap


def call_page(
    *,
    account: Account,
    filters: CallFilters,
    after: str = "",
    before: str = "",
    per_page: int = CALLS_PER_PAGE,
) -> CallPage:
    """One page of the account's calls, newest first, by keyset: ``after`` a cursor gives the
    next older page, ``before`` a cursor the next newer one. Deep pages cost the same as the
    first (no OFFSET), and the count stops at ``CALL_COUNT_CAP``. A first page that holds the
    whole filtered set is its own count (a narrow search runs its query once, not twice)."""
    calls = all_calls = calls_for_account(account=account, filters=filters)
    older_key, newer_key = _parse_cursor(after), _parse_cursor(before)
    rows: list[Call]
    if newer_key is not None:
        moment, pk = newer_key
        newer = calls.filter(started_at__gte=moment).filter(Q(started_at__gt=moment) | Q(pk__gt=pk))
        rows = list(newer.order_by("started_at", "id").select_related("did")[: per_page + 1])
        has_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        has_older = True
    else:
        if older_key is not None:
            moment, pk = older_key
            calls = calls.filter(started_at__lte=moment).filter(
                Q(started_at__lt=moment) | Q(pk__lt=pk)
            )
        rows = list(calls.select_related("did")[: per_page + 1])
        has_older = len(rows) > per_page
        rows = rows[:per_page]
        has_newer = older_key is not None
    if not has_newer and not has_older:
        count, capped = len(rows), False
    else:
        count, capped = call_count(calls=all_calls)
    return CallPage(
        calls=rows,
        count=count,
        count_capped=capped,
        newer_cursor=_cursor(rows[0]) if rows and has_newer else None,
        older_cursor=_cursor(rows[-1]) if rows and has_older else None,
    )


def call_for_account(*, account: Account, call_pk: int) -> Call:
    """One of the account's calls; another account's call is a 404."""
    try:
        return Call.objects.select_related("did", "did__group", "ledger_entry").get(
            account=account, pk=call_pk
        )
    except Call.DoesNotExist as exc:
        raise Http404("No such call.") from exc
