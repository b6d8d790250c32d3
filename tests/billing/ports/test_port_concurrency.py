"""Two staff clicking at once, or a customer double-submitting: the request's row lock lets
one move through; the other finds the new state and changes nothing. Real threads, PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import DID, DIDGroup, LedgerEntry, PortRequest, PortTransition
from billing.services.ports import port_complete, port_reject, port_start, port_submit
from portal.errors import DomainError
from tests.billing.ports.conftest import draft, fund
from tests.conftest import run_in_threads
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def attempt(func, **kwargs):
    try:
        func(now=timezone.now(), **kwargs)
    except DomainError as exc:
        return exc.code
    return "ok"


@pytest.fixture
def setup(on_postgres: None):
    account = AccountFactory()
    user = UserFactory(account=account)
    staff = UserFactory(account=None, is_staff=True, email="ops@provider.example")
    group = DIDGroup.objects.create(name="Ported", rate=Decimal("0.0300"), included=False)
    fund(account, "100")
    port = port_submit(port=draft(account, user), user=user, now=timezone.now())
    return account, user, staff, group, port


def test_two_concurrent_completions_complete_once(setup) -> None:
    account, _user, staff, group, port = setup
    port_start(
        port=port, staff_user=staff, foc_date=dt.date(2026, 12, 20), note="", now=timezone.now()
    )
    results = run_in_threads(
        lambda: attempt(
            port_complete,
            port=port,
            staff_user=staff,
            ported=["+12025550181"],
            did_group=group,
            note="",
        ),
        [()] * 2,
    )
    assert sorted(results) == ["ok", "transition_not_allowed"]
    assert list(DID.objects.filter(account=account).values_list("number", flat=True)) == [
        "+12025550181"
    ]
    assert PortTransition.objects.filter(request=port, to_status="completed").count() == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("90.0000")  # 100 - 35 + 25


def test_two_concurrent_rejects_refund_once(setup) -> None:
    account, _user, staff, _group, port = setup
    results = run_in_threads(
        lambda: attempt(port_reject, port=port, staff_user=staff, reason="Wrong PIN"), [()] * 2
    )
    assert sorted(results) == ["ok", "transition_not_allowed"]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    account.refresh_from_db()
    assert account.balance == Decimal("100.0000")


def test_a_double_submit_charges_once(on_postgres: None) -> None:
    account = AccountFactory()
    user = UserFactory(account=account)
    fund(account, "100")
    port = draft(account, user)
    results = run_in_threads(lambda: attempt(port_submit, port=port, user=user), [()] * 2)
    assert sorted(results) == ["ok", "transition_not_allowed"]
    assert LedgerEntry.objects.filter(kind="port_fee").count() == 1
    assert PortRequest.objects.get(pk=port.pk).status == "submitted"
