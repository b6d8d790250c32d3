"""Who may change an account's service plan and call permissions from the Control Center.

One function per decision, used by the view (a POST from anyone else is a 403) and by the
template (the buttons are not shown), so the two can never disagree.
"""

from __future__ import annotations

from portal.models import User


def can_change_plan(user: User) -> bool:
    """The owner or a billing user (a plan costs money); members only look."""
    return user.can_manage_money


def can_change_call_permissions(user: User) -> bool:
    """The owner or a billing user (the limits protect money); members only look."""
    return user.can_manage_money
