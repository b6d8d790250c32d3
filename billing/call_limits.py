"""Limits on starting a call that other apps own (SIP trunk channels), asked by authorize.

``call_authorize`` runs every registered check inside its transaction, with the account row
locked, so two authorizations of one account are serialised and a check that counts live
reservations cannot be oversubscribed. A check refuses with a stable reason, or names the
channel kind the call holds (stored on the reservation, so that live reservations count the
channels in use), or has nothing to say. Billing never imports the apps that register here.

What a check reads it declares as columns (``FactColumn``: scalar SQL about the account row
``a``): authorization adds them to the one query it makes after taking the lock and hands the
check their values, so a check costs no query of its own.

The switch API's account endpoint likewise asks ``account_fields`` for what those apps report
(channels by kind and in use).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Field

from portal.models import Account


@dataclass(frozen=True)
class CallLimit:
    """A check's answer: refuse with ``reason`` (and a message), or allow holding
    ``channel_kind`` (empty: allowed and holds nothing of this check's)."""

    allowed: bool
    reason: str | None = None
    message: str = ""
    channel_kind: str = ""


@dataclass(frozen=True)
class FactColumn:
    """One column of authorization's facts query: a scalar SQL expression about the account
    row ``a`` (``a.id``), which may use the parameter ``%(now)s``; ``like`` is a model field
    whose database converters turn the value into Python (None: taken as the driver gives it).
    Names are unique across checks (a prefix per app)."""

    name: str
    sql: str
    like: Field[Any, Any] | None = None


# check(locked_account, direction, on_net, now, facts): ``facts`` holds the values of the
# check's columns, read after the lock was taken.
CallLimitCheck = Callable[[Account, str, bool, dt.datetime, Mapping[str, Any]], CallLimit | None]
CallLimitFacts = Callable[[], list[FactColumn]]
AccountFields = Callable[[Account, dt.datetime], dict[str, Any]]

_checks: list[tuple[CallLimitCheck, CallLimitFacts]] = []
_fields: list[AccountFields] = []


def register_call_limit(check: CallLimitCheck, facts: CallLimitFacts) -> CallLimitCheck:
    """Registered once, in ``ready()``."""
    if all(check is not known for known, _ in _checks):
        _checks.append((check, facts))
    return check


def call_limit_facts() -> list[FactColumn]:
    """Every check's columns, for the account query authorization makes under its lock."""
    return [column for _check, facts in _checks for column in facts()]


def register_account_fields(provider: AccountFields) -> AccountFields:
    if provider not in _fields:
        _fields.append(provider)
    return provider


def call_limits(
    *,
    account: Account,
    direction: str,
    on_net: bool,
    now: dt.datetime,
    facts: Mapping[str, Any],
) -> CallLimit:
    """The first refusal of any check; else allowed, holding the channel kind a check named.
    ``facts``: the values of ``call_limit_facts()`` for the locked account."""
    held = ""
    for check, _facts in _checks:
        answer = check(account, direction, on_net, now, facts)
        if answer is None:
            continue
        if not answer.allowed:
            return answer
        held = held or answer.channel_kind
    return CallLimit(allowed=True, channel_kind=held)


def account_fields(*, account: Account, now: dt.datetime) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for provider in _fields:
        extra.update(provider(account, now))
    return extra
