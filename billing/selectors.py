"""Billing reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import F, Q, QuerySet, Sum
from django.http import Http404

from billing.models import (
    DID,
    AccountPlan,
    AccountRating,
    ApiClient,
    BillingProfile,
    Call,
    Deposit,
    DIDGroup,
    Extension,
    IncludedDestination,
    LedgerEntry,
    Rate,
    RateDeck,
    ServicePlan,
    UsageCounter,
)
from billing.money import ZERO, format_usd, money
from billing.numbers import LineType, NumberInfo, classify, normalize, pretty
from billing.periods import Period, local_midnight, period_containing
from billing.rating import PlanTerms, Tariff
from portal.errors import DomainError
from portal.models import Account


@dataclass(frozen=True)
class LedgerProblem:
    account_id: int
    account_code: str
    detail: str


def ledger_problems(*, accounts: list[Account] | None = None) -> list[LedgerProblem]:
    """Every account whose cached balance differs from the sum of its entries, or whose
    entries' balance-after does not chain (each = previous + amount, in posting order)."""
    problems: list[LedgerProblem] = []
    for account in accounts if accounts is not None else Account.objects.order_by("pk"):
        total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
        total = money(total if total is not None else Decimal(0))
        if total != account.balance:
            problems.append(
                LedgerProblem(
                    account.pk,
                    account.code,
                    f"cached balance {account.balance} != sum of entries {total}",
                )
            )
        running = ZERO
        rows = LedgerEntry.objects.filter(account=account).order_by("pk")
        for entry_id, amount, after in rows.values_list("pk", "amount", "balance_after").iterator():
            running = money(running + amount)
            if after != running:
                problems.append(
                    LedgerProblem(
                        account.pk,
                        account.code,
                        f"entry {entry_id}: balance after {after} != running total {running}",
                    )
                )
                running = after
    return problems


def ledger_entries_posted(*, keys: set[str]) -> dict[str, LedgerEntry]:
    """The entries already posted under ``keys`` (idempotency keys), by key."""
    return {e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)}


# --- The Calls page ---------------------------------------------------------------------------

CALLS_PER_PAGE = 50
CALL_COUNT_CAP = 10_000  # counting stops here: "10,000+ calls" (no COUNT(*) over millions)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CallFilters:
    """The Calls page filters. Dates are days in the account's time zone, both inclusive."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    direction: str = ""
    number: str = ""

    @property
    def number_digits(self) -> str:
        return re.sub(r"\D", "", self.number)


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    count: int  # of the whole filtered set, up to CALL_COUNT_CAP
    count_capped: bool  # True when there are more than CALL_COUNT_CAP
    newer_cursor: str | None  # show the page before this one (newer calls)
    older_cursor: str | None  # show the page after this one (older calls)


def calls_for_account(*, account: Account, filters: CallFilters) -> QuerySet[Call]:
    """The account's calls matching ``filters``, newest first (index ``call_account_recent``,
    or ``call_account_dir`` with a direction)."""
    calls = Call.objects.filter(account=account)
    tz = account.tz
    if filters.date_from is not None:
        calls = calls.filter(started_at__gte=local_midnight(filters.date_from, tz))
    if filters.date_to is not None:
        day_after = filters.date_to + dt.timedelta(days=1)
        calls = calls.filter(started_at__lt=local_midnight(day_after, tz))
    if filters.direction:
        calls = calls.filter(direction=filters.direction)
    digits = filters.number_digits
    if digits:
        calls = calls.filter(Q(from_number__contains=digits) | Q(to_number__contains=digits))
    return calls.order_by("-started_at", "-id")


def _cursor(call: Call) -> str:
    return f"{(call.started_at - _EPOCH) // dt.timedelta(microseconds=1)}.{call.pk}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    match = re.fullmatch(r"(-?\d{1,18})\.(\d{1,18})", cursor or "")
    if match is None:
        return None
    try:
        moment = _EPOCH + dt.timedelta(microseconds=int(match[1]))
    except OverflowError:
        return None
    return moment, int(match[2])


def call_count(*, calls: QuerySet[Call], cap: int = CALL_COUNT_CAP) -> tuple[int, bool]:
    """How many calls, counting at most ``cap + 1`` rows: (count, more than ``cap``)."""
    counted = calls.order_by()[: cap + 1].count()
    return min(counted, cap), counted > cap


def call_page(
    *,
    account: Account,
    filters: CallFilters,
    after: str = "",
    before: str = "",
    per_page: int = CALLS_PER_PAGE,
) -> CallPage:
    """One page of the account's calls, newest first, by keyset: ``after`` a cursor gives the
    next older page, ``before`` a cursor the next newer one. Deep pages cost the same as the
    first (no OFFSET), and the count stops at ``CALL_COUNT_CAP``."""
    calls = calls_for_account(account=account, filters=filters)
    count, capped = call_count(calls=calls)
    older_key, newer_key = _parse_cursor(after), _parse_cursor(before)
    rows: list[Call]
    if newer_key is not None:
        moment, pk = newer_key
        newer = calls.filter(started_at__gte=moment).filter(Q(started_at__gt=moment) | Q(pk__gt=pk))
        rows = list(newer.order_by("started_at", "id").select_related("did")[: per_page + 1])
        has_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        has_older = True
    else:
        if older_key is not None:
            moment, pk = older_key
            calls = calls.filter(started_at__lte=moment).filter(
                Q(started_at__lt=moment) | Q(pk__lt=pk)
            )
        rows = list(calls.select_related("did")[: per_page + 1])
        has_older = len(rows) > per_page
        rows = rows[:per_page]
        has_newer = older_key is not None
    return CallPage(
        calls=rows,
        count=count,
        count_capped=capped,
        newer_cursor=_cursor(rows[0]) if rows and has_newer else None,
        older_cursor=_cursor(rows[-1]) if rows and has_older else None,
    )


def call_for_account(*, account: Account, call_pk: int) -> Call:
    """One of the account's calls; another account's call is a 404."""
    try:
        return Call.objects.select_related("did", "did__group", "ledger_entry").get(
            account=account, pk=call_pk
        )
    except Call.DoesNotExist as exc:
        raise Http404("No such call.") from exc


def dids_for_account(*, account: Account) -> list[DID]:
    return list(DID.objects.filter(account=account).select_related("group").order_by("number"))


def extensions_for_account(*, account: Account) -> list[Extension]:
    return list(Extension.objects.filter(account=account).order_by("number"))


def included_destinations(*, plan: ServicePlan | None) -> list[IncludedDestination]:
    if plan is None:
        return []
    return list(IncludedDestination.objects.filter(plan=plan).order_by("name"))


# --- Rating: plans, prices, included minutes ---------------------------------------------------


def plan_for_account(*, account: Account, at: dt.datetime) -> ServicePlan | None:
    """The account's plan at ``at``: the newest plan row starting at or before it."""
    row = (
        AccountPlan.objects.filter(account=account, starts_at__lte=at)
        .select_related("plan", "plan__rate_deck")
        .order_by("-starts_at")
        .first()
    )
    return row.plan if row is not None else None


def pending_plan_change(*, account: Account, now: dt.datetime) -> AccountPlan | None:
    """A plan change staff scheduled for a later period, if any."""
    return (
        AccountPlan.objects.filter(account=account, starts_at__gt=now)
        .select_related("plan")
        .order_by("starts_at")
        .first()
    )


def billing_period(*, account: Account, at: dt.datetime) -> Period:
    return period_containing(at, billing_day=account.billing_day, tz=account.tz)


def plan_terms(plan: ServicePlan) -> PlanTerms:
    return PlanTerms(
        name=plan.name,
        included_seconds=plan.included_minutes * 60,
        overage=Tariff(
            rate=plan.overage_rate,
            initial=plan.overage_initial,
            increment=plan.overage_increment,
            label=f"{plan.name} overage",
        ),
    )


def rate_deck_for_account(*, account: Account, plan: ServicePlan | None) -> RateDeck | None:
    """The account's own deck when staff set one, else its plan's deck."""
    override = AccountRating.objects.filter(account=account).select_related("rate_deck").first()
    if override is not None and override.rate_deck is not None:
        return override.rate_deck
    return plan.rate_deck if plan is not None else None


def rate_for_number(*, deck: RateDeck | int, digits: str) -> Rate | None:
    """The deck row with the longest prefix of ``digits`` (E.164 without '+').

    One indexed query: ``prefix IN (every prefix of the number)`` on the unique (deck, prefix)
    index: at most 15 index probes, whatever the deck's size.
    """
    if not digits.isdigit():
        return None
    prefixes = [digits[:i] for i in range(1, min(len(digits), 20) + 1)]
    deck_id = deck if isinstance(deck, int) else deck.pk
    rows = list(Rate.objects.filter(deck_id=deck_id, prefix__in=prefixes))
    return max(rows, key=lambda r: len(r.prefix), default=None)


def _tariff(row: Rate | DIDGroup, label: str) -> Tariff:
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
    """What pricing reads from the database for a set of accounts and the numbers of their
    calls, read with a few queries for all of them and then answered from memory.

    A memo for one request or one batch of CDRs, built where the batch is handled and dropped
    with it (never kept across requests, so staff changes to plans, decks and numbers are seen
    by the next batch). Plans, and when first needed deck overrides and included destinations,
    are read for every account at once; extensions and DIDs only for the numbers given (a
    number asked about later is read then); rate rows and number classifications are memoised.
    """

    def __init__(self, *, accounts: Iterable[Account], numbers: Iterable[str] = ()) -> None:
        self._account_ids = sorted({account.pk for account in accounts})
        self._plans: dict[int, list[AccountPlan]] = {pk: [] for pk in self._account_ids}
        rows = AccountPlan.objects.filter(account_id__in=self._account_ids).select_related(
            "plan", "plan__rate_deck"
        )
        for row in rows.order_by("account_id", "-starts_at"):
            self._plans[row.account_id].append(row)
        self._terms: dict[int, PlanTerms] = {}
        self._e164: dict[str, str | None] = {}
        self._extensions: set[tuple[int, str]] = set()
        self._dids: dict[tuple[int, str], DID] = {}
        self._numbers_read: set[str] = set()
        self._rates: dict[tuple[int, str], Rate | None] = {}
        self._classified: dict[str, NumberInfo] = {}
        self._read_numbers(numbers)

    @cached_property
    def _included(self) -> dict[tuple[int, str], IncludedDestination]:
        plan_ids = {row.plan_id for rows in self._plans.values() for row in rows}
        rows = IncludedDestination.objects.filter(plan_id__in=plan_ids)
        return {(row.plan_id, row.country): row for row in rows}

    @cached_property
    def _decks(self) -> dict[int, RateDeck]:
        rows = AccountRating.objects.filter(
            account_id__in=self._account_ids, rate_deck__isnull=False
        ).select_related("rate_deck")
        return {row.account_id: row.rate_deck for row in rows if row.rate_deck is not None}

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
            for did in dids.select_related("group").order_by():
                self._dids[(did.account_id, did.number)] = did

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
        return next((row.plan for row in rows if row.starts_at <= at), None)

    def terms(self, plan: ServicePlan) -> PlanTerms:
        if plan.pk not in self._terms:
            self._terms[plan.pk] = plan_terms(plan)
        return self._terms[plan.pk]

    def included_destination(self, plan: ServicePlan, country: str) -> IncludedDestination | None:
        return self._included.get((plan.pk, country))

    def rate_deck(self, account: Account, plan: ServicePlan | None) -> RateDeck | None:
        """As ``rate_deck_for_account``: the account's own deck, else its plan's."""
        override = self._decks.get(account.pk)
        if override is not None:
            return override
        return plan.rate_deck if plan is not None else None

    def rate(self, deck: RateDeck, digits: str) -> Rate | None:
        key = (deck.pk, digits)
        if key not in self._rates:
            self._rates[key] = rate_for_number(deck=deck, digits=digits)
        return self._rates[key]

    def is_extension(self, account: Account, number: str) -> bool:
        self._read_numbers([number])
        return (account.pk, number.strip()) in self._extensions

    def own_did(self, account: Account, number: str) -> DID | None:
        self._read_numbers([number])
        e164 = self._normalized(number)
        return self._dids.get((account.pk, e164)) if e164 is not None else None

    def is_own_endpoint(self, account: Account, number: str) -> bool:
        return self.is_extension(account, number) or self.own_did(account, number) is not None


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
    deck = context.rate_deck(account, plan)
    row = context.rate(deck, info.digits) if deck is not None else None
    if row is None:
        raise DomainError(
            f"to: no rate for {info.e164} ({info.country_name}); it cannot be called.",
            code="unknown_destination",
        )
    return CallPricing(
        direction, False, row.destination, False, _tariff(row, row.destination), plan, terms, info
    )


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
    or ``unknown_destination``."""
    pricing = call_pricing(
        account=account,
        direction=Call.Direction.OUTBOUND,
        from_number="",
        to_number=number,
        at=now,
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


@dataclass(frozen=True)
class MinutesSummary:
    plan: ServicePlan | None
    period: Period
    included_seconds: int
    used_seconds: int
    left_seconds: int

    @property
    def reset_date(self) -> dt.date:
        """The first day of the next billing period (minutes reset then; no carry-over)."""
        return self.period.end_date

    @property
    def included_minutes(self) -> int:
        return self.included_seconds // 60

    @property
    def used_minutes(self) -> int:
        """Whole minutes used, rounded up (60/60 plans only ever use whole minutes)."""
        return -(-self.used_seconds // 60)

    @property
    def left_minutes(self) -> int:
        return self.left_seconds // 60

    @property
    def used_percent(self) -> int:
        if not self.included_seconds:
            return 0
        return min(100, self.used_seconds * 100 // self.included_seconds)


# A billing period starts at local midnight of a date, so the same period read in another time
# zone (the owner may change it) starts at most 26 hours apart; periods are 28+ days apart.
PERIOD_START_SLACK = dt.timedelta(hours=27)


def usage_counter_rows(
    *, account_ids: Iterable[int], period_starts: Iterable[dt.datetime]
) -> dict[tuple[int, dt.datetime, int | None], UsageCounter]:
    """The included-minute counters of these accounts and periods, by (account id, period start
    as asked, DID id). A counter written while the account had another time zone is its
    period's counter too (same dates, other midnights)."""
    starts = set(period_starts)
    if not starts:
        return {}
    rows = UsageCounter.objects.filter(
        account_id__in=set(account_ids),
        period_start__gt=min(starts) - PERIOD_START_SLACK,
        period_start__lt=max(starts) + PERIOD_START_SLACK,
    ).order_by("pk")
    found: dict[tuple[int, dt.datetime, int | None], UsageCounter] = {}
    for row in rows:
        for start in starts:
            if abs(row.period_start - start) < PERIOD_START_SLACK:
                found.setdefault((row.account_id, start, row.did_id), row)
    return found


def usage_counter(
    *, account: Account, period_start: dt.datetime, did_id: int | None = None
) -> UsageCounter | None:
    rows = usage_counter_rows(account_ids=[account.pk], period_starts=[period_start])
    return rows.get((account.pk, period_start, did_id))


def included_seconds_used(*, account: Account, period_start: dt.datetime) -> int:
    row = usage_counter(account=account, period_start=period_start)
    return row.included_seconds_used if row is not None else 0


def minutes_summary(*, account: Account, now: dt.datetime) -> MinutesSummary:
    """Included minutes of the billing month containing ``now``, in the account's zone."""
    period = billing_period(account=account, at=now)
    plan = plan_for_account(account=account, at=now)
    included = plan.included_minutes * 60 if plan is not None else 0
    used = included_seconds_used(account=account, period_start=period.start)
    return MinutesSummary(
        plan=plan,
        period=period,
        included_seconds=included,
        used_seconds=used,
        left_seconds=max(0, included - used),
    )


def api_client_for_token(*, token: str) -> ApiClient | None:
    """The active API client holding ``token`` (compared by its SHA-256 hash)."""
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return ApiClient.objects.filter(token_hash=digest, is_active=True).first()


# --- Prepaid balance: profile, ledger history, deposits (issue 4) -----------------------------


HISTORY_PAGE_SIZE = 25

# The kinds a customer may filter by, in the order of the filter's menu.
HISTORY_KINDS = [
    (LedgerEntry.Kind.DEPOSIT, "Credit added by card"),
    (LedgerEntry.Kind.AUTO_RECHARGE, "Auto-recharge"),
    (LedgerEntry.Kind.CALL, "Calls"),
    (LedgerEntry.Kind.PORT_FEE, "Number port fees"),
    (LedgerEntry.Kind.PLAN_FEE, "Service plan fees"),
    (LedgerEntry.Kind.TRUNK_FEE, "SIP trunk fees"),
    (LedgerEntry.Kind.PRORATION, "Prorated charges"),
    (LedgerEntry.Kind.REFUND, "Refunds"),
    (LedgerEntry.Kind.DISPUTE, "Disputes"),
    (LedgerEntry.Kind.ADJUSTMENT, "Adjustments"),
    (LedgerEntry.Kind.REVERSAL, "Reversals"),
]


@dataclass(frozen=True)
class HistoryFilters:
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.date_from or self.date_to)


def ledger_history(*, account: Account, filters: HistoryFilters) -> QuerySet[LedgerEntry]:
    """The account's entries, newest first; dates are whole days in the account's time zone."""
    entries = LedgerEntry.objects.filter(account=account)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.date_from:
        entries = entries.filter(created_at__gte=local_midnight(filters.date_from, account.tz))
    if filters.date_to:
        end = local_midnight(filters.date_to + dt.timedelta(days=1), account.tz)
        entries = entries.filter(created_at__lt=end)
    return entries.select_related("deposit").order_by("-created_at", "-id")


def billing_profile_for(*, account: Account) -> BillingProfile:
    """The account's profile, or an unsaved one with the defaults (a read never writes)."""
    profile = BillingProfile.objects.filter(account=account).first()
    return profile if profile is not None else BillingProfile(account=account)


def deposit_for_account(*, account: Account, deposit_id: int) -> Deposit:
    """One of the account's card payments; another account's id is a 404."""
    deposit = Deposit.objects.filter(account=account, pk=deposit_id).first()
    if deposit is None:
        raise Http404("No such payment.")
    return deposit


def recent_payments(*, account: Account, limit: int = 8) -> list[Deposit]:
    """Card payments and auto-recharge attempts the customer has seen through (not the ones
    still waiting for a card to be entered)."""
    return list(
        Deposit.objects.filter(account=account)
        .exclude(status=Deposit.Status.CREATED)
        .order_by("-created_at", "-id")[:limit]
    )


def pending_authentications(*, account: Account) -> list[Deposit]:
    return list(
        Deposit.objects.filter(
            account=account,
            kind=Deposit.Kind.AUTO_RECHARGE,
            status=Deposit.Status.REQUIRES_ACTION,
        ).order_by("-created_at")
    )


def auto_recharge_limits(*, profile: BillingProfile) -> tuple[Decimal, Decimal]:
    daily = profile.auto_recharge_daily_cap
    monthly = profile.auto_recharge_monthly_cap
    return (
        money(daily if daily is not None else settings.BILLING_AUTO_RECHARGE_DAILY_CAP),
        money(monthly if monthly is not None else settings.BILLING_AUTO_RECHARGE_MONTHLY_CAP),
    )


def auto_recharge_due_account_ids(*, now: dt.datetime) -> list[int]:
    """Accounts with auto-recharge on, a card, a balance below the threshold, not backing off."""
    return list(
        BillingProfile.objects.filter(
            auto_recharge_enabled=True,
            account__balance__lt=F("auto_recharge_threshold"),
        )
        .exclude(payment_method_id="")
        .filter(Q(auto_recharge_retry_after__isnull=True) | Q(auto_recharge_retry_after__lte=now))
        .values_list("account_id", flat=True)
    )


def low_balance_due_account_ids() -> list[int]:
    """Accounts whose alert state disagrees with their balance (an alert to send or re-arm)."""
    below = Q(account__balance__lt=F("low_balance_threshold"))
    return list(
        BillingProfile.objects.filter(low_balance_threshold__isnull=False)
        .filter((below & Q(low_balance_alerted=False)) | (~below & Q(low_balance_alerted=True)))
        .values_list("account_id", flat=True)
    )
