"""The monthly-cycle benchmark behind ``make bench`` (run by bin/bench, after pg-baseline).

Creates its own PostgreSQL database (DATABASE_URL's name), migrates it, bulk-creates
``--accounts`` accounts (default 100,000) whose billing month has rolled over — spread over five
time zones and every billing day 1..31, each with an opening credit in the ledger, a service
plan, and for two in three a SIP trunk (3 two-way channels, or 2 inbound + 1 outbound) — and
measures:
- the beat job's due query (``cycle_due_account_ids``) with every account due and, after the
  run, with none due (the query every 15 minutes runs most of the month), with their EXPLAIN
  plans written to var/bench-cycle-explain.txt;
- accounts/s through ``billing_cycle_run_account``, one call per account as the
  ``billing_cycle_run`` task makes it, in ``--workers`` forked processes (Celery's default
  prefork pool, one process per CPU) sharing the due ids in small chunks;
- the same for a second run over every account (a re-delivered task for each), which must post
  nothing.
Then it checks that every account got exactly one ledger entry per recurring line of the new
period (and one closed period), that every cached balance is the sum of its entries, and that
the second run changed nothing. Each figure is printed as "name value unit", with its ratio to a
pg-baseline figure. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_rating import Figures, read_baseline, recreate_database  # noqa: E402

TIMEZONES = ["UTC", "America/Los_Angeles", "Europe/London", "Pacific/Auckland", "Asia/Kolkata"]
OPENING_CREDIT = Decimal("500.0000")
# Trunk counts by account number modulo 3: a two-way trunk, a one-way pair, no trunk.
TRUNKS: list[dict[str, int] | None] = [{"two_way": 3}, {"inbound": 2, "outbound": 1}, None]
CHUNK = 50  # due ids handed to a worker at a time (a Celery worker prefetches one task)
EXPLAIN = ROOT / "var" / "bench-cycle-explain.txt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="", help="pg-baseline output ('name value unit' lines)")
    p.add_argument(
        "--accounts", type=int, default=int(env("BENCH_CYCLE_ACCOUNTS", "100000")), help="Count"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=int(env("BENCH_CYCLE_WORKERS", str(os.cpu_count() or 2))),
        help="Worker processes (Celery prefork's default: one per CPU)",
    )
    p.add_argument(
        "--explain", default=str(EXPLAIN), help="Where to write the due query's EXPLAIN plans"
    )
    p.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    return p.parse_args(argv)


# --- data ------------------------------------------------------------------------------------


def make_accounts(count: int, *, now: dt.datetime) -> dict[int, list[str]]:
    """``count`` accounts due at ``now`` (their current period started, not opened yet);
    answers each account's expected recurring line codes for that period."""
    from django.db import connection

    from billing.models import AccountCycle, AccountPlan, LedgerEntry, ServicePlan
    from billing.periods import UTC, period_containing
    from portal.models import Account
    from trunking.models import ChannelPrice, Trunk

    plans = list(ServicePlan.objects.filter(monthly_price__gt=0).order_by("pk"))
    if not plans:
        raise RuntimeError("no paid service plan to put the accounts on")
    priced = {
        row.kind
        for row in ChannelPrice.objects.filter(effective_from__lte=now.date()).order_by(
            "kind", "-effective_from"
        )
        if row.monthly_price > 0
    }
    starts: dict[tuple[str, int], dt.datetime] = {}
    for tz in TIMEZONES:
        for day in range(1, 32):
            account = Account(timezone=tz, billing_day=day)
            starts[tz, day] = period_containing(now, billing_day=day, tz=account.tz).start
    long_ago = now - dt.timedelta(days=62)  # before every account's current period

    expected: dict[int, list[str]] = {}
    batch = 5000
    for first in range(0, count, batch):
        numbers = range(first, min(count, first + batch))
        accounts = Account.objects.bulk_create(
            [
                Account(
                    code=f"CYC{n:06d}",
                    name=f"Cycle bench {n}",
                    timezone=TIMEZONES[n % len(TIMEZONES)],
                    billing_day=1 + (n * 7) % 31,
                    balance=OPENING_CREDIT,
                )
                for n in numbers
            ]
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                account_id=a.pk,
                amount=OPENING_CREDIT,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                description="bench opening credit",
                balance_after=OPENING_CREDIT,
                idempotency_key=f"bench-cycle:{a.pk}",
                created_at=long_ago,
            )
            for a in accounts
        )
        AccountPlan.objects.bulk_create(
            AccountPlan(account_id=a.pk, plan=plans[n % len(plans)], starts_at=long_ago)
            for n, a in zip(numbers, accounts, strict=True)
        )
        trunks = []
        for n, a in zip(numbers, accounts, strict=True):
            counts = TRUNKS[n % len(TRUNKS)]
            expected[a.pk] = ["plan"]
            if counts is not None:
                trunks.append(Trunk(account_id=a.pk, **counts))
                expected[a.pk] += [f"trunk:{kind}" for kind in sorted(counts) if kind in priced]
        Trunk.objects.bulk_create(trunks)
        AccountCycle.objects.bulk_create(
            AccountCycle(
                account_id=a.pk,
                next_period_start=starts[a.timezone, a.billing_day].astimezone(UTC),
            )
            for a in accounts
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return expected


# --- the due query ---------------------------------------------------------------------------


@contextlib.contextmanager
def recorded_queries() -> Iterator[list[tuple[str, Any]]]:
    """The (SQL, params) of every query run inside, as Django passes them to the driver."""
    from django.db import connection

    queries: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield queries


def due_query_figures(
    figures: Figures, *, now: dt.datetime, expect: int, label: str, out: Any
) -> list[int]:
    from django.db import connection

    from billing.selectors.cycle import cycle_due_account_ids

    with recorded_queries() as queries:
        due = cycle_due_account_ids(now=now)
    if len(due) != expect:
        raise RuntimeError(f"due query ({label}): {len(due)} accounts, expected {expect}")
    timings = []
    for _ in range(5):
        began = time.monotonic()
        cycle_due_account_ids(now=now)
        timings.append(time.monotonic() - began)
    figures.show(f"cycle_due_query_{label}", 1000 * statistics.median(timings), "ms")
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            out.write(f"--- due query, {label} ({len(due):,} accounts due)\n{sql}\n\n{plan}\n\n")
    return due


# --- the cycle in worker processes -----------------------------------------------------------

_NOW: dt.datetime | None = None


def _worker_init(now: dt.datetime) -> None:
    global _NOW
    _NOW = now


def _run_chunk(account_ids: list[int]) -> tuple[int, int, int, list[str]]:
    """(accounts, periods opened, entries created, failures) for one chunk of due ids; one
    bad account does not stop the rest, as with one task per account."""
    from billing.services.cycle import billing_cycle_run_account

    assert _NOW is not None
    periods = created = 0
    failures = []
    for account_id in account_ids:
        try:
            opened = billing_cycle_run_account(account_id=account_id, now=_NOW)
        except Exception as exc:  # counted and reported, like a failed task
            failures.append(f"account {account_id}: {exc!r}")
            continue
        periods += len(opened)
        created += sum(1 for p in opened for c in p.charges if c.created)
    return len(account_ids), periods, created, failures


def cycle_run(account_ids: list[int], *, now: dt.datetime, workers: int) -> tuple[float, int, int]:
    """Run the cycle for ``account_ids`` in ``workers`` forked processes; (seconds, periods
    opened, entries created). Raises on any failed account."""
    from django.db import connections

    connections.close_all()  # each worker opens its own connection (never a forked one)
    chunks = [account_ids[i : i + CHUNK] for i in range(0, len(account_ids), CHUNK)]
    context = multiprocessing.get_context("fork")
    began = time.monotonic()
    with context.Pool(workers, initializer=_worker_init, initargs=(now,)) as pool:
        results = list(pool.imap_unordered(_run_chunk, chunks))
    elapsed = time.monotonic() - began
    failures = [failure for *_, chunk_failures in results for failure in chunk_failures]
    if failures:
        raise RuntimeError(f"{len(failures)} account(s) failed, first: {failures[0]}")
    done = sum(r[0] for r in results)
    if done != len(account_ids):
        raise RuntimeError(f"ran {done} accounts of {len(account_ids)}")
    return elapsed, sum(r[1] for r in results), sum(r[2] for r in results)


# --- checks ----------------------------------------------------------------------------------


def ledger_counts() -> tuple[int, int, int]:
    from billing.models import ClosedPeriod, LedgerEntry

    entries = LedgerEntry.objects.filter(idempotency_key__startswith="cycle:")
    last = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return entries.count(), ClosedPeriod.objects.count(), last


def verify_exactly_once(expected: dict[int, list[str]]) -> int:
    """Every account has one entry per expected line, keyed for its new period, one closed
    period, and a cached balance equal to the sum of its entries; answers the entry count."""
    from django.db import connection
    from django.db.models import F

    from billing.models import AccountCycle, ClosedPeriod, LedgerEntry

    got: dict[int, Counter[str]] = {pk: Counter() for pk in expected}
    rows = LedgerEntry.objects.filter(idempotency_key__startswith="cycle:").values_list(
        "account_id", "idempotency_key", "source_id"
    )
    starts: dict[int, set[str]] = {}
    for account_id, key, source_id in rows.iterator(chunk_size=10_000):
        _cycle, owner, code_and_start = key.split(":", 2)
        code = code_and_start[: -len(source_id) - 1]
        if int(owner) != account_id:
            raise RuntimeError(f"entry {key} posted to account {account_id}")
        got.setdefault(account_id, Counter())[code] += 1
        starts.setdefault(account_id, set()).add(source_id)
    wrong = [pk for pk, codes in expected.items() if got[pk] != Counter(codes)]
    if wrong:
        pk = wrong[0]
        raise RuntimeError(
            f"{len(wrong)} account(s) without exactly one charge per line; account {pk}: "
            f"expected {sorted(expected[pk])}, got {dict(got[pk])}"
        )
    if any(len(s) != 1 for s in starts.values()) or len(starts) != len(expected):
        raise RuntimeError("an account was charged for other than one period")
    periods = Counter(ClosedPeriod.objects.values_list("account_id", flat=True).iterator())
    if len(periods) != len(expected) or set(periods.values()) != {1}:
        raise RuntimeError("not exactly one closed period per account")
    # The period charged is the one the cycle row advanced past.
    mismatched = (
        AccountCycle.objects.filter(account__closed_periods__isnull=False)
        .exclude(next_period_start=F("account__closed_periods__period_end"))
        .count()
    )
    if mismatched:
        raise RuntimeError(f"{mismatched} cycle row(s) not advanced to the period's end")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM portal_account a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM billing_ledgerentry
                       GROUP BY account_id) e ON e.account_id = a.id
            WHERE a.balance <> coalesce(e.total, 0)
            """
        )
        (off,) = cursor.fetchone() or (0,)
    if off:
        raise RuntimeError(f"{off} account(s) whose cached balance is not the sum of entries")
    return sum(sum(c.values()) for c in got.values())


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = os.environ["DATABASE_URL"]
    figures = Figures(read_baseline(args.baseline))
    recreate_database(url)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        print(
            f"Cycle benchmark on {connection.vendor} ({os.cpu_count()} CPUs): "
            f"{args.accounts:,} accounts, {args.workers} worker processes",
            flush=True,
        )
        now = timezone.now()
        began = time.monotonic()
        expected = make_accounts(args.accounts, now=now)
        lines = sum(len(codes) for codes in expected.values())
        figures.show("cycle_setup", time.monotonic() - began, "s")

        explain = Path(args.explain).resolve()
        explain.parent.mkdir(exist_ok=True)
        with explain.open("w") as out:
            due = due_query_figures(
                figures, now=now, expect=args.accounts, label="all_due", out=out
            )
            if sorted(due) != sorted(expected):
                raise RuntimeError("the due query found other accounts than those created")

            elapsed, periods, created = cycle_run(due, now=now, workers=args.workers)
            if periods != args.accounts or created != lines:
                raise RuntimeError(f"first run: {periods} periods, {created} entries created")
            rate = args.accounts / elapsed
            figures.show("cycle_first_run", elapsed, "s")
            figures.show("cycle_accounts", rate, "accounts/s", "tpcb_16_clients")
            figures.show(
                "cycle_accounts_per_worker", rate / args.workers, "accounts/s", "tpcb_1_client"
            )
            figures.show("cycle_entries", created / elapsed, "entries/s", "tpcb_16_clients")

            posted = verify_exactly_once(expected)
            before = ledger_counts()
            due_query_figures(figures, now=now, expect=0, label="none_due", out=out)

            # Every task delivered again (a worker killed after its work, a scan run twice):
            # each takes the account's lock, finds the period opened, and posts nothing.
            elapsed, periods, created = cycle_run(due, now=now, workers=args.workers)
            if periods or created or ledger_counts() != before:
                raise RuntimeError(f"second run: {periods} periods, {created} entries created")
            figures.show("cycle_rerun", elapsed, "s")
            figures.show(
                "cycle_rerun_accounts", args.accounts / elapsed, "accounts/s", "tpcb_16_clients"
            )
        print(
            f"(verified: {args.accounts:,} accounts, {posted:,} recurring entries, one per line "
            f"and account, one closed period each, cached balances = sum of entries; the second "
            f"run posted nothing. EXPLAIN ANALYZE of the due query: {explain})",
            flush=True,
        )
        connections.close_all()
    finally:
        if not args.keep:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
            recreate_database(url, drop_only=True)


if __name__ == "__main__":
    main()
