"""Who may change an account's money settings from the Control Center.

One function per decision, used by the view (a POST from anyone else is a 403) and by the
template (the buttons are not shown), so the two can never disagree.
"""

from __future__ import annotations

from portal.models import User


def can_change_plan(user: User) -> bool:
    """The owner, or a billing user where that role exists; members only look."""
    allowed = {User.Role.OWNER.value}
    billing_role = getattr(User.Role, "BILLING", None)
    if billing_role is not None:
        allowed.add(billing_role.value)
    return user.role in allowed
