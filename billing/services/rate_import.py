"""Rate-deck CSV import: all rows or none, every bad row listed with its line."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TextIO

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
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{field_name}: {value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{field_name}: {value!r} is not a number")
    if amount < 0:
        raise ValueError(f"{field_name}: {value} is negative")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError(f"{field_name}: {value} has more than 4 decimal places")
    if amount > _MAX_RATE:
        raise ValueError(f"{field_name}: {value} is too large")
    return amount


def _rate_seconds(value: str, field_name: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 3600:
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


def rate_deck_parse(csv_file: TextIO) -> list[Rate]:
    """Validate a whole rate CSV; raises DomainError ``bad_rate_file`` listing every bad row
    (line number and reason). Returns unsaved rows."""
    reader = csv.reader(csv_file)
    header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
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
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
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
