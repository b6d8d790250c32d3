"""Fuzzing the switch API (hypothesis): random JSON trees, strings with NUL and lone
surrogates, huge numbers, raw bytes, and valid requests with one field replaced. Every answer
is JSON with a status the OpenAPI description allows, never a 500 (the test client re-raises
a view's exception, so a 500 fails the example)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import Account
from tests.billing.api.test_switch_api import cdr_json

pytestmark = pytest.mark.django_db
ALLOWED = {200, 400, 401, 404, 413}
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every code point, lone surrogates and NUL included.
any_text = st.text(st.characters(codec=None, categories=None), max_size=60)
nasty_text = st.one_of(
    any_text,
    st.sampled_from(["\x00", "\ud800", "\udfff", "0001-01-01T00:00:00+05:00", "9" * 5000]),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "2026-11-24T12:00:00", "+1" + "0" * 40]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(any_text, children, max_size=5)
    ),
    max_leaves=30,
)
CDR_FIELDS = ["call_id", "account", "direction", "from", "to", "start", "answer", "end"]
CDR_FIELDS += ["billsec", "disposition", "cdrs"]


def assert_json_answer(response: Any) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


def send(api: Client, path: str, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()  # ensure_ascii: \ud800
    assert_json_answer(api.post(path, raw, content_type="application/json"))


@FUZZ
@given(body=st.one_of(json_trees, st.binary(max_size=200)))
def test_random_bodies_never_500(api: Client, acct: Account, body: Any) -> None:
    for path in ("/api/v1/calls/authorize", "/api/v1/cdrs"):
        send(api, path, body)


@FUZZ
@given(
    field=st.sampled_from(CDR_FIELDS),
    value=st.one_of(nasty_text, scalars, json_trees),
    batch=st.booleans(),
)
def test_a_valid_cdr_with_one_field_replaced_never_500(
    api: Client, acct: Account, field: str, value: Any, batch: bool
) -> None:
    cdr = cdr_json(acct, "fuzz-1")
    cdr[field] = value
    send(api, "/api/v1/cdrs", {"cdrs": [cdr]} if batch else cdr)
    authorize = {k: cdr.get(k) for k in ("call_id", "account", "direction", "from", "to")}
    send(api, "/api/v1/calls/authorize", authorize)


@FUZZ
@given(code=st.text(st.characters(codec="utf-8"), min_size=1, max_size=80))
def test_random_account_codes_never_500(api: Client, acct: Account, code: str) -> None:
    assert_json_answer(api.get("/api/v1/accounts/" + urllib.parse.quote(code, safe="")))


@FUZZ
@given(header=st.text(st.characters(codec="latin-1"), max_size=80), body=json_trees)
def test_random_tokens_never_500(acct: Account, header: str, body: Any) -> None:
    client = Client(headers={"Authorization": header})
    assert_json_answer(
        client.post("/api/v1/cdrs", json.dumps(body), content_type="application/json")
    )
