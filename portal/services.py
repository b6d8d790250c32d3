"""Writes for accounts and users. Keyword-only, typed, named <entity>_<action>."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from portal.errors import DomainError
from portal.mail import mail_subject, site_link
from portal.models import Account, User, new_account_code, validate_timezone

logger = logging.getLogger(__name__)


def _validated_timezone(timezone: str) -> str:
    try:
        validate_timezone(timezone)
    except Exception as exc:
        raise DomainError(f"Unknown time zone: {timezone}.", code="bad_timezone") from exc
    return timezone


def account_create(
    *,
    name: str,
    timezone: str | None = None,
    billing_day: int | None = None,
    code: str | None = None,
    now: dt.datetime,
) -> Account:
    """Create a customer account. The billing day defaults to today's day in its time zone."""
    name = name.strip()
    if not name:
        raise DomainError("An account needs a name.", code="bad_name")
    tz_name = _validated_timezone(timezone or settings.DEFAULT_ACCOUNT_TIMEZONE)
    account = Account(name=name, timezone=tz_name)
    if billing_day is None:
        billing_day = now.astimezone(account.tz).day
    if not 1 <= billing_day <= 31:
        raise DomainError("The billing day must be between 1 and 31.", code="bad_billing_day")
    account.billing_day = billing_day
    for _attempt in range(5):
        account.code = code or new_account_code()
        try:
            with transaction.atomic():
                account.save()
            return account
        except IntegrityError as exc:
            if code:
                raise DomainError(f"Account code {code} is taken.", code="code_taken") from exc
    raise DomainError("Could not allocate an account code; try again.", code="code_taken")


def account_update(*, account: Account, name: str, timezone: str) -> Account:
    name = name.strip()
    if not name:
        raise DomainError("An account needs a name.", code="bad_name")
    account.name = name
    account.timezone = _validated_timezone(timezone)
    account.save(update_fields=["name", "timezone", "updated_at"])
    return account


def user_attach_to_account(*, user: User, account: Account, role: str) -> User:
    if user.account_id is not None and user.account_id != account.pk:
        raise DomainError("This user already belongs to another account.", code="has_account")
    user.account = account
    user.role = role
    user.save(update_fields=["account", "role"])
    return user


def account_create_with_owner(
    *,
    email: str,
    name: str,
    timezone: str | None = None,
    billing_day: int | None = None,
    code: str | None = None,
    now: dt.datetime,
) -> tuple[Account, User]:
    """Staff path: a new account and its owner (unusable password, verified e-mail)."""
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(f"A user with e-mail {email} already exists.", code="email_taken")
    with transaction.atomic():
        account = account_create(
            name=name, timezone=timezone, billing_day=billing_day, code=code, now=now
        )
        user = User.objects.create_user(email=email, password=None)
        user_attach_to_account(user=user, account=account, role=User.Role.OWNER)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return account, user


def user_send_invitation(*, user: User) -> str:
    """E-mail a set-your-password link (allauth's password-reset key); returns the link."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    link = site_link(path)
    context = {"user": user, "account": user.account, "link": link}
    send_mail(
        subject=mail_subject(f"You have been invited to {settings.SITE_NAME}"),
        message=render_to_string("portal/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    logger.info("invitation sent to user %s", user.pk)
    return link
