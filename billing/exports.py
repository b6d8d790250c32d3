"""CSV exports (the Calls page, the balance history): streamed row by row, in the account's
time zone, with every cell defused against spreadsheet formulas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from billing.models import Call, LedgerEntry, Rate

HEADER = [
    "call_id",
    "start",
    "direction",
    "from",
    "to",
    "destination",
    "disposition",
    "duration_seconds",
    "billed_seconds",
    "included_seconds",
    "paid_seconds",
    "rate_per_minute",
    "connect_fee",
    "charge",
    "explanation",
]
_FIELDS = [
    "call_id",
    "started_at",
    "direction",
    "from_number",
    "to_number",
    "destination",
    "disposition",
    "billsec",
    "billed_seconds",
    "included_seconds",
    "paid_seconds",
    "rate",
    "connect_fee",
    "charge",
    "explanation",
]
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    """A spreadsheet must not run a cell as a formula (caller ids come from outside): text that
    starts with = + - @ or a control character is prefixed with ``'``, except plain numbers
    such as ``+12025550123`` or ``-0.0250``."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


# Excel reads a CSV without a byte-order mark as the local code page, which garbles → — •; with
# it, Excel, LibreOffice and Python's "utf-8-sig" all read UTF-8.
BOM = "\ufeff"


def csv_lines(rows: Iterable[list[object]], *, header: list[str] = HEADER) -> Iterator[str]:
    """The CSV file, line by line: a UTF-8 byte-order mark, the header, then the rows."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def call_rows(calls: QuerySet[Call], *, tz: ZoneInfo) -> Iterator[list[object]]:
    """The export's rows, read in chunks (constant memory on millions of calls)."""
    directions = dict(Call.Direction.choices)
    for values in calls.values_list(*_FIELDS).iterator(chunk_size=2000):
        row = list(values)
        row[1] = row[1].astimezone(tz).isoformat(timespec="seconds")
        row[2] = directions.get(row[2], row[2])
        yield row


LEDGER_HEADER = [
    "Date",
    "Posted",
    "Time zone",
    "Type",
    "Description",
    "Amount (USD)",
    "Balance after (USD)",
]


def ledger_rows(entries: QuerySet[LedgerEntry], *, tz: ZoneInfo) -> Iterator[list[object]]:
    """The balance history's rows, read in chunks: the date the history shows (a call's start)
    and, beside it, when the entry was posted; exact amounts with 4 places and a plain "-"."""
    for entry in entries.iterator(chunk_size=500):
        yield [
            entry.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            entry.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            str(tz),
            entry.get_kind_display(),
            entry.description,
            f"{entry.amount:.4f}",
            f"{entry.balance_after:.4f}",
        ]


RATE_HEADER = [
    "prefix",
    "destination",
    "rate_per_minute",
    "connect_fee",
    "initial_seconds",
    "increment_seconds",
]


def rate_rows(rates: QuerySet[Rate]) -> Iterator[list[object]]:
    """A deck's rows by prefix, read in chunks (decks run to 100k+ rows)."""
    fields = ("prefix", "destination", "rate", "connect_fee", "initial", "increment")
    for prefix, destination, rate, fee, initial, increment in rates.values_list(*fields).iterator(
        chunk_size=2000
    ):
        yield [prefix, destination, f"{rate:.4f}", f"{fee:.4f}", initial, increment]
