"""What pricing keeps in memory per process: rate decks as longest-prefix tables, service plans
with their terms and included destinations, DID groups and country risk tiers.

Loaded once per process and kept while the catalog's version (``PricingCatalog.version``) stays
the same. Database triggers move that version in the transaction of every change to those
tables (admin saves, rate imports, queryset updates, raw SQL alike), and each caller passes the
version read by a query it makes anyway, *after* any commit it must see: authorization reads it
with the account's live state, after taking the account lock; a rate lookup with the account's
plan. So a price changed by a committed import is never applied by a request that started after
the commit: that request reads the new version, misses, and reloads. A version is never trusted
from a cache with a time to live: a TTL is a window in which the old price is still applied.

What is loaded is read *after* the version it is filed under, so the data is as new as that
version or newer, never older. A deck is reloaded only when its own ``RateDeck.version`` moved.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

from billing.models import (
    CountryRisk,
    DIDGroup,
    IncludedDestination,
    PricingCatalog,
    Rate,
    RateDeck,
    ServicePlan,
)
from billing.rating import PlanTerms, Tariff
from billing.selectors.plans import plan_terms

# Rate-deck prefixes are 1-20 digits (``Rate.prefix``); E.164 numbers have at most 15.
MAX_PREFIX = 20


@dataclass(frozen=True, slots=True)
class DeckRate:
    """One rate row of a deck, as pricing uses it."""

    prefix: str
    destination: str
    tariff: Tariff


@dataclass(frozen=True)
class DeckPrices:
    """A deck's rows by prefix; the longest prefix of a number wins."""

    deck_id: int
    version: int
    rows: dict[str, DeckRate]
    longest: int

    def match(self, digits: str) -> DeckRate | None:
        """The row with the longest prefix of ``digits`` (E.164 without '+'): at most
        ``longest`` dictionary probes, whatever the deck's size."""
        if not digits.isdigit():
            return None
        rows = self.rows
        for end in range(min(len(digits), self.longest), 0, -1):
            row = rows.get(digits[:end])
            if row is not None:
                return row
        return None


def _load_deck(deck_id: int) -> DeckPrices:
    # The version first, then the rows: the rows are at least as new as the version.
    version = RateDeck.objects.filter(pk=deck_id).values_list("version", flat=True).first()
    rows: dict[str, DeckRate] = {}
    fields = ("prefix", "destination", "rate", "connect_fee", "initial", "increment")
    query = Rate.objects.filter(deck_id=deck_id).order_by().values_list(*fields)
    # Decks repeat themselves (a country's hundreds of prefixes share a destination name and a
    # handful of prices): one object per distinct value, and one Tariff per distinct price.
    names: dict[str, str] = {}
    amounts: dict[Decimal, Decimal] = {}
    tariffs: dict[tuple[object, ...], Tariff] = {}
    for prefix, destination, rate, connect_fee, initial, increment in query.iterator(5000):
        destination = names.setdefault(destination, destination)
        key = (rate, connect_fee, initial, increment, destination)
        tariff = tariffs.get(key)
        if tariff is None:
            tariff = Tariff(
                rate=amounts.setdefault(rate, rate),
                initial=initial,
                increment=increment,
                connect_fee=amounts.setdefault(connect_fee, connect_fee),
                label=destination,
            )
            tariffs[key] = tariff
        rows[prefix] = DeckRate(prefix, destination, tariff)
    longest = max((len(p) for p in rows), default=0)
    return DeckPrices(deck_id=deck_id, version=version or 0, rows=rows, longest=longest)


@dataclass
class Catalog:
    """Everything of one catalog version; plan and group instances are shared by every request
    of the process and must not be changed."""

    version: int | None
    plans: dict[int, ServicePlan]
    terms: dict[int, PlanTerms]
    included: dict[int, dict[str, IncludedDestination]]
    did_groups: dict[int, DIDGroup]
    tiers: dict[str, str]  # staff's risk tier of each country that has one
    deck_versions: dict[int, int]
    _decks: dict[int, DeckPrices] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def deck(self, deck_id: int) -> DeckPrices:
        prices = self._decks.get(deck_id)
        if prices is None:
            with self._lock:
                prices = self._decks.get(deck_id)
                if prices is None:
                    prices = _load_deck(deck_id)
                    self._decks[deck_id] = prices
        return prices

    def included_countries(self, plan_id: int | None) -> set[str]:
        return set(self.included.get(plan_id, {})) if plan_id is not None else set()


def _load_catalog(version: int | None, previous: Catalog | None) -> Catalog:
    plans = {plan.pk: plan for plan in ServicePlan.objects.order_by()}
    included: dict[int, dict[str, IncludedDestination]] = {}
    for row in IncludedDestination.objects.order_by():
        included.setdefault(row.plan_id, {})[row.country] = row
    deck_versions = dict(RateDeck.objects.order_by().values_list("pk", "version"))
    catalog = Catalog(
        version=version,
        plans=plans,
        terms={pk: plan_terms(plan) for pk, plan in plans.items()},
        included=included,
        did_groups={group.pk: group for group in DIDGroup.objects.order_by()},
        tiers=dict(CountryRisk.objects.order_by().values_list("country", "tier")),
        deck_versions=deck_versions,
    )
    if previous is not None:
        # A deck whose version did not move is the same deck: keep its table.
        catalog._decks = {
            pk: prices
            for pk, prices in previous._decks.items()
            if deck_versions.get(pk) == prices.version
        }
    return catalog


_current: Catalog | None = None
_lock = threading.Lock()


def pricing_version() -> int | None:
    """The catalog's version now (one query); None when its row is missing (a flushed test
    database), in which case nothing is kept."""
    return PricingCatalog.objects.filter(pk=1).values_list("version", flat=True).first()


def pricing_catalog(version: int | None) -> Catalog:
    """The catalog of ``version`` (read by the caller, after whatever it must see): from
    memory when this process holds that version, else reloaded (6 small queries; decks are
    read on first use). ``None`` always reloads."""
    global _current
    current = _current
    if current is not None and version is not None and current.version == version:
        return current
    with _lock:
        current = _current
        if current is not None and version is not None and current.version == version:
            return current
        catalog = _load_catalog(version, current)
        if version is not None:
            _current = catalog
        return catalog


def pricing_catalog_forget() -> None:
    """Drop what this process holds (for tests that measure a cold start)."""
    global _current
    with _lock:
        _current = None
