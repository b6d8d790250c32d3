"""The OpenAPI 3.1 description of the switch API, served at ``/api/v1/openapi.json``.

Its schemas are JSON Schema 2020-12, so the tests validate real responses against them.
"""

from __future__ import annotations

from typing import Any

_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{4}$", "examples": ["0.0250"]}
_TIME = {"type": "string", "format": "date-time", "examples": ["2026-11-24T12:00:00+00:00"]}
_DIRECTION = {"type": "string", "enum": ["outbound", "inbound", "internal"]}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["invalid_input", "unauthorized"]},
                    "field": {"type": ["string", "null"], "examples": ["cdrs[2].start"]},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "AuthorizeRequest": {
        "type": "object",
        "required": ["call_id", "account", "direction", "from", "to"],
        "properties": {
            "call_id": {"type": "string", "maxLength": 150},
            "account": {"type": "string", "maxLength": 32, "description": "Account code"},
            "direction": _DIRECTION,
            "from": {"type": "string", "maxLength": 40},
            "to": {"type": "string", "pattern": r"^\+?[0-9*#]{1,32}$"},
        },
    },
    "AuthorizeResponse": {
        "type": "object",
        "required": ["call_id", "allowed", "reason", "max_seconds", "rate"],
        "properties": {
            "call_id": {"type": "string"},
            "allowed": {"type": "boolean"},
            "reason": {
                "type": ["string", "null"],
                "description": "null when allowed; else insufficient_balance, "
                "unknown_destination, account_suspended, unknown_account, bad_number, "
                "unknown_did, not_on_net, duplicate_call_id, no_channel (no free SIP trunk "
                "channel of the kinds the direction may use); call permissions: "
                "destination_not_allowed, rate_above_limit (a rate equal to the ceiling is "
                "allowed), daily_limit_reached (until the account's local midnight), "
                "fraud_hold (paid calls held by the velocity alarm)",
            },
            "max_seconds": {"type": "integer", "minimum": 0},
            "rate": {**_MONEY, "description": "USD per minute once nothing is included"},
            "included_seconds": {"type": "integer", "minimum": 0},
            "message": {"type": "string"},
        },
    },
    "Cdr": {
        "type": "object",
        "required": ["call_id", "account", "direction", "from", "to", "start", "answer", "end"],
        "properties": {
            "call_id": {"type": "string", "maxLength": 150},
            "account": {"type": "string", "maxLength": 32},
            "direction": _DIRECTION,
            "from": {"type": "string", "maxLength": 40},
            "to": {"type": "string", "pattern": r"^\+?[0-9*#]{1,32}$"},
            "start": _TIME,
            "answer": {**_TIME, "type": ["string", "null"]},
            "end": _TIME,
            "billsec": {
                "type": "integer",
                "minimum": 0,
                "maximum": 172800,
                "description": "Billed (talk) seconds: at most end - answer (1 s of rounding "
                "allowed; ring time is not billed), 0 when answer is null. When left out it "
                "is derived as end - answer in whole seconds (truncated), 0 if unanswered.",
            },
            "disposition": {"type": "string", "examples": ["ANSWERED", "NO ANSWER", "BUSY"]},
        },
    },
    "CdrBatch": {
        "type": "object",
        "required": ["cdrs"],
        "properties": {
            "cdrs": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {"$ref": "#/components/schemas/Cdr"},
            }
        },
    },
    "CdrResult": {
        "type": "object",
        "required": [
            "call_id",
            "status",
            "charge",
            "included_seconds",
            "billed_seconds",
            "explanation",
            "error",
        ],
        "properties": {
            "call_id": {"type": "string"},
            "status": {"type": "string", "enum": ["rated", "duplicate", "rejected"]},
            "charge": {**_MONEY, "type": ["string", "null"]},
            "included_seconds": {"type": "integer", "minimum": 0},
            "billed_seconds": {"type": "integer", "minimum": 0},
            "explanation": {"type": "string"},
            "error": {"type": ["string", "null"]},
        },
    },
    "CdrBatchResult": {
        "type": "object",
        "required": ["results", "rated", "duplicates", "rejected"],
        "properties": {
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/CdrResult"}},
            "rated": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "rejected": {"type": "integer"},
        },
    },
    "AccountBalance": {
        "type": "object",
        "required": [
            "account",
            "balance",
            "plan",
            "period_start",
            "period_end",
            "included_seconds",
            "included_seconds_used",
            "included_seconds_left",
        ],
        "properties": {
            "account": {"type": "string"},
            "status": {"type": "string"},
            "balance": _MONEY,
            "plan": {"type": ["string", "null"]},
            "period_start": _TIME,
            "period_end": _TIME,
            "included_seconds": {"type": "integer", "minimum": 0},
            "included_seconds_used": {"type": "integer", "minimum": 0},
            "included_seconds_left": {"type": "integer", "minimum": 0},
            "channels": {
                "type": "object",
                "description": "SIP trunk channels per kind (outbound, inbound, two_way): the "
                "count in force and how many live calls hold one",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "in_use": {"type": "integer", "minimum": 0},
                    },
                },
            },
            "trunk_only": {
                "type": "boolean",
                "description": "Calls need a channel even when the account has none",
            },
        },
    },
}

_UNAUTHORIZED = _error_response("No token, or a wrong one")
_INVALID = _error_response("Invalid JSON or a field that is missing or wrong (named in error)")
_TOO_LARGE = _error_response("The body is over the server's upload limit (field: body)")


def spec(server_url: str = "/") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Control Center switch API",
            "version": "1.0.0",
            "description": (
                "For the voice switch: authorize a call before it starts, report finished "
                "calls (CDRs), read an account's balance and included minutes. Every request "
                "needs `Authorization: Bearer <token>` (tokens: `manage.py create_api_token`)."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/calls/authorize": {
                "post": {
                    "operationId": "authorizeCall",
                    "summary": "May this call start, and for how long?",
                    "description": (
                        "Counts the balance, the included minutes left and the price, minus "
                        "what calls in progress have reserved; an allowed call reserves its "
                        "credit until its CDR arrives or the reservation expires."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/AuthorizeRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("AuthorizeResponse", "The decision"),
                        "400": _INVALID,
                        "401": _UNAUTHORIZED,
                        "413": _TOO_LARGE,
                    },
                }
            },
            "/api/v1/cdrs": {
                "post": {
                    "operationId": "recordCdrs",
                    "summary": "Report finished calls: one CDR or a batch of up to 1,000",
                    "description": (
                        "Each CDR is rated and posted exactly once per call_id; sending it "
                        "again returns status `duplicate` (with the first result) and posts "
                        "nothing; a different CDR reusing a call_id is `rejected` "
                        "(`call_id: already used ...`). An invalid CDR "
                        "in a batch fails the whole request with 400 and records nothing. "
                        "A CDR starting (or ending) more than the allowed clock skew (10 "
                        "minutes by default) in the future, or starting before its account "
                        "was created, is `rejected` with the reason in `error`."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Cdr"},
                                        {"$ref": "#/components/schemas/CdrBatch"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "One result per CDR (an object for a single CDR)",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/CdrResult"},
                                            {"$ref": "#/components/schemas/CdrBatchResult"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _INVALID,
                        "401": _UNAUTHORIZED,
                        "413": _TOO_LARGE,
                    },
                }
            },
            "/api/v1/accounts/{code}": {
                "get": {
                    "operationId": "getAccount",
                    "summary": "Balance, plan, billing period and included minutes",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The account code (the switch's accountcode)",
                        }
                    ],
                    "responses": {
                        "200": _json("AccountBalance"),
                        "400": _error_response("The code is not an account code (field: code)"),
                        "401": _UNAUTHORIZED,
                        "404": _error_response("No such account"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }
