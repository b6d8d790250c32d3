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
from billing.services.cdr_input import (
    CALLER,
    DIALLED,
    CdrInput,
    CdrProblem,
    cdr_billsec_derive,
    cdr_time_utc,
    cdr_times_check,
)

MAX_BATCH = 1000
MAX_BILLSEC = 2 * 24 * 3600
# A CDR batch nests three deep; the limit stops json.loads before Python's recursion limit.
MAX_JSON_DEPTH = 20
# Times outside this window are a switch's broken clock, and near datetime.min/max the UTC
# conversion and the billing-month arithmetic overflow.
EARLIEST_MOMENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_MOMENT = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,150}$")  # printable ASCII, no spaces
_DIRECTIONS = tuple(Call.Direction.values)


class InvalidInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL: PostgreSQL text; surrogates: UTF-8


def _json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if bracket[0] in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_storable(value: Any, where: str) -> None:
    """Every string (keys too) must be storable: no NUL, no lone surrogate (``\\ud800``)."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidInput(where or "body", "contains a NUL character or invalid Unicode")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, _name(where, key))
            _check_storable(item, _name(where, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_storable(item, f"{where or 'body'}[{i}]")


def parse_json(body: bytes) -> Any:
    if _json_depth(body) > MAX_JSON_DEPTH:
        raise InvalidInput("body", f"is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput("body", f"not valid JSON ({exc})") from exc
    _check_storable(data, "")
    return data


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


def parse_account_code(code: str) -> str:
    """An account code from the URL (``/accounts/<code>``)."""
    if not 0 < len(code) <= 32 or _UNSTORABLE.search(code):
        raise InvalidInput("code", "must be the account code (1-32 characters)")
    return code


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
        moment = cdr_time_utc(moment=moment, field=field)
    except CdrProblem as exc:
        raise InvalidInput(exc.field, exc.message) from exc
    if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
        raise InvalidInput(
            field, f"must be between {EARLIEST_MOMENT.year} and {LATEST_MOMENT.year - 1}"
        )
    return moment


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
