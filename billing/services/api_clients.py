"""API clients of the voice switch: a token is shown once, only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets

from billing.models import (
    ApiClient,
)
from portal.errors import DomainError


def api_client_create(*, name: str) -> tuple[ApiClient, str]:
    """A new switch API client. Returns the token once; only its SHA-256 hash is stored."""
    name = name.strip()
    if not name:
        raise DomainError("An API client needs a name.", code="bad_name")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(f"An API client named {name!r} exists.", code="duplicate_name")
    token = "cc_" + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        token_prefix=token[:10],
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    return client, token
