"""Rate-deck import on hostile files: still all or nothing, every bad row listed with its line
and reason (never a traceback); amounts and seconds only in ASCII digits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Rate
from billing.services.rate_import import rate_deck_import
from portal.errors import DomainError
from tests.billing.rating_fixtures import NOW

pytestmark = pytest.mark.django_db

HEADER = "prefix,destination,rate,connect_fee,initial,increment\n"
GOOD_ROW = "357,Cyprus,0.0600,0,60,60\n"


def problems(text: str) -> str:
    with pytest.raises(DomainError) as exc:
        rate_deck_import(deck_name="D", csv_file=io.StringIO(text), replace=True, now=NOW)
    assert not Rate.objects.filter(deck__name="D").exists()
    return exc.value.message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("rate", "\u0660.\u0660\u0666"),  # Arabic-Indic 0.06: Decimal() reads it
        ("rate", "0.0\uff16"),  # fullwidth 6
        ("rate", "1_0"),  # Decimal() reads underscores too
        ("connect_fee", "\u0661"),
        ("initial", "\u0666\u0660"),  # int() reads Arabic-Indic 60
        ("increment", "6\u00b2"),  # int() raises on a superscript
    ],
)
def test_it_refuses_non_ascii_digits_in_amounts_and_seconds(column: str, value: str) -> None:
    cells = {"prefix": "44", "destination": "UK", "rate": "0.02", "connect_fee": "0",
             "initial": "60", "increment": "60", column: value}  # fmt: skip
    text = HEADER + GOOD_ROW + ",".join(cells.values()) + "\n"
    message = problems(text)
    assert f"line 3: {column}: {value!r} is not" in message
    assert "invalid literal" not in message


def test_it_lists_a_field_over_the_csv_limit_instead_of_crashing() -> None:
    huge = "44," + "x" * 200_000 + ",0.02\n"
    message = problems(HEADER + GOOD_ROW + huge + "49,Germany,0.02\n")
    assert "line 3: unreadable CSV (field larger than field limit" in message
    assert "1 bad row(s)" in message


def test_the_command_lists_invalid_utf8_by_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD_ROW).encode() + b"44,K\xf6nigreich,0.02\n")
    with pytest.raises(CommandError) as exc:
        call_command("import_rates", str(path), "--deck", "Cmd")
    assert "line 3: not valid UTF-8" in str(exc.value)
    assert not Rate.objects.filter(deck__name="Cmd").exists()


def test_the_command_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD_ROW).encode())
    out = io.StringIO()
    call_command("import_rates", str(path), "--deck", "Cmd", stdout=out)
    assert "1 rows read, 1 created" in out.getvalue()
