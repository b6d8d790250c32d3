"""An account's DIDs and extensions."""

from __future__ import annotations

from billing.models import (
    DID,
    Extension,
)
from portal.models import Account


def dids_for_account(*, account: Account) -> list[DID]:
    return list(DID.objects.filter(account=account).select_related("group").order_by("number"))


def extensions_for_account(*, account: Account) -> list[Extension]:
    return list(Extension.objects.filter(account=account).order_by("number"))
