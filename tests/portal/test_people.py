"""People of an account: invitations by e-mail, role changes, removal; the last owner stays."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import people
from portal.errors import DomainError
from portal.models import Account, Invitation, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-password-42"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link_path(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/invitations/[^\s]+/)", body)
    assert match, body
    return match.group(1)


def _invite(client: Client, email: str, role: str, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:people_invite"), {"email": email, "role": role})
    assert response.status_code == 302
    return _link_path(mail.outbox[-1].body)


def test_an_invitee_sets_a_password_and_joins_with_the_chosen_role(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    owner = UserFactory(account=account)
    path = _invite(
        _client(owner), "New.Person@Example.com", "billing", django_capture_on_commit_callbacks
    )
    assert mail.outbox[-1].to == ["new.person@example.com"]
    page = Client().get(path)
    assert page.status_code == 200 and "Billing" in page.content.decode()
    joined = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert joined.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert (user.account, user.role, user.is_active) == (account, User.Role.BILLING, True)
    client = Client()
    assert client.login(email="new.person@example.com", password=NEW_PASSWORD)


def test_it_refuses_an_invitation_link_used_twice(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    path = _invite(
        _client(UserFactory(account=account)),
        "x@example.com",
        "member",
        django_capture_on_commit_callbacks,
    )
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert Client().post(path, data).status_code == 302
    again = Client().post(
        path, {"new_password1": "other-pass-123456", "new_password2": "other-pass-123456"}
    )
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert User.objects.get(email="x@example.com").check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_or_forged_link(
    account: Account, django_capture_on_commit_callbacks, settings
) -> None:
    path = _invite(
        _client(UserFactory(account=account)),
        "late@example.com",
        "member",
        django_capture_on_commit_callbacks,
    )
    settings.PORTAL_INVITATION_MAX_AGE_DAYS = -1  # every signature is older than that
    expired = Client().get(path)
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    settings.PORTAL_INVITATION_MAX_AGE_DAYS = 7
    forged = Client().get(path.replace("/invitations/", "/invitations/9"))
    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


def test_a_removed_person_cannot_rejoin_with_an_old_link(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    owner = UserFactory(account=account)
    path = _invite(_client(owner), "gone@example.com", "member", django_capture_on_commit_callbacks)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    Client().post(path, data)
    gone = User.objects.get(email="gone@example.com")
    _client(owner).post(reverse("portal:people_remove", args=[gone.pk]))
    gone.refresh_from_db()
    assert (gone.account, gone.is_active) == (None, False)
    assert Client().post(path, data).status_code == 400
    gone.refresh_from_db()
    assert gone.account is None


def test_it_refuses_to_invite_someone_with_another_account(account: Account) -> None:
    stranger = UserFactory(email="taken@example.com")
    response = _client(UserFactory(account=account)).post(
        reverse("portal:people_invite"), {"email": "taken@example.com", "role": "owner"}
    )
    assert response.status_code == 400
    assert "cannot be invited" in response.content.decode()
    assert not Invitation.objects.exists()
    stranger.refresh_from_db()
    assert stranger.account != account


def test_an_owner_changes_a_role(account: Account) -> None:
    owner = UserFactory(account=account)
    member = UserFactory(account=account, role=User.Role.MEMBER)
    _client(owner).post(reverse("portal:people_role", args=[member.pk]), {"role": "billing"})
    member.refresh_from_db()
    assert member.role == User.Role.BILLING


def test_it_refuses_to_demote_or_remove_the_last_owner(account: Account) -> None:
    owner = UserFactory(account=account)
    UserFactory(account=account, role=User.Role.BILLING)
    client = _client(owner)
    page = client.post(
        reverse("portal:people_role", args=[owner.pk]), {"role": "member"}, follow=True
    )
    assert "at least one owner" in page.content.decode()
    left = client.post(reverse("portal:account_leave"), follow=True)
    assert "last owner cannot leave" in left.content.decode()
    with pytest.raises(DomainError):
        people.member_remove(account=account, actor=owner, member_id=owner.pk, now=timezone.now())
    owner.refresh_from_db()
    assert (owner.account, owner.role, owner.is_active) == (account, User.Role.OWNER, True)


def test_an_owner_may_leave_once_there_is_another_owner(account: Account) -> None:
    owner = UserFactory(account=account)
    UserFactory(account=account)  # a second owner
    response = _client(owner).post(reverse("portal:account_leave"))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.account is None and not owner.is_active


def test_a_member_may_leave(account: Account) -> None:
    UserFactory(account=account)
    member = UserFactory(account=account, role=User.Role.MEMBER)
    _client(member).post(reverse("portal:account_leave"))
    member.refresh_from_db()
    assert member.account is None


def test_the_removed_person_is_told_by_email(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    owner = UserFactory(account=account)
    member = UserFactory(account=account, role=User.Role.MEMBER, email="m@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        _client(owner).post(reverse("portal:people_remove", args=[member.pk]))
    assert mail.outbox[-1].to == ["m@example.com"]
    assert "removed you from" in mail.outbox[-1].body


def test_a_member_sees_the_people_but_no_management_forms(account: Account) -> None:
    UserFactory(account=account, email="boss@example.com")
    member = UserFactory(account=account, role=User.Role.MEMBER)
    html = _client(member).get(reverse("portal:account_settings")).content.decode()
    assert "boss@example.com" in html
    assert reverse("portal:people_invite") not in html
    assert "Change role" not in html
