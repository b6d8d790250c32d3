"""Staff set channel prices (from a date on) and maximums in the admin, and mark an account as
trunk-only; the counts and the history are read-only there (counts change through the
customer's change flow, which charges)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.trunking.conftest import set_channels
from trunking.models import ChannelChange, ChannelPrice

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    staff = UserFactory(account=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client


def test_staff_add_a_price_that_applies_from_a_date(staff_client: Client) -> None:
    response = staff_client.post(
        "/admin/trunking/channelprice/add/",
        {"kind": "two_way", "monthly_price": "14.00", "effective_from": "2027-01-01"},
    )
    assert response.status_code == 302
    price = ChannelPrice.objects.get(kind="two_way", effective_from="2027-01-01")
    page = staff_client.get(f"/admin/trunking/channelprice/{price.pk}/change/").content.decode()
    assert 'name="monthly_price"' not in page  # a price in use is replaced, never edited


def test_staff_mark_an_account_trunk_only_but_cannot_edit_counts(
    staff_client: Client, account
) -> None:
    trunk = set_channels(account, two_way=2)
    url = f"/admin/trunking/trunk/{trunk.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert 'name="trunk_only"' in page and 'name="two_way"' not in page
    staff_client.post(url, {"account": account.pk, "trunk_only": "on"})
    trunk.refresh_from_db()
    assert (trunk.trunk_only, trunk.two_way) == (True, 2)


def test_the_change_history_is_read_only_for_staff(staff_client: Client) -> None:
    assert staff_client.get("/admin/trunking/channelchange/").status_code == 200
    assert staff_client.get("/admin/trunking/channelchange/add/").status_code == 403
    assert ChannelChange.objects.count() == 0
