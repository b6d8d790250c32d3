"""Writes for the people of an account: invitations by e-mail, roles, removal.

An account always keeps at least one owner: role changes and removals lock the account row and
count the owners under that lock, so two owners demoting each other at once cannot leave none.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from portal.errors import DomainError
from portal.mail import mail_subject, site_link
from portal.models import Account, Invitation, User

logger = logging.getLogger(__name__)

INVITATION_SALT = "portal.invitation"


def _max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.PORTAL_INVITATION_MAX_AGE_DAYS)


def _require_owner(*, account: Account, actor: User) -> None:
    if actor.account_id != account.pk or actor.role != User.Role.OWNER:
        raise DomainError("Only an owner of the account can manage people.", code="not_owner")


def _valid_role(role: str) -> str:
    if role not in User.Role.values:
        raise DomainError("Choose a role: owner, billing or member.", code="bad_role")
    return role


def _mail(*, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    """Sent after commit, so a rolled-back change never e-mails anyone."""
    body = render_to_string(template, context)
    transaction.on_commit(
        lambda: send_mail(
            subject=mail_subject(subject),
            message=body,
            from_email=None,
            recipient_list=[to],
            fail_silently=True,
        )
    )


def invitation_link(*, invitation: Invitation) -> str:
    token = signing.TimestampSigner(salt=INVITATION_SALT).sign(str(invitation.pk))
    return site_link(reverse("invitation_accept", kwargs={"token": token}))


def invitation_create(
    *, account: Account, actor: User, email: str, role: str, now: dt.datetime
) -> Invitation:
    """An owner invites an e-mail address with a role; earlier pending invitations of the same
    address to this account are revoked (only the newest link works)."""
    _require_owner(account=account, actor=actor)
    role = _valid_role(role)
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and existing.account_id == account.pk:
        raise DomainError(f"{email} is already in this account.", code="already_member")
    if existing is not None and (existing.account_id is not None or existing.is_staff):
        raise DomainError(f"{email} cannot be invited: it has another login.", code="email_taken")
    with transaction.atomic():
        Invitation.objects.filter(
            account=account, email=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            account=account, email=email, role=role, invited_by=actor, created_at=now
        )
        context = {
            "account": account,
            "inviter": actor,
            "role": invitation.get_role_display(),
            "link": invitation_link(invitation=invitation),
            "days": settings.PORTAL_INVITATION_MAX_AGE_DAYS,
        }
        _mail(
            to=email,
            subject=f"{actor.email} invited you to {account.name}",
            template="portal/email/people_invitation.txt",
            context=context,
        )
    logger.info("people: account=%s invited %s as %s by user %s", account.pk, email, role, actor.pk)
    return invitation


def invitation_for_token(*, token: str) -> Invitation:
    """The pending invitation a link names, or DomainError saying why the link is dead."""
    try:
        pk = signing.TimestampSigner(salt=INVITATION_SALT).unsign(token, max_age=_max_age())
    except signing.SignatureExpired as exc:
        raise DomainError(
            "This invitation has expired. Ask an owner of the account to invite you again.",
            code="invitation_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise DomainError("This invitation link is not valid.", code="bad_invitation") from exc
    invitation = Invitation.objects.select_related("account").filter(pk=int(pk)).first()
    if invitation is None or not invitation.is_pending:
        raise DomainError(
            "This invitation has already been used or was withdrawn.", code="invitation_used"
        )
    return invitation


def invitation_accept(*, token: str, password: str, now: dt.datetime) -> User:
    """The invitee sets a password and joins with the invited role, once."""
    from allauth.account.models import EmailAddress

    invitation = invitation_for_token(token=token)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:
            raise DomainError("This invitation has already been used.", code="invitation_used")
        user = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
        if user is not None and (user.account_id is not None or user.is_staff):
            raise DomainError(
                "This e-mail address already has a login; sign in with it instead.",
                code="email_taken",
            )
        if user is None:
            user = User(email=invitation.email)
        user.account = invitation.account
        user.role = invitation.role
        user.is_active = True
        user.set_password(password)
        user.save()
        # The e-mailed link proved the address.
        EmailAddress.objects.update_or_create(
            user=user, email=invitation.email, defaults={"verified": True, "primary": True}
        )
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
    logger.info(
        "people: user %s joined account %s as %s", user.pk, invitation.account_id, user.role
    )
    return user


def _locked_member(*, account: Account, member_id: int) -> tuple[Account, User, int]:
    """Under the account row lock: the member, and how many owners the account has."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    member = User.objects.filter(account=locked, pk=member_id).first()
    if member is None:
        raise DomainError("This person is not in your account.", code="not_member")
    owners = User.objects.filter(account=locked, role=User.Role.OWNER, is_active=True).count()
    return locked, member, owners


def member_change_role(
    *, account: Account, actor: User, member_id: int, role: str, now: dt.datetime
) -> User:
    _require_owner(account=account, actor=actor)
    role = _valid_role(role)
    with transaction.atomic():
        _locked, member, owners = _locked_member(account=account, member_id=member_id)
        if member.role == role:
            return member
        if member.role == User.Role.OWNER and owners <= 1:
            raise DomainError(
                "The account needs at least one owner: make someone else an owner first.",
                code="last_owner",
            )
        previous = member.get_role_display()
        member.role = role
        member.save(update_fields=["role"])
        _mail(
            to=member.email,
            subject=f"Your role in {account.name} changed",
            template="portal/email/people_changed.txt",
            context={
                "account": account,
                "actor": actor,
                "change": f"changed your role from {previous} to {member.get_role_display()} in",
            },
        )
    logger.info(
        "people: account=%s user %s role %s by user %s", account.pk, member.pk, role, actor.pk
    )
    return member


def member_remove(*, account: Account, actor: User, member_id: int, now: dt.datetime) -> User:
    """An owner removes someone, or anyone leaves (``member_id`` is their own). The login is
    disabled and detached from the account; an owner can invite the address again later."""
    if actor.pk != member_id:
        _require_owner(account=account, actor=actor)
    with transaction.atomic():
        _locked, member, owners = _locked_member(account=account, member_id=member_id)
        if member.role == User.Role.OWNER and owners <= 1:
            raise DomainError(
                "The last owner cannot leave or be removed: make someone else an owner first.",
                code="last_owner",
            )
        member.account = None
        member.role = User.Role.MEMBER
        member.is_active = False
        member.save(update_fields=["account", "role", "is_active"])
        Invitation.objects.filter(
            account=account, email__iexact=member.email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        change = "left" if actor.pk == member_id else "removed you from"
        _mail(
            to=member.email,
            subject=f"You no longer have access to {account.name}",
            template="portal/email/people_changed.txt",
            context={"account": account, "actor": actor, "change": change},
        )
    logger.info("people: account=%s user %s removed by user %s", account.pk, member_id, actor.pk)
    return member
