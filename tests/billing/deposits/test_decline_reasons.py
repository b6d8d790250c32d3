"""Why a payment failed, in the customer's words: one table, a generic sentence for the rest,
Stripe's own sentence kept for staff."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.declines import DECLINE_REASONS, GENERIC_REASON, decline_reason
from billing.models import Deposit
from portal.models import Account
from tests.factories import UserFactory

COMMON_CODES = [
    "generic_decline",
    "insufficient_funds",
    "lost_card",
    "stolen_card",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "authentication_required",
    "do_not_honor",
    "card_velocity_exceeded",
    "card_declined",
    "fraudulent",
]


@pytest.mark.parametrize("code", COMMON_CODES)
def test_it_has_plain_words_for_each_common_decline_code(code: str) -> None:
    reason = decline_reason(code)
    assert code in DECLINE_REASONS
    assert reason.endswith(".") and reason[0].isupper()
    assert "_" not in reason  # no code leaks into the sentence


def test_it_tells_the_customer_what_to_do_about_the_usual_causes() -> None:
    assert "enough funds" in decline_reason("insufficient_funds")
    assert "expired" in decline_reason("expired_card")
    assert "security code" in decline_reason("incorrect_cvc")
    assert "spending limit" in decline_reason("card_velocity_exceeded")
    assert "try again" in decline_reason("processing_error")


def test_it_does_not_tell_the_holder_of_a_lost_or_stolen_card_why() -> None:
    assert decline_reason("lost_card") == GENERIC_REASON
    assert decline_reason("stolen_card") == GENERIC_REASON
    assert decline_reason("fraudulent") == GENERIC_REASON


@pytest.mark.parametrize("code", ["", "some_new_code_2031", "  ", "<script>"])
def test_it_gives_unknown_codes_the_generic_sentence(code: str) -> None:
    assert decline_reason(code) == GENERIC_REASON


def test_it_reads_codes_whatever_their_case() -> None:
    assert decline_reason(" Insufficient_Funds ") == decline_reason("insufficient_funds")


def _failed(account: Account, code: str, message: str) -> Deposit:
    now = timezone.now()
    return Deposit.objects.create(
        account=account,
        amount=Decimal("25.00"),
        status=Deposit.Status.FAILED,
        key=uuid.uuid4(),
        card_brand="visa",
        card_last4="0002",
        failure_code=code,
        failure_message=message,
        created_at=now,
        updated_at=now,
        completed_at=now,
    )


RAW = "Your card has insufficient funds. (decline_code=insufficient_funds; request req_8xK2)"


@pytest.mark.django_db
def test_the_customer_reads_plain_words_and_staff_the_processors_sentence(
    customer_client: Client, account: Account
) -> None:
    staff = Client()
    staff.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    deposit = _failed(account, "insufficient_funds", RAW)
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert decline_reason("insufficient_funds") in page
    assert "req_8xK2" not in page
    all_payments = customer_client.get(reverse("billing:payments")).content.decode()
    assert decline_reason("insufficient_funds") in all_payments
    assert "req_8xK2" not in all_payments

    staff_list = staff.get(reverse("admin:billing_deposit_changelist")).content.decode()
    assert "req_8xK2" in staff_list
    staff_page = staff.get(
        reverse("admin:billing_deposit_change", args=[deposit.pk])
    ).content.decode()
    assert "req_8xK2" in staff_page
    assert decline_reason("insufficient_funds") in staff_page


@pytest.mark.django_db
def test_an_unknown_code_reads_as_the_generic_sentence_on_the_page(
    customer_client: Client, account: Account
) -> None:
    _failed(account, "brand_new_code", "Raw: brand_new_code from the issuer")
    page = customer_client.get(reverse("billing:per_minute")).content.decode()
    assert GENERIC_REASON in page
    assert "brand_new_code" not in page
