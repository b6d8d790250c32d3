"""Input parsing for the switch API: JSON → the services' input dataclasses.

Every problem names its field (``start``, ``cdrs[3].to``) so the switch's operator can fix it;
the view turns ``InvalidInput`` into a 400 JSON answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from billing.models import Call
from billing.services.authorize import AuthorizeInput
from billing.services.calls import CdrInput
from billing.services.cdr_input import (
    CALLER,
    DIALLED,
    CdrProblem,
    cdr_billsec_derive,
    cdr_time_utc,
    cdr_times_check,
)

MAX_BATCH = 1000
MAX_BILLSEC = 2 * 24 * 3600
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,150}$")  # printable ASCII, no spaces
_DIRECTIONS = tuple(Call.Direction.values)


class InvalidInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("body", f"not valid JSON ({exc})") from exc


def _object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(where or "body", "must be a JSON object")
    return data


def _name(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _string(data: dict[str, Any], key: str, prefix: str, *, pattern: re.Pattern[str]) -> str:
    field = _name(prefix, key)
    if key not in data or data[key] is None:
        raise InvalidInput(field, "is required")
    value = data[key]
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if not pattern.match(value):
        raise InvalidInput(field, f"{value!r} is not valid")
    return value


def _direction(data: dict[str, Any], prefix: str) -> str:
    field = _name(prefix, "direction")
    value = data.get("direction")
    if value not in _DIRECTIONS:
        raise InvalidInput(field, f"must be one of {', '.join(_DIRECTIONS)}")
    return str(value)


def _account(data: dict[str, Any], prefix: str) -> str:
    field = _name(prefix, "account")
    value = data.get("account")
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 32:
        raise InvalidInput(field, "must be the account code (1-32 characters)")
    return value.strip()


def _moment(data: dict[str, Any], key: str, prefix: str, *, nullable: bool) -> dt.datetime | None:
    field = _name(prefix, key)
    value = data.get(key)
    if value is None:
        if nullable and key in data:
            return None
        raise InvalidInput(field, "is required" + (" (null if unanswered)" if nullable else ""))
    if not isinstance(value, str):
        raise InvalidInput(field, "must be an ISO 8601 string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(field, f"{value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise InvalidInput(field, "needs a UTC offset, e.g. 2026-11-24T12:00:00+00:00")
    try:
        return cdr_time_utc(moment=moment, field=field)
    except CdrProblem as exc:
        raise InvalidInput(exc.field, exc.message) from exc


def parse_authorize(data: Any) -> AuthorizeInput:
    data = _object(data, "")
    return AuthorizeInput(
        call_id=_string(data, "call_id", "", pattern=_CALL_ID),
        account=_account(data, ""),
        direction=_direction(data, ""),
        from_number=_string(data, "from", "", pattern=CALLER),
        to_number=_string(data, "to", "", pattern=DIALLED),
    )


def parse_cdr(data: Any, prefix: str = "") -> CdrInput:
    data = _object(data, prefix)
    start = _moment(data, "start", prefix, nullable=False)
    answer = _moment(data, "answer", prefix, nullable=True)
    end = _moment(data, "end", prefix, nullable=False)
    assert start is not None and end is not None
    field = _name(prefix, "billsec")
    billsec = data.get("billsec")
    if billsec is None and "billsec" not in data:
        # What switches expect when they leave it out: the answered part of the call.
        billsec = cdr_billsec_derive(answer=answer, end=end)
    if not isinstance(billsec, int) or isinstance(billsec, bool):
        raise InvalidInput(field, "must be a whole number of seconds")
    if not 0 <= billsec <= MAX_BILLSEC:
        raise InvalidInput(field, f"must be 0-{MAX_BILLSEC}")
    try:
        cdr_times_check(start=start, answer=answer, end=end, billsec=billsec)
    except CdrProblem as exc:
        raise InvalidInput(_name(prefix, exc.field), exc.message) from exc
    disposition = data.get("disposition", "ANSWERED" if answer is not None else "NO ANSWER")
    if not isinstance(disposition, str) or len(disposition) > 20:
        raise InvalidInput(_name(prefix, "disposition"), "must be a string of up to 20 characters")
    return CdrInput(
        call_id=_string(data, "call_id", prefix, pattern=_CALL_ID),
        account=_account(data, prefix),
        direction=_direction(data, prefix),
        from_number=_string(data, "from", prefix, pattern=CALLER),
        to_number=_string(data, "to", prefix, pattern=DIALLED),
        start=start,
        answer=answer,
        end=end,
        billsec=billsec,
        disposition=disposition.strip().upper(),
    )


def parse_cdrs(data: Any) -> tuple[list[CdrInput], bool]:
    """One CDR object, or ``{"cdrs": [...]}`` (1-1000). Returns the CDRs and whether it was
    a batch. Any invalid CDR fails the whole request (nothing is recorded)."""
    data = _object(data, "")
    if "cdrs" not in data:
        return [parse_cdr(data)], False
    items = data["cdrs"]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise InvalidInput("cdrs", f"must be a list of 1-{MAX_BATCH} CDR objects")
    return [parse_cdr(item, f"cdrs[{i}]") for i, item in enumerate(items)], True
