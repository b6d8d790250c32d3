"""Who may change an account's channels: the one place that decides it (views and templates
ask it), so the roles of the account can change without touching the pages."""

from __future__ import annotations

from portal.models import User


def can_change_channels(user: User) -> bool:
    """Owners and the billing role change channels (they cost money); members only look."""
    return user.can_manage_money
