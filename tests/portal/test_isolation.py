"""Every Control Center URL requires login and only ever shows the user's own account.

Parametrised over ``tests/urlcatalog.py``: a new page in the ``portal``, ``billing`` or
``trunking`` namespace joins these tests without anyone touching this file. A page whose URL
takes an object id needs a maker in ``OBJECT_MAKERS``; without one its test fails and says so.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from django.urls.resolvers import RegexPattern, URLResolver

from portal.models import Account, User
from tests import urlcatalog
from tests.factories import AccountFactory, UserFactory
from tests.urlcatalog import POST_ONLY, CatalogURL, control_center_urls

URLS = control_center_urls()
WITH_OBJECTS = [url for url in URLS if url.kwargs]
WITHOUT_OBJECTS = [url for url in URLS if not url.kwargs]

SECRET_NAME = "Alpha Orthodontics Partners"
SECRET_CODE = "ALPHA0001"


@pytest.fixture
def account_a(db):
    return AccountFactory(name=SECRET_NAME, code=SECRET_CODE)


@pytest.fixture
def user_a(account_a: Account):
    return UserFactory(account=account_a, email="owner@alpha.example")


@pytest.fixture
def client_a(user_a: User) -> Client:
    client = Client()
    client.force_login(user_a)
    return client


@pytest.fixture
def client_b(db) -> Client:
    user_b = UserFactory(account=AccountFactory(name="Bravo Plumbing", code="BRAVO0001"))
    client = Client()
    client.force_login(user_b)
    return client


def _url(entry: CatalogURL, account: Account) -> str:
    try:
        return entry.url_for(account)
    except LookupError as exc:
        pytest.fail(str(exc))


def _body(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):  # CSV exports stream
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _assert_login_redirect(response: HttpResponse, url: str) -> None:
    assert response.status_code == 302, f"{url} answered {response.status_code} to anonymous"
    target = urlsplit(response["Location"])
    assert target.path == reverse("account_login"), f"{url} redirected to {response['Location']}"


def test_the_catalogue_finds_the_control_center_pages() -> None:
    names = {url.name for url in URLS}
    assert {"portal:dashboard", "portal:account_settings"} <= names
    # Login, admin, health and machine endpoints are not Control Center pages.
    assert not any(name.startswith(("account_", "admin:", "mfa_")) for name in names)
    assert "healthz" not in names and "home" not in names


@pytest.mark.parametrize("entry", URLS, ids=str)
def test_anonymous_is_sent_to_login(entry: CatalogURL, account_a: Account) -> None:
    url = _url(entry, account_a)
    client = Client()
    _assert_login_redirect(client.get(url), url)
    if entry.name in POST_ONLY:
        _assert_login_redirect(client.post(url), url)


@pytest.mark.parametrize("entry", WITH_OBJECTS, ids=str)
def test_another_accounts_object_is_404(
    entry: CatalogURL, account_a: Account, client_a: Client, client_b: Client
) -> None:
    url = _url(entry, account_a)
    method = "post" if entry.name in POST_ONLY else "get"
    # The owner reaches it (so the 404 below is about ownership, not a broken URL) ...
    assert getattr(client_a, method)(url).status_code in (200, 302), url
    # ... and another account's user gets a plain 404.
    response = getattr(client_b, method)(url)
    assert response.status_code == 404, f"{url} answered {response.status_code} to account B"
    assert SECRET_NAME not in _body(response)


@pytest.mark.parametrize("entry", WITHOUT_OBJECTS, ids=str)
def test_pages_show_only_the_users_own_account(
    entry: CatalogURL, account_a: Account, client_b: Client
) -> None:
    url = _url(entry, account_a)
    response = client_b.get(url)
    if entry.name in POST_ONLY:
        assert response.status_code in (302, 405), url
        return
    assert response.status_code != 405, (
        f"{url} does not accept GET: add {entry.name!r} to POST_ONLY in tests/urlcatalog.py"
    )
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    body = _body(response)
    if response["Content-Type"].startswith("text/html"):
        assert "BRAVO0001" in body, f"{url} does not show the user's own account code"
    assert SECRET_NAME not in body
    assert SECRET_CODE not in body


@pytest.mark.parametrize("entry", WITHOUT_OBJECTS, ids=str)
def test_staff_without_an_account_get_404(entry: CatalogURL, db) -> None:
    staff = UserFactory(account=None, is_staff=True, email="staff@provider.example")
    client = Client()
    client.force_login(staff)
    method = "post" if entry.name in POST_ONLY else "get"
    assert getattr(client, method)(reverse(entry.name)).status_code == 404


# --- the catalogue itself -------------------------------------------------------------------


def _view(request, **kwargs):  # pragma: no cover - never called
    return HttpResponse()


def _fake_resolver() -> URLResolver:
    billing = [
        path("calls/", _view, name="calls"),
        path("calls/<int:call_id>/", _view, name="call"),
    ]
    nested = [path("entries/<int:entry_id>/", _view, name="entry")]
    patterns = [
        path("", include((billing, "billing"))),
        path("t/<int:trunk_id>/", include((nested, "trunking"))),
        path("api/v1/calls/<int:call_id>/", _view, name="api_call"),
        path("x/", include(([path("y/", _view, name="y")], "api"))),
    ]
    return URLResolver(RegexPattern(r"^/"), patterns)


def test_catalogue_collects_namespaced_urls_with_their_arguments() -> None:
    found = {url.name: url.kwargs for url in control_center_urls(_fake_resolver())}
    assert found == {
        "billing:calls": (),
        "billing:call": ("call_id",),
        "trunking:entry": ("trunk_id", "entry_id"),
    }


def test_a_url_without_a_maker_fails_with_instructions(monkeypatch) -> None:
    entry = CatalogURL(name="billing:call", kwargs=("call_id",))
    monkeypatch.setattr(urlcatalog, "OBJECT_MAKERS", {})
    with pytest.raises(LookupError, match=r"add a maker for 'call_id' to OBJECT_MAKERS"):
        entry.url_for(Account(name="x"))


# --- the role matrix ------------------------------------------------------------------------


@pytest.mark.parametrize("role", urlcatalog.ROLES)
@pytest.mark.parametrize("entry", URLS, ids=str)
def test_each_role_reaches_exactly_the_urls_of_the_role_matrix(
    entry: CatalogURL, role: str, account_a: Account
) -> None:
    try:
        allowed = urlcatalog.allowed_roles(entry)
    except LookupError as exc:
        pytest.fail(str(exc))
    url = _url(entry, account_a)
    client = Client()
    client.force_login(UserFactory(account=account_a, role=role))
    method = "post" if entry.name in POST_ONLY else "get"
    status = getattr(client, method)(url).status_code
    if role in allowed:
        assert status != 403, f"{role} got 403 from {url}; ROLE_MATRIX allows it"
        assert status < 500, f"{url} answered {status} to {role}"
    else:
        assert status == 403, f"{role} got {status} from {url}; ROLE_MATRIX says 403"


def test_the_role_matrix_names_only_real_urls() -> None:
    stale = set(urlcatalog.ROLE_MATRIX) - {url.name for url in URLS}
    assert not stale, f"ROLE_MATRIX lists URLs that no longer exist: {sorted(stale)}"


def test_a_url_without_a_role_matrix_entry_fails_with_instructions(monkeypatch) -> None:
    monkeypatch.setattr(urlcatalog, "ROLE_MATRIX", {})
    with pytest.raises(LookupError, match=r"no entry in ROLE_MATRIX .* EVERYONE, MONEY or OWNERS"):
        urlcatalog.allowed_roles(CatalogURL(name="billing:new_page", kwargs=()))
