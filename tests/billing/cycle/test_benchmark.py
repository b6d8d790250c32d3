"""``make bench``'s cycle part (bin/bench_cycle.py) runs end to end on a few accounts: it
creates them, runs the cycle in worker processes twice and checks, by counting ledger entries,
that every line was posted exactly once. Timings are printed, never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def scratch_url() -> str:
    db = settings.DATABASES["default"]
    user = urllib.parse.quote(db.get("USER") or "postgres")
    password = db.get("PASSWORD")
    auth = f"{user}:{urllib.parse.quote(password)}" if password else user
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    # Its own database (created and dropped by the script), beside the test run's.
    return f"postgres://{auth}@{host}:{port}/test_{db['NAME']}_cycle_bench"


def test_it_runs_the_cycle_for_every_account_and_verifies_a_second_run_posts_nothing(
    on_postgres: None, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": scratch_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "bench_cycle.py"),
            "--accounts",
            "40",
            "--workers",
            "2",
            "--explain",
            str(tmp_path / "explain.txt"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = {line.split()[0] for line in result.stdout.splitlines() if line}
    assert {"cycle_due_query_all_due", "cycle_accounts", "cycle_rerun_accounts"} <= figures
    assert "(verified: 40 accounts, 80 recurring entries" in result.stdout
    assert "the second run posted nothing" in result.stdout
    assert (
        "Index" in (tmp_path / "explain.txt").read_text()
        or "Seq Scan" in (tmp_path / "explain.txt").read_text()
    )
