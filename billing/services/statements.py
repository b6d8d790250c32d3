"""Monthly statements: closed once per account and period, numbered, e-mailed once.

``statement_close`` runs in the transaction that closes the period (the cycle's, under the
account's row lock), so a statement exists exactly when its period is closed: a cycle that
rolls back leaves neither. Its invoice number comes from the provider's counter row, locked in
the same transaction: a rolled-back close gives its number back, so numbers have no gaps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from billing.models import InvoiceCounter, Statement, StatementLine
from billing.money import format_usd
from billing.periods import Period
from billing.selectors.statements import ledger_period_totals
from billing.services.notifications import account_mail
from billing.signals import statement_closed
from portal.models import Account

logger = logging.getLogger(__name__)


def provider_name() -> str:
    return str(settings.BILLING_PROVIDER_NAME)


def provider_address() -> str:
    return str(settings.BILLING_PROVIDER_ADDRESS)


def statement_close(
    *, account_id: int, period: Period, now: dt.datetime, locked: Account | None = None
) -> Statement:
    """The account's statement for ``period`` (closing it the first time): idempotent, one
    per account and period end, whoever calls it and however often.

    ``locked``: the caller's transaction already holds this account's row lock (the monthly
    cycle), so it is neither locked again nor given a savepoint of its own: a failure aborts
    the caller's transaction, which rolls the whole period back."""
    if locked is not None and (
        locked.pk != account_id or not transaction.get_connection().in_atomic_block
    ):
        raise TypeError("statement_close(locked=...) needs the account its transaction locked.")
    with contextlib.nullcontext() if locked is not None else transaction.atomic():
        account = locked or Account.objects.select_for_update().get(pk=account_id)
        existing = (
            Statement.objects.filter(account=account, period_end=period.end).order_by("pk").first()
        )
        if existing is not None:
            return existing
        totals = ledger_period_totals(account_id=account.pk, start=period.start, end=period.end)
        provider = provider_name()
        statement = Statement.objects.create(
            account=account,
            period_start=period.start,
            period_end=period.end,
            provider_name=provider,
            provider_address=provider_address(),
            invoice_number=_next_invoice_number(provider),
            opening_balance=totals.opening,
            payments=totals.group_total(Statement.Group.PAYMENTS),
            usage=totals.group_total(Statement.Group.USAGE),
            recurring=totals.group_total(Statement.Group.RECURRING),
            adjustments=totals.group_total(Statement.Group.ADJUSTMENTS),
            refunds=totals.group_total(Statement.Group.REFUNDS),
            closing_balance=totals.closing,
            entry_count=totals.entry_count,
            closed_at=now,
        )
        StatementLine.objects.bulk_create(
            StatementLine(
                statement=statement,
                position=position,
                group=line.group,
                code=line.code,
                label=line.label,
                count=line.count,
                amount=line.amount,
            )
            for position, line in enumerate(totals.lines)
        )
        statement_id = statement.pk
        transaction.on_commit(
            lambda: statement_closed.send_robust(sender=Statement, statement_id=statement_id)
        )
    logger.info(
        "statement: account %s %s, %s → %s, closing %s",
        account_id,
        statement.invoice_label,
        period.start.date(),
        period.end.date(),
        statement.closing_balance,
    )
    return statement


# One statement takes the next number: the UPDATE holds the counter row's lock until the
# closing transaction ends, so another closer waits for it, and a rolled-back statement gives
# its number back (no gaps). RETURNING saves a read (SQLite ≥ 3.35 and PostgreSQL have it).
_TAKE_NUMBER = (
    "UPDATE billing_invoicecounter SET last_number = last_number + 1 "
    "WHERE provider = %s RETURNING last_number"
)


def _next_invoice_number(provider: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_NUMBER, [provider])
        row = cursor.fetchone()
        if row is None:
            # The provider's first statement: make the row (a no-op when another
            # transaction made it at once), then take the number under its lock.
            InvoiceCounter.objects.bulk_create(
                [InvoiceCounter(provider=provider)], ignore_conflicts=True
            )
            cursor.execute(_TAKE_NUMBER, [provider])
            row = cursor.fetchone()
    return int(row[0])


def statement_email(*, statement_id: int, now: dt.datetime) -> bool:
    """E-mail the statement to the account's people once: the send is claimed under the
    statement's row lock (``emailed_at``), then the mail goes out after that commit, so no
    SMTP call runs under a lock; a failed send gives the claim back for a later attempt."""
    with transaction.atomic():
        statement = (
            Statement.objects.select_for_update()
            .select_related("account")
            .filter(pk=statement_id)
            .first()
        )
        if statement is None or statement.emailed_at is not None:
            return False
        statement.emailed_at = now
        statement.save(update_fields=["emailed_at"])
    account = statement.account
    context = {
        "statement": statement,
        "invoice": statement.invoice_label,
        "period": statement_period_label(statement, account),
        "opening": format_usd(statement.opening_balance),
        "closing": format_usd(statement.closing_balance),
        "lines": [(line.label, format_usd(line.amount)) for line in statement.lines.all()],
        "statement_url": settings.SITE_URL
        + reverse("billing:statement", kwargs={"statement_id": statement.pk}),
    }
    try:
        account_mail(
            account.pk,
            subject=f"Your statement {statement.invoice_label} for {context['period']}",
            template="billing/email/statement.txt",
            context=context,
        )
    except Exception:
        logger.exception("statement %s: the e-mail failed; it will be retried", statement_id)
        Statement.objects.filter(pk=statement_id, emailed_at=now).update(emailed_at=None)
        raise
    return True


def statement_period_label(statement: Statement, account: Account) -> str:
    first, last = statement.local_dates(account.tz)
    return f"{first:%b} {first.day}, {first.year} \N{EN DASH} {last:%b} {last.day}, {last.year}"
