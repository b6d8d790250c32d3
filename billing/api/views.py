"""The switch API's endpoints. Thin views: parse (``billing.api.schemas``), call a service or a
selector, answer JSON. CSRF-exempt: the switch is not a browser and authenticates every request
with its token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from billing.api import openapi
from billing.api.auth import client_for_request
from billing.api.schemas import (
    InvalidInput,
    parse_account_code,
    parse_authorize,
    parse_cdrs,
    parse_json,
)
from billing.call_limits import account_fields
from billing.money import money
from billing.selectors.usage import minutes_summary
from billing.services.authorize import call_authorize
from billing.services.calls import call_record_batch
from portal.models import Account

ApiView = Callable[..., JsonResponse]


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "field": field, "message": message}}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="switch-api"'
    return response


def api_endpoint(method: str) -> Callable[[ApiView], ApiView]:
    """Method check, bearer token (401), input errors → 400 naming the field, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE → 413 (Django's own answer would be an HTML 400)."""

    def decorate(view: ApiView) -> ApiView:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method != method:
                response = _error(405, "method_not_allowed", f"Use {method}.")
                response["Allow"] = method
                return response
            if client_for_request(request) is None:
                return _error(401, "unauthorized", "A valid bearer token is required.")
            try:
                return view(request, *args, **kwargs)
            except InvalidInput as exc:
                return _error(400, "invalid_input", exc.message, exc.field)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return _error(413, "too_large", f"The body is over {limit} bytes.", "body")

        return wrapper

    return decorate


@api_endpoint("POST")
def authorize(request: HttpRequest) -> JsonResponse:
    data = parse_authorize(parse_json(request.body))
    result = call_authorize(request=data, now=timezone.now())
    return JsonResponse(result.as_dict())


@api_endpoint("POST")
def cdrs(request: HttpRequest) -> JsonResponse:
    items, batch = parse_cdrs(parse_json(request.body))
    now = timezone.now()
    results = call_record_batch(cdrs=items, now=now, source="api")
    if not batch:
        return JsonResponse(results[0].as_dict())
    statuses = [r.status for r in results]
    return JsonResponse(
        {
            "results": [r.as_dict() for r in results],
            "rated": statuses.count("rated"),
            "duplicates": statuses.count("duplicate"),
            "rejected": statuses.count("rejected"),
        }
    )


@api_endpoint("GET")
def account(request: HttpRequest, code: str) -> JsonResponse:
    code = parse_account_code(code)
    found = Account.objects.filter(code=code).first()
    if found is None:
        return _error(404, "unknown_account", f"No account {code!r}.", "code")
    now = timezone.now()
    summary = minutes_summary(account=found, now=now)
    return JsonResponse(
        {
            "account": found.code,
            "status": found.status,
            "balance": str(money(found.balance)),
            "plan": summary.plan.name if summary.plan is not None else None,
            "period_start": summary.period.start.isoformat(),
            "period_end": summary.period.end.isoformat(),
            "included_seconds": summary.included_seconds,
            "included_seconds_used": summary.used_seconds,
            "included_seconds_left": summary.left_seconds,
            # What other apps report (SIP trunk channels by kind and in use).
            **account_fields(account=found, now=now),
        }
    )


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    return _error(404, "not_found", "No such endpoint; see /api/v1/openapi.json.", "path")


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi.spec(request.build_absolute_uri("/")))
