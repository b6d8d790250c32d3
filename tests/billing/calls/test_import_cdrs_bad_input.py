"""``import_cdrs`` on hostile files: every bad row is reported with its line and reason and the
rows around it are still rated; a UTF-8 BOM is accepted; nothing crashes mid-file."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Call, LedgerEntry
from billing.services.cdr_import import import_master_csv, read_rows
from portal.models import Account
from tests.billing.calls.test_import_cdrs import row
from tests.billing.rating_fixtures import NOW, set_up_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account)


def good(acct: Account, uniqueid: str, **extra: str) -> str:
    """A Cyprus call on 24 Nov 2026: answered after 5 s, 125 s of talk ($0.18)."""
    fields = {
        "start": "2026-11-24 12:00:00",
        "answer": "2026-11-24 12:00:05",
        "end": "2026-11-24 12:02:10",
        "billsec": "125",
        "dst": "0035722123456",
    }
    fields.update(extra)
    text = row(acct.code, "101", fields["dst"], "from-internal", fields["start"],
               fields["answer"], fields["end"], 0, uniqueid=uniqueid)  # fmt: skip
    return text.replace(',"0","ANSWERED"', f',"{fields["billsec"]}","ANSWERED"')


def run(path: Path, *args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_cdrs", str(path), "--tz", "America/New_York", *args, stdout=out, stderr=err
        )
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def import_text(tmp_path: Path, text: str | bytes, *args: str) -> tuple[str, str]:
    path = tmp_path / "Master.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    out, err, failed = run(path, "--batch-size", "1", *args)
    assert failed is not None, out
    return out, err


def rated_ids() -> list[str]:
    return sorted(Call.objects.values_list("call_id", flat=True))


def test_the_good_row_helper_is_rated(acct: Account, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(good(acct, "g.1"), encoding="utf-8")
    _out, err, failed = run(path)
    assert failed is None, err
    assert Call.objects.get(call_id="g.1").charge == Decimal("0.1800")


def test_it_reports_a_field_over_the_csv_limit_and_goes_on(acct: Account, tmp_path: Path) -> None:
    huge = good(acct, "huge.2").replace('"Dial"', '"' + "x" * 200_000 + '"')
    out, err = import_text(tmp_path, good(acct, "ok.1") + huge + good(acct, "ok.3"))
    assert "line 2: rejected: " in err and "field larger than field limit" in err
    assert "read 3, rated 2, duplicates 0, rejected 1" in out
    assert rated_ids() == ["ok.1", "ok.3"]


@pytest.mark.parametrize("billsec", ["\u00b2", "\u0663", "12\u0665", "\uff11"])
def test_it_refuses_non_ascii_digits_in_billsec(
    acct: Account, tmp_path: Path, billsec: str
) -> None:
    text = good(acct, "ok.1") + good(acct, "bad.2", billsec=billsec) + good(acct, "ok.3")
    _out, err = import_text(tmp_path, text)
    assert f"line 2: rejected: billsec: {billsec!r} is not a whole number of seconds" in err
    assert rated_ids() == ["ok.1", "ok.3"]


@pytest.mark.parametrize(
    "dst", ["00\u0663\u0665\u066722123456", "0035722\u00b223456", "\uff10035722123456"]
)
def test_it_refuses_non_ascii_digits_in_numbers(acct: Account, tmp_path: Path, dst: str) -> None:
    _out, err = import_text(tmp_path, good(acct, "ok.1") + good(acct, "bad.2", dst=dst))
    assert "line 2: rejected: dst: " in err
    assert rated_ids() == ["ok.1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start", "9999-12-31 23:59:59"),  # New York → UTC is past year 9999
        ("start", "0001-01-01 00:00:00+05:00"),
        ("end", "9999-12-31 23:59:59"),
    ],
)
def test_it_reports_a_year_out_of_range_and_goes_on(
    acct: Account, tmp_path: Path, field: str, value: str
) -> None:
    text = good(acct, "ok.1") + good(acct, "bad.2", **{field: value}) + good(acct, "ok.3")
    _out, err = import_text(tmp_path, text)
    assert f"line 2: rejected: {field}: " in err and "out of range" in err
    assert rated_ids() == ["ok.1", "ok.3"]


def test_it_accepts_a_utf8_bom(acct: Account, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(b"\xef\xbb\xbf" + good(acct, "bom.1").encode())
    _out, err, failed = run(path)
    assert failed is None, err
    assert rated_ids() == ["bom.1"]


def test_it_reports_invalid_utf8_by_line_instead_of_replacing_it(
    acct: Account, tmp_path: Path
) -> None:
    bad = good(acct, "bad.2").encode().replace(b"Alice", b"Al\xe9ce")
    text = good(acct, "ok.1").encode() + bad + good(acct, "ok.3").encode()
    _out, err = import_text(tmp_path, text)
    assert "line 2: rejected: not valid UTF-8" in err
    assert rated_ids() == ["ok.1", "ok.3"]
    assert not Call.objects.filter(from_number__contains="\ufffd").exists()


def test_it_refuses_billsec_that_counts_the_ring_time(acct: Account, tmp_path: Path) -> None:
    _out, err = import_text(tmp_path, good(acct, "ok.1") + good(acct, "ring.2", billsec="130"))
    assert "line 2: rejected: billsec: 130 s is longer than the answered call" in err
    assert rated_ids() == ["ok.1"]
    assert LedgerEntry.objects.filter(kind="call").count() == 1


def test_it_rejects_future_calls_and_calls_before_the_account_with_the_reason(
    acct: Account, tmp_path: Path
) -> None:
    Account.objects.filter(pk=acct.pk).update(created_at=NOW.replace(month=11, day=1))
    text = (
        good(acct, "ok.1")
        + good(acct, "future.2", start="2027-01-05 12:00:00", answer="2027-01-05 12:00:05",
               end="2027-01-05 12:02:10")
        + good(acct, "old.3", start="2026-10-05 12:00:00", answer="2026-10-05 12:00:05",
               end="2026-10-05 12:02:10")
    )  # fmt: skip
    path = tmp_path / "Master.csv"
    path.write_text(text, encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as handle:
        report = import_master_csv(read_rows(handle), tz=ZoneInfo("America/New_York"), now=NOW)
    reasons = dict(report.rejected)
    assert "start: 2027-01-05T17:00:00+00:00 is in the future" in reasons[2]
    assert "before the account was created" in reasons[3]
    assert rated_ids() == ["ok.1"]
