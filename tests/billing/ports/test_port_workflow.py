"""A port request's states: only the allowed moves, each recorded and e-mailed; the fee of
the numbers not ported refunded exactly once; completed numbers become DIDs of the group."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import DID, DIDGroup, LedgerEntry, PortFee, PortRequest, PortTransition
from billing.services.ports import (
    PortNumbersInvalid,
    port_cancel,
    port_complete,
    port_drafts_expire,
    port_reject,
    port_start,
    port_submit,
)
from portal.errors import DomainError
from portal.models import User
from tests.billing.call_factories import DIDFactory
from tests.billing.ports.conftest import draft, fund
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

US, CA, UK = "+12025550181", "+14165550123", "+442079460991"
S = PortRequest.Status

# Written out here, not read from the service: the test states the rules independently.
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.DRAFT, S.CANCELLED),
    (S.SUBMITTED, S.IN_PROGRESS),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CANCELLED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.REJECTED),
    (S.IN_PROGRESS, S.CANCELLED),
}


def now() -> dt.datetime:
    return timezone.now()


def in_state(status: str, user: User, staff: User, group: DIDGroup) -> PortRequest:
    """A request of ``user``'s (funded) account driven through the services to ``status``."""
    port = draft(user.account, user)
    if status == S.DRAFT:
        return port
    if status == S.CANCELLED:
        return port_cancel(port=port, user=user, by_staff=False, note="", now=now())
    port = port_submit(port=port, user=user, now=now())
    if status == S.SUBMITTED:
        return port
    if status == S.REJECTED:
        return port_reject(port=port, staff_user=staff, reason="Name mismatch", now=now())
    port = port_start(
        port=port, staff_user=staff, foc_date=dt.date(2026, 12, 20), note="", now=now()
    )
    if status == S.IN_PROGRESS:
        return port
    return port_complete(
        port=port, staff_user=staff, ported=[US], did_group=group, note="", now=now()
    )


def move(to: str, port: PortRequest, user: User, staff: User, group: DIDGroup) -> PortRequest:
    actions: dict[str, Callable[[], PortRequest]] = {
        S.SUBMITTED: lambda: port_submit(port=port, user=user, now=now()),
        S.IN_PROGRESS: lambda: port_start(
            port=port, staff_user=staff, foc_date=dt.date(2026, 12, 20), note="", now=now()
        ),
        S.COMPLETED: lambda: port_complete(
            port=port, staff_user=staff, ported=[US, CA], did_group=group, note="", now=now()
        ),
        S.REJECTED: lambda: port_reject(port=port, staff_user=staff, reason="No", now=now()),
        S.CANCELLED: lambda: port_cancel(port=port, user=staff, by_staff=True, note="", now=now()),
    }
    return actions[to]()


@pytest.fixture
def funded(user: User) -> User:
    fund(user.account, "100")
    return user


@pytest.mark.parametrize(
    "target", [S.SUBMITTED, S.IN_PROGRESS, S.COMPLETED, S.REJECTED, S.CANCELLED]
)
@pytest.mark.parametrize("start", list(S))
def test_only_the_allowed_transitions_happen(
    start: str, target: str, funded: User, staff: User, did_group: DIDGroup
) -> None:
    port = in_state(start, funded, staff, did_group)
    before = PortTransition.objects.filter(request=port).count()
    entries = LedgerEntry.objects.count()
    if (start, target) in ALLOWED:
        moved = move(target, port, funded, staff, did_group)
        assert PortRequest.objects.get(pk=port.pk).status == target == moved.status
        last = PortTransition.objects.filter(request=port).latest("id")
        assert (last.from_status, last.to_status) == (start, target)
        assert PortTransition.objects.filter(request=port).count() == before + 1
    else:
        with pytest.raises(DomainError) as refused:
            move(target, port, funded, staff, did_group)
        assert refused.value.code == "transition_not_allowed"
        assert PortRequest.objects.get(pk=port.pk).status == start
        assert PortTransition.objects.filter(request=port).count() == before
        assert LedgerEntry.objects.count() == entries


def test_the_customer_cannot_cancel_once_in_progress(funded: User, staff, did_group) -> None:
    port = in_state(S.IN_PROGRESS, funded, staff, did_group)
    with pytest.raises(DomainError, match="contact support"):
        port_cancel(port=port, user=funded, by_staff=False, note="", now=now())
    assert PortRequest.objects.get(pk=port.pk).status == S.IN_PROGRESS


def test_each_staff_move_is_recorded_and_e_mailed(
    funded: User, staff: User, did_group, django_capture_on_commit_callbacks
) -> None:
    port = in_state(S.SUBMITTED, funded, staff, did_group)
    with django_capture_on_commit_callbacks(execute=True):
        port_start(
            port=port, staff_user=staff, foc_date=dt.date(2026, 12, 20), note="FOC ok", now=now()
        )
    t = PortTransition.objects.filter(request=port).latest("id")
    assert (t.by, t.by_staff, t.note, t.to_status) == (staff, True, "FOC ok", S.IN_PROGRESS)
    assert PortRequest.objects.get(pk=port.pk).foc_date == dt.date(2026, 12, 20)
    message = mail.outbox[-1]
    assert message.to == [funded.email] and f"#{port.pk}: in progress" in message.subject
    assert "Dec 20, 2026" in message.body and "FOC ok" in message.body


def test_reject_refunds_exactly_once_even_when_repeated(
    funded: User, staff, did_group, django_capture_on_commit_callbacks
) -> None:
    port = in_state(S.SUBMITTED, funded, staff, did_group)
    with django_capture_on_commit_callbacks(execute=True):
        port_reject(port=port, staff_user=staff, reason="Wrong PIN", now=now())
    for again in (
        lambda: port_reject(port=port, staff_user=staff, reason="Wrong PIN", now=now()),
        lambda: port_cancel(port=port, user=staff, by_staff=True, note="", now=now()),
    ):
        with pytest.raises(DomainError):
            again()
    refunds = LedgerEntry.objects.filter(kind="refund")
    assert [(r.amount, r.idempotency_key) for r in refunds] == [
        (Decimal("35.0000"), f"port-refund:{port.pk}")
    ]
    funded.account.refresh_from_db()
    assert funded.account.balance == Decimal("100.0000")
    port.refresh_from_db()
    assert port.reject_reason == "Wrong PIN"
    assert set(port.numbers.values_list("outcome", flat=True)) == {"not_ported"}
    assert not port.numbers.filter(claimed=True).exists()
    assert "Reason: Wrong PIN" in mail.outbox[-1].body and "$35.00" in mail.outbox[-1].body


def test_cancel_by_the_customer_while_submitted_refunds(funded: User, staff, did_group) -> None:
    port = in_state(S.SUBMITTED, funded, staff, did_group)
    port_cancel(port=port, user=funded, by_staff=False, note="Changed my mind", now=now())
    assert LedgerEntry.objects.get(kind="refund").amount == Decimal("35.0000")


def test_partial_completion_refunds_the_rest_and_creates_exactly_the_ported_dids(
    funded: User, staff, did_group
) -> None:
    port = in_state(S.IN_PROGRESS, funded, staff, did_group)
    port_complete(
        port=port, staff_user=staff, ported=[US, UK], did_group=did_group, note="", now=now()
    )
    dids = DID.objects.filter(account=funded.account)
    assert sorted(dids.values_list("number", "group__name")) == [
        (US, did_group.name),
        (UK, did_group.name),
    ]
    assert DID.objects.count() == 2
    refund = LedgerEntry.objects.get(kind="refund")
    assert (refund.amount, refund.idempotency_key) == (Decimal("10.0000"), f"port-refund:{port.pk}")
    outcomes = dict(port.numbers.values_list("number", "outcome"))
    assert outcomes == {US: "ported", UK: "ported", CA: "not_ported"}
    funded.account.refresh_from_db()
    assert funded.account.balance == Decimal("75.0000")  # 100 - 35 + 10
    with pytest.raises(DomainError):
        port_complete(
            port=port, staff_user=staff, ported=[CA], did_group=did_group, note="", now=now()
        )
    assert DID.objects.count() == 2 and LedgerEntry.objects.filter(kind="refund").count() == 1


def test_full_completion_refunds_nothing(funded: User, staff, did_group) -> None:
    port = in_state(S.IN_PROGRESS, funded, staff, did_group)
    port_complete(
        port=port, staff_user=staff, ported=[US, CA, UK], did_group=did_group, note="", now=now()
    )
    assert DID.objects.filter(account=funded.account).count() == 3
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_completion_needs_a_ported_number_of_the_request(funded: User, staff, did_group) -> None:
    port = in_state(S.IN_PROGRESS, funded, staff, did_group)
    with pytest.raises(DomainError, match="reject the request"):
        port_complete(
            port=port, staff_user=staff, ported=[], did_group=did_group, note="", now=now()
        )
    with pytest.raises(DomainError, match="Not numbers of this request"):
        port_complete(
            port=port,
            staff_user=staff,
            ported=["+12025550999"],
            did_group=did_group,
            note="",
            now=now(),
        )
    assert PortRequest.objects.get(pk=port.pk).status == S.IN_PROGRESS


def test_a_completion_that_fails_half_way_changes_nothing(funded: User, staff, did_group) -> None:
    port = in_state(S.IN_PROGRESS, funded, staff, did_group)
    DIDFactory(account=AccountFactory(), group=did_group, number=UK)  # taken meanwhile
    with pytest.raises(DomainError, match="already belongs"):
        port_complete(
            port=port, staff_user=staff, ported=[US, UK], did_group=did_group, note="", now=now()
        )
    assert PortRequest.objects.get(pk=port.pk).status == S.IN_PROGRESS
    assert not DID.objects.filter(account=funded.account).exists()
    assert not LedgerEntry.objects.filter(kind="refund").exists()


def test_a_number_in_a_submitted_request_cannot_be_submitted_again(
    funded: User, staff, did_group
) -> None:
    first = draft(funded.account, funded)
    second = draft(funded.account, funded, numbers=US)  # both drafts: drafts hold no number
    port_submit(port=first, user=funded, now=now())
    with pytest.raises(PortNumbersInvalid) as refused:
        port_submit(port=second, user=funded, now=now())
    assert [(e.text, e.reason) for e in refused.value.errors] == [
        ("+1 202-555-0181", "already in another open port request.")
    ]
    assert PortRequest.objects.get(pk=second.pk).status == S.DRAFT
    assert LedgerEntry.objects.filter(kind="port_fee").count() == 1


def test_old_drafts_are_cancelled_by_the_beat_job(funded: User, staff, did_group) -> None:
    old = draft(funded.account, funded, now=now() - dt.timedelta(days=31))
    recent = draft(
        funded.account, funded, numbers="+12025550199", now=now() - dt.timedelta(days=29)
    )
    submitted = in_state(S.SUBMITTED, funded, staff, did_group)
    PortRequest.objects.filter(pk=submitted.pk).update(created_at=now() - dt.timedelta(days=60))
    from billing.tasks.ports import port_drafts_expire_task

    assert port_drafts_expire_task.delay().get() == 1
    statuses = dict(PortRequest.objects.values_list("pk", "status"))
    assert statuses == {old.pk: S.CANCELLED, recent.pk: S.DRAFT, submitted.pk: S.SUBMITTED}
    t = PortTransition.objects.filter(request=old).latest("id")
    assert t.by is None and "30 days" in t.note
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    assert port_drafts_expire(now=now()) == 0


def test_the_beat_schedule_runs_the_draft_expiry(settings) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "billing.tasks.port_drafts_expire" in tasks


def test_a_lost_default_fee_row_never_makes_ports_free(funded: User) -> None:
    PortFee.objects.filter(country="").delete()
    port = draft(funded.account, funded, numbers="+44 20 7946 0991")
    assert port.fee_total == Decimal("15.0000")
