"""The daily consistency check: the ledger (as ``check_ledger``) and the monthly cycle, with
an e-mail to staff on any mismatch."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail

from billing.selectors.cycle import cycle_gap_account_ids, cycle_overdue_account_ids
from billing.selectors.ledger import ledger_problems
from portal.mail import mail_subject
from portal.models import Account

logger = logging.getLogger(__name__)

# The cycle's beat job runs every 15 minutes: a period start older than this that is still
# not opened means the cycle is failing for that account, not merely waiting for its turn.
CYCLE_LATE = dt.timedelta(hours=2)


def ledger_consistency_check(*, now: dt.datetime) -> list[str]:
    """Every mismatch found (also e-mailed to ``STAFF_ALERT_EMAILS``); empty when all is
    well."""
    found = [f"{p.account_code} (id {p.account_id}): {p.detail}" for p in ledger_problems()]
    overdue = cycle_overdue_account_ids(now=now, late=CYCLE_LATE)
    gaps = cycle_gap_account_ids()
    codes = dict(Account.objects.filter(pk__in=[*overdue, *gaps]).values_list("pk", "code"))
    found += [
        f"{codes[pk]} (id {pk}): a period started over {CYCLE_LATE} ago and is not closed"
        for pk in overdue
    ]
    found += [f"{codes[pk]} (id {pk}): a closed period is missing between two" for pk in gaps]
    if found:
        logger.error("ledger consistency: %s problem(s)", len(found))
        recipients = list(settings.STAFF_ALERT_EMAILS)
        if recipients:
            send_mail(
                subject=mail_subject(f"Ledger check: {len(found)} problem(s)"),
                message="\n".join(found),
                from_email=None,
                recipient_list=recipients,
            )
        else:
            logger.error("ledger consistency: STAFF_ALERT_EMAILS is empty, nobody told")
    return found
