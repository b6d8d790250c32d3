"""An account's DIDs and extensions."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from billing.models import (
    DID,
    DIDGroup,
    Extension,
)
from billing.numbers import normalize
from portal.errors import DomainError
from portal.models import Account

DEFAULT_NANP_GROUP = "USA standard"


_EXTENSION = re.compile(r"[0-9]{2,8}")


def did_add(*, account: Account, number: str, group_name: str = "", label: str = "") -> DID:
    """Give ``account`` the DID ``number`` in the group ``group_name`` (default "USA standard"
    for +1 numbers; other countries must name their group). Raises DomainError."""
    e164 = normalize(number)
    if not group_name:
        if not e164.startswith("+1"):
            raise DomainError(
                f"{e164}: name its DID group (NUMBER:GROUP); only +1 numbers default to "
                f"{DEFAULT_NANP_GROUP!r}.",
                code="no_did_group",
            )
        group_name = DEFAULT_NANP_GROUP
    group = DIDGroup.objects.filter(name=group_name.strip()).first()
    if group is None:
        names = ", ".join(DIDGroup.objects.order_by("name").values_list("name", flat=True))
        raise DomainError(
            f"{e164}: no DID group {group_name!r} (groups: {names or 'none'}).",
            code="unknown_did_group",
        )
    existing = DID.objects.filter(number=e164).select_related("account").first()
    if existing is not None:
        if existing.account_id == account.pk and existing.group_id == group.pk:
            return existing
        raise DomainError(f"{e164} already belongs to an account.", code="did_taken")
    if Extension.objects.filter(account=account, number=e164).exists():
        raise DomainError(f"{e164} is already one of the account's extensions.", code="clash")
    try:
        with transaction.atomic():
            return DID.objects.create(account=account, number=e164, group=group, label=label)
    except IntegrityError as exc:
        raise DomainError(f"{e164} already belongs to an account.", code="did_taken") from exc


def extension_add(*, account: Account, number: str, name: str = "") -> Extension:
    """Add the internal extension ``number`` (2-8 digits) to ``account``; idempotent."""
    number = number.strip()
    if not _EXTENSION.fullmatch(number):
        raise DomainError(f"extension {number!r}: use 2 to 8 digits, e.g. 101.", code="bad_ext")
    extension, _ = Extension.objects.get_or_create(
        account=account, number=number, defaults={"name": name}
    )
    return extension
