"""Asterisk ``Master.csv`` (cdr_csv) → CDRs, streamed, rated in batches.

Columns, no header: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags, uniqueid, userfield
(the last two may be absent). Times are local times of the switch (``tz``). The direction comes
from ``dcontext`` through ``settings.BILLING_CDR_CONTEXTS``; calls between the account's own
extensions/DIDs are recognised as on-net by the rating. The call id is ``uniqueid``, or a stable
hash of the row when it is absent, so re-importing a file posts nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError

from billing.services.calls import CallResult, call_record, call_record_batch
from billing.services.cdr_input import (
    CALLER,
    DIALLED,
    CdrInput,
    CdrProblem,
    cdr_seconds_parse,
    cdr_time_utc,
    cdr_times_check,
)

logger = logging.getLogger(__name__)

MIN_FIELDS = 16
DEFAULT_BATCH = 1000  # as the API's largest batch; memory stays a few MB per batch
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,150}$")  # as the switch API: printable ASCII


class BadRow(ValueError):
    pass


@dataclass
class CdrImportReport:
    read: int = 0
    rated: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def count(self, line: int, result: CallResult) -> None:
        if result.status == "rated":
            self.rated += 1
        elif result.status == "duplicate":
            self.duplicates += 1
        else:
            self.rejected.append((line, f"{result.call_id}: {result.error}"))

    def __str__(self) -> str:
        return (
            f"read {self.read}, rated {self.rated}, duplicates {self.duplicates}, "
            f"rejected {len(self.rejected)}"
        )


def contexts() -> dict[str, str]:
    return dict(getattr(settings, "BILLING_CDR_CONTEXTS", {}))


def _time(value: str, name: str, tz: ZoneInfo) -> dt.datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRow(f"{name}: {value!r} is not a time") from exc
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    try:
        return cdr_time_utc(moment=moment, field=name)
    except CdrProblem as exc:
        raise BadRow(str(exc)) from exc


def _seconds(value: str, name: str) -> int:
    try:
        return cdr_seconds_parse(value=value, field=name)
    except CdrProblem as exc:
        raise BadRow(str(exc)) from exc


def _text(value: str, name: str, pattern: re.Pattern[str]) -> str:
    value = value.strip()
    if not pattern.match(value):
        raise BadRow(f"{name}: {value!r} is not valid (ASCII digits, + * # only)")
    return value


def row_call_id(row: list[str]) -> str:
    """``uniqueid`` when present, else a stable hash of the row's first 16 fields."""
    if len(row) > 16 and row[16].strip():
        return row[16].strip()[:150]
    digest = hashlib.sha256("\x1f".join(f.strip() for f in row[:16]).encode()).hexdigest()
    return f"csv-{digest[:40]}"


def parse_row(row: list[str], *, tz: ZoneInfo, mapping: dict[str, str]) -> CdrInput:
    if len(row) < MIN_FIELDS:
        raise BadRow(f"{len(row)} fields; Master.csv rows have {MIN_FIELDS}-18")
    if any(_NOT_UTF8.search(f) for f in row):
        # The file is read with errors="surrogateescape": each undecodable byte became one
        # lone surrogate, which valid UTF-8 can never produce.
        raise BadRow("not valid UTF-8 (the row is skipped rather than guessed at)")
    account, src, dst, dcontext = (f.strip() for f in row[:4])
    if not account or len(account) > 32 or not account.isprintable():
        raise BadRow(f"accountcode: {account!r} is not an account code (1-32 characters)")
    src = _text(src, "src", CALLER)
    if not _CALL_ID.match(row_call_id(row)):
        raise BadRow("uniqueid: not 1-150 printable ASCII characters")
    direction = mapping.get(dcontext)
    if direction is None:
        raise BadRow(f"dcontext: {dcontext!r} is not mapped in BILLING_CDR_CONTEXTS")
    start = _time(row[9], "start", tz)
    if start is None:
        raise BadRow("start: empty")
    answer = _time(row[10], "answer", tz)
    end = _time(row[11], "end", tz) or start
    billsec = _seconds(row[13], "billsec")
    disposition = row[14].strip().upper()
    try:
        cdr_times_check(start=start, answer=answer, end=end, billsec=billsec)
    except CdrProblem as exc:
        raise BadRow(str(exc)) from exc
    if not dst:
        raise BadRow("dst: empty")
    dst = _text(dst, "dst", DIALLED)
    return CdrInput(
        call_id=row_call_id(row),
        account=account,
        direction=direction,
        from_number=src,
        to_number=dst,
        start=start,
        answer=answer,
        end=end,
        billsec=billsec,
        disposition=disposition,
    )


def read_rows(handle: TextIO) -> Iterator[tuple[int, list[str] | BadRow]]:
    """The file's rows with their line numbers; a row the csv module cannot read (a field
    over its size limit, a NUL byte) is yielded as its BadRow and reading goes on with the
    next line."""
    reader = csv.reader(handle)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, BadRow(f"unreadable CSV ({exc})")
            continue
        if row and any(f.strip() for f in row):
            yield reader.line_num, row


def open_master_csv(path: str) -> TextIO:
    """``path`` (``-`` for standard input) as text: a UTF-8 BOM skipped, bytes that are not
    UTF-8 kept as lone surrogates so that ``parse_row`` reports their row."""
    if path == "-":
        return io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
    return open(path, newline="", encoding="utf-8-sig", errors="surrogateescape")


def _record_batch(
    batch: list[tuple[int, CdrInput]], report: CdrImportReport, now: dt.datetime
) -> None:
    """One transaction per batch (``call_record_batch``: its accounts locked once, in id
    order). If the batch's transaction fails (a database error such as a lost connection), the
    batch is redone one CDR per transaction; idempotency by call id makes that safe."""
    cdrs = [cdr for _line, cdr in batch]
    try:
        results = call_record_batch(cdrs=cdrs, now=now, source="import")
    except DatabaseError:
        logger.warning("import_cdrs: batch failed, retrying its %s rows one by one", len(batch))
        results = [call_record(cdr=cdr, now=now, source="import") for cdr in cdrs]
    for (line, _cdr), result in zip(batch, results, strict=True):
        report.count(line, result)


def import_master_csv(
    lines: Iterable[tuple[int, list[str] | BadRow]],
    *,
    tz: ZoneInfo,
    now: dt.datetime,
    batch_size: int = DEFAULT_BATCH,
) -> CdrImportReport:
    """Rate every row; constant memory (one batch at a time)."""
    report = CdrImportReport()
    mapping = contexts()
    batch: list[tuple[int, CdrInput]] = []
    for line, row in lines:
        report.read += 1
        try:
            if isinstance(row, BadRow):
                raise row
            batch.append((line, parse_row(row, tz=tz, mapping=mapping)))
        except BadRow as exc:
            report.rejected.append((line, str(exc)))
        if len(batch) >= batch_size:
            _record_batch(batch, report, now)
            batch = []
    if batch:
        _record_batch(batch, report, now)
    report.rejected.sort()
    return report
