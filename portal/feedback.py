"""Feedback where the action was: a message tied to a page section.

A form in the middle of a long page redirects back to its own section (``#auto-recharge``);
its message is shown inside that section, not at the top of the page the browser scrolled away
from. ``base.html`` shows only the messages that belong to no section; a section shows its own
with ``{% section_messages "auto-recharge" %}`` (``portal/templatetags/feedback.py``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

# Messages carry their section in extra_tags as "at-<section id>".
SECTION_TAG_PREFIX = "at-"


def section_of(extra_tags: str | None) -> str:
    """The section a message belongs to ("" for a page-wide message)."""
    for tag in (extra_tags or "").split():
        if tag.startswith(SECTION_TAG_PREFIX):
            return tag[len(SECTION_TAG_PREFIX) :]
    return ""


def section_message(request: HttpRequest, level: int, text: str, *, section: str) -> None:
    messages.add_message(request, level, text, extra_tags=f"{SECTION_TAG_PREFIX}{section}")


def redirect_to_section(url: str, *, section: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{url}#{section}")
