"""Billing e-mail to an account's people (owners first), and dates as the customer reads them."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from portal.mail import mail_subject, site_link
from portal.models import Account, User

logger = logging.getLogger(__name__)


def account_emails(account_id: int) -> list[str]:
    users = User.objects.filter(account_id=account_id, is_active=True)
    owners = [u.email for u in users if u.role == User.Role.OWNER]
    return owners or [u.email for u in users]


def account_mail(account_id: int, *, subject: str, template: str, context: dict[str, Any]) -> None:
    recipients = account_emails(account_id)
    if not recipients:
        logger.warning("billing mail %r: account %s has no users", subject, account_id)
        return
    account = Account.objects.get(pk=account_id)
    body = render_to_string(
        template,
        {
            "account": account,
            "per_minute_url": site_link(reverse("billing:per_minute")),
            **context,
        },
    )
    send_mail(
        subject=mail_subject(subject),
        message=body,
        from_email=None,
        recipient_list=recipients,
    )


def local_date(moment: dt.datetime, account: Account) -> str:
    local = moment.astimezone(account.tz)
    return f"{local:%b} {local.day}, {local.year}"
