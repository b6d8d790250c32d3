"""Phone numbers: normalisation to E.164 and classification (country, line type).

The switch sends numbers as it dialled them: ``+4930…``, ``004930…``, ``01149…`` (North
American international prefix), ``2025550123`` (national, in the default region) or bare
E.164 digits ``4930…``. ``normalize`` turns each into ``+<digits>``; ``classify`` adds the
country and the line type from ``phonenumbers``. A number the library cannot tell apart
(FIXED_LINE_OR_MOBILE, as in the USA) counts as a landline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType

from portal.errors import DomainError

_SEPARATORS = re.compile(r"[\s\-().]")
_DIALLED = re.compile(r"^\+?[0-9]{1,20}$")
_NANP_REGIONS = {"US", "CA"}

# Normalising and classifying with phonenumbers costs tens of microseconds a number; the
# switch dials the same numbers again and again, so the answers are memoised per process,
# bounded (an LRU of this many numbers as dialled, about 300 bytes each).
NUMBER_MEMO_SIZE = 100_000

# English country names by ISO code, extracted once from phonenumbers' geocoder locale data
# (importing phonenumbers.geocoder loads all its geodata: ~5 s at every process start).
_COUNTRY_NAMES_JSON = Path(__file__).parent / "data" / "country_names.json"
# Names customers know; phonenumbers says "United States".
_COUNTRY_NAMES = {"US": "USA"}


@cache
def _country_names() -> dict[str, str]:
    with _COUNTRY_NAMES_JSON.open(encoding="utf-8") as handle:
        names: dict[str, str] = json.load(handle)
    return names


class LineType(StrEnum):
    LANDLINE = "landline"
    MOBILE = "mobile"
    TOLL_FREE = "toll-free"
    PREMIUM = "premium"
    SHARED_COST = "shared-cost"
    VOIP = "VoIP"
    PERSONAL = "personal"
    PAGER = "pager"
    OTHER = "other"
    UNKNOWN = "unknown"


_LINE_TYPES = {
    PhoneNumberType.FIXED_LINE: LineType.LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.LANDLINE,  # per the issue: a landline
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: LineType.PREMIUM,
    PhoneNumberType.SHARED_COST: LineType.SHARED_COST,
    PhoneNumberType.VOIP: LineType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER: LineType.PERSONAL,
    PhoneNumberType.PAGER: LineType.PAGER,
    PhoneNumberType.UAN: LineType.OTHER,
    PhoneNumberType.VOICEMAIL: LineType.OTHER,
}


@dataclass(frozen=True)
class NumberInfo:
    e164: str  # "+4930123456"
    country: str  # ISO 3166 alpha-2 ("DE"), "" when unknown
    country_name: str  # "Germany", "USA"
    line_type: LineType

    @property
    def digits(self) -> str:
        """E.164 without the '+': what rate-deck prefixes match."""
        return self.e164[1:]

    @property
    def is_mobile(self) -> bool:
        return self.line_type == LineType.MOBILE


def default_region() -> str:
    return str(getattr(settings, "BILLING_DEFAULT_REGION", "US"))


def _bad(number: str, why: str) -> DomainError:
    return DomainError(f"{number!r} is not a phone number we can call: {why}.", code="bad_number")


def normalize(number: str, *, region: str | None = None) -> str:
    """``number`` as dialled → E.164 (``+<digits>``). Raises DomainError ``bad_number``."""
    return _normalize(number, region or default_region())


@lru_cache(maxsize=NUMBER_MEMO_SIZE)
def _normalize(number: str, region: str) -> str:
    raw = _SEPARATORS.sub("", number or "")
    if not _DIALLED.match(raw):
        raise _bad(number, "only digits and a leading + are allowed")
    if raw.startswith("+"):
        candidate = raw
    elif raw.startswith("00"):
        candidate = "+" + raw[2:]
    elif raw.startswith("011") and region in _NANP_REGIONS:
        candidate = "+" + raw[3:]
    elif region in _NANP_REGIONS and len(raw) == 10 and raw[0] in "23456789":
        candidate = "+1" + raw
    else:
        candidate = "+" + raw
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise _bad(number, "unknown country code") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise _bad(number, "wrong length for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_name(region: str) -> str:
    if region in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[region]
    name = _country_names().get(region, "") if region else ""
    return name or region or "Unknown country"


def classify(number: str, *, region: str | None = None) -> NumberInfo:
    """Normalise and classify. Raises DomainError ``bad_number`` (not memoised: raised anew)."""
    return _classify(number, region or default_region())


@lru_cache(maxsize=NUMBER_MEMO_SIZE)
def _classify(number: str, region: str) -> NumberInfo:
    e164 = _normalize(number, region)
    parsed = phonenumbers.parse(e164, None)
    country = phonenumbers.region_code_for_number(parsed) or ""
    if not country:
        main = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        country = "" if main in ("ZZ", "001") else main
    if phonenumbers.is_valid_number(parsed):
        line_type = _LINE_TYPES.get(phonenumbers.number_type(parsed), LineType.OTHER)
    else:
        line_type = LineType.UNKNOWN
    return NumberInfo(
        e164=e164, country=country, country_name=country_name(country), line_type=line_type
    )


def pretty(e164: str) -> str:
    """``+12025550123`` → ``+1 202-555-0123`` for people; unchanged if it does not parse."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@cache
def prefix_country(prefix: str) -> str:
    """The ISO country a rate-deck prefix dials ("49" → DE, "1876" → JM, "1" → US), "" when
    it names none (international networks, an unknown code)."""
    digits = prefix.strip().lstrip("+")
    if not digits.isdigit():
        return ""
    for length in (1, 2, 3):
        code = int(digits[:length])
        regions = phonenumbers.region_codes_for_country_code(code)
        if regions:
            break
    else:
        return ""
    if len(regions) > 1 and len(digits) > length:
        # Shared codes (NANP +1, +7, +44…) tell their countries apart by leading digits: pad
        # the prefix into a plausible number and let phonenumbers place it.
        padded = "+" + digits + "2" * max(0, 15 - len(digits))
        for end in range(len(padded), len(digits), -1):  # the longest possible number first
            try:
                parsed = phonenumbers.parse(padded[:end], None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(parsed):
                region = phonenumbers.region_code_for_number(parsed)
                if region and region not in ("ZZ", "001"):
                    return str(region)
                break
    main = phonenumbers.region_code_for_country_code(code)
    return "" if main in ("ZZ", "001") else str(main)
