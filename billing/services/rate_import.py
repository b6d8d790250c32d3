"""Rate-deck CSV import: all rows or none, every bad row listed with its line."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from django.db import transaction

from billing.models import (
    Rate,
    RateDeck,
)
from portal.errors import DomainError

logger = logging.getLogger(__name__)

RATE_IMPORT_BATCH = 5000


RATE_CSV_COLUMNS = ("prefix", "destination", "rate", "connect_fee", "initial", "increment")


_RATE_REQUIRED = {"prefix", "destination", "rate"}


_MAX_RATE = Decimal("999999.9999")  # DecimalField(max_digits=10, decimal_places=4)

# ASCII digits only: Decimal() and int() also read Arabic-Indic, fullwidth and other Unicode
# digits (and underscores), so a price could be imported as a different number than the one
# staff see in the file.
_AMOUNT = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_SECONDS = re.compile(r"^[0-9]{1,4}$")
# A file opened with errors="surrogateescape" turns each byte that is not UTF-8 into one lone
# surrogate, which valid UTF-8 text never contains: its line is reported, not guessed at.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class ImportReport:
    deck: RateDeck
    rows: int
    created: int
    updated: int
    deleted: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Deck {self.deck.name!r}: {self.rows} rows read, {self.created} created, "
            f"{self.updated} updated, {self.deleted} deleted in {self.seconds:.1f} s"
        )


def _rate_decimal(value: str, field_name: str) -> Decimal:
    if value.startswith("-") and _AMOUNT.match(value[1:]):
        raise ValueError(f"{field_name}: {value} is negative")
    if not _AMOUNT.match(value):
        raise ValueError(f"{field_name}: {value!r} is not a number (digits 0-9 and a point)")
    amount = Decimal(value)
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"{field_name}: {value} has more than 4 decimal places")
    if amount > _MAX_RATE:
        raise ValueError(f"{field_name}: {value} is too large")
    return amount


def _rate_seconds(value: str, field_name: str) -> int:
    if not _SECONDS.match(value) or not 0 < int(value) <= 3600:
        raise ValueError(f"{field_name}: {value!r} is not a whole number of seconds 1-3600")
    return int(value)


def _rate_row(row: dict[str, str]) -> Rate:
    prefix = row.get("prefix", "")
    if not prefix.isdigit() or len(prefix) > 20 or not prefix.isascii():
        raise ValueError(f"prefix: {prefix!r} is not 1-20 digits")
    destination = row.get("destination", "")
    if not destination or len(destination) > 120:
        raise ValueError("destination: empty or longer than 120 characters")
    return Rate(
        prefix=prefix,
        destination=destination,
        rate=_rate_decimal(row.get("rate", ""), "rate"),
        connect_fee=_rate_decimal(row.get("connect_fee") or "0", "connect_fee"),
        initial=_rate_seconds(row.get("initial") or "60", "initial"),
        increment=_rate_seconds(row.get("increment") or "60", "increment"),
    )


def _rate_rows(reader: Any) -> Iterator[tuple[int, list[str] | str]]:
    """The rows after the header with their line numbers; a row the csv module cannot read
    (a field over its size limit) comes as its reason, and reading goes on."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"unreadable CSV ({exc})"
            continue
        yield reader.line_num, values


def rate_deck_parse(csv_file: TextIO) -> list[Rate]:
    """Validate a whole rate CSV; raises DomainError ``bad_rate_file`` listing every bad row
    (line number and reason). Returns unsaved rows."""
    reader = csv.reader(csv_file)
    try:
        first = next(reader, [])
    except csv.Error as exc:
        raise DomainError(f"line 1: unreadable CSV ({exc})", code="bad_rate_file") from exc
    header = [h.strip().lstrip("\ufeff").lower() for h in first]
    problems: list[str] = []
    if not set(header) >= _RATE_REQUIRED:
        missing = ", ".join(sorted(_RATE_REQUIRED - set(header)))
        raise DomainError(
            f"line 1: the header needs prefix,destination,rate (missing {missing or 'all'}).",
            code="bad_rate_file",
        )
    unknown = [h for h in header if h not in RATE_CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        problems.append(f"line 1: unknown or repeated columns {', '.join(unknown) or header}")
    rates: list[Rate] = []
    seen: dict[str, int] = {}
    for line, values in _rate_rows(reader):
        if isinstance(values, str):
            problems.append(f"line {line}: {values}")
            continue
        if not any(v.strip() for v in values):
            continue
        if any(_NOT_UTF8.search(v) for v in values):
            problems.append(f"line {line}: not valid UTF-8")
            continue
        if len(values) > len(header):
            problems.append(f"line {line}: {len(values)} fields, the header has {len(header)}")
            continue
        values += [""] * (len(header) - len(values))  # trailing optional columns left out
        try:
            rate = _rate_row({k: v.strip() for k, v in zip(header, values, strict=True)})
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if rate.prefix in seen:
            problems.append(f"line {line}: prefix: {rate.prefix} repeats line {seen[rate.prefix]}")
            continue
        seen[rate.prefix] = line
        rates.append(rate)
    if not rates and not problems:
        problems.append("the file has no rate rows")
    if problems:
        raise DomainError(
            f"{len(problems)} bad row(s); nothing was imported:\n" + "\n".join(problems),
            code="bad_rate_file",
        )
    return rates


def rate_deck_import(
    *, deck_name: str, csv_file: TextIO, replace: bool, now: dt.datetime
) -> ImportReport:
    """Import a rate CSV (``prefix,destination,rate[,connect_fee,initial,increment]``) into
    the deck ``deck_name`` (created if new). All or nothing: the whole file is validated first.
    Without ``replace`` rows are upserted by prefix and other rows kept; with it the deck
    becomes exactly the file. Bulk inserts in batches: 100k rows take seconds."""
    started = time.monotonic()
    deck_name = deck_name.strip()
    if not deck_name or len(deck_name) > 100:
        raise DomainError("A deck needs a name of 1-100 characters.", code="bad_deck_name")
    rates = rate_deck_parse(csv_file)
    with transaction.atomic():
        deck, _ = RateDeck.objects.get_or_create(name=deck_name)
        RateDeck.objects.filter(pk=deck.pk).update(updated_at=now)
        deleted = 0
        existing: set[str] = set()
        if replace:
            deleted, _ = Rate.objects.filter(deck=deck).delete()
        else:
            existing = set(Rate.objects.filter(deck=deck).values_list("prefix", flat=True))
        for rate in rates:
            rate.deck = deck
        for i in range(0, len(rates), RATE_IMPORT_BATCH):
            Rate.objects.bulk_create(
                rates[i : i + RATE_IMPORT_BATCH],
                update_conflicts=not replace,
                unique_fields=None if replace else ["deck", "prefix"],
                update_fields=None
                if replace
                else ["destination", "rate", "connect_fee", "initial", "increment"],
            )
    updated = sum(1 for r in rates if r.prefix in existing)
    report = ImportReport(
        deck=deck,
        rows=len(rates),
        created=len(rates) - updated,
        updated=updated,
        deleted=deleted,
        seconds=time.monotonic() - started,
    )
    logger.info("rate import: %s", report)
    return report
