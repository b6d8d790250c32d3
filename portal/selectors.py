"""Reads for accounts."""

from __future__ import annotations

from django.http import Http404

from portal.models import Account, Invitation, User


def account_for_user(*, user: User) -> Account:
    """The customer account of a logged-in user; 404 for users without one (e.g. staff)."""
    if not user.is_authenticated or user.account_id is None:
        raise Http404("This login has no customer account.")
    account = user.account
    assert account is not None
    return account


def account_members(*, account: Account) -> list[User]:
    return list(account.users.order_by("role", "email"))


def pending_invitations(*, account: Account) -> list[Invitation]:
    return list(account.invitations.filter(accepted_at=None, revoked_at=None))


def account_member(*, account: Account, user_id: int) -> User:
    """One person of the account; another account's user id is a 404."""
    member = account.users.filter(pk=user_id).first()
    if member is None:
        raise Http404("No such person in this account.")
    return member
