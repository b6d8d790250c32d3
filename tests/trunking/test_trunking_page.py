"""The Trunking page: counts, prices, cost and channels in use; the change flow (review with
the charge now, confirm); clear messages for every bad count, a stale form and a balance that
does not cover the charge; members read-only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import LedgerEntry
from portal.models import Account, User
from tests.factories import UserFactory
from tests.trunking.conftest import give_credit, set_channels
from trunking.models import ChannelChange, Trunk

pytestmark = pytest.mark.django_db

PAGE = "/trunking/"
CONFIRM = "/trunking/confirm/"


def form(outbound="0", inbound="0", two_way="0", version="0") -> dict[str, str]:
    return {"outbound": outbound, "inbound": inbound, "two_way": two_way, "version": version}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def cells(body: str, kind: str) -> list[str]:
    """The text of each cell of the channels table's row for ``kind``."""
    row = re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', body)
    assert row is not None, kind
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1))
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in found]


def nothing_changed(account: Account) -> bool:
    return not ChannelChange.objects.filter(account=account).exists() and not (
        LedgerEntry.objects.filter(account=account, kind="proration").exists()
    )


def test_the_page_shows_counts_prices_costs_and_channels_in_use(
    customer_client: Client, account: Account
) -> None:
    from billing.models import CallReservation

    set_channels(account, outbound=1, two_way=3)
    now = timezone.now()
    CallReservation.objects.create(
        account=account,
        call_id="live-1",
        direction="outbound",
        to_number="+12025550123",
        channel_kind="two_way",
        created_at=now,
        expires_at=now + timezone.timedelta(minutes=10),
    )
    response = customer_client.get(PAGE)
    assert response.status_code == 200
    body = text(response)
    assert reverse("trunking:trunking") == PAGE
    assert cells(body, "two_way") == ["Two-way", "3", "$12.00 /month", "$36.00", "1 of 3"]
    assert cells(body, "outbound") == ["Outbound", "1", "$8.00 /month", "$8.00", "0 of 1"]
    assert cells(body, "inbound") == ["Inbound", "0", "$6.00 /month", "$0.00", "0"]
    assert '<td class="num" data-testid="monthly-total"><strong>$44.00</strong>' in body
    assert 'id="review-change"' in body


def test_review_shows_the_charge_now_and_changes_nothing(
    customer_client: Client, account: Account
) -> None:
    give_credit(account, "50.00", now=timezone.now())
    response = customer_client.post(PAGE, form(two_way="2"))
    assert response.status_code == 200
    body = text(response)
    assert "Confirm the change" in body and "Charged now" in body
    assert re.search(r"2 two-way channels × \$12\.00 × \d+/\d+ days = \$\d+\.\d\d", body)
    assert "$24.00" in body  # the new monthly total
    assert nothing_changed(account)
    confirm = customer_client.post(CONFIRM, form(two_way="2"))
    assert confirm.status_code == 302
    page = text(customer_client.get(PAGE))
    assert "Channels added" in page
    change = ChannelChange.objects.get(account=account)
    assert change.ledger_entry is not None and change.user.account == account
    assert change.explanation in page  # the history shows the charge and how it was made
    assert "Two-way 0 → 2" in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "The count cannot be negative."),
        ("2.5", "Enter a whole number of channels"),
        ("2.0", "Enter a whole number of channels"),
        ("1e3", "Enter a whole number of channels"),
        ("two", "Enter a whole number of channels"),
        ("", "Enter a number of channels (0 for none)."),
        ("51", "At most 50 channels of this kind"),
        ("99999999999999999999", "Enter a whole number of channels"),
    ],
)
@pytest.mark.parametrize("url", [PAGE, CONFIRM])
def test_every_bad_count_gets_a_message_and_changes_nothing(
    customer_client: Client, account: Account, url: str, value: str, message: str
) -> None:
    give_credit(account, "500.00", now=timezone.now())
    response = customer_client.post(url, form(outbound="1", two_way=value))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_changed(account)


def test_a_form_from_before_another_change_is_refused(
    customer_client: Client, account: Account
) -> None:
    give_credit(account, "50.00", now=timezone.now())
    assert customer_client.post(CONFIRM, form(outbound="1")).status_code == 302
    stale = customer_client.post(CONFIRM, form(outbound="2", version="0"))  # the other tab
    assert stale.status_code == 409
    assert "changed meanwhile" in stale.content.decode()
    assert Trunk.objects.get(account=account).outbound == 1
    assert LedgerEntry.objects.filter(account=account, kind="proration").count() == 1


def test_too_little_balance_shows_add_credit_and_changes_nothing(
    customer_client: Client, account: Account
) -> None:
    give_credit(account, "0.10", now=timezone.now())
    review = text(customer_client.post(PAGE, form(two_way="5")))
    assert "does not cover" in review and 'href="/per-minute/#add-credit"' in review
    assert 'id="confirm-change"' not in review
    confirm = customer_client.post(CONFIRM, form(two_way="5"))
    assert confirm.status_code == 400
    body = text(confirm)
    assert "Add credit first; nothing was changed." in body
    assert 'href="/per-minute/#add-credit"' in body
    assert nothing_changed(account)
    assert not Trunk.objects.filter(account=account, two_way__gt=0).exists()


def test_a_decrease_is_pending_and_can_be_cancelled_on_the_page(
    customer_client: Client, account: Account
) -> None:
    give_credit(account, "50.00", now=timezone.now())
    customer_client.post(CONFIRM, form(inbound="2"))
    customer_client.post(CONFIRM, form(inbound="1", version="1"))
    page = text(customer_client.get(PAGE))
    assert "Pending decrease" in page and 'id="cancel-decrease"' in page
    assert customer_client.post("/trunking/cancel-decrease/").status_code == 302
    page = text(customer_client.get(PAGE))
    assert "Pending decrease" not in page and "Cancelled" in page


@pytest.fixture
def member_client(account: Account) -> Client:
    member = UserFactory(account=account, role=User.Role.MEMBER)
    client = Client()
    client.force_login(member)
    return client


def test_members_see_the_page_read_only(member_client: Client, account: Account) -> None:
    give_credit(account, "50.00", now=timezone.now())
    set_channels(account, inbound=2)
    page = member_client.get(PAGE)
    assert page.status_code == 200
    body = text(page)
    assert 'data-testid="read-only"' in body
    assert 'id="review-change"' not in body and '<form method="post" action="/trunking/' not in (
        body
    )
    for url in (PAGE, CONFIRM, "/trunking/cancel-decrease/"):
        assert member_client.post(url, form(inbound="5")).status_code == 403
    assert Trunk.objects.get(account=account).inbound == 2
    assert nothing_changed(account)
