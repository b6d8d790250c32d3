"""Demo data for ``make run``: a staff user and a demo customer. Apps add their parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from allauth.account.models import EmailAddress

from portal.models import Account, User

DEMO_PASSWORD = "demo-password-123"
STAFF_EMAIL = "staff@example.com"
CUSTOMER_EMAIL = "demo@example.com"
DEMO_CODE = "DEMO0001"

Seeder = Callable[[Account, dt.datetime], None]
_seeders: list[Seeder] = []


def register(seeder: Seeder) -> None:
    if seeder not in _seeders:
        _seeders.append(seeder)


def _user(email: str, *, staff: bool, account: Account | None) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
    user.is_staff = user.is_superuser = staff
    if account is not None:
        user.account = account
        user.role = User.Role.OWNER
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed(*, now: dt.datetime) -> Account:
    _user(STAFF_EMAIL, staff=True, account=None)
    account, _created = Account.objects.get_or_create(
        code=DEMO_CODE,
        defaults={"name": "Acme Dental Group", "timezone": "America/New_York", "billing_day": 1},
    )
    _user(CUSTOMER_EMAIL, staff=False, account=account)
    for seeder in _seeders:
        seeder(account, now)
    return account
