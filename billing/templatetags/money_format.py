"""Money in templates: the one filter module, through the one helper (``billing.money.format_usd``).

Pick the filter by what the column *is*, never by the amount's digits:

- ``usd``: a balance, a total, a payment, a fee — whole cents; when the exact value has
  sub-cent digits it stays in a tooltip (``<data value="98.6650" title="Exact: $98.6650">``).
- ``signed_usd``: a change of the balance (the history's Amount column) — cents, ``+`` or ``−``,
  the exact value in a tooltip.
- ``charge``: what one call cost — always 4 places (``$0.0750``, ``$0.0000``).
- ``per_minute``: a price per minute — always 4 places (``$0.0250/min``).
- ``usd4``: any other exact amount (connection fee, minimum charge) — 4 places.
- ``usd_text``: ``usd`` without markup, for attributes (``aria-label``, ``title``).

In a template rendered with autoescape off (the plain-text e-mails) the filters write plain
text, without markup. Negatives always carry U+2212 "−"; CSV files keep plain ``-0.0750``.
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billing.money import format_usd, is_whole_cents, money

register = template.Library()


def _with_exact(text: str, value: Decimal, *, autoescape: bool) -> str | SafeString:
    """``text`` (in cents), with the exact 4-place amount as a tooltip when they differ."""
    if not autoescape:
        return text
    if is_whole_cents(value):
        return format_html("{}", text)
    exact = format_usd(value, places=4)
    return format_html(
        '<data class="money" value="{}" title="Exact: {}">{}</data>', money(value), exact, text
    )


@register.filter(needs_autoescape=True)
def usd(value: Decimal | int | str | None, autoescape: bool = True) -> str:
    """A balance or total: ``98.665`` → ``$98.67`` (exact ``$98.6650`` in the tooltip)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    return _with_exact(format_usd(amount), amount, autoescape=autoescape)


@register.filter
def usd_text(value: Decimal | int | str | None) -> str:
    """A balance or total as plain text, for an attribute (``aria-label``): ``$98.67``."""
    if value is None or value == "":
        return ""
    return format_usd(Decimal(value))


@register.filter(needs_autoescape=True)
def signed_usd(value: Decimal | int | str | None, autoescape: bool = True) -> str:
    """A balance change: ``5`` → ``+$5.00``, ``-0.075`` → ``−$0.08`` (exact in the tooltip)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    text = format_usd(amount)
    if money(amount, places=Decimal("0.01")) > 0:
        text = f"+{text}"
    return _with_exact(text, amount, autoescape=autoescape)


@register.filter
def charge(value: Decimal | int | str | None) -> str:
    """What one call cost, always 4 places: ``0.075`` → ``$0.0750``; free → ``$0.0000``."""
    if value is None or value == "":
        return ""
    return format_usd(Decimal(value), places=4)


@register.filter
def usd4(value: Decimal | int | str | None) -> str:
    """An exact amount with 4 places (a connection fee, a minimum charge): ``$0.0100``."""
    if value is None or value == "":
        return ""
    return format_usd(Decimal(value), places=4)


@register.filter
def per_minute(value: Decimal | int | str | None) -> str:
    """A per-minute price, always 4 places: ``$0.0250/min``."""
    if value is None or value == "":
        return ""
    return f"{format_usd(Decimal(value), places=4)}/min"
