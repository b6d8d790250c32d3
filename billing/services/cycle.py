"""The monthly cycle: open each account's billing periods, in order, exactly once.

Opening a period (for one account and one period start, in one transaction under the
account's row lock): run the "period opening" hooks (pending trunk decreases and plan switches
effective at the start), post every recurring charge of the new period, record the period
(``ClosedPeriod``) and advance ``AccountCycle.next_period_start``. Each posting's idempotency
key is ``cycle:<account id>:<code>:<period start ISO>``, so a charge is posted once per
account, line and period whoever runs the cycle, however often, late or concurrently: a second
runner waits for the lock and then finds the period opened; a runner killed halfway rolled
back everything of that period and the next run does it all again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from billing.models import AccountCycle, ClosedPeriod
from billing.money import ZERO, format_usd, money
from billing.periods import UTC, Period, period_containing
from billing.recurring import RecurringCharge, period_opening, recurring_charges
from billing.selectors.ledger import ledger_entries_posted
from billing.selectors.plans import plan_for_account
from billing.selectors.statements import statement_period_ending
from billing.services.ledger import ledger_post
from billing.services.notifications import account_mail, local_date
from billing.services.standing import account_cycle_ensure, account_standing_note
from billing.services.statements import statement_close
from billing.signals import BalanceChange, balances_changed
from portal.models import Account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostedCharge:
    charge: RecurringCharge
    key: str
    entry_id: int
    created: bool  # False: the key had been posted already (nothing changed)


@dataclass
class OpenedPeriod:
    account_id: int
    period: Period
    charges: list[PostedCharge] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return money(sum((c.charge.amount for c in self.charges), ZERO))


def cycle_key(*, account_id: int, code: str, period: Period) -> str:
    return f"cycle:{account_id}:{code}:{period.start.isoformat()}"


def billing_cycle_run_account(
    *, account_id: int, now: dt.datetime, dry_run: bool = False
) -> list[OpenedPeriod]:
    """Open every period of the account that started at or before ``now``, oldest first.

    Each period commits on its own, so a failure later in a catch-up keeps the periods
    before it. ``dry_run``: does the same work and rolls all of it back (nothing posted, no
    e-mail), answering what would have been posted."""
    opened: list[OpenedPeriod] = []
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        more = True
        while more:
            result, more = _open_next_period(account_id=account_id, now=now)
            if result is not None:
                opened.append(result)
        if dry_run:
            transaction.set_rollback(True)
    return opened


def _open_next_period(*, account_id: int, now: dt.datetime) -> tuple[OpenedPeriod | None, bool]:
    """Open the account's next period if it started by ``now``: (what was opened, whether
    another period is due after it). The answer to the second comes from the cycle row
    advanced under the lock, so a caught-up account costs no extra transaction."""
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(pk=account_id).first()
        if account is None or account.status == Account.Status.CLOSED:
            return None, False
        state = account_cycle_ensure(account=account, now=now)
        if state.next_period_start > now:
            return None, False
        period = period_containing(
            state.next_period_start, billing_day=account.billing_day, tz=account.tz
        )
        if period.start != state.next_period_start:
            # The billing day or time zone changed since the row was advanced: the period
            # that holds the old start is partly billed already; resume at its end.
            logger.warning(
                "cycle: account %s next start %s is not a period start; moving to %s",
                account.code,
                state.next_period_start,
                period.end,
            )
            _advance(state, period)
            return None, True
        result = OpenedPeriod(account_id=account.pk, period=period)
        if ClosedPeriod.objects.filter(account=account, period_start=period.start).exists():
            _advance(state, period)  # opened before, the row was restored behind: skip
            return result, state.next_period_start <= now
        # The period that ends here is closed before anything of the new one is posted.
        statement_close(
            account_id=account.pk,
            period=statement_period_ending(account=account, end=period.start),
            now=now,
            locked=account,
        )
        period_opening(account=account, period=period, now=now)
        before = account.balance
        last_entry_id = None
        charges = [
            (charge, cycle_key(account_id=account.pk, code=charge.code, period=period))
            for charge in recurring_charges(account=account, period=period)
            if money(charge.amount) != 0
        ]
        # One look-up under the lock for every key of the period: a key posted already (its
        # period's row was lost behind it) is reported, not posted again; the others are
        # posted without each re-locking the account and looking itself up.
        posted = ledger_entries_posted(keys={key for _charge, key in charges})
        for charge, key in charges:
            if key in posted:
                entry = posted[key]
                result.charges.append(PostedCharge(charge, key, entry.pk, created=False))
                continue
            posting = ledger_post(
                locked=True,
                account=account,
                amount=-charge.amount,
                kind=charge.kind,
                description=f"{charge.description}, {_period_label(period)}",
                idempotency_key=key,
                now=now,
                source_type="period",
                source_id=period.start.isoformat(),
                metadata={
                    "code": charge.code,
                    "quantity": charge.quantity,
                    "unit_price": str(charge.unit_price),
                },
                announce=False,
            )
            last_entry_id = posting.entry.pk
            result.charges.append(PostedCharge(charge, key, posting.entry.pk, posting.created))
        plan = plan_for_account(account=account, at=period.start)
        ClosedPeriod.objects.create(
            account=account,
            period_start=period.start,
            period_end=period.end,
            closed_at=now,
            charges=[
                {
                    "code": c.charge.code,
                    "kind": c.charge.kind,
                    "description": c.charge.description,
                    "quantity": c.charge.quantity,
                    "unit_price": str(c.charge.unit_price),
                    "amount": str(money(c.charge.amount)),
                    "entry_id": c.entry_id,
                }
                for c in result.charges
            ],
            total=result.total,
            minutes_reset_at=period.start,
            included_minutes=plan.included_minutes if plan is not None else None,
        )
        _advance(state, period)
        more = state.next_period_start <= now
        account_standing_note(account=account, state=state, now=now)
        after = account.balance
        if last_entry_id is not None:
            change = BalanceChange(account.pk, last_entry_id, before, after)
            # One signal for the period's postings: the auto-recharge receiver enqueues one
            # attempt, not one per line.
            transaction.on_commit(
                lambda: balances_changed.send_robust(sender=ClosedPeriod, changes=[change])
            )
            if after < 0:
                _mail_unpaid(account=account, period=period, result=result, balance=after)
    logger.info(
        "cycle: account %s opened %s, %s line(s), total %s",
        account_id,
        period.start.date(),
        len(result.charges),
        result.total,
    )
    return result, more


def _advance(state: AccountCycle, period: Period) -> None:
    state.next_period_start = period.end.astimezone(UTC)
    state.save(update_fields=["next_period_start", "updated_at"])


def _period_label(period: Period) -> str:
    return f"{period.start_date:%b} {period.start_date.day} \N{EN DASH} {period.last_day:%b} " + (
        f"{period.last_day.day}, {period.last_day.year}"
    )


def _mail_unpaid(
    *, account: Account, period: Period, result: OpenedPeriod, balance: Decimal
) -> None:
    context = {
        "period": _period_label(period),
        "lines": [(c.charge.description, format_usd(c.charge.amount)) for c in result.charges],
        "total": format_usd(result.total),
        "balance": format_usd(balance),
        "to_pay": format_usd(-balance),
        "since": local_date(period.start, account),
    }
    account_id = account.pk
    transaction.on_commit(
        lambda: account_mail(
            account_id,
            subject=f"Your monthly charges took your balance to {context['balance']}",
            template="billing/email/cycle_unpaid.txt",
            context=context,
        )
    )
