"""Who is calling the switch API: the bearer token's client, and when it was last used."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from billing.models import ApiClient
from billing.selectors.api_clients import api_client_for_token

_LAST_USED_EVERY = dt.timedelta(minutes=1)


def client_for_request(request: HttpRequest) -> ApiClient | None:
    """The active client whose token the ``Authorization: Bearer`` header carries (None if
    none); its ``last_used_at`` is written at most once a minute."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    client = api_client_for_token(token=token.strip())
    if client is not None:
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > _LAST_USED_EVERY:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client
