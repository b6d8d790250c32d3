"""Dashboard panels. Each app contributes what it has; the foundation shows the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal.models import Account

Panel = dict[str, Any]
PanelProvider = Callable[[Account], Panel | None]

_providers: list[PanelProvider] = []


def register_panel(provider: PanelProvider) -> PanelProvider:
    """Apps register a function (account → panel dict with a ``template`` key) in ready()."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def dashboard_panels(*, account: Account) -> list[Panel]:
    panels = []
    for provider in _providers:
        panel = provider(account)
        if panel is not None:
            panels.append(panel)
    return panels
