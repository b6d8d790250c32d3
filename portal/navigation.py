"""The Control Center's left navigation: one list, in display order.

An entry shows only once its URL exists, so an issue adds its page by adding its line here.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

NAV_ITEMS: list[tuple[str, str]] = [
    ("Dashboard", "portal:dashboard"),
    ("Per Minute", "billing:per_minute"),
    ("Trunking", "trunking:trunking"),
    ("Service Plan", "billing:service_plan"),
    ("Calls", "billing:calls"),
    ("Numbers", "billing:numbers"),
    ("Account", "portal:account_settings"),
]


def nav_entries(current_path: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for label, name in NAV_ITEMS:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = current_path == url or (url != "/" and current_path.startswith(url))
        entries.append({"label": label, "url": url, "active": active})
    return entries
