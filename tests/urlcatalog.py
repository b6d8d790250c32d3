"""The catalogue of Control Center URLs, for the isolation and login-required tests.

Every named URL in the Control Center namespaces joins the tests automatically. A URL with
arguments needs a way to make an object of a given account for each argument: register it in
``OBJECT_MAKERS`` (``kwarg name -> callable(account) -> URL value``). Machine endpoints (the
switch API, the Stripe webhook) live in other namespaces and have their own auth tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.models import Account

CONTROL_CENTER_NAMESPACES = ("portal", "billing", "trunking")

# kwarg name -> callable(account) -> a value (usually a pk) of an object owned by that account.
# Each feature adds its own, e.g. "entry_id", "call_id", "port_id", "trunk_id".
OBJECT_MAKERS: dict[str, Callable[[Account], Any]] = {}


def _make_call(account: Account) -> int:
    from tests.billing.call_factories import CallFactory

    return int(CallFactory(account=account).pk)


OBJECT_MAKERS["call_id"] = _make_call  # billing:call_detail (the Call's row id)

# Control Center URLs that only accept POST: a GET gets 405 (or a redirect) and never a page.
POST_ONLY: set[str] = set()


@dataclass(frozen=True)
class CatalogURL:
    name: str  # "namespace:name"
    kwargs: tuple[str, ...]  # the route's argument names, in order

    def __str__(self) -> str:
        return self.name

    def missing_makers(self) -> list[str]:
        return [kwarg for kwarg in self.kwargs if kwarg not in OBJECT_MAKERS]

    def url_for(self, account: Account) -> str:
        missing = self.missing_makers()
        if missing:
            raise LookupError(
                f"URL {self.name!r} takes {', '.join(missing)}: add a maker for "
                f"{' and '.join(repr(k) for k in missing)} to OBJECT_MAKERS in "
                "tests/urlcatalog.py (callable(account) -> id of an object of that account), "
                "so the isolation tests can request it with another account's object."
            )
        return reverse(self.name, kwargs={k: OBJECT_MAKERS[k](account) for k in self.kwargs})


def _kwarg_names(route: Any) -> tuple[str, ...]:
    converters = getattr(route, "converters", None)
    if converters:  # path() routes: <int:call_id>
        return tuple(converters)
    regex = route.regex  # re_path() routes: (?P<call_id>...)
    return tuple(sorted(regex.groupindex, key=regex.groupindex.__getitem__))


def _walk(
    resolver: URLResolver, namespaces: tuple[str, ...], kwargs: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], URLPattern]]:
    """Yields (namespaces, kwarg names including the enclosing includes', pattern)."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, ns, (*kwargs, *_kwarg_names(entry.pattern)))
        elif isinstance(entry, URLPattern):
            yield namespaces, (*kwargs, *_kwarg_names(entry.pattern)), entry


def control_center_urls(resolver: URLResolver | None = None) -> list[CatalogURL]:
    """Every named URL in the Control Center namespaces, sorted by name, without duplicates."""
    found: dict[str, CatalogURL] = {}
    for namespaces, kwargs, pattern in _walk(resolver or get_resolver(), (), ()):
        if not pattern.name or not namespaces or namespaces[0] not in CONTROL_CENTER_NAMESPACES:
            continue
        name = ":".join((*namespaces, pattern.name))
        found.setdefault(name, CatalogURL(name=name, kwargs=kwargs))
    return sorted(found.values(), key=lambda url: url.name)


# --- Prepaid balance -------------------------------------------------------------------------


def _make_deposit(account: Account) -> int:
    """A finished card payment of the account (its pages answer without calling Stripe)."""
    import uuid
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import Deposit

    now = timezone.now()
    deposit = Deposit.objects.create(
        account=account,
        amount=Decimal("5.00"),
        status=Deposit.Status.SUCCEEDED,
        key=uuid.uuid4(),
        card_brand="visa",
        card_last4="4242",
        created_at=now,
        updated_at=now,
        completed_at=now,
    )
    return deposit.pk


OBJECT_MAKERS["deposit_id"] = _make_deposit
POST_ONLY.update(
    {
        "billing:add_credit",
        "billing:deposit_confirm",
        "billing:deposit_cancel",
        "billing:auto_recharge",
        "billing:card_remove",
    }
)


# --- SIP trunks ------------------------------------------------------------------------------

POST_ONLY.update({"trunking:confirm", "trunking:cancel_decrease"})


# --- People of an account --------------------------------------------------------------------


def _make_member(account: Account) -> int:
    from portal.models import User
    from tests.factories import UserFactory

    return int(UserFactory(account=account, role=User.Role.MEMBER).pk)


OBJECT_MAKERS["user_id"] = _make_member  # portal:people_role, portal:people_remove
POST_ONLY.update(
    {"portal:people_invite", "portal:people_role", "portal:people_remove", "portal:account_leave"}
)


# --- Number ports ----------------------------------------------------------------------------


def _make_port(account: Account) -> int:
    """A draft port request of the account, with a bill copy (so its bill URL answers)."""
    import datetime as dt
    from decimal import Decimal

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from billing.models import PortNumber, PortRequest
    from portal.models import User
    from tests.factories import UserFactory

    now = timezone.now()
    signer = User.objects.filter(account=account).first() or UserFactory(account=account)
    port = PortRequest(
        account=account,
        losing_carrier="Old Carrier",
        carrier_account_number="123",
        account_holder_name=account.name,
        service_address="1 Main St",
        requested_date=now.date() + dt.timedelta(days=7),
        loa_name="Pat Owner",
        loa_signed_by=signer,
        loa_signed_at=now,
        bill_content_type="application/pdf",
        fee_total=Decimal("10.00"),
        created_at=now,
        updated_at=now,
    )
    port.bill.save("catalogue.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    port.save()
    PortNumber.objects.create(request=port, number="+12025550177", country="US", fee=10)
    return port.pk


OBJECT_MAKERS["port_id"] = _make_port
POST_ONLY.update({"billing:port_submit", "billing:port_cancel"})


# --- The role matrix -------------------------------------------------------------------------
# Which roles reach each Control Center URL; every other role gets 403. A new URL needs its
# entry here (the role-matrix test fails and says so): money-changing URLs are MONEY at most.

ROLES = ("owner", "billing", "member")
EVERYONE = frozenset(ROLES)
MONEY = frozenset({"owner", "billing"})
OWNERS = frozenset({"owner"})

ROLE_MATRIX: dict[str, frozenset[str]] = {
    "portal:dashboard": EVERYONE,
    "portal:account_settings": EVERYONE,  # members see it; only owners' saves change it
    "portal:people_invite": OWNERS,
    "portal:people_role": OWNERS,
    "portal:people_remove": OWNERS,
    "portal:account_leave": EVERYONE,
    "billing:calls": EVERYONE,
    "billing:call_detail": EVERYONE,
    "billing:numbers": EVERYONE,
    "billing:rate_lookup": EVERYONE,
    "billing:per_minute": EVERYONE,  # read-only for members: the forms are hidden
    "billing:add_credit": MONEY,
    "billing:deposit_confirm": MONEY,
    "billing:deposit_return": MONEY,
    "billing:deposit_authenticate": MONEY,
    "billing:deposit_cancel": MONEY,
    "billing:payments": EVERYONE,  # members read; only owner and billing complete or cancel
    "billing:auto_recharge": MONEY,
    "billing:card_remove": MONEY,
    "trunking:trunking": EVERYONE,  # read-only for members: the change form is hidden
    "trunking:confirm": MONEY,
    "trunking:cancel_decrease": MONEY,
    "billing:service_plan": EVERYONE,  # read-only for members: the switch buttons are hidden
    "billing:service_plan_switch": MONEY,
    "billing:service_plan_cancel": MONEY,
    "billing:call_permissions": EVERYONE,  # read-only for members: the form is disabled
    "billing:call_permissions_save": MONEY,
    "billing:call_permissions_release": OWNERS,  # and a fresh re-authentication
    "billing:port_new": MONEY,  # members see the list and the requests read-only
    "billing:port_detail": EVERYONE,
    "billing:port_submit": MONEY,
    "billing:port_cancel": MONEY,
    "billing:port_bill": EVERYONE,
    "billing:statements": EVERYONE,
    "billing:statement": EVERYONE,
    "billing:statement_pdf": EVERYONE,
    "billing:statement_csv": EVERYONE,
    "billing:deposit_receipt": EVERYONE,  # the Per Minute page shows payments to every role
}


def allowed_roles(entry: CatalogURL) -> frozenset[str]:
    try:
        return ROLE_MATRIX[entry.name]
    except KeyError:
        raise LookupError(
            f"URL {entry.name!r} has no entry in ROLE_MATRIX in tests/urlcatalog.py: add "
            f'"{entry.name}": EVERYONE, MONEY or OWNERS (the roles allowed; every other role '
            "must get 403)."
        ) from None


# --- Service Plan ----------------------------------------------------------------------------

POST_ONLY.update({"billing:service_plan_switch", "billing:service_plan_cancel"})


# --- Call permissions ------------------------------------------------------------------------

POST_ONLY.update({"billing:call_permissions_save", "billing:call_permissions_release"})


# --- Statements ------------------------------------------------------------------------------


def _make_statement(account: Account) -> int:
    import datetime as dt

    from billing.periods import Period
    from billing.services.statements import statement_close

    start = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2028, 2, 1, tzinfo=dt.UTC)
    return statement_close(account_id=account.pk, period=Period(start, end), now=end).pk


OBJECT_MAKERS["statement_id"] = _make_statement
