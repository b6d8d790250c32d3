"""Template filters for calls, rates and minutes: money, durations, minute counts."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from billing.numbers import pretty
from billing.templatetags import money_format

register = template.Library()


# The money filters of money_format (the one module that formats money), for templates loading
# this one: the same functions, not copies.
for _name in ("usd", "usd_text", "signed_usd", "charge", "usd4", "per_minute"):
    register.filters[_name] = money_format.register.filters[_name]


@register.filter
def duration(seconds: int | None) -> str:
    """``75`` → ``1:15``; ``3725`` → ``1:02:05``."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@register.filter
def minutes(seconds: int | None) -> str:
    """Billed seconds as minutes: ``180`` → ``3 min``, ``90`` → ``1.5 min``, ``1`` → ``0:01``."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds % 60 == 0:
        return f"{seconds // 60:,} min"
    if seconds % 6 == 0:
        return f"{seconds / 60:,.1f} min"
    return f"{duration(seconds)} min"


_BADGES = {
    "unanswered": ("Not answered", ""),
    "on_net": ("Free · on-net", "badge-ok"),
    "included": ("Included", "badge-ok"),
    "rated": ("Per-minute rate", "badge-warn"),
    "did_rate": ("Number's rate", "badge-warn"),
}


@register.simple_tag
def call_badge(call: Any) -> str:
    """A short badge saying how a call was charged."""
    if call.category == "overage":
        label = "Included + overage" if call.included_seconds else "Overage"
        css = "badge-warn"
    else:
        label, css = _BADGES.get(call.category, (call.get_category_display(), ""))
    return format_html('<span class="badge {}">{}</span>', css, label)


@register.simple_tag
def billing_blocks(initial: int, increment: int) -> str:
    """How time is counted: ``60/60`` → "per started minute", ``1/1`` → "per second"."""
    if (initial, increment) == (60, 60):
        return "billed per started minute"
    if (initial, increment) == (1, 1):
        return "billed per second"
    if initial == increment:
        return f"billed in blocks of {increment} s"
    return f"first {initial} s, then every {increment} s"


@register.filter
def phone(number: str | None) -> str:
    """``+4930901820`` → ``+49 30 901820``; extensions and anything unparseable unchanged."""
    if not number:
        return ""
    if not number.startswith("+"):
        return number
    return pretty(number)
