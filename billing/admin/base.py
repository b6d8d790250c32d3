"""What the billing admin modules share: money shown like the pages, the read-only admin and the
capped paginator."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest
from django.utils.functional import cached_property

from billing.money import format_usd, is_whole_cents

# Money fields whose name says they are a price per minute or a per-call amount: 4 places, as on
# the customer's pages. Every other 4-place decimal field is a balance or a total: cents.
EXACT_MONEY_FIELDS = frozenset({"rate", "overage_rate", "connect_fee", "minimum_charge", "charge"})
_SUFFIX = "_usd"


def _money_field_names(model: type[models.Model]) -> dict[str, tuple[int, str]]:
    """Each money field of ``model`` (a DecimalField with 4 places): places to show, label."""
    return {
        f.name: (4 if f.name in EXACT_MONEY_FIELDS else 2, str(f.verbose_name))
        for f in model._meta.fields
        if isinstance(f, models.DecimalField) and f.decimal_places == 4
    }


def money_display(name: str, *, places: int, label: str) -> Callable[[Any], str]:
    """A column or read-only field showing ``obj.<name>`` through ``format_usd``."""

    @admin.display(description=label, ordering=name)
    def show(obj: Any) -> str:
        value = getattr(obj, name)
        if value is None:
            return "-"
        text = format_usd(Decimal(value), places=places)
        if places == 2 and not is_whole_cents(value):
            return f"{text} (exact {format_usd(Decimal(value), places=4)})"
        return text

    return show


class MoneyAdminMixin:
    """Shows the model's read-only money fields as the customer pages do (``$1,234.50``,
    ``−$0.0750``, never the raw ``163.4400``): list columns and read-only fields are swapped for
    display functions of the same label and ordering. Editable fields stay plain inputs."""

    model: type[models.Model]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._money = _money_field_names(self.model)
        for name, (places, label) in self._money.items():
            setattr(self, name + _SUFFIX, money_display(name, places=places, label=label))

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        editable = set(getattr(self, "list_editable", ()))  # an input, not a display
        return [
            n + _SUFFIX if isinstance(n, str) and n in self._money and n not in editable else n
            for n in super().get_list_display(request)  # type: ignore[misc]
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        money = set(self._money) & set(fields)
        if not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            money = set(self._money)  # the whole page is read-only
        swapped = [n + _SUFFIX if n in money else n for n in fields]
        return swapped + [n + _SUFFIX for n in self._money if n in money and n not in fields]

    def _readonly_money(self, request: HttpRequest, obj: Any) -> set[str]:
        shown = set(self.get_readonly_fields(request, obj))  # the subclass's own rule included
        return {n for n in self._money if n + _SUFFIX in shown}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        money = self._readonly_money(request, obj)

        def shown(name: Any) -> Any:
            if isinstance(name, (list, tuple)):
                return tuple(shown(n) for n in name)
            return name + _SUFFIX if isinstance(name, str) and name in money else name

        out: list[Any] = []
        for name in super().get_fields(request, obj):  # type: ignore[misc]
            if shown(name) not in out:
                out.append(shown(name))
        return out


class ReadOnlyAdmin(MoneyAdminMixin, admin.ModelAdmin):
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
