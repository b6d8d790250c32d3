"""The fields of tabular admin inlines carry their column's label as their accessible name."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client, override_settings
from django.urls import reverse

from billing.defaults import install_defaults
from billing.models import ServicePlan
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(account=None, is_staff=True, is_superuser=True))
    return client


@override_settings(STAFF_REQUIRE_MFA=False)
def test_it_names_every_field_of_a_tabular_inline_row(staff_client: Client) -> None:
    install_defaults(apps)  # a flushing test before this one may have removed the seeded plan
    plan = ServicePlan.objects.get(name="Starter")
    page = staff_client.get(reverse("admin:billing_serviceplan_change", args=[plan.pk]))
    html = page.content.decode()
    rows = plan.included_destinations.count()
    for field, label in [
        ("country", "Country"),
        ("name", "Name"),
        ("mobile_included", "Mobile included"),
        ("DELETE", "Delete"),
    ]:
        named = re.findall(
            rf'<[^>]*aria-label="{label}"[^>]*id="id_included_destinations-\d+-{field}"', html
        )
        named += re.findall(
            rf'<[^>]*id="id_included_destinations-\d+-{field}"[^>]*aria-label="{label}"', html
        )
        assert len(named) >= rows, (field, len(named), rows)


@override_settings(STAFF_REQUIRE_MFA=False)
def test_it_names_the_admin_search_field(staff_client: Client) -> None:
    html = staff_client.get(reverse("admin:billing_rate_changelist")).content.decode()
    assert re.search(r'<input[^>]*id="searchbar"[^>]*aria-label="Search"', html)
