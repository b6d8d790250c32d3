"""What a call costs: the price that applies to a number (longest prefix, DID groups,
included destinations), for one call or for a batch of CDRs, and the rate lookup page's quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BooleanField

from billing.call_limits import FactColumn
from billing.models import (
    DID,
    AccountPlan,
    AccountRating,
    Call,
    DIDGroup,
    Extension,
    IncludedDestination,
    PricingCatalog,
    ServicePlan,
)
from billing.money import ZERO, format_usd, money
from billing.numbers import LineType, NumberInfo, classify, normalize, pretty
from billing.rating import PlanTerms, Tariff
from billing.selectors.account_facts import account_facts
from billing.selectors.pricing_catalog import (
    Catalog,
    DeckRate,
    pricing_catalog,
    pricing_version,
)
from portal.errors import DomainError
from portal.models import Account


def _tariff(row: DIDGroup, label: str) -> Tariff:
    return Tariff(
        rate=row.rate,
        initial=row.initial,
        increment=row.increment,
        connect_fee=row.connect_fee,
        label=label,
    )


# Line types a "mobile too" (any line type) destination includes; premium-rate and
# shared-cost numbers cost the caller extra and are never included.
_ANY_LINE_TYPE = {
    LineType.LANDLINE,
    LineType.MOBILE,
    LineType.TOLL_FREE,
    LineType.VOIP,
    LineType.PERSONAL,
    LineType.PAGER,
    LineType.OTHER,
}


@dataclass(frozen=True)
class CallPricing:
    """Everything rating needs to know about a call's endpoints, read from the database."""

    direction: str  # as reported; ``on_net`` says whether it stays inside the account
    on_net: bool
    destination: str  # for people: "Germany landline", "Cyprus", "Incoming on … (USA standard)"
    included: bool  # counts against the plan's included minutes
    price: Tariff | None  # when not included / beyond a DID cap: deck row or DID group rate
    plan: ServicePlan | None
    terms: PlanTerms | None
    number: NumberInfo | None  # the far end (outbound: ``to``; inbound: ``from`` if parseable)
    did: DID | None = None
    did_cap_seconds: int | None = None

    @property
    def paid_rate(self) -> Decimal:
        """The per-minute price once nothing is included."""
        if self.on_net:
            return ZERO
        if self.included and self.terms is not None:
            return money(self.terms.overage.rate)
        return money(self.price.rate) if self.price is not None else ZERO


class PricingContext:
    """What pricing needs about a set of accounts and the numbers of their calls: the catalog
    (plans, included destinations, DID groups, rate decks: kept per process, see
    ``billing.selectors.pricing_catalog``) and, read here with a few queries for all the
    accounts at once, their plan history, deck overrides, extensions and DIDs.

    A memo for one request or one batch of CDRs, built where the batch is handled and dropped
    with it (so changes to an account's plan and numbers are seen by the next batch). Plans
    are read for every account at once, deck overrides when first needed, extensions and DIDs
    only for the numbers given (a number asked about later is read then).
    """

    def __init__(
        self,
        *,
        accounts: Iterable[Account],
        numbers: Iterable[str] = (),
        catalog: Catalog | None = None,
    ) -> None:
        self._catalog = catalog if catalog is not None else pricing_catalog(pricing_version())
        self._account_ids = sorted({account.pk for account in accounts})
        self._plans: dict[int, list[tuple[dt.datetime, int]]] = {pk: [] for pk in self._account_ids}
        self._fixed_at: dt.datetime | None = None
        self._decks: dict[int, int] | None = None
        self._e164: dict[str, str | None] = {}
        self._extensions: set[tuple[int, str]] = set()
        self._dids: dict[tuple[int, str], DID] = {}
        self._numbers_read: set[str] = set()
        self._classified: dict[str, NumberInfo] = {}
        if not self._account_ids:
            return
        rows = AccountPlan.objects.filter(account_id__in=self._account_ids).order_by(
            "account_id", "-starts_at"
        )
        for account_id, starts_at, plan_id in rows.values_list(
            "account_id", "starts_at", "plan_id"
        ):
            self._plans[account_id].append((starts_at, plan_id))
        self._read_numbers(numbers)

    @classmethod
    def from_facts(
        cls, *, account: Account, facts: dict[str, Any], at: dt.datetime, numbers: list[str]
    ) -> PricingContext:
        """The context of one account at ``at`` from the values of ``pricing_fact_columns``
        read by a query of the account (made anyway): no query of its own once the process
        holds the catalog version read there."""
        context = cls(accounts=[], catalog=pricing_catalog(facts["pricing_version"]))
        context._account_ids = [account.pk]
        context._fixed_at = at
        plan_id = facts["pricing_plan_id"]
        context._plans = {account.pk: [(at, plan_id)] if plan_id is not None else []}
        deck_id = facts["pricing_deck_id"]
        context._decks = {account.pk: deck_id} if deck_id is not None else {}
        for i, number in enumerate(numbers):
            context._numbers_read.add(number)
            if facts[f"pricing_ext_{i}"]:
                context._extensions.add((account.pk, number.strip()))
            did_id, group_id = facts[f"pricing_did_{i}"], facts[f"pricing_did_group_{i}"]
            e164 = context._normalized(number)
            if did_id is not None and e164 is not None:
                context._dids[(account.pk, e164)] = context._did(did_id, e164, account.pk, group_id)
        return context

    def _did(self, pk: int, number: str, account_id: int, group_id: int) -> DID:
        did = DID(pk=pk, number=number, account_id=account_id, group_id=group_id)
        did.group = self._catalog.did_groups[group_id]
        return did

    def _normalized(self, number: str) -> str | None:
        if number not in self._e164:
            try:
                self._e164[number] = normalize(number)
            except DomainError:
                self._e164[number] = None
        return self._e164[number]

    def _read_numbers(self, numbers: Iterable[str]) -> None:
        """The accounts' extensions and DIDs among ``numbers`` (two queries)."""
        new = {number for number in numbers if number not in self._numbers_read}
        if not new:
            return
        self._numbers_read |= new
        extensions = Extension.objects.filter(
            account_id__in=self._account_ids, number__in={n.strip() for n in new}
        ).order_by()
        self._extensions |= set(extensions.values_list("account_id", "number"))
        e164s = {e164 for n in new if (e164 := self._normalized(n)) is not None}
        if e164s:
            dids = DID.objects.filter(account_id__in=self._account_ids, number__in=e164s)
            for pk, number, account_id, group_id in dids.order_by().values_list(
                "pk", "number", "account_id", "group_id"
            ):
                self._dids[(account_id, number)] = self._did(pk, number, account_id, group_id)

    def classify(self, number: str) -> NumberInfo:
        """``numbers.classify``, memoised. Raises DomainError ``bad_number``."""
        if number not in self._classified:
            self._classified[number] = classify(number)
        return self._classified[number]

    def plan(self, account: Account, at: dt.datetime) -> ServicePlan | None:
        """As ``plan_for_account``: the newest plan row starting at or before ``at``."""
        rows = self._plans.get(account.pk)
        if rows is None:
            raise ValueError(f"account {account.pk} is not in this PricingContext")
        if self._fixed_at is not None and at != self._fixed_at:
            raise ValueError(f"this PricingContext was read for {self._fixed_at}, not {at}")
        plan_id = next((plan_id for starts_at, plan_id in rows if starts_at <= at), None)
        return self._catalog.plans[plan_id] if plan_id is not None else None

    def terms(self, plan: ServicePlan) -> PlanTerms:
        return self._catalog.terms[plan.pk]

    def included_destination(self, plan: ServicePlan, country: str) -> IncludedDestination | None:
        return self._catalog.included.get(plan.pk, {}).get(country)

    def included_countries(self, plan: ServicePlan) -> set[str]:
        return self._catalog.included_countries(plan.pk)

    @property
    def tiers(self) -> dict[str, str]:
        """Staff's risk tier of each country that has one."""
        return self._catalog.tiers

    def deck_id(self, account: Account, plan: ServicePlan | None) -> int | None:
        """As ``rate_deck_for_account``: the account's own deck, else its plan's."""
        if self._decks is None:
            rows = AccountRating.objects.filter(
                account_id__in=self._account_ids, rate_deck__isnull=False
            ).order_by()
            self._decks = dict(rows.values_list("account_id", "rate_deck_id"))
        override = self._decks.get(account.pk)
        if override is not None:
            return override
        return plan.rate_deck_id if plan is not None else None

    def rate(self, deck_id: int, digits: str) -> DeckRate | None:
        """The deck row with the longest prefix of ``digits``, from memory."""
        return self._catalog.deck(deck_id).match(digits)

    def is_extension(self, account: Account, number: str) -> bool:
        self._read_numbers([number])
        return (account.pk, number.strip()) in self._extensions

    def own_did(self, account: Account, number: str) -> DID | None:
        self._read_numbers([number])
        e164 = self._normalized(number)
        return self._dids.get((account.pk, e164)) if e164 is not None else None

    def is_own_endpoint(self, account: Account, number: str) -> bool:
        return self.is_extension(account, number) or self.own_did(account, number) is not None


_BOOLEAN = BooleanField()


def _e164_or_none(number: str) -> str | None:
    try:
        return normalize(number)
    except DomainError:
        return None


def pricing_fact_columns(count: int) -> list[FactColumn]:
    """Columns of an account query (``account_facts``) that give ``PricingContext.from_facts``
    all it reads about the account at ``%(now)s`` and ``count`` numbers: the catalog version,
    the plan, the deck override, and per number whether it is one of the account's extensions
    (``%(ext_<i>)s``) or DIDs (``%(did_<i>)s``, with the DID's group)."""
    plan = AccountPlan._meta.db_table
    rating = AccountRating._meta.db_table
    extension = Extension._meta.db_table
    did = DID._meta.db_table
    columns = [
        FactColumn(
            "pricing_version",
            f"(SELECT version FROM {PricingCatalog._meta.db_table} WHERE id = 1)",
        ),
        FactColumn(
            "pricing_plan_id",
            f"(SELECT plan_id FROM {plan} WHERE account_id = a.id AND starts_at <= %(now)s "
            "ORDER BY starts_at DESC LIMIT 1)",
        ),
        FactColumn(
            "pricing_deck_id", f"(SELECT rate_deck_id FROM {rating} WHERE account_id = a.id)"
        ),
    ]
    for i in range(count):
        columns += [
            FactColumn(
                f"pricing_ext_{i}",
                f"EXISTS (SELECT 1 FROM {extension} WHERE account_id = a.id "
                f"AND number = %(ext_{i})s)",
                _BOOLEAN,
            ),
            FactColumn(
                f"pricing_did_{i}",
                f"(SELECT id FROM {did} WHERE account_id = a.id AND number = %(did_{i})s)",
            ),
            FactColumn(
                f"pricing_did_group_{i}",
                f"(SELECT group_id FROM {did} WHERE account_id = a.id AND number = %(did_{i})s)",
            ),
        ]
    return columns


def pricing_fact_params(*, now: dt.datetime, numbers: list[str]) -> dict[str, Any]:
    """The parameters of ``pricing_fact_columns(len(numbers))``."""
    params: dict[str, Any] = {"now": connection.ops.adapt_datetimefield_value(now)}
    for i, number in enumerate(numbers):
        params[f"ext_{i}"] = number.strip()
        params[f"did_{i}"] = _e164_or_none(number) or ""
    return params


def call_pricing(
    *,
    account: Account,
    direction: str,
    from_number: str,
    to_number: str,
    at: dt.datetime,
    context: PricingContext | None = None,
) -> CallPricing:
    """How a call of ``account`` at ``at`` is priced. Raises DomainError: ``bad_number``,
    ``unknown_destination`` (no deck row), ``unknown_did`` (inbound to a number the account
    does not own), ``not_on_net`` (internal between numbers that are not the account's).

    ``context`` holds what a batch of calls has already read (it must cover ``account``);
    without one, this call's is read here."""
    if context is None:
        context = PricingContext(accounts=[account], numbers=[from_number, to_number])
    plan = context.plan(account, at)
    terms = context.terms(plan) if plan is not None else None

    def free(label: str) -> CallPricing:
        return CallPricing(direction, True, label, False, None, plan, terms, None)

    if direction == Call.Direction.INTERNAL:
        for field, number in (("from", from_number), ("to", to_number)):
            if not context.is_own_endpoint(account, number):
                raise DomainError(
                    f"{field}: {number!r} is not one of the account's extensions or numbers.",
                    code="not_on_net",
                )
        return free(f"Internal call to {to_number}")
    if direction == Call.Direction.INBOUND:
        did = context.own_did(account, to_number)
        if did is None:
            raise DomainError(
                f"to: {to_number!r} is not one of this account's DIDs.", code="unknown_did"
            )
        if context.is_own_endpoint(account, from_number):
            return free(f"Internal call to {did.number}")
        group = did.group
        caller: NumberInfo | None
        try:
            caller = context.classify(from_number)
        except DomainError:
            caller = None  # anonymous / withheld callers are fine on incoming calls
        included = group.included and plan is not None and plan.includes_incoming
        cap = group.monthly_included_cap_minutes
        return CallPricing(
            direction=direction,
            on_net=False,
            destination=f"Incoming on {pretty(did.number)} ({group.name})",
            included=included,
            price=_tariff(group, group.name),
            plan=plan,
            terms=terms,
            number=caller,
            did=did,
            did_cap_seconds=cap * 60 if included and cap is not None else None,
        )
    if direction != Call.Direction.OUTBOUND:
        raise DomainError(f"direction: unknown direction {direction!r}.", code="bad_direction")
    if context.is_own_endpoint(account, to_number):
        return free(f"Internal call to {to_number}")
    info = context.classify(to_number)
    included_as: IncludedDestination | None = None
    if plan is not None and info.country:
        included_as = context.included_destination(plan, info.country)
    if included_as is not None and (
        info.line_type == LineType.LANDLINE
        or (included_as.mobile_included and info.line_type in _ANY_LINE_TYPE)
    ):
        label = (
            info.country_name
            if included_as.mobile_included
            else f"{info.country_name} {info.line_type}"
        )
        return CallPricing(direction, False, label, True, None, plan, terms, info)
    deck_id = context.deck_id(account, plan)
    row = context.rate(deck_id, info.digits) if deck_id is not None else None
    if row is None:
        raise DomainError(
            f"to: no rate for {info.e164} ({info.country_name}); it cannot be called.",
            code="unknown_destination",
        )
    return CallPricing(direction, False, row.destination, False, row.tariff, plan, terms, info)


@dataclass(frozen=True)
class PriceQuote:
    """What a customer sees in the rate lookup."""

    number: str  # E.164 (or the extension as typed, for on-net)
    destination: str
    country: str  # ISO code, "" when unknown
    country_name: str
    line_type: str
    included: bool
    on_net: bool
    rate: Decimal  # per minute: the deck price, or the overage price once minutes run out
    connect_fee: Decimal
    initial: int
    increment: int
    explanation: str


def price_lookup(*, account: Account, number: str, now: dt.datetime) -> PriceQuote:
    """The price of calling ``number`` from ``account`` now. Raises DomainError ``bad_number``
    or ``unknown_destination``. One query (the account's plan, deck and numbers, with the
    catalog version) once the process holds the catalog and the deck."""
    row = account_facts(
        account=account,
        columns=pricing_fact_columns(1),
        params=pricing_fact_params(now=now, numbers=[number]),
    )
    pricing = call_pricing(
        account=account,
        direction=Call.Direction.OUTBOUND,
        from_number="",
        to_number=number,
        at=now,
        context=PricingContext.from_facts(account=account, facts=row, at=now, numbers=[number]),
    )
    info = pricing.number
    if pricing.on_net:
        return PriceQuote(
            number=number.strip(),
            destination=pricing.destination,
            country="",
            country_name="",
            line_type="extension",
            included=False,
            on_net=True,
            rate=ZERO,
            connect_fee=ZERO,
            initial=0,
            increment=0,
            explanation=f"{pricing.destination} — free (on-net), not counted",
        )
    assert info is not None
    if pricing.included and pricing.terms is not None:
        overage = pricing.terms.overage
        minutes = pricing.terms.included_seconds // 60
        explanation = (
            f"{pricing.destination} — included in your {minutes} monthly minutes, "
            f"then {format_usd(overage.rate, places=4)}/min"
        )
        tariff = overage
    else:
        assert pricing.price is not None
        tariff = pricing.price
        explanation = f"{pricing.destination} — {format_usd(tariff.rate, places=4)}/min"
        if tariff.connect_fee:
            explanation += f" + {format_usd(tariff.connect_fee, places=4)} connection fee"
        explanation += ", not included in your minutes" if pricing.plan else ""
    if (tariff.initial, tariff.increment) != (60, 60):
        explanation += f" (billed {tariff.initial}/{tariff.increment} s)"
    return PriceQuote(
        number=info.e164,
        destination=pricing.destination,
        country=info.country,
        country_name=info.country_name,
        line_type=str(info.line_type),
        included=pricing.included,
        on_net=False,
        rate=money(tariff.rate),
        connect_fee=money(tariff.connect_fee),
        initial=tariff.initial,
        increment=tariff.increment,
        explanation=explanation,
    )
