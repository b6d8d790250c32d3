"""Times for people: one format, in the account's time zone, the zone written one way.

The template filters (``portal/templatetags/local_time.py``) and any text written in Python
(e-mails, messages) go through these functions.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format

# The one format (Django's date syntax): month abbreviation without a period, 12-hour clock
# with AM/PM, as US carrier consoles write it. Seconds are not shown: a call's exact length is
# its duration column.
DATETIME_FORMAT = "M j, Y, g:i A"
DATE_FORMAT = "M j, Y"


def zone_for(zone: Any) -> dt.tzinfo:
    if zone is None or zone == "":
        return timezone.get_current_timezone()
    if isinstance(zone, dt.tzinfo):
        return zone
    tz = getattr(zone, "tz", None)  # an Account
    if isinstance(tz, dt.tzinfo):
        return tz
    return zoneinfo.ZoneInfo(str(zone))


def format_when(value: dt.datetime, zone: Any = None) -> str:
    """A moment in the one format, in ``zone`` (or the active time zone)."""
    return date_format(timezone.localtime(value, zone_for(zone)), DATETIME_FORMAT)


def zone_label(zone: Any, *, at: dt.datetime | None = None) -> str:
    """``America/New_York`` → ``America/New York (EST)`` (the abbreviation in force ``at``)."""
    tz = zone_for(zone)
    name = str(getattr(tz, "key", tz)).replace("_", " ")
    abbreviation = (at or timezone.now()).astimezone(tz).tzname() or ""
    if abbreviation[:1] in "+-":  # zones with no letters: "+04" → "UTC+04"
        abbreviation = f"UTC{abbreviation}"
    if not abbreviation or abbreviation == name:
        return name
    return f"{name} ({abbreviation})"
