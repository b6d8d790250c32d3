"""Number ports as the customer and the services read them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from billing.models import DID, PortFee, PortNumber, PortRequest
from billing.models.ports import DEFAULT_COUNTRY, FALLBACK_FEE
from portal.models import Account

OPEN_STATUSES = (PortRequest.Status.SUBMITTED, PortRequest.Status.IN_PROGRESS)


def port_requests_for_account(*, account: Account) -> QuerySet[PortRequest]:
    return (
        PortRequest.objects.filter(account=account)
        .prefetch_related("numbers")
        .order_by("-created_at", "-id")
    )


def port_request_for_account(*, account: Account, port_id: int) -> PortRequest:
    """The account's request, or 404 (another account's id is a plain 404)."""
    return get_object_or_404(PortRequest, pk=port_id, account=account)


def port_history(*, port: PortRequest) -> list:
    return list(port.transitions.select_related("by").order_by("at", "id"))


def port_fee_table() -> tuple[PortFee, dict[str, PortFee]]:
    """The default row and the per-country rows. Without a default row (the admin cannot
    delete it, but a data load might lose it) the fallback fee applies, never $0."""
    rows = {row.country: row for row in PortFee.objects.all()}
    default = rows.pop(DEFAULT_COUNTRY, None) or PortFee(country=DEFAULT_COUNTRY, fee=FALLBACK_FEE)
    return default, rows


def port_numbers_claimed(*, numbers: Iterable[str], exclude_port_id: int | None = None) -> set[str]:
    """Which of ``numbers`` are in a submitted or in-progress request (of any account)."""
    query = PortNumber.objects.filter(number__in=list(numbers), claimed=True)
    if exclude_port_id is not None:
        query = query.exclude(request_id=exclude_port_id)
    return set(query.values_list("number", flat=True))


def dids_existing(*, numbers: Iterable[str]) -> dict[str, int]:
    """Number → the account id that has it as a DID."""
    return dict(DID.objects.filter(number__in=list(numbers)).values_list("number", "account_id"))
