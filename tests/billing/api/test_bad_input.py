"""Input at the limits of the database or of Python answers a JSON 400 (or 413) naming the
field, never a 500, and posts nothing: deep JSON, NUL and lone surrogates, unrepresentable
times, bodies over Django's upload limit, odd account codes in the URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from billing.models import Call, CallReservation, LedgerEntry
from portal.models import Account
from tests.billing.api.test_switch_api import cdr_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_at_now")]


def post_raw(client: Client, path: str, raw: str | bytes) -> Any:
    return client.post(path, raw, content_type="application/json")


def authorize_json(owner: Account, **extra: Any) -> dict[str, Any]:
    body = {
        "call_id": "auth-1",
        "account": owner.code,
        "direction": "outbound",
        "from": "101",
        "to": "+35722123456",
    }
    body.update(extra)
    return body


def assert_refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["field"] == field, error
    assert not LedgerEntry.objects.filter(kind="call").exists()
    assert not Call.objects.exists()
    assert not CallReservation.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/calls/authorize", "/api/v1/cdrs"])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_it_refuses_json_nested_past_the_limit(
    api: Client, acct: Account, path: str, opener: str
) -> None:
    depth = 100_000  # json.loads would hit Python's recursion limit long before this
    closer = "]" if opener == "[" else "}"
    raw = opener * depth + "1" + closer * depth
    assert_refused(post_raw(api, path, raw), 400, "body")


def test_brackets_inside_strings_do_not_count_as_nesting(api: Client, acct: Account) -> None:
    body = cdr_json(acct, "deep-1", to="[{" * 5000)
    response = post_raw(api, "/api/v1/cdrs", json.dumps(body))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "to"  # parsed, then refused on its merits


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"account": "DEMO\x000001"}, "account"),
        ({"account": "\ud800"}, "account"),
        ({"disposition": "ANSWERED\x00"}, "disposition"),
        ({"disposition": "\udfff"}, "disposition"),
        ({"note\x00": "x"}, "note\x00"),
    ],
)
def test_it_refuses_nul_and_lone_surrogates_in_a_cdr(
    api: Client, acct: Account, extra: dict[str, Any], field: str
) -> None:
    response = post_raw(api, "/api/v1/cdrs", json.dumps(cdr_json(acct, "nul-1", **extra)))
    assert_refused(response, 400, field)


def test_it_names_the_batch_item_holding_a_nul(api: Client, acct: Account) -> None:
    batch = {"cdrs": [cdr_json(acct, "ok-1"), cdr_json(acct, "nul-2", disposition="\x00")]}
    response = post_raw(api, "/api/v1/cdrs", json.dumps(batch))
    assert_refused(response, 400, "cdrs[1].disposition")


@pytest.mark.parametrize("account_code", ["A\x00B", "\ud800"])
def test_authorize_refuses_nul_and_surrogates(
    api: Client, acct: Account, account_code: str
) -> None:
    response = post_raw(
        api, "/api/v1/calls/authorize", json.dumps(authorize_json(acct, account=account_code))
    )
    assert_refused(response, 400, "account")


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+05:00",  # before datetime.min in UTC
        "9999-12-31T23:59:59-05:00",  # after datetime.max in UTC
        "9999-12-31T12:00:00+00:00",  # representable, but its billing month is not
        "0001-01-01T00:00:00+00:00",
        "1900-01-01T00:00:00+00:00",
    ],
)
def test_it_refuses_times_outside_the_representable_range(
    api: Client, acct: Account, moment: str
) -> None:
    body = cdr_json(acct, "far-1", start=moment, answer=None, end=moment, billsec=0)
    assert_refused(post_raw(api, "/api/v1/cdrs", json.dumps(body)), 400, "start")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_over_the_upload_limit_is_a_json_413(api: Client, acct: Account) -> None:
    batch = {"cdrs": [cdr_json(acct, f"big-{i}") for i in range(200)]}
    assert_refused(post_raw(api, "/api/v1/cdrs", json.dumps(batch)), 413, "body")


@pytest.mark.parametrize("code", ["A%00B", "%ED%A0%80", "X" * 300])
def test_an_odd_account_code_in_the_url_is_not_a_500(api: Client, acct: Account, code: str) -> None:
    response = api.get(f"/api/v1/accounts/{code}")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["field"] == "code"


@pytest.mark.parametrize("path", ["/api/v1/accounts//", "/api/v1/accounts/a/b", "/api/v1/nope"])
def test_an_unknown_api_path_is_a_json_404(api: Client, path: str) -> None:
    response = api.post(path, "{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "path"
