"""The Control Center's left navigation: top-level pages, then the Settings group.

An entry shows only once its URL exists, so an app adds its page by adding its line here; a
group with no page yet is not shown. The Settings group holds the pages that configure the
account (as the product's help describes: "When you are within Settings, you can locate
Trunking"); it is a disclosure that is open while one of its pages is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

NavLink = tuple[str, str]  # (label, URL name)

NAV_ITEMS: list[NavLink] = [
    ("Dashboard", "portal:dashboard"),
    ("Per Minute", "billing:per_minute"),
    ("Calls", "billing:calls"),
    ("Numbers", "billing:numbers"),
    ("Rates", "billing:rate_lookup"),
]

NAV_GROUPS: list[tuple[str, list[NavLink]]] = [
    (
        "Settings",
        [
            ("Trunking", "trunking:trunking"),
            ("Call permissions", "billing:call_permissions"),
            ("Service Plan", "billing:service_plan"),
            ("Account", "portal:account_settings"),
        ],
    ),
]


@dataclass(frozen=True)
class NavEntry:
    label: str
    url: str
    active: bool


@dataclass(frozen=True)
class NavGroup:
    label: str
    entries: list[NavEntry] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(entry.active for entry in self.entries)


def _entries(links: list[NavLink], current_path: str) -> list[NavEntry]:
    entries: list[NavEntry] = []
    for label, name in links:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = current_path == url or (url != "/" and current_path.startswith(url))
        entries.append(NavEntry(label=label, url=url, active=active))
    return entries


def nav_entries(current_path: str) -> list[NavEntry]:
    """The top-level entries whose pages exist."""
    return _entries(NAV_ITEMS, current_path)


def nav_groups(current_path: str) -> list[NavGroup]:
    """The groups that have at least one page, each with its existing pages."""
    groups = [NavGroup(label, _entries(links, current_path)) for label, links in NAV_GROUPS]
    return [group for group in groups if group.entries]
