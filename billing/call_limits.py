"""Limits on starting a call that other apps own (SIP trunk channels), asked by authorize.

``call_authorize`` runs every registered check inside its transaction, with the account row
locked, so two authorizations of one account are serialised and a check that counts live
reservations cannot be oversubscribed. A check refuses with a stable reason, or names the
channel kind the call holds (stored on the reservation, so that live reservations count the
channels in use), or has nothing to say. Billing never imports the apps that register here.

The switch API's account endpoint likewise asks ``account_fields`` for what those apps report
(channels by kind and in use).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.models import Account


@dataclass(frozen=True)
class CallLimit:
    """A check's answer: refuse with ``reason`` (and a message), or allow holding
    ``channel_kind`` (empty: allowed and holds nothing of this check's)."""

    allowed: bool
    reason: str | None = None
    message: str = ""
    channel_kind: str = ""


CallLimitCheck = Callable[[Account, str, bool, dt.datetime], CallLimit | None]
AccountFields = Callable[[Account, dt.datetime], dict[str, Any]]

_checks: list[CallLimitCheck] = []
_fields: list[AccountFields] = []


def register_call_limit(check: CallLimitCheck) -> CallLimitCheck:
    """``check(locked_account, direction, on_net, now)``; registered once, in ``ready()``."""
    if check not in _checks:
        _checks.append(check)
    return check


def register_account_fields(provider: AccountFields) -> AccountFields:
    if provider not in _fields:
        _fields.append(provider)
    return provider


def call_limits(*, account: Account, direction: str, on_net: bool, now: dt.datetime) -> CallLimit:
    """The first refusal of any check; else allowed, holding the channel kind a check named."""
    held = ""
    for check in _checks:
        answer = check(account, direction, on_net, now)
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
