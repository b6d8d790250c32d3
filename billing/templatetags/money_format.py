"""Money in templates, through the one formatting helper (``billing.money.format_usd``)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billing.money import format_usd

register = template.Library()


@register.filter
def usd(value: Decimal | None) -> str:
    """``1234.5`` → ``$1,234.50`` (sub-cent amounts keep up to 4 places)."""
    if value is None:
        return ""
    return format_usd(value)


@register.filter
def signed_usd(value: Decimal | None) -> str:
    """``5`` → ``+$5.00``; negatives get a true minus sign (U+2212) before the dollar."""
    if value is None:
        return ""
    text = format_usd(abs(value))
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"\u2212{text}"
    return text
