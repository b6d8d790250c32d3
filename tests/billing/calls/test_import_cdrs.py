"""``import_cdrs``: Asterisk Master.csv with and without uniqueid; re-import = all duplicates."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from billing.models import Call, LedgerEntry
from billing.selectors.usage import minutes_summary
from billing.services.cdr_import import row_call_id
from portal.models import Account
from tests.billing.rating_fixtures import NOW, set_up_account

pytestmark = pytest.mark.django_db


def row(
    acct: str,
    src: str,
    dst: str,
    context: str,
    start: str,
    answer: str,
    end: str,
    billsec: int,
    disposition: str = "ANSWERED",
    uniqueid: str | None = None,
) -> str:
    fields = [
        acct,
        src,
        dst,
        context,
        f'"Alice" <{src}>',
        f"SIP/{src}-0001",
        "SIP/trunk-0002",
        "Dial",
        f"SIP/trunk/{dst},60",
        start,
        answer,
        end,
        "0",
        str(billsec),
        disposition,
        "DOCUMENTATION",
    ]
    if uniqueid is not None:
        fields += [uniqueid, ""]
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields) + "\n"


@pytest.fixture
def acct(account: Account) -> Account:
    return set_up_account(account)


def master_csv(acct: Account) -> str:
    a = acct.code
    return "".join(
        [
            # Cyprus, 125 s → 3 min at $0.06 (uniqueid present)
            row(a, "101", "0035722123456", "from-internal", "2026-11-24 12:00:00",
                "2026-11-24 12:00:05", "2026-11-24 12:02:10", 125, uniqueid="1764000000.1"),
            # Incoming on the USA DID, dialled without '+' (no uniqueid: hashed call id)
            row(a, "+35722123456", "12025550100", "from-trunk", "2026-11-24 12:10:00",
                "2026-11-24 12:10:02", "2026-11-24 12:11:02", 60),
            # Extension to extension: on-net
            row(a, "101", "102", "from-internal", "2026-11-24 12:20:00",
                "2026-11-24 12:20:01", "2026-11-24 12:30:01", 600, uniqueid="1764000000.3"),
            # Not answered
            row(a, "101", "+12025550123", "from-internal", "2026-11-24 12:40:00", "",
                "2026-11-24 12:40:30", 0, "NO ANSWER", uniqueid="1764000000.4"),
            # USA, 61 s → 2 included minutes
            row(a, "101", "2125551234", "from-internal", "2026-11-24 12:50:00",
                "2026-11-24 12:50:01", "2026-11-24 12:51:02", 61),
        ]
    )  # fmt: skip


def run(path: Path, *args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_cdrs", str(path), "--tz", "America/New_York", *args, stdout=out, stderr=err
        )
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_master_csv_is_rated_and_reimport_posts_nothing(acct: Account, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(master_csv(acct), encoding="utf-8")
    out, err, failed = run(path)
    assert failed is None, err
    assert "read 5, rated 5, duplicates 0, rejected 0" in out
    acct.refresh_from_db()
    assert acct.balance == Decimal("9.8200")  # only Cyprus is paid
    cyprus = Call.objects.get(call_id="1764000000.1")
    assert (cyprus.charge, cyprus.source, cyprus.category) == (Decimal("0.1800"), "import", "rated")
    # 12:00 in New York is 17:00 UTC
    assert cyprus.started_at.isoformat() == "2026-11-24T17:00:00+00:00"
    incoming = Call.objects.get(direction="inbound")
    assert incoming.call_id.startswith("csv-")
    assert (incoming.included_seconds, incoming.did.number) == (60, "+12025550100")
    assert Call.objects.get(call_id="1764000000.3").category == "on_net"
    assert Call.objects.get(call_id="1764000000.4").category == "unanswered"
    assert minutes_summary(account=acct, now=NOW).used_seconds == 180

    out, err, failed = run(path, "--batch-size", "2")
    assert failed is None
    assert "read 5, rated 0, duplicates 5, rejected 0" in out
    assert Call.objects.count() == 5
    assert LedgerEntry.objects.filter(kind="call").count() == 1
    acct.refresh_from_db()
    assert acct.balance == Decimal("9.8200")


def test_rejected_rows_are_listed_with_line_numbers_and_exit_non_zero(
    acct: Account, tmp_path: Path
) -> None:
    a = acct.code
    path = tmp_path / "Master.csv"
    path.write_text(
        row(a, "101", "+12025550123", "from-internal", "2026-11-24 12:00:00",
            "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="ok.1")
        + row(a, "101", "+12025550123", "from-nowhere", "2026-11-24 12:00:00",
              "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="bad.2")
        + row("NOPE", "101", "+12025550123", "from-internal", "2026-11-24 12:00:00",
              "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="bad.3")
        + '"short","row"\n'
        + row(a, "101", "+81312345678", "from-internal", "2026-11-24 12:00:00",
              "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="bad.5")
        + row(a, "101", "+12025550123", "from-internal", "yesterday",
              "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="bad.6"),
        encoding="utf-8",
    )  # fmt: skip
    out, err, failed = run(path)
    assert failed is not None and "5 row(s) rejected" in str(failed)
    assert "read 6, rated 1, duplicates 0, rejected 5" in out
    assert "line 2: rejected: dcontext: 'from-nowhere' is not mapped" in err
    assert "line 3: rejected: bad.3: account: no account 'NOPE'." in err
    assert "line 4: rejected: 2 fields" in err
    assert "line 5: rejected: bad.5: to: no rate for +81312345678" in err
    assert "line 6: rejected: start: 'yesterday' is not a time" in err
    assert list(Call.objects.values_list("call_id", flat=True)) == ["ok.1"]


@override_settings(BILLING_CDR_CONTEXTS={"pbx-out": "outbound"})
def test_context_mapping_is_configurable(acct: Account, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(
        row(acct.code, "101", "+12025550123", "pbx-out", "2026-11-24 12:00:00",
            "2026-11-24 12:00:01", "2026-11-24 12:01:01", 60, uniqueid="m.1"),
        encoding="utf-8",
    )  # fmt: skip
    out, _err, failed = run(path)
    assert failed is None and "rated 1" in out


def test_hashed_call_id_is_stable() -> None:
    fields = ["A", "101", "102", "from-internal"] + ["x"] * 12
    assert row_call_id(fields) == row_call_id(list(fields))
    assert row_call_id(fields) != row_call_id([*fields[:-1], "y"])
    assert row_call_id([*fields, "1764.9", ""]) == "1764.9"


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("import_cdrs", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError):
        call_command("import_cdrs", str(tmp_path / "nope.csv"), "--tz", "Mars/Base")


def test_create_api_token_prints_the_token_once() -> None:
    from billing.models import ApiClient
    from billing.selectors.api_clients import api_client_for_token

    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "asterisk-test", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert "shown once" in err.getvalue()
    assert api_client_for_token(token=token) == ApiClient.objects.get(name="asterisk-test")
    with pytest.raises(CommandError):
        call_command("create_api_token", "asterisk-test")
