"""The switch API: authorize, CDRs (single, batch, duplicate, rejected), balance; 400s naming
the field, 401s; every response checked against the served OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from billing.api import openapi
from billing.models import ApiClient, Call, CallReservation, LedgerEntry
from billing.services.api_clients import api_client_create
from portal.models import Account
from tests.billing.rating_fixtures import NOW, US_DID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_at_now")]

SPEC = openapi.spec()


def check(schema: str, body: Any) -> None:
    """Validate ``body`` against components/schemas/``schema`` of the served description."""
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": SPEC["components"]}
    )
    errors = [e.message for e in validator.iter_errors(body)]
    assert errors == [], errors


def post(client: Client, path: str, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, raw, content_type="application/json")


def cdr_json(owner: Account, call_id: str, to: str = "+35722123456", **extra: Any) -> dict:
    body = {
        "call_id": call_id,
        "account": owner.code,
        "direction": "outbound",
        "from": "101",
        "to": to,
        "start": "2026-11-24T12:00:00-05:00",
        "answer": "2026-11-24T12:00:05-05:00",
        "end": "2026-11-24T12:02:10-05:00",
        "billsec": 125,
        "disposition": "ANSWERED",
    }
    body.update(extra)
    return body


def test_openapi_description_is_valid_and_served(client: Client) -> None:
    validate(SPEC)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    validate(served)
    assert set(served["paths"]) >= {
        "/api/v1/calls/authorize",
        "/api/v1/cdrs",
        "/api/v1/accounts/{code}",
    }


def test_single_cdr_is_rated_then_duplicate(api: Client, acct: Account) -> None:
    first = post(api, "/api/v1/cdrs", cdr_json(acct, "sip-1"))
    assert first.status_code == 200
    body = first.json()
    check("CdrResult", body)
    assert body == {
        "call_id": "sip-1",
        "status": "rated",
        "charge": "0.1800",
        "included_seconds": 0,
        "billed_seconds": 180,
        "explanation": "Cyprus — 3 min at $0.0600/min = $0.1800",
        "error": None,
    }
    again = post(api, "/api/v1/cdrs", cdr_json(acct, "sip-1"))
    assert again.json()["status"] == "duplicate"
    assert again.json()["charge"] == "0.1800"
    assert LedgerEntry.objects.filter(kind="call").count() == 1
    acct.refresh_from_db()
    assert acct.balance == Decimal("9.8200")


def test_a_different_cdr_reusing_a_call_id_is_rejected_naming_the_call_id(
    api: Client, acct: Account
) -> None:
    post(api, "/api/v1/cdrs", cdr_json(acct, "reused"))
    other = cdr_json(acct, "reused", to="+12025550123")
    body = post(api, "/api/v1/cdrs", {"cdrs": [other, cdr_json(acct, "reused")]}).json()
    assert [(r["status"], r["error"]) for r in body["results"]] == [
        ("rejected", "call_id: already used by a different call."),
        ("duplicate", None),
    ]
    assert LedgerEntry.objects.filter(kind="call").count() == 1


def test_batch_with_rated_duplicate_and_rejected(api: Client, acct: Account) -> None:
    post(api, "/api/v1/cdrs", cdr_json(acct, "b-0"))
    batch = {
        "cdrs": [
            cdr_json(acct, "b-0"),
            cdr_json(acct, "b-1", to="+12025550123"),
            cdr_json(acct, "b-2", to="+81312345678"),
            cdr_json(acct, "b-3", account="NOPE"),
            cdr_json(acct, "b-4", answer=None, billsec=0, disposition="NO ANSWER"),
        ]
    }
    response = post(api, "/api/v1/cdrs", batch)
    assert response.status_code == 200
    body = response.json()
    check("CdrBatchResult", body)
    assert (body["rated"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    by_id = {r["call_id"]: r for r in body["results"]}
    assert by_id["b-1"]["explanation"] == "USA — 3 min included (0→3 of 500)"
    assert by_id["b-2"]["status"] == "rejected"
    assert "no rate for +81312345678" in by_id["b-2"]["error"]
    assert by_id["b-3"]["error"] == "account: no account 'NOPE'."
    assert by_id["b-4"]["charge"] == "0.0000"
    assert Call.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ([1, 2], "body"),
        ({"cdrs": []}, "cdrs"),
        ({"cdrs": "x"}, "cdrs"),
        ("missing:call_id", "call_id"),
        ("missing:start", "start"),
        ("missing:answer", "answer"),
        ("start:yesterday", "start"),
        ("start:2026-11-24T12:00:00", "start"),
        ("to:+1 (202) abc", "to"),
        ("to:", "to"),
        ("direction:sideways", "direction"),
        ("billsec:-1", "billsec"),
        ("billsec:12.5", "billsec"),
        ("billsec:9999", "billsec"),
        ("end:2026-11-24T11:00:00-05:00", "end"),
        ("batch:start:nope", "cdrs[1].start"),
    ],
)
def test_invalid_input_is_400_naming_the_field(
    api: Client, acct: Account, body: Any, field: str
) -> None:
    if isinstance(body, str) and ":" in body and not body.startswith("{"):
        parts = body.split(":", 2)
        batch = parts[0] == "batch"
        if batch:
            parts = parts[1:]
        kind, rest = parts[0], ":".join(parts[1:])
        doc = cdr_json(acct, "bad-1")
        if kind == "missing":
            del doc[rest]
        else:
            doc[kind] = json.loads(rest) if kind == "billsec" else rest
        body = {"cdrs": [cdr_json(acct, "ok-1"), doc]} if batch else doc
    response = post(api, "/api/v1/cdrs", body)
    assert response.status_code == 400, response.content
    error = response.json()
    check("Error", error)
    assert error["error"]["field"] == field
    assert error["error"]["code"] == "invalid_input"
    assert not Call.objects.exists()  # a bad CDR in a batch records nothing


def test_no_or_wrong_token_is_401(client: Client, acct: Account) -> None:
    _, token = api_client_create(name="revoked")
    ApiClient.objects.filter(name="revoked").update(is_active=False)
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": token},
        {"Authorization": f"Bearer {token}"},
    ):
        c = Client(headers=headers)
        for method, path in (
            ("post", "/api/v1/cdrs"),
            ("post", "/api/v1/calls/authorize"),
            ("get", f"/api/v1/accounts/{acct.code}"),
        ):
            if method == "get":
                response = c.get(path)
            else:
                response = c.post(path, "{}", content_type="application/json")
            assert response.status_code == 401
            assert response["WWW-Authenticate"].startswith("Bearer")
            check("Error", response.json())
    assert not Call.objects.exists()


def test_token_is_stored_only_as_a_hash(api: Client) -> None:
    client, token = api_client_create(name="hash-check")
    assert token not in (client.token_hash, client.token_prefix)
    assert len(client.token_hash) == 64
    assert token.startswith(client.token_prefix)


def test_authorize(api: Client, acct: Account) -> None:
    body = {
        "call_id": "auth-1",
        "account": acct.code,
        "direction": "outbound",
        "from": "101",
        "to": "+35722123456",
    }
    response = post(api, "/api/v1/calls/authorize", body)
    assert response.status_code == 200
    data = response.json()
    check("AuthorizeResponse", data)
    # $10.00 at $0.06/min = 166 minutes.
    assert (data["allowed"], data["reason"], data["rate"]) == (True, None, "0.0600")
    assert data["max_seconds"] == 166 * 60
    assert CallReservation.objects.get(call_id="auth-1").amount == Decimal("9.9600")
    unknown = post(api, "/api/v1/calls/authorize", {**body, "call_id": "a2", "to": "+8131234567"})
    assert unknown.json()["reason"] == "unknown_destination"
    missing = post(api, "/api/v1/calls/authorize", {k: v for k, v in body.items() if k != "to"})
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "to")


def test_account_balance(api: Client, acct: Account) -> None:
    post(api, "/api/v1/cdrs", cdr_json(acct, "s-1", to="+12025550123"))
    response = api.get(f"/api/v1/accounts/{acct.code}")
    assert response.status_code == 200
    data = response.json()
    check("AccountBalance", data)
    assert data == {
        "account": acct.code,
        "status": "active",
        "balance": "10.0000",
        "plan": "Starter",
        "period_start": "2026-11-01T00:00:00-04:00",
        "period_end": "2026-12-01T00:00:00-05:00",
        "included_seconds": 30000,
        "included_seconds_used": 180,
        "included_seconds_left": 29820,
        # Reported by the trunking app through billing.call_limits: no channels ordered.
        "channels": {
            "outbound": {"count": 0, "in_use": 0},
            "inbound": {"count": 0, "in_use": 0},
            "two_way": {"count": 0, "in_use": 0},
        },
        "trunk_only": False,
    }
    missing = api.get("/api/v1/accounts/NOPE")
    assert missing.status_code == 404
    check("Error", missing.json())


def test_wrong_method_is_405(api: Client) -> None:
    assert api.get("/api/v1/cdrs").status_code == 405


def test_incoming_cdr_through_the_api(api: Client, acct: Account) -> None:
    body = cdr_json(acct, "in-1", to=US_DID, direction="inbound", **{"from": "+35722123456"})
    data = post(api, "/api/v1/cdrs", body).json()
    assert (data["status"], data["included_seconds"], data["charge"]) == ("rated", 180, "0.0000")


def test_api_is_not_a_customer_page(api: Client) -> None:
    """The API lives in its own namespace and never redirects to a login page."""
    from django.urls import resolve

    assert resolve("/api/v1/cdrs").namespace == "api"
    assert Client().post("/api/v1/cdrs", "{}", content_type="application/json").status_code == 401


def test_reservations_are_released_by_the_cdr(api: Client, acct: Account) -> None:
    body = {
        "call_id": "rel-1",
        "account": acct.code,
        "direction": "outbound",
        "from": "101",
        "to": "+35722123456",
    }
    post(api, "/api/v1/calls/authorize", body)
    assert CallReservation.objects.filter(call_id="rel-1").exists()
    post(api, "/api/v1/cdrs", cdr_json(acct, "rel-1"))
    assert not CallReservation.objects.exists()
    assert dt.datetime.now(dt.UTC) == NOW  # time is frozen for the whole module
