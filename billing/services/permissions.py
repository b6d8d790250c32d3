"""Call permissions (toll-fraud protection), write side: changes by the customer or staff
(recorded who/when/what and e-mailed to the owner), the velocity alarm that holds paid calls,
and releasing the hold.

Every change runs under the account's row lock, the lock authorization holds while it reads
the permissions, so a call is decided either wholly before or wholly after a change.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse

from billing.models import Call, CallPermissionChange, CallPermissions
from billing.money import format_usd, money
from billing.selectors.permissions import (
    call_permissions_for,
    daily_cap_staff_max,
    velocity_max_calls,
    velocity_max_spend,
    velocity_window,
)
from billing.services.notifications import account_mail
from portal.errors import DomainError
from portal.mail import mail_subject, site_link, support_contact
from portal.models import Account, User
from portal.times import format_when

logger = logging.getLogger(__name__)

_FIELDS = ("allow_low", "allow_medium", "allow_high", "price_ceiling", "daily_cap")
_LABELS = {
    "allow_low": "Low-risk countries",
    "allow_medium": "Medium-risk countries",
    "allow_high": "High-risk countries",
    "price_ceiling": "Price ceiling (USD/min)",
    "daily_cap": "Daily spend cap (USD)",
}


def _locked_permissions(*, account: Account, now: dt.datetime) -> tuple[Account, CallPermissions]:
    """The account locked and its permissions row (created with the defaults when missing)."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    permissions = call_permissions_for(account=locked, at=now)
    if permissions._state.adding:
        permissions.save(force_insert=True)
    return locked, permissions


def _shown(value: Any) -> Any:
    return str(money(value)) if isinstance(value, Decimal) else value


def _record(
    *,
    account: Account,
    actor: User | None,
    by_staff: bool,
    changes: dict[str, list[Any]],
    summary: str,
    now: dt.datetime,
    system: bool = False,
) -> CallPermissionChange:
    change = CallPermissionChange.objects.create(
        account=account,
        changed_by=actor,
        by_staff=by_staff,
        system=system,
        summary=summary[:255],
        changes=changes,
        created_at=now,
    )
    if system:
        return change  # the alarm sends its own e-mail
    lines = [f"{_LABELS.get(key, key)}: {old} → {new}" for key, (old, new) in changes.items()]
    who = "support" if by_staff else str(actor or "someone")
    context = {"who": who, "lines": lines, "when": now, "permissions_url": _page_url()}
    transaction.on_commit(
        lambda: _mail_safely(
            account_mail,
            account.pk,
            subject="Your call permissions changed",
            template="billing/email/call_permissions_changed.txt",
            context=context,
        )
    )
    return change


def _page_url() -> str:
    return site_link(reverse("billing:call_permissions"))


def _mail_safely(send: Any, *args: Any, **kwargs: Any) -> None:
    """The change is committed: a mail server that is down is logged, never a failed save."""
    try:
        send(*args, **kwargs)
    except Exception:
        logger.exception("call permissions e-mail failed")


def call_permissions_update(
    *,
    account: Account,
    actor: User | None,
    now: dt.datetime,
    allow_low: bool,
    allow_medium: bool,
    allow_high: bool,
    countries: dict[str, bool | None],
    price_ceiling: Decimal,
    daily_cap: Decimal,
    by_staff: bool = False,
) -> CallPermissionChange | None:
    """Change an account's call permissions; None when nothing changed. ``countries``: ISO
    code -> allowed, or None to follow the tier toggle again. Raises DomainError
    ``daily_cap_above_maximum`` when a customer raises the cap above the staff maximum, and
    ``bad_limit`` for a negative ceiling or cap."""
    price_ceiling, daily_cap = money(price_ceiling), money(daily_cap)
    if price_ceiling < 0 or daily_cap < 0:
        raise DomainError(
            "The price ceiling and the daily cap cannot be negative.", code="bad_limit"
        )
    with transaction.atomic():
        locked, permissions = _locked_permissions(account=account, now=now)
        maximum = daily_cap_staff_max()
        if not by_staff and daily_cap > maximum and daily_cap > money(permissions.daily_cap):
            raise DomainError(
                f"daily_cap: above ${maximum}/day only support can raise the cap; contact support "
                f"at {support_contact()}.",
                code="daily_cap_above_maximum",
            )
        new = {
            "allow_low": allow_low,
            "allow_medium": allow_medium,
            "allow_high": allow_high,
            "price_ceiling": price_ceiling,
            "daily_cap": daily_cap,
        }
        changes: dict[str, list[Any]] = {}
        for field in _FIELDS:
            old = getattr(permissions, field)
            if (money(old) if isinstance(old, Decimal) else old) != new[field]:
                changes[field] = [_shown(old), _shown(new[field])]
                setattr(permissions, field, new[field])
        chosen = dict(permissions.countries)
        for country, allowed in sorted(countries.items()):
            before = chosen.get(country)
            if allowed is None:
                chosen.pop(country, None)
            else:
                chosen[country] = bool(allowed)
            if chosen.get(country) != before:
                changes[f"country {country}"] = [before, chosen.get(country)]
        if not changes:
            return None
        permissions.countries = chosen
        permissions.updated_at = now
        permissions.save()
        summary = "Changed " + ", ".join(sorted(changes))
        return _record(
            account=locked,
            actor=actor,
            by_staff=by_staff,
            changes=changes,
            summary=summary,
            now=now,
        )


def fraud_hold_release(
    *, account: Account, actor: User | None, now: dt.datetime, by_staff: bool = False
) -> bool:
    """Re-enable paid calls after a fraud hold; False when there was none. The velocity window
    restarts now, so the calls that tripped the alarm do not trip it again."""
    with transaction.atomic():
        locked, permissions = _locked_permissions(account=account, now=now)
        if not permissions.on_hold:
            return False
        changes: dict[str, list[Any]] = {"fraud_hold": [permissions.fraud_hold_reason, None]}
        permissions.fraud_hold_at = None
        permissions.fraud_hold_reason = ""
        permissions.velocity_since = now
        permissions.updated_at = now
        permissions.save()
        _record(
            account=locked,
            actor=actor,
            by_staff=by_staff,
            changes=changes,
            summary="Paid calls re-enabled after the fraud hold",
            now=now,
        )
    return True


def call_velocity_check(*, account_id: int, now: dt.datetime) -> bool:
    """Trip the velocity alarm when, within the rolling window (since the last release at
    most), more than the allowed paid calls went to one number or more than the allowed usage
    was spent: paid calls are held, the customer and staff are e-mailed. True when it tripped
    now; an alarm already tripped stays as it is (one hold, one e-mail)."""
    with transaction.atomic():
        account = Account.objects.filter(pk=account_id).first()
        if account is None:
            return False
        locked, permissions = _locked_permissions(account=account, now=now)
        if permissions.on_hold:
            return False
        since = now - velocity_window()
        if permissions.velocity_since is not None and permissions.velocity_since > since:
            since = permissions.velocity_since
        paid = Call.objects.filter(account=locked, charge__gt=0, started_at__gte=since)
        busiest = (
            paid.values("to_number")
            .annotate(calls=models.Count("id"))
            .order_by("-calls", "to_number")
            .first()
        )
        spent = money(paid.aggregate(total=models.Sum("charge"))["total"] or 0)
        reason = ""
        if busiest is not None and busiest["calls"] > velocity_max_calls():
            reason = (
                f"{busiest['calls']} paid calls to {busiest['to_number']} since "
                f"{format_when(since, locked)} (more than {velocity_max_calls()})"
            )
        elif spent > velocity_max_spend():
            reason = (
                f"{format_usd(spent)} of calls since {format_when(since, locked)} "
                f"(more than {format_usd(velocity_max_spend())})"
            )
        if not reason:
            return False
        permissions.fraud_hold_at = now
        permissions.fraud_hold_reason = reason[:255]
        permissions.updated_at = now
        permissions.save()
        _record(
            account=locked,
            actor=None,
            by_staff=False,
            system=True,
            changes={"fraud_hold": [None, reason]},
            summary="Paid calls suspended by the fraud alarm",
            now=now,
        )
        code = locked.code
        transaction.on_commit(lambda: _mail_safely(_fraud_hold_mail, account_id, code, reason))
    logger.warning("fraud alarm: account %s paid calls held: %s", account_id, reason)
    return True


def _fraud_hold_mail(account_id: int, code: str, reason: str) -> None:
    account_mail(
        account_id,
        subject="Paid calls suspended: unusual call activity",
        template="billing/email/fraud_hold.txt",
        context={"reason": reason, "permissions_url": _page_url()},
    )
    if settings.STAFF_ALERT_EMAILS:
        send_mail(
            subject=mail_subject(f"Fraud alarm: account {code}"),
            message=f"Paid calls of account {code} are held: {reason}.",
            from_email=None,
            recipient_list=settings.STAFF_ALERT_EMAILS,
        )
