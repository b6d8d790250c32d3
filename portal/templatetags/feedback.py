"""``{% page_messages %}`` (top of the page) and ``{% section_messages "id" %}`` (inside a
section): each message is shown once, where its action was (see ``portal/feedback.py``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.contrib.messages import get_messages
from django.template.context import Context
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

from portal.feedback import section_of

register = template.Library()


def _messages(context: Context, section: str) -> list[Any]:
    request = context.get("request")
    if request is None:
        return []
    return [m for m in get_messages(request) if section_of(m.extra_tags) == section]


@register.inclusion_tag("portal/_messages.html", takes_context=True)
def page_messages(context: Context) -> dict[str, Any]:
    return {"feedback": _messages(context, "")}


@register.inclusion_tag("portal/_messages.html", takes_context=True)
def section_messages(context: Context, section: str) -> dict[str, Any]:
    return {"feedback": _messages(context, section), "section": section}


@register.filter(is_safe=True)
def support_links(text: object) -> str:
    """``text`` escaped, with the support e-mail address and help URL it names made links:
    an error that says "contact support at …" leads somewhere."""
    html = str(conditional_escape(text if isinstance(text, SafeData) else str(text)))
    email, url = str(settings.SUPPORT_EMAIL), str(settings.SUPPORT_URL)
    if email:
        escaped = str(escape(email))
        html = html.replace(escaped, f'<a href="mailto:{escaped}">{escaped}</a>')
    if url:
        escaped = str(escape(url))
        html = html.replace(escaped, f'<a href="{escaped}">{escaped}</a>')
    return mark_safe(html)  # noqa: S308 (built from escaped text and escaped settings)
