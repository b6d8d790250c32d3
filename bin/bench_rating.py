"""The rating benchmark behind ``make bench`` (run by bin/bench, after pg-baseline).

Creates its own PostgreSQL database (DATABASE_URL's name), migrates it, and measures:
- CDRs/s through the switch API (POST /api/v1/cdrs, batches) on a live gunicorn on loopback,
  for one hot account (every CDR locks the same account row) and for many accounts;
- CDRs/s through ``import_cdrs`` on a generated Asterisk Master.csv, same two cases, and a big
  file (BENCH_IMPORT_ROWS, default 1,000,000 rows over many accounts) imported by its own
  process, with that process's peak RSS;
- the import time of a 100k-row rate deck and rate lookups/s on it (``price_lookup`` end to end,
  and the longest-prefix query alone);
(The Calls page on a month-partitioned calls table: bin/bench_calls.py.)
Each figure is printed as "name value unit", with its ratio to a pg-baseline figure. The
database is dropped at the end. Time-bounded: every timed loop stops after --seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

US_TARGETS = ["+12125550199", "+13125550147", "+12015550123", "+16175550110"]
HOT = "BENCHHOT"


def parse_args() -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "5")))
    p.add_argument("--baseline", default="", help="pg-baseline output ('name value unit' lines)")
    p.add_argument("--accounts", type=int, default=int(env("BENCH_ACCOUNTS", "200")))
    p.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", str(2 * cpus))))
    p.add_argument("--clients", type=int, default=int(env("BENCH_CLIENTS", "16")))
    p.add_argument("--batch", type=int, default=int(env("BENCH_BATCH", "1000")))
    p.add_argument(
        "--import-rows",
        type=int,
        default=int(env("BENCH_IMPORT_ROWS", "1000000")),
        help="Rows of the big Master.csv, imported by a process of its own (0: skip it)",
    )
    p.add_argument("--import-batch", type=int, default=int(env("BENCH_IMPORT_BATCH", "0")))
    p.add_argument("--deck-rows", type=int, default=int(env("BENCH_DECK_ROWS", "100000")))
    p.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    return p.parse_args()


# --- the database ----------------------------------------------------------------------------


def admin_dsn(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") or "cc_bench"
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    dsn, name = admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- figures ---------------------------------------------------------------------------------


class Figures:
    def __init__(self, baseline: dict[str, float]) -> None:
        self.baseline = baseline

    def show(self, name: str, value: float, unit: str, versus: str | None = None) -> None:
        text = f"{name} {value:,.0f} {unit}" if value >= 100 else f"{name} {value:,.2f} {unit}"
        base = self.baseline.get(versus or "")
        if versus and base:
            ratio = value / base  # small ratios (the cycle's) keep three significant digits
            text += f" = {ratio:.2f}" if ratio >= 0.1 else f" = {ratio:.3g}"
            text += f" \u00d7 {versus}"  # multiplication sign
        print(text, flush=True)


def read_baseline(path: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            parts = line.split()
            with contextlib.suppress(IndexError, ValueError):
                figures[parts[0]] = float(parts[1])
    return figures


# --- data ------------------------------------------------------------------------------------


def did_for(code: str) -> str:
    """The DID of a benchmark account: +1 646 555 0000 for the hot one, then one each."""
    return f"+1646555{0 if code == HOT else int(code[5:]) + 1:04d}"


def make_accounts(count: int) -> list[str]:
    """The hot account and ``count`` others, each on Starter with a DID, an extension and
    plenty of credit."""
    import datetime as dt

    from django.utils import timezone

    from billing.models import DID, DIDGroup, Extension, ServicePlan
    from billing.services.ledger import ledger_post
    from billing.services.plans import account_plan_set
    from portal.models import Account

    now = timezone.now()
    starter = ServicePlan.objects.get(name="Starter")
    group = DIDGroup.objects.get(name="USA standard")
    codes = [HOT] + [f"BENCH{i:05d}" for i in range(count)]
    for code in codes:
        # The CDRs start up to 30 minutes back: the accounts existed before (a CDR from
        # before its account was created is rejected).
        account = Account.objects.create(code=code, name=f"Bench {code}")
        Account.objects.filter(pk=account.pk).update(created_at=now - dt.timedelta(days=1))
        account_plan_set(account=account, plan=starter, now=now)
        DID.objects.create(account=account, group=group, number=did_for(code))
        Extension.objects.create(account=account, number="101")
        ledger_post(
            account=account,
            amount=Decimal("1000000"),
            kind="adjustment",
            description="bench credit",
            idempotency_key=f"bench:{code}",
            now=now,
        )
    return codes


def cdr_mix(rng: random.Random, code: str) -> tuple[str, str, str, int]:
    """(direction, from, to, billsec): mostly included US calls (then overage once an account's
    500 minutes are used), some Cyprus at the deck rate, some incoming on the account's DID."""
    roll = rng.random()
    billsec = rng.randint(5, 600)
    if roll < 0.75:
        return "outbound", "101", rng.choice(US_TARGETS), billsec
    if roll < 0.85:
        return "outbound", "101", "+35722123456", billsec
    return "inbound", "+13055550199", did_for(code), billsec


# --- the API through a live gunicorn --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# As in production (DEBUG off: no query log kept in memory), for gunicorn and the imports.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
}


@contextlib.contextmanager
def gunicorn(workers: int, *, extra_env: dict[str, str] | None = None) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, **PRODUCTION_ENV, "DB_CONN_MAX_AGE": "600", **(extra_env or {})}
    log = open(ROOT / "var" / "bench-gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--pythonpath",
            str(ROOT / "bin"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120  # a loaded 2-CPU box boots 4 workers slowly
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start; see var/bench-gunicorn.log")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def api_run(
    *, port: int, token: str, codes: list[str], clients: int, batch: int, seconds: float, tag: str
) -> float:
    """``clients`` threads POST batches of CDRs until ``seconds`` pass; returns rated CDRs/s."""
    import datetime as dt

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    rated = [0] * clients
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(f"{tag}:{n}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        seq = 0
        while time.monotonic() < stop_at and not errors:
            cdrs = []
            for _ in range(batch):
                seq += 1
                code = rng.choice(codes)
                direction, src, dst, billsec = cdr_mix(rng, code)
                begin = start + dt.timedelta(seconds=rng.randint(0, 1500))
                answer = begin + dt.timedelta(seconds=5)
                cdrs.append(
                    {
                        "call_id": f"{tag}-{n}-{seq}",
                        "account": code,
                        "direction": direction,
                        "from": src,
                        "to": dst,
                        "start": begin.isoformat(),
                        "answer": answer.isoformat(),
                        "end": (answer + dt.timedelta(seconds=billsec)).isoformat(),
                        "billsec": billsec,
                        "disposition": "ANSWERED",
                    }
                )
            body = json.dumps({"cdrs": cdrs})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                conn.request("POST", "/api/v1/cdrs", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                continue
            if response.status != 200:
                errors.append(f"HTTP {response.status}: {payload[:300]!r}")
                break
            result = json.loads(payload)
            if result["rejected"]:
                bad = next(r for r in result["results"] if r["status"] == "rejected")
                errors.append(f"rejected CDR: {bad}")
            rated[n] += result["rated"]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if errors:
        raise RuntimeError(f"{tag}: {errors[0]}")
    return sum(rated) / elapsed


# --- import_cdrs on a Master.csv -------------------------------------------------------------


def write_master_csv(path: Path, *, codes: list[str], rows: int, tag: str) -> None:
    import datetime as dt

    rng = random.Random(tag)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    start = now - dt.timedelta(minutes=30)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        for n in range(rows):
            code = rng.choice(codes)
            direction, src, dst, billsec = cdr_mix(rng, code)
            context = "from-internal" if direction == "outbound" else "from-trunk"
            begin = start + dt.timedelta(seconds=rng.randint(0, 1500))
            answer = begin + dt.timedelta(seconds=5)
            end = answer + dt.timedelta(seconds=billsec)
            fmt = "%Y-%m-%d %H:%M:%S"
            writer.writerow(
                [
                    code,
                    src,
                    dst,
                    context,
                    f'"Bench" <{src}>',
                    "PJSIP/101-00000001",
                    "PJSIP/trunk-00000002",
                    "Dial",
                    f"PJSIP/{dst}@trunk",
                    begin.strftime(fmt),
                    answer.strftime(fmt),
                    end.strftime(fmt),
                    billsec + 5,
                    billsec,
                    "ANSWERED",
                    "DOCUMENTATION",
                    f"{tag}.{n}",
                    "",
                ]
            )


def import_run(path: Path, rows: int, batch: int = 0) -> float:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    options = ["--batch-size", str(batch)] if batch else []
    began = time.monotonic()
    call_command("import_cdrs", str(path), "--tz", "UTC", *options, stdout=out, stderr=out)
    elapsed = time.monotonic() - began
    if f"rated {rows}," not in out.getvalue():
        raise RuntimeError(f"import_cdrs: {out.getvalue()[:500]}")
    return rows / elapsed


def import_child(path: str, rows: int, batch: int) -> None:
    """``--import-child``: import ``path`` in this fresh process, print rows/s and peak RSS."""
    import resource

    os.environ.update(PRODUCTION_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    rate = import_run(Path(path), rows, batch)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(f"{rate} {peak_kb / 1024}")


def import_big(path: Path, rows: int, batch: int) -> tuple[float, float]:
    """The big import in a process of its own (so its peak RSS is its own): (rows/s, MB)."""
    argv = [sys.executable, __file__, "--import-child", str(path), str(rows), str(batch)]
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        argv, cwd=ROOT, env=os.environ, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"import child failed: {done.stderr[-2000:]}")
    rate, peak = done.stdout.split()[-2:]
    return float(rate), float(peak)


# --- rate deck -------------------------------------------------------------------------------


def deck_csv(path: Path, rows: int) -> list[str]:
    """A deck of ``rows`` rows: every country code, then deeper prefixes under them."""
    import phonenumbers

    rng = random.Random("deck")
    codes = sorted(str(cc) for cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    prefixes: dict[str, None] = dict.fromkeys(codes)
    while len(prefixes) < rows:
        prefixes.setdefault(rng.choice(codes) + str(rng.randint(0, 10 ** rng.randint(1, 5))), None)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prefix", "destination", "rate", "connect_fee", "initial", "increment"])
        for prefix in list(prefixes)[:rows]:
            writer.writerow(
                [prefix, f"Destination {prefix}", f"0.{rng.randint(10, 9999):04d}", "0", "60", "60"]
            )
    return codes


def lookup_numbers() -> list[str]:
    """Numbers of countries outside Starter's included list, so each lookup reads the deck."""
    import phonenumbers

    rng = random.Random("numbers")
    included = {"US", "CA", "GB", "FR", "DE", "IE", "IL", "SG"}
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - included):
        example = phonenumbers.example_number(region)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for _ in range(5):
            numbers.append(e164[:-3] + f"{rng.randint(0, 999):03d}")
    return numbers


def timed_loop(func: Callable[[], object], seconds: float) -> float:
    count, began = 0, time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        for _ in range(50):
            func()
        count += 50
    return count / elapsed


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--import-child":
        import_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    args = parse_args()
    url = os.environ["DATABASE_URL"]
    figures = Figures(read_baseline(args.baseline))
    recreate_database(url)
    try:
        os.environ.update(PRODUCTION_ENV)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from billing.models import AccountRating, RateDeck
        from billing.selectors.plans import rate_for_number
        from billing.selectors.pricing import price_lookup
        from billing.services.api_clients import api_client_create
        from billing.services.rate_import import rate_deck_import
        from portal.errors import DomainError
        from portal.models import Account

        call_command("migrate", verbosity=0)
        print(
            f"Rating benchmark on {connection.vendor} ({os.cpu_count()} CPUs), "
            f"{args.seconds:g} s per figure",
            flush=True,
        )
        codes = make_accounts(args.accounts)
        _client, token = api_client_create(name="bench")
        connection.close()

        with gunicorn(args.workers) as port:
            common = {"port": port, "token": token, "batch": args.batch, "seconds": args.seconds}
            rate = api_run(codes=[HOT], clients=args.clients, tag="api-hot", **common)
            figures.show("cdr_api_one_account", rate, "cdr/s", "hot_account_16_clients")
            rate = api_run(codes=codes[1:], clients=args.clients, tag="api-many", **common)
            figures.show("cdr_api_many_accounts", rate, "cdr/s", "tpcb_16_clients")
        print(
            f"(API: {args.workers} gunicorn workers, {args.clients} clients, "
            f"batches of {args.batch} CDRs)"
        )
        api_many = rate

        # Files sized to take about 2 x --seconds at the API's pace (bounded run time).
        rows = min(20_000, max(500, int(api_many * args.seconds * 2)))
        batch_note = args.import_batch or "import_cdrs' default"
        with tempfile.TemporaryDirectory() as tmp:
            for tag, accounts in (("import-hot", [HOT]), ("import-many", codes[1:])):
                path = Path(tmp) / f"{tag}.csv"
                write_master_csv(path, codes=accounts, rows=rows, tag=tag)
                rate = import_run(path, rows, args.import_batch)
                if tag == "import-hot":
                    figures.show("cdr_import_one_account", rate, "cdr/s", "tpcb_1_client")
                else:
                    figures.show("cdr_import_many_accounts", rate, "cdr/s", "tpcb_16_clients")
            print(f"(import_cdrs: Master.csv files of {rows:,} rows, batches: {batch_note})")
            if args.import_rows:
                path = Path(tmp) / "import-big.csv"
                write_master_csv(path, codes=codes[1:], rows=args.import_rows, tag="import-big")
                connection.close()
                rate, peak = import_big(path, args.import_rows, args.import_batch)
                size = f"{args.import_rows // 1000}k"
                figures.show(f"cdr_import_{size}_many_accounts", rate, "cdr/s", "tpcb_16_clients")
                figures.show(f"cdr_import_{size}_peak_rss", peak, "MB")
                path.unlink()

            deck_path = Path(tmp) / "deck.csv"
            deck_csv(deck_path, args.deck_rows)
            began = time.monotonic()
            with deck_path.open(newline="") as handle:
                report = rate_deck_import(
                    deck_name="Bench", csv_file=handle, replace=True, now=timezone.now()
                )
            elapsed = time.monotonic() - began
            figures.show(f"rate_deck_import_{args.deck_rows // 1000}k_rows", elapsed, "s")
            figures.show("rate_deck_import_rows", report.rows / elapsed, "rows/s")

        deck = RateDeck.objects.get(name="Bench")
        looker = Account.objects.get(code=codes[1])
        AccountRating.objects.update_or_create(account=looker, defaults={"rate_deck": deck})
        now = timezone.now()
        numbers = []
        for number in lookup_numbers():
            with contextlib.suppress(DomainError):
                price_lookup(account=looker, number=number, now=now)
                numbers.append(number)
        rng = random.Random("lookups")
        rate = timed_loop(
            lambda: price_lookup(account=looker, number=rng.choice(numbers), now=now),
            args.seconds,
        )
        figures.show("rate_lookup_100k_deck", rate, "lookups/s", "tpcb_1_client")
        digits = [n[1:] for n in numbers]
        rate = timed_loop(lambda: rate_for_number(deck=deck.pk, digits=rng.choice(digits)), 2)
        figures.show("longest_prefix_100k_deck", rate, "lookups/s", "tpcb_1_client")
        connection.close()
    finally:
        if not args.keep:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
            recreate_database(url, drop_only=True)


if __name__ == "__main__":
    main()
