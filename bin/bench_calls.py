"""The Calls-page benchmark behind ``make bench`` (run by bin/bench, after pg-baseline).

Creates its own PostgreSQL database (DATABASE_URL's name), migrates it (billing_call partitioned
by month), and:
- measures the write cost of the number-search (trigram) indexes: rows/s of COPY and of
  multi-row INSERTs (batches of 500, as CDR batches write) into billing_call, with and without
  them;
- generates ``--calls`` calls with COPY (not the ORM), in time order over ``--months`` months,
  ``--big-share`` of them (20 %) on one account and the rest over ``--accounts`` accounts, then
  VACUUM ANALYZE;
- times each Calls-page query through the selectors the page calls (``call_page``: the capped
  count and the page of 50), ``--runs`` times each, and prints p50 and p95 in ms, with p95 as a
  rate (1000 / p95 per second) beside pg-baseline's tpcb_1_client as a ratio;
- times the chart query (minutes per day by category over 30 days, one account);
- writes EXPLAIN (ANALYZE, BUFFERS) of each query to var/bench-calls-explain.txt.
The database is dropped at the end (unless --keep).

    BENCH_CALLS=10000000 bin/bench calls    the 10M-call figures (2M on one account)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bin"))

from bench_rating import Figures, read_baseline, recreate_database  # noqa: E402

BIG = "BENCHBIG"
GOAL_PAGE_MS = 50.0
# The deep-page figure walks this many pages of the Calls page (billing.selectors.calls
# CALLS_PER_PAGE calls each) down the big account.
DEEP_PAGES = 200
PAGE_CALLS = 50
GOAL_CHART_MS = 100.0
# The goals were set in ms on a quiet run of this box where tpcb_1_client did 854 tps: as a
# ratio that holds on a busy box too, 1/p95 >= (1000 / goal) / 854 x tpcb_1_client.
GOAL_TPCB_1 = 854.0
COLUMNS = (
    "account_id, call_id, direction, from_number, to_number, destination, started_at, "
    "answered_at, ended_at, billsec, disposition, period_start, category, billed_seconds, "
    "included_seconds, paid_seconds, rate, connect_fee, charge, explanation, source, "
    "refusal_flag, created_at"
)
CATEGORIES = ("included", "overage", "rated", "on_net", "unanswered", "did_rate")


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="", help="pg-baseline output ('name value unit' lines)")
    p.add_argument("--calls", type=int, default=int(env("BENCH_CALLS", "1000000")))
    p.add_argument("--big-share", type=float, default=0.2, help="Share of calls on one account")
    p.add_argument("--accounts", type=int, default=int(env("BENCH_CALL_ACCOUNTS", "1000")))
    p.add_argument("--months", type=int, default=12, help="Months the calls spread over")
    p.add_argument(
        "--runs",
        type=int,
        default=int(env("BENCH_CALL_RUNS", "0")),
        help="Runs per query (default 100, 30 from 5M calls: the 10M mode's time budget)",
    )
    p.add_argument("--write-rows", type=int, default=100_000, help="Rows per write-cost figure")
    p.add_argument("--seconds", type=float, default=0, help="Unused (bin/bench passes it)")
    p.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    return p.parse_args()


# --- figures ---------------------------------------------------------------------------------


class Out:
    def __init__(self, baseline: dict[str, float]) -> None:
        self.tpcb_1 = baseline.get("tpcb_1_client")
        self.figures = Figures(baseline)

    def line(self, text: str) -> None:
        print(text, flush=True)

    def rate(self, name: str, value: float, unit: str) -> None:
        self.figures.show(name, value, unit, "tpcb_1_client")

    def latency(self, name: str, samples_ms: list[float], goal_ms: float) -> float:
        samples = sorted(samples_ms)
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
        ratio, verdict = "", "met" if p95 <= goal_ms else "MISSED"
        goal = f"{verdict} \u2264 {goal_ms:g} ms"
        if self.tpcb_1:
            value, wanted = 1000 / p95 / self.tpcb_1, 1000 / goal_ms / GOAL_TPCB_1
            ratio = f" = {value:.3g} \u00d7 tpcb_1_client (as 1/p95)"
            goal += f"; ratio {'met' if value >= wanted else 'MISSED'} \u2265 {wanted:.3g}"
        self.line(f"{name}_p50 {p50:.1f} ms")
        self.line(f"{name}_p95 {p95:.1f} ms{ratio}  [goal: {goal}]")
        return p95


# --- data ------------------------------------------------------------------------------------


def make_accounts(count: int) -> tuple[int, list[int]]:
    from portal.models import Account

    big = Account.objects.create(code=BIG, name="Bench big", timezone="America/New_York")
    others = Account.objects.bulk_create(
        Account(code=f"BC{i:06d}", name=f"Bench {i}", timezone="America/New_York")
        for i in range(count)
    )
    return big.pk, [a.pk for a in others]


class CallRows:
    """Text rows for COPY: calls in time order from ``start`` over ``span`` seconds. Numbers are
    drawn from a pool with a skew (a few numbers called very often, most rarely), like a real
    account's: outgoing from an extension to an outside number, incoming from an outside number
    to one of the account's DIDs, some internal."""

    def __init__(self, *, seed: str, start: dt.datetime, span: float, total: int) -> None:
        self.rng = random.Random(seed)
        self.start, self.span, self.total = start, span, total
        pool_rng = random.Random("numbers")
        areas = [f"{pool_rng.randint(201, 989)}" for _ in range(60)]
        self.pool = [
            f"+1{pool_rng.choice(areas)}{pool_rng.randint(0, 9_999_999):07d}"
            for _ in range(200_000)
        ]

    def number(self) -> str:
        return self.pool[int(len(self.pool) * self.rng.random() ** 3)]

    def rows(
        self, *, first: int, count: int, account: Callable[[], int], tag: str
    ) -> Iterator[str]:
        """Rows ``first`` to ``first + count`` (their start times spread evenly over the span).
        Built from cached day and time-of-day strings: this runs millions of times."""
        rand = self.rng.random
        pool, size = self.pool, len(self.pool)
        clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86_400)]
        days: dict[int, tuple[str, str]] = {}
        epoch = dt.datetime(1970, 1, 1)
        base = int(self.start.timestamp())
        step = self.span / self.total

        def stamp(moment: int) -> str:
            day, second = divmod(moment, 86_400)
            cached = days.get(day)
            if cached is None:
                text = (epoch + dt.timedelta(days=day)).strftime("%Y-%m-%d")
                cached = days[day] = (text + " ", text[:8] + "01 05:00:00+00")
            return cached[0] + clock[second]

        for n in range(first, first + count):
            begin = base + int(n * step)
            roll = rand()
            if roll < 0.6:
                direction, src = "outbound", f"1{int(rand() * 40):02d}"
                dst = pool[int(size * rand() ** 3)]
            elif roll < 0.95:
                direction, src = "inbound", pool[int(size * rand() ** 3)]
                dst = f"+1646555{int(rand() * 10):04d}"
            else:
                direction, src, dst = "internal", "101", f"1{int(rand() * 40):02d}"
            billsec = int(rand() * 900)
            category = CATEGORIES[n % 6] if billsec else "unanswered"
            started = stamp(begin)
            answered = stamp(begin + 5) if billsec else "\\N"
            ended = stamp(begin + 5 + billsec)
            period = days[begin // 86_400][1]
            yield (
                f"{account()}\t{tag}-{n}\t{direction}\t{src}\t{dst}\tUSA\t{started}\t{answered}\t"
                f"{ended}\t{billsec}\tANSWERED\t{period}\t{category}\t{billsec}\t"
                f"{billsec}\t0\t0\t0\t0\tbench\tbench\t\t{ended}\n"
            )


def copy_rows(rows: Iterator[str]) -> int:
    from django.db import connection

    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY billing_call ({COLUMNS}) FROM STDIN") as copy,
    ):
        chunk: list[str] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 5000:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk = []
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


def insert_rows(rows: Iterator[str], batch: int = 500) -> int:
    """Multi-row INSERTs of ``batch`` rows, each its own transaction (as a CDR batch writes)."""
    from django.db import connection, transaction

    count, values = 0, list[list[str]]()
    names = [c.strip() for c in COLUMNS.split(",")]
    sql_head = f"INSERT INTO billing_call ({COLUMNS}) VALUES "  # noqa: S608 - constants

    def flush() -> None:
        placeholders = ",".join("(" + ",".join(["%s"] * len(names)) + ")" for _ in values)
        params = [None if v == "\\N" else v for row in values for v in row]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql_head + placeholders, params)

    for row in rows:
        values.append(row.rstrip("\n").split("\t"))
        if len(values) == batch:
            flush()
            count += len(values)
            values = []
    if values:
        flush()
        count += len(values)
    return count


@contextlib.contextmanager
def secondary_indexes_deferred() -> Iterator[None]:
    """A bulk load's usual shape: the indexes that back no constraint are dropped for the COPY
    and built after it (in bulk, much faster than row by row); the keys stay."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = 'billing_call'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    print(
        f"(secondary indexes built after the COPY: {time.monotonic() - began:.0f} s)",
        flush=True,
    )


def write_cost(out: Out, data: CallRows, accounts: list[int], rows: int) -> None:
    """Rows/s written with and without the two trigram indexes (all the other indexes stay)."""
    from django.db import connection

    rng = random.Random("write")

    def pick() -> int:
        return rng.choice(accounts)

    def timed(func: Callable[[Iterator[str]], int], first: int, count: int, tag: str) -> float:
        began = time.monotonic()
        func(data.rows(first=first, count=count, account=pick, tag=tag))
        return count / (time.monotonic() - began)

    # Two rounds, with then without the indexes each time, best rate of each: this box is
    # shared, and a neighbour's burst should not decide the comparison.
    per_round, inserts = rows // 2, max(1000, rows // 10)
    best: dict[str, float] = {}
    rebuilt = 0.0
    for round_ in range(2):
        for trgm in (True, False):
            key = "with" if trgm else "without"
            first = (2 * round_ + (0 if trgm else 1)) * per_round
            tag = f"w{round_}{key}"
            copy_rate = timed(copy_rows, first, per_round, f"{tag}c")
            insert_rate = timed(insert_rows, first, inserts, f"{tag}i")
            best[f"copy_{key}"] = max(best.get(f"copy_{key}", 0.0), copy_rate)
            best[f"insert_{key}"] = max(best.get(f"insert_{key}", 0.0), insert_rate)
            with connection.cursor() as cursor:
                if trgm:
                    cursor.execute("DROP INDEX call_from_number_trgm, call_to_number_trgm")
                    continue
                began = time.monotonic()
                for column in ("from_number", "to_number"):
                    cursor.execute(
                        f"CREATE INDEX call_{column}_trgm ON billing_call "
                        f"USING gin ({column} gin_trgm_ops)"
                    )
                rebuilt = time.monotonic() - began
    out.rate("calls_copy_with_trgm", best["copy_with"], "rows/s")
    out.rate("calls_copy_without_trgm", best["copy_without"], "rows/s")
    out.rate("calls_insert500_with_trgm", best["insert_with"], "rows/s")
    out.rate("calls_insert500_without_trgm", best["insert_without"], "rows/s")
    copy_cost = 1 - best["copy_with"] / best["copy_without"]
    insert_cost = 1 - best["insert_with"] / best["insert_without"]
    out.line(
        f"(trigram indexes cost {100 * copy_cost:.0f} % of the COPY rate and "
        f"{100 * insert_cost:.0f} % of the INSERT rate, best of 2 rounds of {per_round:,} COPY "
        f"rows and {inserts:,} INSERT rows; rebuilding both on {4 * (per_round + inserts):,} "
        f"rows: {rebuilt:.1f} s)"
    )


# --- queries ---------------------------------------------------------------------------------


def sample(func: Callable[[], object], runs: int) -> list[float]:
    func()  # warm the plan cache and buffers once
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append(1000 * (time.perf_counter() - began))
    return times


def chart_sql() -> str:
    """Minutes per day of one account over a date range, days in its time zone: the shape of
    the usage chart's grouped query (billing/selectors/usage_charts.py ``minutes_rows_query``
    where it has landed: included seconds, and paid seconds by category)."""
    return """
        SELECT (started_at AT TIME ZONE %s)::date AS day, sum(included_seconds),
               sum(paid_seconds) FILTER (WHERE category = 'overage'),
               sum(paid_seconds) FILTER (WHERE category = 'rated'),
               sum(paid_seconds) FILTER (WHERE category = 'did_rate')
        FROM billing_call
        WHERE account_id = %s AND started_at >= %s AND started_at < %s
        GROUP BY 1 ORDER BY 1
    """


def main() -> None:
    args = parse_args()
    args.runs = args.runs or (100 if args.calls < 5_000_000 else 30)
    if args.calls * args.big_share <= DEEP_PAGES * PAGE_CALLS:
        sys.exit(
            f"bench_calls: the big account needs over {DEEP_PAGES * PAGE_CALLS:,} calls for "
            f"the page {DEEP_PAGES + 1} figure; raise --calls (BENCH_CALLS) or --big-share"
        )
    url = os.environ["DATABASE_URL"]
    out = Out(read_baseline(args.baseline))
    recreate_database(url)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from billing.periods import local_midnight
        from billing.selectors.calls import CallFilters, call_page
        from billing.services.call_partitions import call_partitions_ensure
        from portal.models import Account

        began_all = time.monotonic()
        call_command("migrate", verbosity=0)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        call_partitions_ensure(now=now, months_behind=args.months + 1)
        out.line(
            f"Calls benchmark on {connection.vendor} ({os.cpu_count()} CPUs): "
            f"{args.calls:,} calls over {args.months} months, {args.big_share:.0%} on one "
            f"account, {args.runs} runs per query"
        )
        big, others = make_accounts(args.accounts)
        start = now - dt.timedelta(days=30 * args.months)
        data = CallRows(
            seed="calls", start=start, span=(now - start).total_seconds(), total=args.calls
        )
        if args.write_rows:
            write_cost(out, data, others, args.write_rows)

        rng = random.Random("accounts")
        share = args.big_share

        def pick() -> int:
            return big if rng.random() < share else others[int(rng.random() * len(others))]

        with secondary_indexes_deferred():
            began = time.monotonic()
            copied = copy_rows(data.rows(first=0, count=args.calls, account=pick, tag="c"))
            elapsed = time.monotonic() - began
        out.rate(f"calls_copy_{args.calls // 1000}k", copied / elapsed, "rows/s")
        out.line(f"(COPY of {copied:,} calls: {elapsed:.0f} s)")
        began = time.monotonic()
        old_autocommit = connection.get_autocommit()
        connection.set_autocommit(True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE billing_call")
            cursor.execute("SELECT count(*) FROM billing_call WHERE account_id = %s", [big])
            big_calls = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM billing_call_default")
            in_default = cursor.fetchone()[0]
        connection.set_autocommit(old_autocommit)
        out.line(
            f"(VACUUM ANALYZE: {time.monotonic() - began:.0f} s; {big_calls:,} calls on "
            f"{BIG}; {in_default:,} in the DEFAULT partition)"
        )

        account = Account.objects.get(pk=big)
        tz = account.tz
        today = now.astimezone(tz).date()
        with connection.cursor() as cursor:
            # A number the account calls often, one it called once, and the middle of its calls.
            cursor.execute(
                "SELECT to_number FROM billing_call WHERE account_id = %s AND direction = "
                "'outbound' AND started_at > %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                [big, now - dt.timedelta(days=7)],
            )
            frequent = cursor.fetchone()[0]
            cursor.execute(
                "SELECT to_number FROM billing_call WHERE account_id = %s AND direction = "
                "'outbound' AND started_at > %s GROUP BY 1 HAVING count(*) = 1 LIMIT 1",
                [big, now - dt.timedelta(days=200)],
            )
            rare = cursor.fetchone()[0]
            cursor.execute(
                "SELECT started_at, id FROM billing_call WHERE account_id = %s "
                "ORDER BY started_at DESC, id DESC OFFSET %s LIMIT 1",
                [big, big_calls // 2],
            )
            middle_at, middle_id = cursor.fetchone()
        since_epoch = middle_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        middle = f"{since_epoch // dt.timedelta(microseconds=1)}.{middle_id}"  # a page cursor
        deep = call_page(account=account, filters=CallFilters())
        for _ in range(DEEP_PAGES):  # 200 pages down = 10,000 calls back
            assert deep.older_cursor is not None
            deep = call_page(account=account, filters=CallFilters(), after=deep.older_cursor)
        month_ago = today - dt.timedelta(days=60)
        cases: dict[str, Callable[[], object]] = {
            "first_page": lambda: call_page(account=account, filters=CallFilters()),
            "page_201": lambda: call_page(
                account=account, filters=CallFilters(), after=str(deep.newer_cursor)
            ),
            "page_middle": lambda: call_page(account=account, filters=CallFilters(), after=middle),
            "date_week": lambda: call_page(
                account=account,
                filters=CallFilters(date_from=month_ago, date_to=month_ago + dt.timedelta(days=6)),
            ),
            "date_year": lambda: call_page(
                account=account,
                filters=CallFilters(date_from=today - dt.timedelta(days=365), date_to=today),
            ),
            "inbound": lambda: call_page(account=account, filters=CallFilters(direction="inbound")),
            "internal": lambda: call_page(
                account=account, filters=CallFilters(direction="internal")
            ),
            "number_frequent": lambda: call_page(
                account=account, filters=CallFilters(number=frequent)
            ),
            "number_rare": lambda: call_page(account=account, filters=CallFilters(number=rare)),
            "number_last4": lambda: call_page(
                account=account, filters=CallFilters(number=rare[-4:])
            ),
            "number_no_match": lambda: call_page(
                account=account, filters=CallFilters(number="442079460000")
            ),
        }
        label = f"{args.calls // 1000}k"
        worst = 0.0
        explain = ROOT / "var" / "bench-calls-explain.txt"
        explain.parent.mkdir(exist_ok=True)
        with explain.open("w") as plans:
            for name, func in cases.items():
                p95 = out.latency(f"calls_{label}_{name}", sample(func, args.runs), GOAL_PAGE_MS)
                worst = max(worst, p95)
                with CaptureQueriesContext(connection) as queries:
                    func()
                with connection.cursor() as cursor:
                    for query in queries.captured_queries:
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                        plans.write(f"--- {name}\n{query['sql']}\n{plan}\n\n")

            chart_from = local_midnight(today - dt.timedelta(days=29), tz)
            chart_to = local_midnight(today + dt.timedelta(days=1), tz)
            params: list[str | int | dt.datetime] = [str(tz), big, chart_from, chart_to]

            def chart() -> object:
                with connection.cursor() as cursor:
                    cursor.execute(chart_sql(), params)
                    return cursor.fetchall()

            out.latency(f"calls_{label}_chart_30_days", sample(chart, args.runs), GOAL_CHART_MS)
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {chart_sql()}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                plans.write(f"--- chart_30_days\n{chart_sql()}\n{plan}\n\n")
        out.line(
            f"(numbers searched: frequent {frequent}, rare {rare}, last 4 digits {rare[-4:]}; "
            f"worst page p95 {worst:.1f} ms; whole run {time.monotonic() - began_all:.0f} s; "
            f"EXPLAIN ANALYZE plans: {explain.relative_to(ROOT)})"
        )
        connection.close()
    finally:
        if not args.keep:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
            recreate_database(url, drop_only=True)


if __name__ == "__main__":
    main()
