"""Times in templates: one format, in the account's time zone, the zone written one way.

``{{ value|when }}`` → ``Dec 3, 2026, 8:21 PM``: a moment, in the active time zone (customer
pages run in the account's zone: ``customer_view`` activates it) or in the zone given
(``{{ value|when:account.timezone }}``, for e-mails and documents rendered outside a request).
``{{ value|day }}`` → ``Dec 3, 2026``: a calendar date, or the local date of a moment.
``{% times_note cc_account %}`` → ``Times in America/New York (EST)``: once per page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from portal.times import DATE_FORMAT, format_when, zone_for, zone_label

register = template.Library()


@register.filter
def when(value: dt.datetime | None, zone: Any = None) -> str:
    """``Dec 3, 2026, 8:21 PM`` in the account's time zone; empty for no value."""
    if not value:
        return ""
    return format_when(value, zone)


@register.filter
def day(value: dt.datetime | dt.date | None, zone: Any = None) -> str:
    """``Dec 3, 2026``: a date as is, a moment as its local date."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value, zone_for(zone))
    return date_format(value, DATE_FORMAT)


@register.filter
def zone_name(zone: Any) -> str:
    """The zone as written everywhere: ``America/New York (EST)``."""
    return zone_label(zone)


@register.simple_tag
def times_note(account: Any) -> str:
    """The page's one label of its time zone."""
    if account is None or not getattr(account, "timezone", ""):
        return ""
    return f"Times in {zone_label(account.timezone)}"
