"""factory-boy factories for the whole suite."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from portal.models import Account, User

PASSWORD = "correct-horse-battery-9"


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account

    code = factory.Sequence(lambda n: f"T{n:07d}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    timezone = "America/New_York"
    billing_day = 1


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    account = factory.SubFactory(AccountFactory)
    role = User.Role.OWNER
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)
