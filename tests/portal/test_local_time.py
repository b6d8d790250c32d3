"""The one time format: ``Dec 3, 2026, 8:21 PM`` in the account's time zone, the zone written
one way (``America/New York (EST)``), whatever the server's zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from portal.templatetags.local_time import day, times_note, when
from portal.times import format_when, zone_label
from tests.factories import AccountFactory, UserFactory

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_it_writes_one_format_in_the_zone_given() -> None:
    assert format_when(utc(2026, 12, 4, 1, 21), NEW_YORK) == "Dec 3, 2026, 8:21 PM"
    assert format_when(utc(2026, 12, 3, 12, 5), "America/New_York") == "Dec 3, 2026, 7:05 AM"
    assert format_when(utc(2026, 12, 3, 17, 0), NEW_YORK) == "Dec 3, 2026, 12:00 PM"
    assert format_when(utc(2026, 12, 3, 5, 0), NEW_YORK) == "Dec 3, 2026, 12:00 AM"


def test_it_follows_daylight_saving_time() -> None:
    # 2026-03-08: New York springs forward at 2:00 EST (07:00 UTC) to 3:00 EDT.
    assert format_when(utc(2026, 3, 8, 6, 59), NEW_YORK) == "Mar 8, 2026, 1:59 AM"
    assert format_when(utc(2026, 3, 8, 7, 0), NEW_YORK) == "Mar 8, 2026, 3:00 AM"
    # 2026-11-01: 1:30 AM happens twice; the UTC moment says which.
    assert format_when(utc(2026, 11, 1, 5, 30), NEW_YORK) == "Nov 1, 2026, 1:30 AM"
    assert format_when(utc(2026, 11, 1, 6, 30), NEW_YORK) == "Nov 1, 2026, 1:30 AM"
    assert zone_label(NEW_YORK, at=utc(2026, 3, 8, 6, 59)) == "America/New York (EST)"
    assert zone_label(NEW_YORK, at=utc(2026, 3, 8, 7, 0)) == "America/New York (EDT)"


def test_a_zone_east_of_utc_crosses_midnight_first() -> None:
    late_evening_utc = utc(2026, 12, 31, 20, 30)
    assert format_when(late_evening_utc, TOKYO) == "Jan 1, 2027, 5:30 AM"
    assert day(late_evening_utc, "Asia/Tokyo") == "Jan 1, 2027"
    assert day(late_evening_utc, "America/New_York") == "Dec 31, 2026"
    assert day(dt.date(2026, 12, 3)) == "Dec 3, 2026"


def test_without_a_zone_it_uses_the_active_one_not_the_servers() -> None:
    moment = utc(2026, 12, 4, 1, 21)
    with timezone.override(TOKYO):
        assert when(moment) == "Dec 4, 2026, 10:21 AM"
    with timezone.override(NEW_YORK):
        assert when(moment) == "Dec 3, 2026, 8:21 PM"
    assert when(None) == ""


def test_the_zone_is_labelled_with_the_abbreviation_in_force_now() -> None:
    account = AccountFactory.build(timezone="America/New_York")
    with time_machine.travel(utc(2026, 7, 1, 12), tick=False):
        assert times_note(account) == "Times in America/New York (EDT)"
    with time_machine.travel(utc(2026, 12, 1, 12), tick=False):
        assert times_note(account) == "Times in America/New York (EST)"
        assert account.timezone_label == "America/New York (EST)"
        # A zone with no letter abbreviation gets a UTC offset, never a bare "+04".
        assert zone_label("Asia/Dubai") == "Asia/Dubai (UTC+04)"
        assert zone_label("UTC") == "UTC"


def test_the_filters_read_the_same_in_a_template() -> None:
    template = Template("{% load local_time %}{{ t|when:zone }} / {{ t|day:zone }}")
    text = template.render(Context({"t": utc(2026, 12, 4, 1, 21), "zone": "America/New_York"}))
    assert text == "Dec 3, 2026, 8:21 PM / Dec 3, 2026"


@pytest.mark.django_db
def test_a_customer_page_shows_times_in_the_accounts_zone_and_labels_it_once() -> None:
    """The People list: a last sign-in at 01:21 UTC is 8:21 PM the evening before in New York."""
    account = AccountFactory(timezone="America/New_York")
    user = UserFactory(account=account, role="owner")
    client = Client()
    client.force_login(user)
    type(user).objects.filter(pk=user.pk).update(last_login=utc(2026, 12, 4, 1, 21))
    with time_machine.travel(utc(2026, 12, 5, 12), tick=False):
        html = client.get("/account/").content.decode()
    assert "Dec 3, 2026, 8:21 PM" in html
    assert "a.m." not in html and "p.m." not in html
    assert html.count("Times in America/New York (EST)") == 1
