"""What a CDR must satisfy before it is rated, whichever way it arrives (the switch API or a
Master.csv import): consistent times, billed seconds within the answered part of the call,
ASCII digits only, and a start inside the window the account can have calls in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings

# Switches round billsec to whole seconds (Asterisk truncates, some round up): one second over
# ``end - answer`` is rounding; more is ring time, which is never billed.
BILLSEC_ROUNDING_SECONDS = 1
# How far ahead of our clock a switch's clock may be: a CDR starting later than that is a
# broken clock or a forged record, and rating it would charge a future billing month.
DEFAULT_FUTURE_SKEW_SECONDS = 600

# ``[0-9]`` (not ``\d``) and ``re.ASCII``: int() and Decimal() read Arabic-Indic and other
# Unicode digits (``int("٣") == 3``), so a number or amount written with them could be billed
# as a different one than the customer sees.
DIALLED = re.compile(r"^\+?[0-9*#]{1,32}$")
CALLER = re.compile(r"^[\w+*#.@-]{0,40}$", re.ASCII)
_SECONDS = re.compile(r"^[0-9]{1,9}$")


class CdrProblem(ValueError):
    """A CDR that cannot be rated as sent; ``field`` names the part to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def cdr_future_skew() -> dt.timedelta:
    seconds = getattr(settings, "BILLING_CDR_FUTURE_SKEW_SECONDS", DEFAULT_FUTURE_SKEW_SECONDS)
    return dt.timedelta(seconds=int(seconds))


def cdr_seconds_parse(*, value: str, field: str) -> int:
    """Whole seconds written in ASCII digits (``"²"`` and ``"٣"`` are refused)."""
    value = value.strip()
    if not _SECONDS.match(value):
        raise CdrProblem(field, f"{value!r} is not a whole number of seconds (digits 0-9)")
    return int(value)


def cdr_time_utc(*, moment: dt.datetime, field: str) -> dt.datetime:
    """``moment`` (aware) in UTC; a year 1 or 9999 time whose UTC falls outside the calendar
    is refused here rather than overflowing later in the billing-month arithmetic."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise CdrProblem(field, f"{moment.isoformat()} is out of range") from exc


def cdr_billsec_derive(*, answer: dt.datetime | None, end: dt.datetime) -> int:
    """``end - answer`` in whole seconds, truncated as Asterisk does; 0 when unanswered."""
    if answer is None or end <= answer:
        return 0
    return int((end - answer).total_seconds())


def cdr_times_check(
    *, start: dt.datetime, answer: dt.datetime | None, end: dt.datetime, billsec: int
) -> None:
    """Raises CdrProblem naming the field when the times and ``billsec`` disagree."""
    if end < start:
        raise CdrProblem("end", "is before start")
    if answer is not None and not start <= answer <= end:
        raise CdrProblem("answer", "must be between start and end")
    if answer is None:
        if billsec:
            raise CdrProblem("billsec", "must be 0 when the call was not answered")
        return
    talk = (end - answer).total_seconds()
    if billsec > talk + BILLSEC_ROUNDING_SECONDS:
        raise CdrProblem(
            "billsec",
            f"{billsec} s is longer than the answered call (end - answer = {talk:g} s); "
            "ring time is not billed",
        )


def cdr_window_problem(
    *, start: dt.datetime, account_created: dt.datetime, now: dt.datetime
) -> tuple[str, str] | None:
    """``(code, reason)`` when the call cannot belong to the account at ``now``: it starts
    beyond the clock skew in the future (its billing month has not begun: rating it would use
    that month's included minutes), or before the account was created (by more than the skew,
    so a switch clock a little behind ours does not lose a new account's first calls)."""
    skew = cdr_future_skew()
    minutes = f"{skew.total_seconds() / 60:g} min"
    if start > now + skew:
        return "future_call", (
            f"start: {start.isoformat()} is in the future (more than {minutes} after "
            f"{now.isoformat()}); check the switch's clock."
        )
    if start < account_created - skew:
        return "before_account", (
            f"start: {start.isoformat()} is before the account was created "
            f"({account_created.isoformat()})."
        )
    return None


@dataclass(frozen=True)
class CdrInput:
    """A finished call as the switch reports it (API or Master.csv), already parsed."""

    call_id: str
    account: str  # account code
    direction: str  # outbound | inbound | internal
    from_number: str
    to_number: str
    start: dt.datetime
    answer: dt.datetime | None
    end: dt.datetime
    billsec: int
    disposition: str = "ANSWERED"

    @property
    def answered(self) -> bool:
        return (
            self.answer is not None
            and self.billsec > 0
            and self.disposition.strip().upper() in ("", "ANSWERED")
        )
