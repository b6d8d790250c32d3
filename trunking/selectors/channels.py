"""The channel check at call authorization, and what the switch API reports about channels.

Both run inside billing's authorize transaction or API view, through ``billing.call_limits``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from billing.call_limits import CallLimit, FactColumn
from billing.models import Call, CallReservation
from portal.models import Account
from trunking.models import KINDS, ChannelChange, ChannelKind, Trunk
from trunking.selectors.trunks import channels_in_use, counts_at, trunk_for_account

# A call takes its direction's dedicated kind first and a two-way channel only when none is
# free, so two-way channels stay available for the direction that has no dedicated one left.
KINDS_FOR_DIRECTION: dict[str, tuple[str, ...]] = {
    Call.Direction.OUTBOUND: (ChannelKind.OUTBOUND, ChannelKind.TWO_WAY),
    Call.Direction.INBOUND: (ChannelKind.INBOUND, ChannelKind.TWO_WAY),
}


def channel_facts() -> list[FactColumn]:
    """What ``channel_check`` reads, as columns of the account query authorization makes under
    the account lock: the trunk's counts, the newest pending decrease due by ``now`` (its
    counts are the ones in force) and the live reservations holding each kind."""
    trunk = Trunk._meta.db_table
    change = ChannelChange._meta.db_table
    held = CallReservation._meta.db_table
    columns = [
        # Counts as the driver gives them (int()-ed by the check), trunk_only through bool().
        FactColumn(f"trunk_{field}", f"(SELECT {field} FROM {trunk} WHERE account_id = a.id)")
        for field in (*KINDS, "trunk_only")
    ]
    columns.append(
        FactColumn(
            "trunk_due_after",
            f"(SELECT after FROM {change} WHERE account_id = a.id "
            f"AND status = '{ChannelChange.Status.PENDING.value}' AND effective_at <= %(now)s "
            "ORDER BY effective_at DESC, id DESC LIMIT 1)",
            ChannelChange._meta.get_field("after"),
        )
    )
    for kind in KINDS:
        columns.append(
            FactColumn(
                f"trunk_in_use_{kind}",
                f"(SELECT COUNT(*) FROM {held} WHERE account_id = a.id "
                f"AND expires_at > %(now)s AND channel_kind = '{kind}')",
            )
        )
    return columns


def channel_check(
    account: Account, direction: str, on_net: bool, now: dt.datetime, facts: Mapping[str, Any]
) -> CallLimit | None:
    """Called by ``call_authorize`` with ``account`` locked and ``facts`` (``channel_facts``)
    read since: a free channel for the call, or ``no_channel``. On-net calls hold none; an
    account with no channels at all is not limited (plan-only hosted PBX customers) unless
    staff marked it trunk-only."""
    kinds = KINDS_FOR_DIRECTION.get(direction)
    if on_net or kinds is None:
        return None
    counts = {kind: int(facts[f"trunk_{kind}"] or 0) for kind in KINDS}
    due_after = facts["trunk_due_after"]
    if due_after is not None:
        counts = {kind: int(due_after.get(kind, 0)) for kind in KINDS}
    trunk_only = bool(facts["trunk_trunk_only"])
    if not any(counts.values()) and not trunk_only:
        return None
    in_use = {kind: int(facts[f"trunk_in_use_{kind}"] or 0) for kind in KINDS}
    for kind in kinds:
        if in_use[kind] < counts[kind]:
            return CallLimit(allowed=True, channel_kind=kind)
    wanted = " or ".join(ChannelKind(kind).label.lower() for kind in kinds)
    return CallLimit(
        allowed=False,
        reason="no_channel",
        message=f"No free {wanted} channel: every one is in use (or none is ordered).",
    )


def channel_fields(account: Account, now: dt.datetime) -> dict[str, Any]:
    """The account endpoint's ``channels``: per kind the count in force and how many are in
    use, and whether the account may call only through channels."""
    trunk = trunk_for_account(account=account)
    counts = counts_at(account=account, at=now, trunk=trunk)
    in_use = channels_in_use(account=account, now=now)
    return {
        "channels": {kind: {"count": counts[kind], "in_use": in_use[kind]} for kind in counts},
        "trunk_only": trunk is not None and trunk.trunk_only,
    }
