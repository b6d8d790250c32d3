"""The authorization benchmark behind ``make bench`` (``bin/bench authorize``).

Creates its own PostgreSQL database (DATABASE_URL's name), migrates it, sets up accounts on
Starter with a DID, an extension, credit and call permissions, starts gunicorn on a free
loopback port (bin/bench_settings.py: the project's settings plus a bare JSON view) and loads it
from client processes (http.client, keep-alive, one connection per client thread):

- closed loop, ``--clients`` connections: req/s of the bare view (``POST /bench/bare``: no auth,
  no database), then of ``POST /api/v1/calls/authorize`` (token auth, a mix of included US
  calls, paid calls to Cyprus and incoming calls on the account's DID), and their ratio;
- open loop at half the bare view's req/s (requests sent on a fixed schedule, latency counted
  from the scheduled send time, so a slow answer delays nothing but itself): authorize's p50
  and p99 latency; and, beside it, at half authorize's own closed-loop rate (a load it
  sustains);
- on a 100k-row rate deck (--deck-rows): ``price_lookup`` lookups/s end to end (one query of
  the account's facts), the pricing step of authorization alone (its facts already read), and
  the memory the deck takes in a process.

Each figure is printed as "name value unit", beside the pg-baseline figure where one applies.
Bounded: every timed phase stops after --seconds; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bin"))

import bench_rating  # noqa: E402 - bin/ is not a package

US_TARGETS = bench_rating.US_TARGETS


def parse_args() -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "5")))
    p.add_argument("--baseline", default="", help="pg-baseline output ('name value unit' lines)")
    p.add_argument("--accounts", type=int, default=int(env("BENCH_AUTH_ACCOUNTS", "200")))
    p.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", str(2 * cpus))))
    p.add_argument("--clients", type=int, default=int(env("BENCH_AUTH_CLIENTS", "16")))
    p.add_argument("--procs", type=int, default=int(env("BENCH_AUTH_PROCS", str(cpus))))
    p.add_argument("--deck-rows", type=int, default=int(env("BENCH_DECK_ROWS", "100000")))
    p.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    return p.parse_args()


# --- requests --------------------------------------------------------------------------------


def authorize_body(rng: random.Random, codes: list[str], call_id: str) -> dict[str, str]:
    """70 % outbound to the US (included minutes, then overage), 15 % outbound to Cyprus (the
    deck's price), 15 % incoming on the account's DID."""
    code = rng.choice(codes)
    roll = rng.random()
    if roll < 0.70:
        direction, src, dst = "outbound", "101", rng.choice(US_TARGETS)
    elif roll < 0.85:
        direction, src, dst = "outbound", "101", "+35722123456"
    else:
        direction, src, dst = "inbound", "+13055550199", bench_rating.did_for(code)
    return {"call_id": call_id, "account": code, "direction": direction, "from": src, "to": dst}


class Target:
    """What a client thread sends: the path, headers and a body maker."""

    def __init__(self, *, path: str, token: str, codes: list[str], tag: str) -> None:
        self.path = path
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.codes = codes
        self.tag = tag

    def body(self, rng: random.Random, n: int) -> str:
        return json.dumps(authorize_body(rng, self.codes, f"{self.tag}-{n}"))


def _send(conn: http.client.HTTPConnection, target: Target, body: str) -> tuple[int, bytes]:
    conn.request("POST", target.path, body=body, headers=target.headers)
    response = conn.getresponse()
    return response.status, response.read()


def _closed_worker(
    port: int, target: Target, threads: int, seconds: float, proc: int, out: Any
) -> None:
    counts = [0] * threads
    allowed = [0] * threads
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(t: int) -> None:
        rng = random.Random(f"{target.tag}:{proc}:{t}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        while time.monotonic() < stop_at and not errors:
            n += 1
            try:
                status, payload = _send(
                    conn, target, target.body(rng, proc * 10**8 + t * 10**6 + n)
                )
            except (http.client.HTTPException, OSError) as exc:
                errors.append(repr(exc))
                break
            if status != 200:
                errors.append(f"HTTP {status}: {payload[:300]!r}")
                break
            counts[t] += 1
            if b'"allowed": true' in payload or b'"ok": true' in payload:
                allowed[t] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((sum(counts), sum(allowed), errors[:1]))


def closed_loop(
    *, port: int, target: Target, clients: int, procs: int, seconds: float
) -> tuple[float, float]:
    """``clients`` connections over ``procs`` processes, each sending as fast as answered;
    returns (req/s, share of answers that allowed the call)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    began = time.monotonic()
    workers = [
        ctx.Process(target=_closed_worker, args=(port, target, n, seconds, i, out))
        for i, n in enumerate(per)
        if n
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    elapsed = time.monotonic() - began
    errors = [e for _, _, errs in results for e in errs]
    if errors:
        raise RuntimeError(f"{target.path}: {errors[0]}")
    done = sum(r[0] for r in results)
    return done / elapsed, sum(r[1] for r in results) / max(1, done)


def _open_worker(
    port: int, target: Target, rate: float, seconds: float, threads: int, proc: int, out: Any
) -> None:
    """Requests at fixed times ``start + k / rate``; thread t sends the k with k % threads == t.
    Latency is measured from the scheduled time (no coordinated omission)."""
    start = time.monotonic() + 0.5
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(t: int) -> None:
        rng = random.Random(f"{target.tag}:{proc}:{t}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for k in range(t, total, threads):
            due = start + k / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                status, payload = _send(conn, target, target.body(rng, proc * 10**8 + k))
            except (http.client.HTTPException, OSError) as exc:
                errors.append(repr(exc))
                break
            if status != 200:
                errors.append(f"HTTP {status}: {payload[:300]!r}")
                break
            mine.append(time.monotonic() - due)
        conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[:1]))


def open_loop(
    *, port: int, target: Target, rate: float, procs: int, seconds: float, threads: int = 32
) -> list[float]:
    """Latencies (seconds) of ``rate`` req/s for ``seconds``, sent on schedule."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    workers = [
        ctx.Process(
            target=_open_worker, args=(port, target, rate / procs, seconds, threads, i, out)
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    errors = [e for _, errs in results for e in errs]
    if errors:
        raise RuntimeError(f"{target.path}: {errors[0]}")
    return sorted(x for lats, _ in results for x in lats)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


# --- data ------------------------------------------------------------------------------------


def set_up(accounts: int) -> tuple[list[str], str]:
    from django.utils import timezone

    from billing.models import CallPermissions
    from billing.services.api_clients import api_client_create
    from portal.models import Account

    codes = bench_rating.make_accounts(accounts)
    now = timezone.now()
    # Generous permissions: the benchmark measures authorizations that pass every check, not
    # refusals by the daily cap (which every account would reach within seconds).
    CallPermissions.objects.bulk_create(
        CallPermissions(
            account=account,
            allow_low=True,
            allow_medium=True,
            allow_high=False,
            countries={},
            price_ceiling=Decimal("0.50"),
            daily_cap=Decimal("100000"),
            updated_at=now,
        )
        for account in Account.objects.filter(code__in=codes)
    )
    _client, token = api_client_create(name="bench-authorize")
    return codes, token


def pricing_figures(figures: bench_rating.Figures, *, deck_rows: int, seconds: float) -> None:
    import tempfile
    import tracemalloc

    from django.utils import timezone

    from billing.models import AccountRating, ServicePlan
    from billing.selectors.pricing import price_lookup
    from billing.services.plans import account_plan_set
    from billing.services.rate_import import rate_deck_import
    from portal.errors import DomainError
    from portal.models import Account

    now = timezone.now()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deck.csv"
        bench_rating.deck_csv(path, deck_rows)
        with path.open(newline="") as handle:
            deck = rate_deck_import(deck_name="Bench", csv_file=handle, replace=True, now=now).deck
    looker = Account.objects.create(code="BENCHLOOK", name="Bench lookups")
    account_plan_set(account=looker, plan=ServicePlan.objects.get(name="Starter"), now=now)
    AccountRating.objects.create(account=looker, rate_deck=deck)
    numbers = []
    for number in bench_rating.lookup_numbers():
        try:
            price_lookup(account=looker, number=number, now=now)
        except DomainError:
            continue
        numbers.append(number)
    rng = random.Random("lookups")
    rate = bench_rating.timed_loop(
        lambda: price_lookup(account=looker, number=rng.choice(numbers), now=now), seconds
    )
    size = deck_rows // 1000
    figures.show(f"price_lookup_{size}k_deck", rate, "lookups/s", "tpcb_1_client")
    try:  # the pricing step and the deck in memory exist once pricing keeps decks in memory
        from billing.selectors.account_facts import account_facts
        from billing.selectors.pricing import (
            PricingContext,
            call_pricing,
            pricing_fact_columns,
            pricing_fact_params,
        )
        from billing.selectors.pricing_catalog import _load_deck
    except ImportError:
        print("(pricing step and deck memory: not in this version)")
        return
    facts = {
        number: account_facts(
            account=looker,
            columns=pricing_fact_columns(2),
            params=pricing_fact_params(now=now, numbers=["101", number]),
        )
        for number in numbers
    }

    def step() -> None:
        number = rng.choice(numbers)
        context = PricingContext.from_facts(
            account=looker, facts=facts[number], at=now, numbers=["101", number]
        )
        call_pricing(
            account=looker,
            direction="outbound",
            from_number="101",
            to_number=number,
            at=now,
            context=context,
        )

    rate = bench_rating.timed_loop(step, seconds)
    figures.show(f"pricing_step_{size}k_deck", rate, "lookups/s", "tpcb_1_client")
    began = time.monotonic()
    _load_deck(deck.pk)
    figures.show(f"price_deck_load_{size}k_rows", time.monotonic() - began, "s")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    prices = _load_deck(deck.pk)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    figures.show(f"price_deck_memory_{size}k_rows", (after - before) / 2**20, "MiB")
    print(f"({len(prices.rows):,} prefixes in memory, longest {prices.longest} digits)")


def main() -> None:
    args = parse_args()
    url = os.environ["DATABASE_URL"]
    figures = bench_rating.Figures(bench_rating.read_baseline(args.baseline))
    bench_rating.recreate_database(url)
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        print(
            f"Authorization benchmark on {connection.vendor} ({os.cpu_count()} CPUs), "
            f"{args.seconds:g} s per figure",
            flush=True,
        )
        codes, token = set_up(args.accounts)
        pricing_figures(figures, deck_rows=args.deck_rows, seconds=args.seconds)
        connection.close()
        env = {"DJANGO_SETTINGS_MODULE": "bench_settings"}
        if not os.environ.get("REDIS_URL"):
            env["ALLOW_NO_REDIS"] = "1"  # per-process cache: what the API needs of it here
        with bench_rating.gunicorn(args.workers, extra_env=env) as port:
            bare = Target(path="/bench/bare", token=token, codes=codes, tag="bare")
            auth = Target(path="/api/v1/calls/authorize", token=token, codes=codes, tag="auth")
            common = {"port": port, "clients": args.clients, "procs": args.procs}
            # Warm-up: every worker loads its code, connections and caches.
            closed_loop(target=bare, seconds=1, **common)
            closed_loop(
                target=Target(path=auth.path, token=token, codes=codes, tag="warm"),
                seconds=1,
                **common,
            )
            bare_rate, _ = closed_loop(target=bare, seconds=args.seconds, **common)
            figures.show("bare_json_view", bare_rate, "req/s")
            auth_rate, allowed = closed_loop(target=auth, seconds=args.seconds, **common)
            figures.show("authorize", auth_rate, "req/s")
            print(
                f"authorize_vs_bare_view {auth_rate / bare_rate:.2f} (goal ≥ 0.5; "
                f"{allowed:.0%} of authorizations allowed)",
                flush=True,
            )
            half = bare_rate / 2
            latencies = open_loop(
                port=port,
                target=Target(path=auth.path, token=token, codes=codes, tag="open"),
                rate=half,
                procs=args.procs,
                seconds=args.seconds,
            )
            figures.show("authorize_p50_at_half_bare_rate", 1000 * percentile(latencies, 0.5), "ms")
            figures.show(
                "authorize_p99_at_half_bare_rate", 1000 * percentile(latencies, 0.99), "ms"
            )
            # Beside the goal's load, one the server sustains: half authorize's own rate.
            sustained = open_loop(
                port=port,
                target=Target(path=auth.path, token=token, codes=codes, tag="open2"),
                rate=auth_rate / 2,
                procs=args.procs,
                seconds=args.seconds,
            )
            figures.show("authorize_p50_at_half_its_rate", 1000 * percentile(sustained, 0.5), "ms")
            figures.show("authorize_p99_at_half_its_rate", 1000 * percentile(sustained, 0.99), "ms")
        print(
            f"(gunicorn: {args.workers} sync workers; {args.clients} keep-alive clients in "
            f"{args.procs} processes; open loop at {half:,.0f} then {auth_rate / 2:,.0f} req/s, "
            f"{args.seconds:g} s each; {args.accounts + 1} accounts)",
            flush=True,
        )
    finally:
        if not args.keep:
            from django.db import connections

            try:
                connections.close_all()
            finally:
                bench_rating.recreate_database(url, drop_only=True)


if __name__ == "__main__":
    main()
