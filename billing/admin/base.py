"""What the billing admin modules share: the read-only admin and the capped paginator."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services (ledger, payments, events, calls): staff look, never
    add, edit or delete here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: no COUNT(*) over millions of calls on every list page.
    Beyond the cap, narrow the list with the search or the filters."""

    CAP = 100_000

    @cached_property
    def count(self) -> int:
        return int(self.object_list.order_by()[: self.CAP].count())  # type: ignore[attr-defined]
