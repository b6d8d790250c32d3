"""Factories for the Calls and Numbers pages: calls stored as the rating engine stores them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from billing.models import DID, Call, DIDGroup, Extension
from tests.factories import AccountFactory

T0 = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


class CallFactory(DjangoModelFactory[Call]):
    class Meta:
        model = Call

    account = factory.SubFactory(AccountFactory)
    call_id = factory.Sequence(lambda n: f"call-{n:06d}")
    direction = Call.Direction.OUTBOUND
    from_number = "101"
    to_number = "+12025550123"
    destination = "USA"
    started_at = T0
    answered_at = factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(seconds=5))
    billsec = 125
    ended_at = factory.LazyAttribute(
        lambda o: (o.answered_at or o.started_at) + dt.timedelta(seconds=o.billsec)
    )
    disposition = "ANSWERED"
    period_start = dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)
    category = Call.Category.INCLUDED
    billed_seconds = 180
    included_seconds = 180
    paid_seconds = 0
    rate = Decimal("0")
    charge = Decimal("0")
    explanation = "USA — 3 min included (10→13 of 500)"
    created_at = factory.LazyAttribute(lambda o: o.ended_at)


class DIDGroupFactory(DjangoModelFactory[DIDGroup]):
    class Meta:
        model = DIDGroup
        django_get_or_create = ("name",)

    name = "USA standard"
    rate = Decimal("0.0100")
    included = True


class DIDFactory(DjangoModelFactory[DID]):
    class Meta:
        model = DID

    number = factory.Sequence(lambda n: f"+1202555{n:04d}")
    account = factory.SubFactory(AccountFactory)
    group = factory.SubFactory(DIDGroupFactory)


class ExtensionFactory(DjangoModelFactory[Extension]):
    class Meta:
        model = Extension

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"{100 + n}")
