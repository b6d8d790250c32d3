"""``POST /api/v1/cdrs`` input checks: ring time is never billed, ``billsec`` is derived when
absent (as the OpenAPI description says), calls from the future or from before the account
existed are rejected with a reason, non-ASCII digits and out-of-range years are refused."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from billing.api import openapi
from billing.models import Call, LedgerEntry
from portal.models import Account
from tests.billing.rating_fixtures import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_at_now")]

SPEC = openapi.spec()
CDR_SCHEMA = SPEC["components"]["schemas"]["Cdr"]


def post(client: Client, body: Any) -> Any:
    return client.post("/api/v1/cdrs", json.dumps(body), content_type="application/json")


def cdr_json(owner: Account, call_id: str = "v-1", **extra: Any) -> dict[str, Any]:
    """A Cyprus call: answered 5 s after the start, 125 s of talk (3 min at $0.06)."""
    body: dict[str, Any] = {
        "call_id": call_id,
        "account": owner.code,
        "direction": "outbound",
        "from": "101",
        "to": "+35722123456",
        "start": "2026-11-24T12:00:00-05:00",
        "answer": "2026-11-24T12:00:05-05:00",
        "end": "2026-11-24T12:02:10-05:00",
        "billsec": 125,
        "disposition": "ANSWERED",
    }
    body.update(extra)
    return body


def error_field(response: Any) -> str | None:
    assert response.status_code == 400, response.content
    return response.json()["error"]["field"]


# Ring time ------------------------------------------------------------------------------------


def test_it_refuses_billsec_that_counts_the_ring_time(api: Client, acct: Account) -> None:
    # 130 s from start to end, but only 125 s after the answer: 5 s of ringing.
    response = post(api, cdr_json(acct, billsec=130))
    assert error_field(response) == "billsec"
    assert "end - answer" in response.json()["error"]["message"]
    assert not Call.objects.exists()


def test_it_names_the_batch_item_whose_billsec_counts_the_ring_time(
    api: Client, acct: Account
) -> None:
    response = post(api, {"cdrs": [cdr_json(acct, "ok"), cdr_json(acct, "ring", billsec=127)]})
    assert error_field(response) == "cdrs[1].billsec"
    assert not LedgerEntry.objects.filter(kind="call").exists()


def test_it_allows_one_second_of_rounding_over_end_minus_answer(api: Client, acct: Account) -> None:
    response = post(api, cdr_json(acct, billsec=126))
    assert response.status_code == 200, response.content
    assert response.json()["billed_seconds"] == 180


# billsec optional, as described ---------------------------------------------------------------


def test_it_derives_billsec_from_end_minus_answer_when_absent(api: Client, acct: Account) -> None:
    body = cdr_json(acct, end="2026-11-24T12:02:10.900000-05:00")
    del body["billsec"]
    response = post(api, body)
    assert response.status_code == 200, response.content
    call = Call.objects.get(call_id="v-1")
    assert call.billsec == 125  # whole seconds, truncated as Asterisk does
    assert call.charge == Decimal("0.1800")


def test_it_derives_zero_billsec_for_an_unanswered_call(api: Client, acct: Account) -> None:
    body = cdr_json(acct, answer=None, disposition="NO ANSWER")
    del body["billsec"]
    response = post(api, body)
    assert response.status_code == 200, response.content
    assert Call.objects.get(call_id="v-1").billsec == 0


def _wrong_type(prop: dict[str, Any]) -> Any:
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    return [] if "array" not in types else {}


@pytest.mark.parametrize("name", sorted(CDR_SCHEMA["properties"]))
def test_the_openapi_description_matches_the_validator_for(
    name: str, api: Client, acct: Account
) -> None:
    prop = CDR_SCHEMA["properties"][name]
    base = cdr_json(acct, f"oa-{name}")
    validator = Draft202012Validator(CDR_SCHEMA)
    assert list(validator.iter_errors(base)) == []

    # Left out: a required field is refused by name, an optional one is accepted.
    without = copy.deepcopy(base)
    del without[name]
    assert validator.is_valid(without) == (name not in CDR_SCHEMA["required"])
    response = post(api, without)
    if name in CDR_SCHEMA["required"]:
        assert error_field(response) == name
    else:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "rated"

    # A value of the wrong JSON type: the description refuses it, so does the validator.
    wrong = {**base, "call_id": f"oa-wrong-{name}", name: _wrong_type(prop)}
    assert not validator.is_valid(wrong)
    assert error_field(post(api, wrong)) == name

    # null: accepted exactly where the description says so.
    nulled = {**base, "call_id": f"oa-null-{name}", name: None}
    nullable = "null" in (prop["type"] if isinstance(prop["type"], list) else [prop["type"]])
    assert validator.is_valid(nulled) == nullable
    response = post(api, nulled if name != "answer" else {**nulled, "billsec": 0})
    if nullable:
        assert response.status_code == 200, response.content
    else:
        assert error_field(response) == name


def test_the_openapi_description_says_how_billsec_is_derived() -> None:
    billsec = CDR_SCHEMA["properties"]["billsec"]
    assert "billsec" not in CDR_SCHEMA["required"]
    assert "end - answer" in billsec["description"]


# Future calls, calls before the account ------------------------------------------------------


def test_it_rejects_a_cdr_starting_beyond_the_clock_skew(api: Client, acct: Account) -> None:
    start = NOW + dt.timedelta(minutes=11)
    body = cdr_json(
        acct,
        start=start.isoformat(),
        answer=(start + dt.timedelta(seconds=5)).isoformat(),
        end=(start + dt.timedelta(seconds=130)).isoformat(),
    )
    response = post(api, body)
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "rejected"
    assert "start" in result["error"] and "future" in result["error"]
    assert not Call.objects.exists()


def test_it_accepts_a_cdr_within_the_clock_skew(api: Client, acct: Account) -> None:
    start = NOW + dt.timedelta(minutes=5)
    body = cdr_json(
        acct,
        start=start.isoformat(),
        answer=(start + dt.timedelta(seconds=5)).isoformat(),
        end=(start + dt.timedelta(seconds=130)).isoformat(),
    )
    assert post(api, body).json()["status"] == "rated"


def test_the_clock_skew_is_a_setting(api: Client, acct: Account, settings: Any) -> None:
    settings.BILLING_CDR_FUTURE_SKEW_SECONDS = 60
    start = NOW + dt.timedelta(minutes=2)
    body = cdr_json(
        acct,
        start=start.isoformat(),
        answer=(start + dt.timedelta(seconds=5)).isoformat(),
        end=(start + dt.timedelta(seconds=130)).isoformat(),
    )
    assert post(api, body).json()["status"] == "rejected"


def test_it_rejects_a_cdr_from_before_the_account_existed(api: Client, acct: Account) -> None:
    Account.objects.filter(pk=acct.pk).update(created_at=NOW)
    body = cdr_json(
        acct,
        start="2026-10-01T12:00:00+00:00",
        answer="2026-10-01T12:00:05+00:00",
        end="2026-10-01T12:02:10+00:00",
    )
    result = post(api, body).json()
    assert result["status"] == "rejected"
    assert "before the account" in result["error"]
    assert "no rate" not in result["error"]
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("start", "0001-01-01T00:00:00+05:00"), ("end", "9999-12-31T23:59:59-05:00")],
)
def test_it_refuses_a_time_that_overflows_in_utc(
    api: Client, acct: Account, field: str, value: str
) -> None:
    body = cdr_json(acct, **{field: value})
    assert error_field(post(api, body)) == field


def test_it_refuses_a_cdr_in_year_9999_naming_its_start(api: Client, acct: Account) -> None:
    # Refused by the request schema (times outside 2000-2099 are a broken switch clock) before
    # the future-call rule would reject it: a 400 naming the field, nothing posted.
    body = cdr_json(
        acct,
        start="9999-12-30T00:00:00+00:00",
        answer="9999-12-30T00:00:05+00:00",
        end="9999-12-30T00:02:10+00:00",
    )
    response = post(api, body)
    assert response.status_code == 400
    assert error_field(response) == "start"
    assert not Call.objects.filter(account=acct).exists()


# Unicode digits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from", "\u0661\u0660\u0661"),  # Arabic-Indic 101
        ("from", "1\u06601"),
        ("to", "+\u0663\u0665\u066722123456"),
        ("to", "+357\u00b22123456"),  # superscript two
    ],
)
def test_it_refuses_non_ascii_digits_in_numbers(
    api: Client, acct: Account, field: str, value: str
) -> None:
    assert error_field(post(api, cdr_json(acct, **{field: value}))) == field
