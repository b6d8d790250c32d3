"""Shared fixtures: factories, logged-in clients, Celery, Chromium for Playwright."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery._state import _set_task_join_will_block
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.test import Client

from portal.celery import app as celery_app
from tests.factories import AccountFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright


def _allow_test_flush(sender: object, connection: Any, **kwargs: object) -> None:
    """The ledger refuses TRUNCATE (billing migration 0007), but pytest-django empties the
    tables with TRUNCATE after each transactional test: only the test run may."""
    if getattr(connection, "vendor", "") == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET billing.allow_ledger_truncate = 'on'")


connection_created.connect(_allow_test_flush)

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Chromium; CI sets REQUIRE_BROWSER=1 so they can never silently skip."""
    if Path(CHROMIUM_PATH).exists() or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM_PATH}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing(django_test_environment: None) -> None:
    """The tests create hundreds of users and sign many in: PBKDF2's deliberate slowness
    protects stored passwords in production and is only cost here (the live servers of the
    browser tests run in this process and share the setting)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """allauth's rate limits live in the cache: no test may inherit another's hits."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run inline unless a test is marked ``real_broker`` (then a real worker runs them)."""
    eager = "real_broker" not in request.keywords
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    if eager:
        # A worker started in this process (a real_broker test) sets Celery's process-wide
        # "joining a result would block" flag, after which every ``.get()`` — even of an eager
        # result — raises "Never call result.get() within a task". Eager tests start clean.
        _set_task_join_will_block(False)
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def user(account):
    return UserFactory(account=account)


@pytest.fixture
def customer_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def on_postgres() -> None:
    """Concurrency tests need real PostgreSQL row locks; CI sets DATABASE_URL to PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("concurrency tests must run on PostgreSQL in CI")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def run_in_threads(func, args_list, *, max_workers: int | None = None):
    """Run ``func(*args)`` for each args in real threads (own DB connections), all started
    together behind a barrier; returns results in order, re-raising the first exception."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    workers = max_workers or len(args_list)
    barrier = threading.Barrier(min(workers, len(args_list)))

    def call(args):
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)
            return func(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(call, args) for args in args_list]
        return [f.result() for f in futures]
