"""The switch's API clients, found by token hash."""

from __future__ import annotations

import hashlib

from billing.models import (
    ApiClient,
)


def api_client_for_token(*, token: str) -> ApiClient | None:
    """The active API client holding ``token`` (compared by its SHA-256 hash)."""
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return ApiClient.objects.filter(token_hash=digest, is_active=True).first()
