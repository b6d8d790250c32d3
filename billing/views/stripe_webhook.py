"""The Stripe webhook (namespace "stripe"): a machine endpoint, no login."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from billing import stripe_gateway
from billing.models import StripeEvent
from billing.services.stripe_events import (
    MalformedEvent,
    stripe_event_process,
    stripe_event_record,
)

logger = logging.getLogger(__name__)


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verified by signature (400 and nothing stored otherwise); stored once by event id;
    processed in a transaction. A processing error answers 500 so Stripe delivers it again; a
    signed but malformed event answers 400 (stored as failed when its id can be stored)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        payload = stripe_gateway.event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_gateway.BadWebhook as exc:
        logger.warning("stripe webhook refused: %s", exc)
        return HttpResponse("bad signature", status=400, content_type="text/plain")
    now = timezone.now()
    try:
        event = stripe_event_record(payload=payload, now=now)
    except MalformedEvent as exc:
        logger.warning("stripe webhook malformed: %s", exc)
        if not exc.event_id:
            return HttpResponse("not a Stripe event", status=400, content_type="text/plain")
        return JsonResponse({"id": exc.event_id, "status": "failed"}, status=400)
    try:
        event = stripe_event_process(event_id=event.event_id, now=now)
    except Exception:
        return JsonResponse({"id": event.event_id, "status": "failed"}, status=500)
    # Failed without raising: an object the handler cannot read; a 500 would only bring it back.
    status = 400 if event.status == StripeEvent.Status.FAILED else 200
    return JsonResponse({"id": event.event_id, "status": event.status}, status=status)
